"""Reproducible to the byte and safe to interrupt: forced reruns and SIGKILLed runs of the real pipeline."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from soundmind.data.download import md5_of_file
from soundmind.evaluation.lockfile import output_hashes, read_lock
from tests.conftest import REPO_ROOT, TINY_ACTORS, copy_built_project, copy_project, run_dvc
from tests.http_server import serve
from tests.tiny_corpus import make_tiny_corpus

DATA_OUTPUTS = ("data/raw", "data/splits.csv", "data/augmented", "features/rich.parquet", "features/mfcc40.parquet",
                "features/compare.parquet", "features/egemaps.parquet")


def kill_when(project: Path, arguments: list[str], ready: Callable[[str], bool], timeout: float = 300) -> str:
    """Start `dvc ARGUMENTS`, SIGKILL its whole process group once ``ready(output so far)``; return the output.

    Fails if the command finished before the kill point: the kill must land in the middle of the work.
    """
    log_path = project / ".kill-test.log"
    with log_path.open("w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "dvc", *arguments], cwd=project, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while not ready(log_path.read_text()):
            assert process.poll() is None, f"dvc {' '.join(arguments)} ended before the kill point:\n{log_path.read_text()}"
            assert time.monotonic() < deadline, "the kill point never came"
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    output = log_path.read_text()
    log_path.unlink()
    return output


def leftovers(project: Path) -> list[str]:
    """Temporary files and staging folders that a killed run could have left in the workspace."""
    return sorted(
        str(path.relative_to(project)) for folder in ("data", "features", "models", "reports")
        for path in (project / folder).rglob("*.tmp")
    )


# Forced again: every data stage, a Keras model of two seeds and a scikit-learn one. The full corpus's forced run
# (reports/reproducibility.json) forces every stage with the same script.
FORCED_AGAIN = ("extract-features", "extract-functionals", "extract-frames", "train-baseline", "train-svm_rich")


def test_two_forced_runs_give_identical_hashes_and_metrics(tiny_project, tmp_path):
    project = copy_built_project(tiny_project, tmp_path / "project")
    result = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts/reproducibility.py"), "--project", str(project), "--write",
         *FORCED_AGAIN], capture_output=True, text=True, timeout=2400,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((project / "reports/reproducibility.json").read_text())
    assert report["command"] == "dvc repro --force " + " ".join(FORCED_AGAIN)
    for stage in ("download-ravdess", "split", "augment", *FORCED_AGAIN):
        assert f"Running stage '{stage}'" in result.stdout, stage
    assert set(DATA_OUTPUTS) | {"features/frames", "models/baseline", "models/svm_rich"} <= set(report["outputs_identical"])
    assert report["metrics_compared"] > 50 and report["metrics_different"] == {}
    # Keras with op determinism on one CPU, deterministic bundle files: even the models come out byte-identical.
    assert report["byte_identical"], report["outputs_different"]
    assert output_hashes(read_lock(project / "dvc.lock")) == output_hashes(read_lock(tiny_project / "dvc.lock"))


def test_a_download_killed_half_way_resumes_to_the_same_data(tiny_project, tmp_path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        corpus = tmp_path / "corpus"
        make_tiny_corpus(corpus, actors=TINY_ACTORS)
        for path in sorted(corpus.rglob("*.wav")):
            archive.write(path, path.relative_to(corpus).as_posix())
    payload = buffer.getvalue()
    project = copy_project(tmp_path / "project")
    with serve(payload, seconds_per_chunk=0.1) as server:
        params_path = project / "params.yaml"
        params = yaml.safe_load(params_path.read_text())
        params["data"].update(url=server.url, md5=hashlib.md5(payload).hexdigest(), size_bytes=len(payload))
        params_path.write_text(yaml.safe_dump(params, sort_keys=False))
        part = project / "data/external/Audio_Speech_Actors_01-24.zip.part"
        kill_when(project, ["repro", "download-ravdess"], lambda _: part.is_file() and part.stat().st_size > 0)
        assert 0 < part.stat().st_size < len(payload)
        assert not (project / "data/raw").exists()
        server.plan.seconds_per_chunk = 0.0
        run_dvc(project, "repro", "download-ravdess")
    assert "Range" in server.plan.seen[-1], "the second run should resume the partial download"
    assert md5_of_file(project / "data/external/Audio_Speech_Actors_01-24.zip") == hashlib.md5(payload).hexdigest()
    assert output_hashes(read_lock(project / "dvc.lock"))["data/raw"] == output_hashes(read_lock(tiny_project / "dvc.lock"))["data/raw"]
    assert leftovers(project) == []


@pytest.mark.parametrize(
    "stage, outputs, kill_point",
    [
        # The progress bar is up: the worker processes are extracting, the tables not yet written.
        ("extract-features", ("features/rich.parquet", "features/mfcc40.parquet"), r"features: "),
        ("train-baseline", ("models/baseline", "reports/training/baseline.json"), r"Epoch 2/"),
    ],
)
def test_a_stage_killed_mid_way_reruns_to_identical_outputs(tiny_project, tmp_path, stage, outputs, kill_point):
    project = copy_built_project(tiny_project, tmp_path / "project")
    kill_when(project, ["repro", "--force", "--single-item", stage], lambda output: re.search(kill_point, output))
    assert not all((project / output).exists() for output in outputs), "the kill came after the stage had finished"
    assert stage in run_dvc(project, "status", stage).stdout
    # --no-run-cache: recompute rather than restore the earlier result from DVC's run cache.
    run_dvc(project, "repro", "--no-run-cache", stage)
    before, after = output_hashes(read_lock(tiny_project / "dvc.lock")), output_hashes(read_lock(project / "dvc.lock"))
    for output in outputs:
        assert after[output] == before[output], output
    assert (project / outputs[0]).exists() and leftovers(project) == []
    assert "up to date" in run_dvc(project, "status").stdout
