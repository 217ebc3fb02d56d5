"""Worker processes of one thread each: how cross-validation's folds and a frame model's seeds share 2 cores.

On 2 cores, two trainings of one thread each get through 1.2-1.5 times the clips per second of one training on two
threads (benchmarks/frame_models.py --layouts). One thread also makes a result independent of what runs beside it:
TensorFlow's and BLAS's thread counts change the order of sums, so a worker's figures are the same whether it runs
alone, after another job, or beside one.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

from soundmind.params import is_int


def run_on_one_thread(with_tensorflow: bool) -> None:
    """Limit this process's BLAS and OpenMP pools, and TensorFlow's when ``with_tensorflow``, to one thread (before
    TensorFlow runs anything: its pools are fixed at their first use)."""
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)
    if with_tensorflow:
        from soundmind.models.keras_backend import tensorflow

        tensorflow.config.threading.set_intra_op_parallelism_threads(1)
        tensorflow.config.threading.set_inter_op_parallelism_threads(1)


def map_in_worker_processes(function: Callable[[Any], Any], jobs: Iterable[Any], n_workers: int,
                            initializer: Callable[..., None], initargs: tuple[Any, ...]) -> list[Any]:
    """``function`` of each job, in order, run by ``n_workers`` fresh worker processes (at most one per job), each
    started with ``initializer(*initargs)`` (which should call ``run_on_one_thread``); never in this process."""
    from joblib.externals.loky import get_reusable_executor

    if not is_int(n_workers) or n_workers < 1:
        raise ValueError(f"the number of worker processes must be a positive integer, got {n_workers!r}")
    jobs = list(jobs)
    executor = get_reusable_executor(max_workers=max(1, min(n_workers, len(jobs))), initializer=initializer,
                                     initargs=initargs, reuse=False)
    try:
        return list(executor.map(function, jobs))
    finally:
        executor.shutdown(wait=True)
