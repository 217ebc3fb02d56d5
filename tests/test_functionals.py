"""The kept openSMILE engine gives exactly what openSMILE's own process_signal gives, clip after clip."""

from __future__ import annotations

import subprocess
import sys
import threading
import warnings
from pathlib import Path

import numpy as np
import opensmile
import pytest

from soundmind.features.functionals import (
    EXTERNAL_SINK, EXTERNAL_SOURCE, FUNCTIONAL_SETS, engine_configuration, functional_vector, tidy_engines,
)
from tests.conftest import REPO_ROOT
from tests.tiny_corpus import synthetic_clip

RATE = 16000


def reference_vector(waveform: np.ndarray, feature_set: str) -> np.ndarray:
    """openSMILE's documented path: a new extractor run per clip, as the functionals were first computed."""
    smile = opensmile.Smile(feature_set=getattr(opensmile.FeatureSet, FUNCTIONAL_SETS[feature_set]),
                            feature_level=opensmile.FeatureLevel.Functionals)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Segment too short": the all-missing answer checked below
        values = smile.process_signal(waveform, RATE).to_numpy(dtype=np.float64)[0]
    return np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)


def clips() -> list[np.ndarray]:
    spoken = [synthetic_clip(emotion, actor=2, statement=1, sample_rate=RATE, seconds=seconds)
              for emotion, seconds in (("angry", 1.5), ("sad", 3.0), ("happy", 0.7))]
    # Silence, a clip too short for one frame, and full scale (16-bit overflow) are where engines go wrong.
    return [*spoken, np.zeros(RATE, np.float32), np.zeros(100, np.float32), np.ones(RATE // 2, np.float32)]


@pytest.mark.parametrize("feature_set", sorted(FUNCTIONAL_SETS))
def test_the_kept_engine_matches_a_fresh_extractor_on_every_clip(feature_set):
    for waveform in clips() + clips()[:2]:  # and again after the edge cases: the reset leaves nothing behind
        assert np.array_equal(functional_vector(waveform, RATE, feature_set), reference_vector(waveform, feature_set))


def test_each_thread_gets_its_own_engine_with_the_same_values():
    waveform = clips()[0]
    expected = functional_vector(waveform, RATE, "egemaps")
    found = {}
    thread = threading.Thread(target=lambda: found.setdefault("value", functional_vector(waveform, RATE, "egemaps")))
    thread.start()
    thread.join()
    assert np.array_equal(found["value"], expected)


def test_an_unknown_set_is_refused_by_name():
    with pytest.raises(ValueError, match="'prosody'"):
        functional_vector(np.zeros(RATE, np.float32), RATE, "prosody")


@pytest.mark.parametrize("feature_set", sorted(FUNCTIONAL_SETS))
def test_the_engine_is_configured_as_the_opensmile_package_configures_its_own(feature_set):
    smile = opensmile.Smile(feature_set=getattr(opensmile.FeatureSet, FUNCTIONAL_SETS[feature_set]),
                            feature_level=opensmile.FeatureLevel.Functionals)
    config_file, options = engine_configuration(feature_set, RATE)
    expected = {**smile._options(), "sampleRate": RATE, "nBits": 16,
                "source": str(Path(smile.default_config_root) / opensmile.config.EXTERNAL_INPUT_CONFIG)}
    assert (str(config_file), options) == (smile.config_path, expected)
    assert (EXTERNAL_SOURCE[0], EXTERNAL_SINK[0]) == (opensmile.config.EXTERNAL_SOURCE_COMPONENT,
                                                      opensmile.config.EXTERNAL_OUTPUT_COMPONENT)


def test_a_tidied_engine_starts_the_next_clip_as_a_fresh_one_would():
    first, second = clips()[:2]
    functional_vector(first, RATE, "compare")
    tidy_engines()  # what the predictor's worker does after an answer
    assert np.array_equal(functional_vector(second, RATE, "compare"), reference_vector(second, "compare"))


def test_extracting_functionals_imports_neither_the_opensmile_package_nor_pandas():
    # The package's __init__ imports audinterface, audformat and pandas: a quarter of a second of a cold start.
    code = ("import sys, numpy as np; from soundmind.features.functionals import functional_vector; "
            "values = functional_vector(np.zeros(16000, np.float32), 16000, 'egemaps'); "
            "print(len(values), 'opensmile' in sys.modules, 'pandas' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300,
                            check=True)
    assert result.stdout.split() == [str(len(reference_vector(np.zeros(RATE, np.float32), "egemaps"))), "False", "False"]
