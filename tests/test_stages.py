"""Stage scripts as DVC runs them: bad input gives one sentence and a non-zero exit, and loses nothing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import TINY_ACTORS, copy_project
from tests.tiny_corpus import break_corpus, make_tiny_corpus


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
    result = run_stage(project, "stages.download_ravdess")
    assert result.returncode == 1
    assert "data/external/Audio_Speech_Actors_01-24.zip" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (project / "data/raw").exists()


def test_a_missing_configured_source_is_named(tmp_path):
    project = copy_project(tmp_path / "project")
    edit_params(project, lambda params: params["data"].update(source="/nowhere/ravdess.zip"))
    result = run_stage(project, "stages.download_ravdess")
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


def test_the_download_stage_names_every_bad_file_or_skips_them_into_the_report(tmp_path):
    project = copy_project(tmp_path / "project")
    source = project / "data/external/tiny"
    make_tiny_corpus(source, actors=TINY_ACTORS)
    expected = break_corpus(source)
    result = run_stage(project, "stages.download_ravdess")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "file(s) cannot be used" in result.stderr and all(name in result.stderr for name in expected)
    assert not (project / "data/raw").exists()

    edit_params(project, lambda params: params["data"].update(on_bad_file="skip"))
    result = run_stage(project, "stages.download_ravdess")
    assert result.returncode == 0, result.stderr
    report = json.loads((project / "reports/ingest.json").read_text())
    assert {Path(path).name for path in report["skipped"]} == set(expected)
    assert report["skipped_files"] == len(report["skipped"]) >= 6 and report["clips"] == len(TINY_ACTORS) * 16 - 4
