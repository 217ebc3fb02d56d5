"""EmotionPredictor on the tiny pipeline's real bundles: inputs it accepts, inputs it refuses, model choice."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile
import yaml

from soundmind.features.functionals import FUNCTIONAL_SETS
from soundmind.serving.predict import (
    MAX_FILE_BYTES, EmotionPredictor, PredictionError, available_bundles, describe, ready_member_probabilities,
    resolve_bundle,
)
from soundmind.data.ravdess import EMOTIONS
from tests.tiny_corpus import synthetic_clip

RATE = 16000
TRAINED = ("baseline", "enhanced", "optimized", "ensemble")


@pytest.fixture(scope="module")
def models(tiny_project: Path) -> Path:
    return tiny_project / "models"


@pytest.fixture(scope="module")
def predictor(models: Path) -> EmotionPredictor:
    return EmotionPredictor(models_dir=models)


def write_wav(path: Path, waveform: np.ndarray, sample_rate: int = RATE) -> Path:
    soundfile.write(str(path), waveform, sample_rate, subtype="PCM_16")
    return path


def speech(seconds: float = 3.0, emotion: str = "angry", sample_rate: int = RATE) -> np.ndarray:
    return synthetic_clip(emotion, actor=5, statement=1, sample_rate=sample_rate, seconds=seconds)


def assert_valid_scores(result: dict) -> None:
    """One scored piece of audio: eight probabilities summing to 1, and the emotion is the most likely."""
    probabilities = result["probabilities"]
    assert sorted(probabilities) == sorted(EMOTIONS)
    assert all(0.0 <= value <= 1.0 for value in probabilities.values())
    assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-6)
    assert result["emotion"] == max(probabilities, key=probabilities.get)
    assert result["confidence"] == pytest.approx(probabilities[result["emotion"]])


def assert_valid_result(result: dict, model: str, seconds: float) -> None:
    assert_valid_scores(result)
    assert result["model"] == model
    assert result["duration_seconds"] == pytest.approx(seconds, abs=0.01)


# --- what it accepts ---------------------------------------------------------------------------


def test_a_path_bytes_and_the_waveform_give_the_same_prediction(predictor, tmp_path):
    path = write_wav(tmp_path / "clip.wav", speech())
    from_path = predictor.predict(path)
    from_bytes = predictor.predict(path.read_bytes(), name="clip.wav")
    samples, rate = soundfile.read(str(path), dtype="float32")
    from_waveform = predictor.predict(samples, sample_rate=rate)

    for result in (from_path, from_bytes, from_waveform):
        assert_valid_result(result, "ensemble", 3.0)
        assert "windows" not in result
    for other in (from_bytes, from_waveform):
        assert other["emotion"] == from_path["emotion"]
        np.testing.assert_allclose(
            list(other["probabilities"].values()), list(from_path["probabilities"].values()), atol=1e-6
        )


def test_a_stereo_44k_array_is_mixed_and_resampled(predictor):
    mono = speech(sample_rate=44100)
    stereo = np.stack([mono, 0.5 * mono], axis=1)
    frames_first = predictor.predict(stereo, sample_rate=44100)
    channels_first = predictor.predict(stereo.T, sample_rate=44100)

    assert_valid_result(frames_first, "ensemble", 3.0)
    np.testing.assert_allclose(
        list(channels_first["probabilities"].values()), list(frames_first["probabilities"].values()), atol=1e-6
    )


def test_a_long_clip_is_scored_in_windows_whose_mean_is_the_answer(predictor):
    result = predictor.predict(speech(seconds=20.0), sample_rate=RATE)

    assert_valid_result(result, "ensemble", 20.0)
    windows = result["windows"]
    assert len(windows) >= 5  # 4 s windows every 2 s over 20 s
    for window in windows:
        assert_valid_scores(window)
        assert window["model"] == "ensemble"
    starts = [window["start_seconds"] for window in windows]
    assert starts[0] == 0.0 and starts == sorted(set(starts))
    assert starts[-1] + 4.0 == pytest.approx(20.0, abs=0.01), "the last window reaches the end of the clip"
    mean = {emotion: np.mean([window["probabilities"][emotion] for window in windows]) for emotion in EMOTIONS}
    for emotion in EMOTIONS:
        assert result["probabilities"][emotion] == pytest.approx(mean[emotion], abs=1e-6)


def test_members_scored_while_opensmile_runs_give_the_ensembles_own_answer(predictor):
    bundle = predictor.bundle
    waveform = speech(seconds=7.0)  # two windows
    clip = predictor.waveform_features(waveform)
    beside_opensmile = {family: rows for family, rows in clip.features.items() if family not in FUNCTIONAL_SETS}
    early = ready_member_probabilities(bundle, beside_opensmile)
    assert set(early) == {name for name, member in bundle.members.items()
                          if member.required_families().isdisjoint(FUNCTIONAL_SETS)}
    assert early and len(early) < len(bundle.members)  # the tiny ensemble has members of both kinds
    whole = describe(bundle, predictor.calibrated(bundle, clip.features).mean(axis=0),
                     predictor.serving.calibration_of(bundle.name))
    answer = predictor.answers(waveform, [None])[0]
    assert {key: answer[key] for key in whole} == whole


def test_predict_many_reports_failures_without_stopping(predictor, tmp_path):
    good = write_wav(tmp_path / "good.wav", speech())
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")

    results = predictor.predict_many([empty, good])

    assert results[0]["file"] == str(empty) and "empty" in results[0]["error"]
    assert results[1]["file"] == str(good) and "error" not in results[1]
    assert_valid_scores(results[1])


# --- what it refuses, with one sentence naming the file ------------------------------------------


def truncated_wav(path: Path) -> Path:
    write_wav(path, speech())
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


BAD_FILES = {
    "very_short.wav": (lambda path: write_wav(path, speech(seconds=0.1)), "too short"),
    "silent.wav": (lambda path: write_wav(path, np.zeros(2 * RATE, dtype=np.float32)), "silent"),
    "empty.wav": (lambda path: path.write_bytes(b""), "empty"),
    "not_audio.wav": (lambda path: path.write_text("this is a text file, not a recording\n" * 20), "cannot be decoded"),
    "truncated.wav": (truncated_wav, "truncated"),
    "missing.wav": (lambda path: None, "cannot be read"),
}


@pytest.mark.parametrize("file_name", sorted(BAD_FILES))
def test_a_bad_file_raises_one_sentence_naming_it(predictor, tmp_path, file_name):
    make, problem = BAD_FILES[file_name]
    path = tmp_path / file_name
    make(path)

    with pytest.raises(PredictionError) as caught:
        predictor.predict(path)

    message = str(caught.value)
    assert "\n" not in message
    assert str(path) in message
    assert problem in message


def test_bad_bytes_are_named_by_the_name_given(predictor):
    with pytest.raises(PredictionError, match=r"^upload\.wav: cannot be decoded"):
        predictor.predict(b"\x00\x01 definitely not audio" * 10, name="upload.wav")
    with pytest.raises(PredictionError, match=r"^upload\.wav: the file is larger than the 50 MiB limit\.$"):
        predictor.predict(bytes(MAX_FILE_BYTES + 1), name="upload.wav")


def test_a_folder_is_not_an_audio_file(predictor, tmp_path):
    with pytest.raises(PredictionError, match="is a folder"):
        predictor.predict(tmp_path)


@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
def test_a_waveform_with_nan_or_inf_is_refused(predictor, bad_value):
    waveform = speech()
    waveform[1000] = bad_value
    with pytest.raises(PredictionError, match=r"^mic take 3: the waveform holds NaN or infinite samples\.$"):
        predictor.predict(waveform, sample_rate=RATE, name="mic take 3")


@pytest.mark.parametrize("sample_rate", [None, 0, -16000, 16000.0, 500, 10_000_000, True])
def test_a_waveform_needs_a_sensible_integer_sample_rate(predictor, sample_rate):
    with pytest.raises(PredictionError) as caught:
        predictor.predict(speech(), sample_rate=sample_rate)
    message = str(caught.value)
    assert message.startswith("the waveform: ") and "sample rate" in message and "\n" not in message


@pytest.mark.parametrize("waveform", [np.zeros(0, dtype=np.float32), np.zeros((2, 3, 4), dtype=np.float32)])
def test_an_empty_or_3d_array_is_refused(predictor, waveform):
    with pytest.raises(PredictionError, match="non-empty 1-D or 2-D"):
        predictor.predict(waveform, sample_rate=RATE)


# --- which model ---------------------------------------------------------------------------------


def test_the_default_model_is_the_ensemble(models, predictor, tiny_project):
    names = available_bundles(models)
    trained = yaml.safe_load((tiny_project / "params.yaml").read_text())["train"]
    assert names[0] == "ensemble" and sorted(names) == sorted(trained)  # the plain bundles, not their adapted twins
    # The rest come in order of their recorded val accuracy.
    rest = [json.loads((models / name / "bundle.json").read_text())["val_accuracy"] for name in names[1:]]
    assert rest == sorted(rest, reverse=True)
    assert predictor.name == "ensemble"
    assert predictor.bundle_path == models / "ensemble"


def test_a_model_is_chosen_by_name_or_by_path(models, tmp_path):
    clip = speech()
    by_name = EmotionPredictor("baseline", models_dir=models)
    by_path = EmotionPredictor(str(models / "enhanced"), models_dir=tmp_path / "elsewhere")

    assert by_name.name == "baseline" and by_name.bundle_path == models / "baseline"
    assert by_path.name == "enhanced"
    assert_valid_result(by_name.predict(clip, sample_rate=RATE), "baseline", 3.0)
    assert_valid_result(by_path.predict(clip, sample_rate=RATE), "enhanced", 3.0)


def test_an_unknown_model_lists_the_trained_ones(models):
    with pytest.raises(PredictionError) as caught:
        EmotionPredictor("transformer", models_dir=models)
    message = str(caught.value)
    assert message.startswith("transformer: no model bundle")
    for name in TRAINED:
        assert name in message


@pytest.mark.parametrize("folder", ["empty", "missing"])
def test_no_trained_model_says_to_run_dvc_repro(tmp_path, folder):
    models_dir = tmp_path / folder
    if folder == "empty":
        models_dir.mkdir()
    with pytest.raises(PredictionError, match=r"No trained model in .*: run `dvc repro` first"):
        resolve_bundle(None, models_dir)
    with pytest.raises(PredictionError, match="run `dvc repro`"):
        EmotionPredictor(models_dir=models_dir)
