"""Stage scripts as DVC runs them: bad input gives one sentence and a non-zero exit, and loses nothing."""

from __future__ import annotations

import subprocess
import sys

import yaml

from tests.conftest import copy_project


def run_stage(project, *arguments):
    return subprocess.run([sys.executable, "-m", *arguments], cwd=project, capture_output=True, text=True, timeout=300)


def edit_params(project, change):
    path = project / "params.yaml"
    params = yaml.safe_load(path.read_text())
    change(params)
    path.write_text(yaml.safe_dump(params, sort_keys=False))


def test_offline_without_a_local_copy_says_where_to_put_the_zip(tmp_path):
    project = copy_project(tmp_path / "project")
    edit_params(project, lambda params: params["data"].update(url="http://127.0.0.1:9/Audio_Speech_Actors_01-24.zip"))
    result = run_stage(project, "stages.download")
    assert result.returncode == 1
    assert "data/external/Audio_Speech_Actors_01-24.zip" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / "data/raw").exists()


def test_a_missing_configured_source_is_named(tmp_path):
    project = copy_project(tmp_path / "project")
    edit_params(project, lambda params: params["data"].update(source="/nowhere/ravdess.zip"))
    result = run_stage(project, "stages.download")
    assert result.returncode == 1
    assert "/nowhere/ravdess.zip" in result.stderr and "Traceback" not in result.stderr


def test_unknown_model_and_zero_epochs_are_refused_before_work(tmp_path):
    project = copy_project(tmp_path / "project")
    result = run_stage(project, "stages.train", "transformer")
    assert result.returncode == 1 and "train.transformer" in result.stderr and "Traceback" not in result.stderr
    edit_params(project, lambda params: params["train"]["baseline"].update(epochs=0))
    result = run_stage(project, "stages.train", "baseline")
    assert result.returncode == 1 and "train.baseline.epochs" in result.stderr
    assert "Traceback" not in result.stderr
