"""Serving with ONNX Runtime: the export stage's networks and scikit-learn pipelines give the originals' answers, a
missing or damaged one falls back to the original with one warning naming it, and the CLI scores without TensorFlow
or scikit-learn importable."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile

from soundmind.models.onnx_export import exported_models, export_network, export_pickle, keras_archives, pickled_files
from soundmind.models.onnx_networks import ONNX_FOLDER, OnnxFallbackWarning, onnx_twins
from soundmind.params import load_params
from soundmind.serving.predict import EmotionPredictor
from tests.tiny_corpus import synthetic_clip

RATE = 16000


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("clips") / "angry.wav"
    soundfile.write(str(path), synthetic_clip("angry", actor=5, statement=1, sample_rate=RATE, seconds=2.5), RATE,
                    subtype="PCM_16")
    return path


def bundle_copy(tiny_project: Path, name: str, destination: Path) -> Path:
    """models/<name> of the tiny project alone in a models folder of its own (no models/onnx beside it)."""
    shutil.copytree(tiny_project / "models" / name, destination / name)
    shutil.copy2(tiny_project / "models" / "serving.json", destination / "serving.json")
    return destination


def test_the_export_stage_checked_every_bundle_against_the_original_on_the_test_actors(tiny_project):
    report = json.loads((tiny_project / "reports" / "export.json").read_text())
    assert sorted(report) == sorted(exported_models(load_params(tiny_project / "params.yaml")))
    for name, figures in report.items():
        assert figures["same_argmax"] and figures["max_abs_difference"] <= 1e-4, name
        # One ONNX file per Keras archive and per scikit-learn pickle, an ensemble's members' included, at its
        # relative path under models/onnx.
        bundle_dir = tiny_project / "models" / name
        saved = keras_archives(bundle_dir) + pickled_files(bundle_dir)
        expected = sorted(f"models/onnx/{name}/{path.relative_to(bundle_dir).with_suffix('.onnx')}" for path in saved)
        assert figures["onnx_files"] == expected
        assert all((tiny_project / path).is_file() for path in expected)
    assert {"scaler.onnx", "model_seed42.onnx"} <= {Path(path).name for path in report["baseline"]["onnx_files"]}
    assert [Path(path).name for path in report["logistic_egemaps"]["onnx_files"]] == ["pipeline.onnx"]
    assert report["crnn"]["onnx_files"] and report["strided_crnn"]["onnx_files"]


def test_exporting_an_archive_twice_gives_the_same_bytes(tiny_project, tmp_path):
    # In one process the converter's counters have moved on between the two: only canonical files are equal.
    archive = tiny_project / "models" / "crnn" / "model_seed42.keras"
    export_network(archive, tmp_path / "first.onnx")
    export_network(archive, tmp_path / "second.onnx")
    assert (tmp_path / "first.onnx").read_bytes() == (tmp_path / "second.onnx").read_bytes()


def test_exporting_a_pipeline_twice_gives_the_same_bytes(tiny_project, tmp_path):
    pipeline = tiny_project / "models" / "logistic_egemaps" / "pipeline.joblib"
    export_pickle(pipeline, tmp_path / "first.onnx")
    export_pickle(pipeline, tmp_path / "second.onnx")
    assert (tmp_path / "first.onnx").read_bytes() == (tmp_path / "second.onnx").read_bytes()


@pytest.mark.parametrize("model", ["crnn", "baseline", "logistic_egemaps", "ensemble"])
def test_onnx_runtime_gives_the_original_answer(tiny_project, clip, model):
    models = tiny_project / "models"
    with warnings.catch_warnings():
        warnings.simplefilter("error", OnnxFallbackWarning)  # every network and pickle must come from its ONNX twin
        onnx_answer = EmotionPredictor(model, models, runtime="onnx").predict(clip)
    keras_answer = EmotionPredictor(model, models, runtime="keras").predict(clip)
    assert onnx_answer["emotion"] == keras_answer["emotion"]
    assert np.allclose(list(onnx_answer["probabilities"].values()), list(keras_answer["probabilities"].values()),
                       atol=1e-4)


def test_the_onnx_predictor_uses_onnx_sessions_not_keras_or_scikit_learn(tiny_project):
    predictor = EmotionPredictor("crnn", tiny_project / "models")
    assert {type(network).__name__ for network in predictor.bundle.models.values()} == {"OnnxNetwork"}
    baseline = EmotionPredictor("baseline", tiny_project / "models").bundle
    assert type(baseline.scaler).__name__ == "OnnxScaler"
    assert type(EmotionPredictor("logistic_egemaps", tiny_project / "models").bundle.pipeline).__name__ == "OnnxClassifier"


def test_a_missing_onnx_twin_falls_back_to_keras_with_one_warning_naming_it(tiny_project, clip, tmp_path):
    models = bundle_copy(tiny_project, "crnn", tmp_path / "models")
    with pytest.warns(OnnxFallbackWarning) as caught:
        predictor = EmotionPredictor("crnn", models)
    seeds = len(predictor.bundle.models)
    assert len(caught) == seeds
    expected = onnx_twins(models / "crnn" / "model_seed42.keras", models)[-1]
    message = str(caught[0].message)
    assert str(expected) in message and "Keras" in message and "\n" not in message
    keras_answer = EmotionPredictor("crnn", tiny_project / "models", runtime="keras").predict(clip)
    assert predictor.predict(clip)["probabilities"] == pytest.approx(keras_answer["probabilities"], abs=1e-6)


def test_a_corrupt_onnx_file_falls_back_to_keras_with_one_warning_naming_it(tiny_project, clip, tmp_path):
    models = bundle_copy(tiny_project, "baseline", tmp_path / "models")
    shutil.copytree(tiny_project / "models" / ONNX_FOLDER / "baseline", models / ONNX_FOLDER / "baseline")
    damaged = sorted((models / ONNX_FOLDER / "baseline").glob("*.onnx"))[0]
    damaged.write_bytes(damaged.read_bytes()[:100])
    with pytest.warns(OnnxFallbackWarning) as caught:
        predictor = EmotionPredictor("baseline", models)
    assert len(caught) == 1 and str(damaged) in str(caught[0].message)
    assert predictor.predict(clip)["emotion"] == EmotionPredictor("baseline", tiny_project / "models").predict(clip)["emotion"]


@pytest.mark.parametrize("damage", ["missing", "corrupt"])
def test_a_missing_or_corrupt_pipeline_twin_falls_back_to_scikit_learn_with_one_warning_naming_it(
        tiny_project, clip, tmp_path, damage):
    models = bundle_copy(tiny_project, "logistic_egemaps", tmp_path / "models")
    twin = models / ONNX_FOLDER / "logistic_egemaps" / "pipeline.onnx"
    if damage == "corrupt":
        twin.parent.mkdir(parents=True)
        twin.write_bytes((tiny_project / "models" / ONNX_FOLDER / "logistic_egemaps" / "pipeline.onnx").read_bytes()[:100])
    with pytest.warns(OnnxFallbackWarning) as caught:
        predictor = EmotionPredictor("logistic_egemaps", models)
    message = str(caught[0].message)
    assert len(caught) == 1 and str(twin) in message and "scikit-learn" in message and "\n" not in message
    assert type(predictor.bundle.pipeline).__name__ == "Pipeline"
    original = EmotionPredictor("logistic_egemaps", tiny_project / "models", runtime="keras").predict(clip)
    assert predictor.predict(clip)["probabilities"] == pytest.approx(original["probabilities"], abs=1e-9)


def test_the_export_command_writes_onnx_beside_the_archives_which_the_predictor_then_uses(tiny_project, tmp_path):
    models = bundle_copy(tiny_project, "crnn", tmp_path / "models")
    models = bundle_copy(tiny_project, "baseline", models)
    # Both bundle folders in one command (it takes several): one start of TensorFlow and the converters, not two.
    bundles = [str(models / "crnn"), str(models / "baseline")]
    result = subprocess.run([sys.executable, "-m", "soundmind", "export", *bundles], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in (models / "crnn").glob("*.onnx")) == ["model_seed42.onnx", "model_seed43.onnx"]
    assert "scaler.onnx" in {path.name for path in (models / "baseline").glob("*.onnx")}
    assert all(f"{bundle}: " in result.stdout for bundle in bundles), result.stdout
    for name in ("crnn", "baseline"):
        with warnings.catch_warnings():
            warnings.simplefilter("error", OnnxFallbackWarning)
            EmotionPredictor(name, models)


def inference_only(tmp_path: Path) -> dict[str, str]:
    """An environment in which TensorFlow, Keras and scikit-learn cannot be imported, as in an inference-only install."""
    blocked = tmp_path / "blocked"
    for package in ("tensorflow", "keras", "tf2onnx", "sklearn"):
        (blocked / package).mkdir(parents=True)
        (blocked / package / "__init__.py").write_text(f"raise ImportError(\"No module named {package!r}\")\n")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(blocked), os.environ.get("PYTHONPATH", "")])}


@pytest.mark.parametrize("model", ["crnn", "logistic_egemaps", "ensemble"])
def test_the_cli_predicts_without_tensorflow_or_scikit_learn_importable(tiny_project, clip, tmp_path, model):
    result = subprocess.run(
        [sys.executable, "-m", "soundmind", "predict", str(clip), "--model", model, "--json"],
        cwd=tiny_project, capture_output=True, text=True, timeout=300, env=inference_only(tmp_path),
    )
    assert result.returncode == 0, result.stderr
    answer = json.loads(result.stdout.splitlines()[0])
    assert answer["model"] == model and answer["emotion"] in answer["probabilities"]
    assert "warning" not in result.stderr


def test_without_tensorflow_or_an_onnx_twin_the_cli_says_so_in_one_sentence(tiny_project, clip, tmp_path):
    models = bundle_copy(tiny_project, "crnn", tmp_path / "models")
    result = subprocess.run(
        [sys.executable, "-m", "soundmind", "predict", str(clip), "--model", "crnn", "--models-dir", str(models)],
        capture_output=True, text=True, timeout=300, env=inference_only(tmp_path),
    )
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "TensorFlow" in errors[0] and "model_seed42.onnx" in errors[0], result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_thread_count_is_refused_in_one_sentence_not_taken_for_a_damaged_file(monkeypatch, tmp_path):
    from soundmind.models.onnx_networks import OnnxThreadsError, network_loader

    monkeypatch.setenv("SOUNDMIND_ONNX_THREADS", "two")
    with pytest.raises(OnnxThreadsError, match="SOUNDMIND_ONNX_THREADS must be a whole number.*'two'"):
        network_loader("onnx", tmp_path, lambda path: pytest.fail("no file should be loaded"))
