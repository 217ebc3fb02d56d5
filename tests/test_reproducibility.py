"""Comparing a rebuild with the committed run: which outputs kept their bytes, which figures moved too far."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from soundmind.evaluation.lockfile import compare_with_tolerance, is_headline, metric_tolerance
from tests.conftest import REPO_ROOT

SPREADS = {"optimized": 0.03, "baseline": 0.004}


@pytest.mark.parametrize("key, headline", [
    ("reports/metrics.json:optimized.accuracy", True),
    ("reports/metrics.json:optimized.seeds.accuracy.mean", True),
    ("reports/cv.json:plain.summary.ensemble.accuracy_mean", True),
    ("reports/metrics.json:optimized.per_class.sad.accuracy", False),
    ("reports/metrics.json:optimized.seeds.per_seed.42.accuracy", False),
    ("reports/training/optimized.json:per_seed.42.best_epoch", False),
])
def test_headline_figures_are_the_ones_a_reader_quotes(key, headline):
    assert is_headline(key) is headline


def test_keras_models_may_move_by_twice_their_seed_spread_and_everything_else_barely():
    assert metric_tolerance("reports/metrics.json:optimized.accuracy", SPREADS) == pytest.approx(0.06)
    assert metric_tolerance("reports/training/optimized.json:val_accuracy", SPREADS) == pytest.approx(0.06)
    assert metric_tolerance("reports/metrics.json:baseline.accuracy", SPREADS) == pytest.approx(0.02)  # the floor
    assert metric_tolerance("reports/metrics.json:ensemble.accuracy", SPREADS) == pytest.approx(0.06)
    assert metric_tolerance("reports/metrics.json:svm_rich.accuracy", SPREADS) == pytest.approx(0.01)
    assert metric_tolerance("reports/cv.json:plain.summary.ensemble.accuracy_mean", SPREADS) == pytest.approx(0.01)


def committed_metrics() -> dict:
    return {
        "reports/metrics.json:optimized.accuracy": 0.40,
        "reports/metrics.json:optimized.seeds.accuracy.std": 0.03,
        "reports/metrics.json:svm_rich.accuracy": 0.425,
        "reports/metrics.json:svm_rich.per_class.sad.recall": 0.5,
    }


def test_a_comparison_judges_headline_figures_and_counts_the_rest():
    rebuilt = {**committed_metrics(), "reports/metrics.json:optimized.accuracy": 0.45,
               "reports/metrics.json:svm_rich.accuracy": 0.445, "reports/metrics.json:svm_rich.per_class.sad.recall": 0.6}
    report = compare_with_tolerance(committed_metrics(), rebuilt)
    rows = {row["metric"]: row for row in report["headline"]}
    assert rows["reports/metrics.json:optimized.accuracy"]["within"]  # +0.05 against ±0.06
    assert not rows["reports/metrics.json:svm_rich.accuracy"]["within"]  # +0.02 against ±0.01
    assert report["headline_outside_tolerance"] == ["reports/metrics.json:svm_rich.accuracy"]
    assert report["other_values_different"] == 1


def git(project: Path, *arguments: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@localhost", *arguments], cwd=project, check=True,
                   capture_output=True)


def test_the_script_compares_a_rebuilt_workspace_with_the_commit(tmp_path):
    project = tmp_path / "project"
    (project / "reports").mkdir(parents=True)
    (project / "dvc.yaml").write_text(yaml.safe_dump({"stages": {}, "metrics": ["reports/metrics.json"]}))
    lock = {"schema": "2.0", "stages": {"train": {"cmd": "x", "outs": [
        {"path": "models/a", "md5": "1.dir"}, {"path": "reports/metrics.json", "md5": "2"}]}}}
    (project / "dvc.lock").write_text(yaml.safe_dump(lock))
    metrics = {"optimized": {"accuracy": 0.40, "seeds": {"accuracy": {"std": 0.03}}}, "svm_rich": {"accuracy": 0.425}}
    (project / "reports/metrics.json").write_text(json.dumps(metrics))
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-q", "-m", "committed run")

    lock["stages"]["train"]["outs"][1]["md5"] = "3"  # the rebuild wrote different metrics bytes
    (project / "dvc.lock").write_text(yaml.safe_dump(lock))
    metrics["optimized"]["accuracy"] = 0.44
    (project / "reports/metrics.json").write_text(json.dumps(metrics))
    command = [sys.executable, str(REPO_ROOT / "scripts/reproducibility.py"), "--project", str(project),
               "--against-commit", "--write"]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((project / "reports/reproducibility_across_machines.json").read_text())
    assert (report["outputs_identical"], report["outputs_different"]) == (["models/a"], ["reports/metrics.json"])
    assert report["headline_outside_tolerance"] == [] and report["rebuilt_on"]["cpu"]

    metrics["svm_rich"]["accuracy"] = 0.475
    (project / "reports/metrics.json").write_text(json.dumps(metrics))
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 1
    assert "svm_rich.accuracy: 0.425 -> 0.475 (+0.0500, OUTSIDE ±0.01)" in result.stdout


def test_stages_pin_the_cpu_paths_only_where_they_run_and_never_over_a_user_setting():
    from stages import PORTABLE_MATH, portable_math_settings

    avx2 = {"avx", "avx2", "fma", "sse4_2"}
    assert portable_math_settings("x86_64", avx2 | {"avx512f"}, {}) == PORTABLE_MATH
    assert portable_math_settings("x86_64", avx2, {"OPENBLAS_CORETYPE": "SkylakeX"}) == {
        name: value for name, value in PORTABLE_MATH.items() if name != "OPENBLAS_CORETYPE"
    }
    assert portable_math_settings("x86_64", {"sse4_2", "avx"}, {}) == {}  # no AVX2: the Haswell kernel would crash
    assert portable_math_settings("aarch64", {"asimd"}, {}) == {}
    assert portable_math_settings("x86_64", avx2, {"SOUNDMIND_NATIVE_MATH": "1"}) == {}


def test_a_stage_process_loads_numpy_with_the_pinned_paths():
    """`python -m stages.<name>` imports the stages package first, so numpy starts with the settings."""
    from stages import cpu_flags

    probe = ("import stages, os, numpy; from numpy._core._multiarray_umath import __cpu_dispatch__; "
             "print(os.environ.get('OPENBLAS_CORETYPE'), sorted(__cpu_dispatch__))")
    environment = {key: value for key, value in os.environ.items()
                   if key not in ("OPENBLAS_CORETYPE", "NPY_DISABLE_CPU_FEATURES", "SOUNDMIND_NATIVE_MATH")}
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True,
                            env=environment, check=True)
    if {"avx2", "fma"} <= cpu_flags() and platform.machine() == "x86_64":
        assert result.stdout.startswith("Haswell ")
    else:
        assert result.stdout.startswith("None ")


def test_features_computed_twice_compare_equal_and_a_changed_value_is_found_in_its_block(tmp_path):
    from tests.tiny_corpus import make_tiny_corpus

    script = [sys.executable, str(REPO_ROOT / "scripts/features_across_machines.py")]
    make_tiny_corpus(tmp_path / "clips", actors=(1,))
    for name, extra in (("pinned", []), ("native", ["--native"])):
        subprocess.run([*script, "compute", str(tmp_path / "clips"), str(tmp_path / f"{name}.npz"), *extra], check=True,
                       capture_output=True)
    report = tmp_path / "report.json"
    same = subprocess.run([*script, "compare", str(tmp_path / "pinned.npz"), str(tmp_path / "native.npz"),
                           "--label", "here", "--write", str(report)], capture_output=True, text=True)
    assert same.returncode == 0, same.stdout + same.stderr  # one machine: the pin changes nothing on it
    assert json.loads(report.read_text())["here"]["values"] == 16 * 392

    import numpy as np

    archive = dict(np.load(tmp_path / "native.npz"))
    archive["features"][3, 150] += 1e-3  # a log-mel mean (80 mfcc and 24 chroma values come first)
    np.savez(tmp_path / "changed.npz", **archive)
    changed = subprocess.run([*script, "compare", str(tmp_path / "pinned.npz"), str(tmp_path / "changed.npz"),
                              "--label", "changed"], capture_output=True, text=True)
    assert changed.returncode == 1
    assert "changed: 1 of 6272 values differ" in changed.stdout and "  mel: 1 of" in changed.stdout
