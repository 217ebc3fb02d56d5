"""Log-mel frames: extraction, trimming, normalisation, the frame store, and the CRNN's crops and windows."""

from __future__ import annotations

import hashlib
from dataclasses import asdict

import numpy as np
import pandas as pd
import pytest

from soundmind.data.synthetic import synthetic_clip
from soundmind.errors import ParamsError, StaleFeaturesError
from soundmind.features.frame_store import FrameStore, load_frame_store, write_frame_store
from soundmind.features.frames import (
    FrameSettings,
    clip_frames,
    frame_settings_from_params,
    speaker_normalise_frames,
    standardise_per_band,
)
from soundmind.models.crnn_inputs import (
    mixup,
    random_crops,
    spec_augment,
    window_starts,
    windowed_probabilities,
)

SETTINGS = FrameSettings()
RATE = SETTINGS.sample_rate


def speech_between_silences(speech_seconds: float = 1.0, silence_seconds: float = 0.5) -> np.ndarray:
    silence = np.zeros(int(silence_seconds * RATE), dtype=np.float32)
    return np.concatenate([silence, synthetic_clip("angry", 1, 1, RATE, speech_seconds), silence])


def test_frames_are_64_bands_every_10_ms_with_the_silence_around_speech_trimmed():
    frames = clip_frames(speech_between_silences(1.0, 0.5), SETTINGS)
    assert frames.dtype == np.float16 and frames.shape[1] == 64
    # 1 s of speech and 100 ms of margin on each side, not the 2 s of the whole clip
    assert 115 <= len(frames) <= 126
    untrimmed = clip_frames(synthetic_clip("angry", 1, 1, RATE, 2.0), SETTINGS)
    assert 199 <= len(untrimmed) <= 202


def test_a_wider_margin_keeps_more_frames_and_settings_are_checked():
    wide = clip_frames(speech_between_silences(), FrameSettings(trim_margin_seconds=0.3))
    assert len(wide) - len(clip_frames(speech_between_silences(), SETTINGS)) in range(38, 42)
    with pytest.raises(ValueError):
        FrameSettings(hop_seconds=0.05, window_seconds=0.025)


def test_each_clip_is_standardised_per_band_with_its_own_statistics():
    frames = clip_frames(speech_between_silences(), SETTINGS).astype(np.float32)
    frames[:, 3] = -40.0  # a flat band: centred, not blown up
    standardised = standardise_per_band(frames)
    np.testing.assert_allclose(standardised.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(np.delete(standardised.std(axis=0), 3), 1.0, atol=1e-3)
    assert np.all(standardised[:, 3] == 0.0)


def test_speaker_normalisation_uses_each_actors_band_statistics_over_all_its_clips():
    rng = np.random.default_rng(0)
    base = [rng.normal(size=(length, 8)).astype(np.float32) for length in (50, 80, 60, 70)]
    actors = np.array([1, 1, 2, 2])
    # actor 2 is actor 1 louder by 12 dB and spread twice as wide in every band
    clips = base[:2] + [base[0] * 2 + 12, base[1] * 2 + 12]
    normalised = speaker_normalise_frames(clips, actors)
    np.testing.assert_allclose(normalised[0], normalised[2], atol=1e-4)
    pooled = np.concatenate(normalised[:2])
    np.testing.assert_allclose(pooled.mean(axis=0), 0.0, atol=1e-5)
    np.testing.assert_allclose(pooled.std(axis=0), 1.0, atol=1e-4)
    # unlike per-clip standardisation, the clips of one actor keep their differences in level
    assert not np.allclose(normalised[0].mean(axis=0), 0.0, atol=1e-2)


def frame_store(settings: FrameSettings = SETTINGS) -> FrameStore:
    clips = [clip_frames(synthetic_clip(emotion, 1, 1, RATE, seconds), settings)
             for emotion, seconds in (("happy", 0.6), ("sad", 1.2))]
    index = pd.DataFrame({
        "clip_id": ["a", "b"], "source_clip": ["a", "b"], "actor": [1, 2], "gender": ["male", "female"],
        "split": ["train", "val"], "emotion": ["happy", "sad"], "augmentation": ["none", "none"],
        "offset": [0, len(clips[0])], "length": [len(clips[0]), len(clips[1])],
    })
    return FrameStore(index, np.concatenate(clips), asdict(settings))


def test_the_frame_store_round_trips_with_the_same_bytes_and_refuses_stale_frames(tmp_path):
    store = frame_store()
    write_frame_store(store, tmp_path / "one", SETTINGS)
    write_frame_store(store, tmp_path / "two", SETTINGS)
    for name in ("frames.npy", "index.parquet"):
        digests = {hashlib.md5((tmp_path / folder / name).read_bytes()).hexdigest() for folder in ("one", "two")}
        assert len(digests) == 1, name
    loaded = load_frame_store(tmp_path / "one", asdict(SETTINGS))
    assert loaded.settings == asdict(SETTINGS)
    np.testing.assert_array_equal(loaded.frames_of(["b"])[0], store.clip_frames(1))
    with pytest.raises(StaleFeaturesError, match="n_mels 64 .*params.yaml now: 40"):
        load_frame_store(tmp_path / "one", asdict(FrameSettings(n_mels=40)))
    with pytest.raises(FileNotFoundError, match="extract-frames"):
        load_frame_store(tmp_path / "missing")


def test_frame_settings_come_from_params_and_a_bad_value_names_its_key(project_params):
    settings = frame_settings_from_params(project_params)
    n_mels = project_params["frames"]["n_mels"]
    assert (settings.n_mels, settings.hop_length, settings.window_length, settings.n_fft) == (n_mels, 160, 400, 512)
    project_params["frames"]["hop_seconds"] = "fast"
    with pytest.raises(ParamsError, match="'frames.hop_seconds'"):
        frame_settings_from_params(project_params)


def test_training_crops_are_random_and_zero_padded_and_windows_cover_a_long_clip():
    rng = np.random.default_rng(1)
    short, long = np.ones((30, 4), np.float32), np.arange(500 * 4, dtype=np.float32).reshape(500, 4)
    crops = random_crops([short, long], 100, rng)
    assert crops.shape == (2, 100, 4)
    assert crops[0].sum() == 30 * 4  # the short clip whole, the rest zeros
    assert np.any(np.all(long == crops[1][0], axis=1))  # a piece of the long clip
    assert window_starts(80, 100) == [0] and window_starts(250, 100) == [0, 50, 100, 150]
    probabilities = windowed_probabilities(lambda batch: batch[:, 0, :2], [long[:100], long[:250]], 100, batch_size=3)
    np.testing.assert_allclose(probabilities[1], np.mean([long[start, :2] for start in (0, 50, 100, 150)], axis=0))


def test_spec_augment_masks_at_most_the_configured_bands_and_frames_and_mixup_blends_targets():
    rng = np.random.default_rng(2)
    batch = np.ones((16, 120, 64), np.float32)
    masked = spec_augment(batch, rng, freq_masks=2, freq_mask_bands=10, time_masks=2, time_mask_frames=40)
    masked_bands = (masked == 0).all(axis=1).sum(axis=1)
    masked_frames = (masked == 0).all(axis=2).sum(axis=1)
    assert masked_bands.max() <= 20 and masked_frames.max() <= 80 and masked_bands.sum() > 0
    assert batch.min() == 1.0  # the input is not modified
    targets = np.eye(8, dtype=np.float32)[np.arange(16) % 8]
    mixed, mixed_targets = mixup(batch * np.arange(16)[:, None, None], targets, rng, 0.4)
    np.testing.assert_allclose(mixed_targets.sum(axis=1), 1.0, rtol=1e-6)
    assert mixed_targets.max(axis=1).min() >= 0.5 - 1e-6  # each clip stays mostly itself
    assert not np.allclose(mixed, batch * np.arange(16)[:, None, None])


def test_train_crnn_refuses_frames_made_with_other_settings_before_training(tmp_path, monkeypatch, project_params):
    from soundmind.models.recipes import train_named_model

    monkeypatch.chdir(tmp_path)
    old = FrameSettings(trim_top_db=60.0)
    write_frame_store(frame_store(old), tmp_path / "features" / "frames", old)
    with pytest.raises(StaleFeaturesError, match="trim_top_db 60.0 .*params.yaml now: 35.0"):
        train_named_model("crnn", project_params)
