"""Property-based tests: whatever arrives, the predictor answers with a valid prediction or one clear error."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from soundmind.serving.predict import EmotionPredictor, PredictionError
from soundmind.data.ravdess import EMOTIONS

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def predictor(tiny_project: Path) -> EmotionPredictor:
    return EmotionPredictor("baseline", models_dir=tiny_project / "models")


def check_outcome(predictor: EmotionPredictor, *arguments, **keywords) -> None:
    """The contract: a prediction whose probabilities sum to 1, or a PredictionError of one line."""
    try:
        result = predictor.predict(*arguments, **keywords)
    except PredictionError as error:
        message = str(error)
        assert message and "\n" not in message and "Traceback" not in message
        return
    assert set(result["probabilities"]) == set(EMOTIONS)
    assert math.isclose(sum(result["probabilities"].values()), 1.0, abs_tol=1e-6)
    assert all(0.0 <= value <= 1.0 for value in result["probabilities"].values())
    assert result["emotion"] in EMOTIONS and 0.0 <= result["confidence"] <= 1.0


@FUZZ
@given(data=st.binary(max_size=4096))
def test_random_bytes_never_crash(predictor, data):
    check_outcome(predictor, data, name="fuzz.bin")


@FUZZ
@given(
    samples=arrays(np.float64, st.integers(0, 40_000),
                   elements=st.floats(allow_nan=True, allow_infinity=True, width=64)),
    sample_rate=st.one_of(st.integers(-10, 10**7), st.sampled_from([8000, 16000, 22050, 44100, 48000])),
)
def test_random_waveforms_and_sample_rates_never_crash(predictor, samples, sample_rate):
    check_outcome(predictor, samples, sample_rate=sample_rate, name="fuzz waveform")


@FUZZ
@given(seconds=st.floats(0.0, 12.0), sample_rate=st.sampled_from([1000, 8000, 16000, 44100, 96000]),
       amplitude=st.floats(0.0, 10.0))
def test_noise_of_any_length_rate_and_loudness_gets_a_valid_answer_or_a_clear_refusal(predictor, seconds, sample_rate, amplitude):
    samples = np.random.default_rng(0).normal(0, amplitude, size=int(seconds * sample_rate)).astype(np.float32)
    check_outcome(predictor, samples, sample_rate=sample_rate, name="noise")


@FUZZ
@given(header=st.sampled_from([b"RIFF", b"fLaC", b"OggS", b"ID3"]), body=st.binary(max_size=2048))
def test_files_that_start_like_audio_but_are_not_never_crash(predictor, tmp_path_factory, header, body):
    path = tmp_path_factory.mktemp("fuzz") / "clip.wav"
    path.write_bytes(header + body)
    check_outcome(predictor, path)


def test_integer_pcm_and_loud_floats_are_scaled_not_refused(predictor):
    from tests.tiny_corpus import synthetic_clip

    clip = synthetic_clip("angry", actor=5, statement=1, sample_rate=16000, seconds=2.0)
    clip = clip / np.abs(clip).max() * 0.9
    as_float = predictor.predict(clip, sample_rate=16000)
    as_int16 = predictor.predict((clip * 32767).astype(np.int16), sample_rate=16000)
    as_loud = predictor.predict(clip.astype(np.float64) * 1e12, sample_rate=16000)
    assert as_int16["emotion"] == as_float["emotion"] == as_loud["emotion"]
    np.testing.assert_allclose(list(as_int16["probabilities"].values()), list(as_float["probabilities"].values()), atol=0.02)
