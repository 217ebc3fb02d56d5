"""Scale-out and sharing: features on a Dask cluster, the DVC cache through the default remote."""

from __future__ import annotations

import os
import platform
import subprocess
from contextlib import ExitStack
from pathlib import Path

import pytest
import yaml

from soundmind.evaluation.lockfile import output_hashes, read_lock
from soundmind.machine import CODE_PATH_VARIABLES
from tests.conftest import copy_built_project, run_dvc

FEATURE_OUTPUTS = ("features/rich.parquet", "features/mfcc40.parquet", "features/compare.parquet",
                   "features/egemaps.parquet")


def start_workers_as_a_stage_would(monkeypatch: pytest.MonkeyPatch, **overrides: str) -> None:
    """Give the Dask workers this process spawns the code paths a stage pins for itself (stages/__init__.py), as
    docs/reliability.md tells a user to start a cluster's workers; ``overrides`` then change some of them. A nanny
    passes its own environment on, ahead of Dask's settings."""
    from stages import cpu_flags, portable_math_settings  # here: importing stages sets the pins in this process

    stage_environment = {**os.environ, **portable_math_settings(platform.machine(), cpu_flags(), dict(os.environ))}
    for name in CODE_PATH_VARIABLES:
        if name in stage_environment:
            monkeypatch.setenv(name, stage_environment[name])
    for name, value in overrides.items():
        monkeypatch.setenv(name, value)


def use_the_cluster(project: Path, scheduler_address: str) -> None:
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["features"].update(backend="dask", scheduler_address=scheduler_address)
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def test_features_on_a_dask_cluster_equal_the_local_backends(tiny_project, tmp_path, monkeypatch):
    from dask.distributed import LocalCluster

    project = copy_built_project(tiny_project, tmp_path / "project")
    start_workers_as_a_stage_would(monkeypatch)
    with LocalCluster(host="127.0.0.1", n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        use_the_cluster(project, cluster.scheduler_address)
        result = run_dvc(project, "repro", "--no-run-cache", "extract-features", "extract-functionals")
    assert f"joblib on dask: 2 workers at {cluster.scheduler_address}" in result.stdout + result.stderr
    local, on_dask = output_hashes(read_lock(tiny_project / "dvc.lock")), output_hashes(read_lock(project / "dvc.lock"))
    for output in FEATURE_OUTPUTS:
        assert on_dask[output] == local[output], output


@pytest.mark.skipif(platform.machine() != "x86_64", reason="OpenBLAS's Sandybridge kernel is an x86-64 one")
def test_a_worker_on_another_blas_kernel_is_refused_by_address_and_nothing_is_written(tiny_project, tmp_path,
                                                                                      monkeypatch):
    """A worker started without the stages' OPENBLAS_CORETYPE on an AVX-512 CPU computes with the SkylakeX kernel:
    its features' last bits differ, and the table's hash would depend on which worker ran which clip."""
    from dask.distributed import LocalCluster

    project = copy_built_project(tiny_project, tmp_path / "project")
    rich_table = (project / "features/rich.parquet").read_bytes()
    features_before = [path.name for path in (project / "features").iterdir()
                       if path.name not in ("rich.parquet", "mfcc40.parquet")]
    with ExitStack() as cluster_context:
        with monkeypatch.context() as worker_environment:
            start_workers_as_a_stage_would(worker_environment, OPENBLAS_CORETYPE="Sandybridge")
            cluster = cluster_context.enter_context(LocalCluster(
                host="127.0.0.1", n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None))
        (worker,) = cluster.scheduler_info["workers"]
        use_the_cluster(project, cluster.scheduler_address)
        result = run_dvc(project, "repro", "--no-run-cache", "extract-features", check=False)
    assert result.returncode != 0
    assert f"Dask worker {worker} computes with other numerical code than this process" in result.stderr
    assert "(Sandybridge)" in result.stderr and "Traceback" not in result.stderr
    # DVC removes a stage's outputs before its command runs: the refusal wrote nothing in their place, and the
    # cache still holds the table, byte for byte.
    assert sorted(path.name for path in (project / "features").iterdir()) == sorted(features_before)
    run_dvc(project, "checkout", "extract-features")
    assert (project / "features/rich.parquet").read_bytes() == rich_table


def test_a_fresh_clone_pulls_every_output_from_the_default_remote(tiny_project, tmp_path):
    project = copy_built_project(tiny_project, tmp_path / "project")
    git = ["git", "-c", "user.name=soundmind tests", "-c", "user.email=tests@localhost"]
    # As in this repository: dvc.lock and the uncached reports in git, everything cached on the remote.
    subprocess.run([*git, "add", "-A"], cwd=project, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "pipeline results"], cwd=project, check=True)
    run_dvc(project, "push")
    # .dvc/config's remote is ../../soundmind-dvc-remote: beside the project, shared by its clones.
    assert any((tmp_path / "soundmind-dvc-remote").rglob("*"))
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(project), str(clone)], check=True)
    run_dvc(clone, "pull")
    assert "up to date" in run_dvc(clone, "status").stdout
    assert (clone / "models/ensemble/bundle.json").read_bytes() == (project / "models/ensemble/bundle.json").read_bytes()
    assert (clone / "features/rich.parquet").read_bytes() == (project / "features/rich.parquet").read_bytes()
