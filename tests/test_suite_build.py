"""The suite's shared tiny-project build: a failed build is reported by every worker, never built again."""

from __future__ import annotations

import pytest

from tests.conftest import build_tiny_project


def test_a_failed_shared_build_is_reported_from_its_file_without_building_again(tmp_path):
    (tmp_path / "pipeline").mkdir()
    (tmp_path / "pipeline" / "build-failed.txt").write_text("dvc repro exited with 1: extract-features broke")
    running = []
    with pytest.raises(AssertionError, match="extract-features broke"):
        build_tiny_project(tmp_path, running)
    assert running == [] and not (tmp_path / "pipeline" / "project").exists()


def test_a_finished_shared_build_is_returned_as_it_is(tmp_path):
    project = tmp_path / "pipeline" / "project"
    project.mkdir(parents=True)
    (tmp_path / "pipeline" / "built").touch()
    (project / "marker").write_text("kept")
    assert build_tiny_project(tmp_path, []) == project and (project / "marker").read_text() == "kept"
