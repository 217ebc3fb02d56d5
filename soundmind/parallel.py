"""Where joblib runs the per-clip work: local processes (loky) or a Dask cluster.

The extraction code calls ``joblib.Parallel`` and never knows which; ``features.backend``
picks, so the same stage scales out to a cluster without a line of it changing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import joblib

from soundmind.errors import ParamsError

BACKENDS = ("loky", "threading", "dask")


@contextmanager
def joblib_backend(backend: str, n_jobs: int = -1, scheduler_address: str = "") -> Iterator[None]:
    """Run the ``joblib.Parallel`` calls inside on ``backend``.

    ``dask`` connects to ``scheduler_address`` (``tcp://host:8786``) or, when it is empty, starts a
    LocalCluster of ``n_jobs`` single-threaded worker processes bound to 127.0.0.1.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown joblib backend {backend!r}; known: {', '.join(BACKENDS)}")
    if backend != "dask":
        with joblib.parallel_config(backend=backend):
            yield
        return
    from dask.distributed import Client, LocalCluster

    with ExitStack() as stack:
        if scheduler_address:
            try:
                client = stack.enter_context(Client(scheduler_address, timeout="20s"))
            except OSError as error:
                raise ParamsError(
                    f"params.yaml: 'features.scheduler_address' {scheduler_address!r} cannot be reached ({error})."
                ) from error
        else:
            workers = joblib.cpu_count() if n_jobs < 1 else n_jobs
            cluster = stack.enter_context(
                LocalCluster(
                    host="127.0.0.1", n_workers=workers, threads_per_worker=1, processes=True,
                    dashboard_address=None,
                )
            )
            client = stack.enter_context(Client(cluster))
        with joblib.parallel_config(backend="dask", wait_for_workers_timeout=60):
            print(f"joblib on dask: {len(client.scheduler_info()['workers'])} workers at {client.scheduler.address}")
            yield


def backend_from_params(params: dict) -> dict:
    """``features.backend``, ``features.n_jobs`` and ``features.scheduler_address``, checked."""
    from soundmind.params import require, require_choice

    n_jobs = require(params, "features.n_jobs")
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0:
        raise ParamsError(f"params.yaml: 'features.n_jobs' must be a non-zero integer (-1: all cores), got {n_jobs!r}.")
    address = require(params, "features.scheduler_address") or ""
    if not isinstance(address, str):
        raise ParamsError(f"params.yaml: 'features.scheduler_address' must be a string, got {address!r}.")
    return {
        "backend": require_choice(params, "features.backend", BACKENDS),
        "n_jobs": n_jobs,
        "scheduler_address": address,
    }
