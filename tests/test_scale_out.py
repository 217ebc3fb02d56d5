"""Scale-out and sharing: features on a Dask cluster, the DVC cache through the default remote."""

from __future__ import annotations

import subprocess

import yaml

from soundmind.evaluation.lockfile import output_hashes, read_lock
from tests.conftest import copy_built_project, run_dvc

FEATURE_OUTPUTS = ("features/rich.parquet", "features/mfcc40.parquet", "features/compare.parquet",
                   "features/egemaps.parquet")


def test_features_on_a_dask_cluster_equal_the_local_backends(tiny_project, tmp_path):
    from dask.distributed import LocalCluster

    project = copy_built_project(tiny_project, tmp_path / "project")
    with LocalCluster(host="127.0.0.1", n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster:
        params = yaml.safe_load((project / "params.yaml").read_text())
        params["features"].update(backend="dask", scheduler_address=cluster.scheduler_address)
        (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        result = run_dvc(project, "repro", "--no-run-cache", "extract-features", "extract-functionals")
    assert f"joblib on dask: 2 workers at {cluster.scheduler_address}" in result.stdout + result.stderr
    local, on_dask = output_hashes(read_lock(tiny_project / "dvc.lock")), output_hashes(read_lock(project / "dvc.lock"))
    for output in FEATURE_OUTPUTS:
        assert on_dask[output] == local[output], output


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
