"""Where joblib runs the per-clip work: local processes (loky) or a Dask cluster.

The extraction code calls ``joblib.Parallel`` and never knows which; ``features.backend``
picks, so the same stage scales out to a cluster without a line of it changing.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import joblib

from soundmind.errors import ParamsError
from soundmind.machine import CODE_PATH_VARIABLES, numerical_code_paths

BACKENDS = ("loky", "threading", "dask")
# The modules whose functions the workers run: a cluster must run this checkout's version of them.
WORKER_MODULES = ("audio.py", "features/spectral.py", "features/functionals.py")


def code_fingerprint() -> str:
    """A hash of the feature code as this process has it (run on each worker to compare)."""
    package = Path(__file__).resolve().parents[1]
    digest = hashlib.md5()
    for name in WORKER_MODULES:
        digest.update((package / name).read_bytes())
    return digest.hexdigest()


def check_workers(client, data_dir: Path) -> None:
    """Refuse a cluster whose workers run other feature code, compute with other numerical code paths
    (library versions, BLAS kernel, numpy's SIMD targets) or cannot see the audio."""
    mismatched = sorted(address for address, fingerprint in client.run(code_fingerprint).items()
                        if fingerprint != code_fingerprint())
    if mismatched:
        raise ParamsError(
            f"Dask workers {', '.join(mismatched)} run a different version of soundmind's feature code; "
            "install this checkout on them (pip install -e .)."
        )
    here = numerical_code_paths()
    for address, theirs in sorted(client.run(numerical_code_paths).items()):
        differing = [f"{key} {theirs.get(key)} against {value} here" for key, value in here.items() if theirs.get(key) != value]
        if differing:
            settings = " ".join(f"{name}={os.environ[name]}" for name in CODE_PATH_VARIABLES if name in os.environ)
            raise ParamsError(
                f"Dask worker {address} computes with other numerical code than this process ({'; '.join(differing)}), "
                "so its features would differ in their last bits; install this checkout's requirements.txt on it"
                + (f" and start it with {settings}" if settings else "") + " (docs/reliability.md)."
            )
    blind = sorted(address for address, seen in client.run(Path(data_dir).is_dir).items() if not seen)
    if blind:
        raise ParamsError(f"Dask workers {', '.join(blind)} cannot see {data_dir}; mount the project at the same path.")


@contextmanager
def joblib_backend(
    backend: str, n_jobs: int = -1, scheduler_address: str = "", data_dir: Path = Path("data")
) -> Iterator[None]:
    """Run the ``joblib.Parallel`` calls inside on ``backend``.

    ``dask`` connects to ``scheduler_address`` (``tcp://host:8786``), whose workers must run this
    checkout's feature code and see ``data_dir`` at the same absolute path, or, when it is empty,
    starts a LocalCluster of ``n_jobs`` single-threaded worker processes bound to 127.0.0.1.
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
            check_workers(client, Path(data_dir).resolve())
        else:
            workers = joblib.effective_n_jobs(n_jobs)  # -1: every core, -2: all but one, as joblib counts
            cluster = stack.enter_context(
                LocalCluster(
                    host="127.0.0.1", n_workers=workers, threads_per_worker=1, processes=True,
                    dashboard_address=None,
                )
            )
            client = stack.enter_context(Client(cluster))
        with joblib.parallel_config(backend="dask", wait_for_workers_timeout=60):
            print(f"joblib on dask: {len(client.scheduler_info()['workers'])} workers at {client.scheduler.address}")
            try:
                yield
            except TimeoutError as error:
                raise ParamsError(f"the Dask cluster at {client.scheduler.address} stopped answering ({error}).") from error


def backend_from_params(params: dict) -> dict:
    """``features.backend``, ``features.n_jobs`` and ``features.scheduler_address``, checked."""
    from soundmind.params import is_int, require, require_choice

    n_jobs = require(params, "features.n_jobs")
    if not is_int(n_jobs) or n_jobs == 0:
        raise ParamsError(f"params.yaml: 'features.n_jobs' must be a non-zero integer (-1: all cores), got {n_jobs!r}.")
    address = require(params, "features.scheduler_address") or ""
    if not isinstance(address, str):
        raise ParamsError(f"params.yaml: 'features.scheduler_address' must be a string, got {address!r}.")
    return {
        "backend": require_choice(params, "features.backend", BACKENDS),
        "n_jobs": n_jobs,
        "scheduler_address": address,
    }
