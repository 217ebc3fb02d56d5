"""The recording channels: the held-out ones of shift-channels and the training ones of augment-channels, what each
condition does to a clip, that copies repeat, and that the two never share a condition or a room."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from soundmind.audio import load_audio, write_flac
from soundmind.data.channel import (
    CHANNEL_CONDITIONS,
    TRAINING_CONDITIONS,
    ChannelSettings,
    channel_settings_from_params,
    coloured_noise,
    room_impulse_responses,
    shift_every_clip,
    shift_waveform,
    training_channel_copies,
)
from soundmind.data.synthetic import synthetic_clip
from soundmind.errors import ParamsError
from soundmind.features.tables import copies_to_featurise

RATE = 16000
QUIET = ChannelSettings(conditions=CHANNEL_CONDITIONS, noise_snr_db=(80.0, 80.0), gain_db=(0.0, 0.0), rooms=2,
                        rt60_seconds=(0.4, 0.8))


def band_power(waveform: np.ndarray, low: float, high: float) -> float:
    spectrum = np.abs(np.fft.rfft(waveform)) ** 2
    frequencies = np.fft.rfftfreq(len(waveform), 1.0 / RATE)
    return float(spectrum[(frequencies >= low) & (frequencies < high)].sum())


def two_tones(seconds: float = 1.0) -> np.ndarray:
    time = np.arange(int(seconds * RATE)) / RATE
    return (0.2 * np.sin(2 * np.pi * 100 * time) + 0.2 * np.sin(2 * np.pi * 1000 * time)).astype(np.float32)


def test_the_telephone_line_keeps_the_voice_band_and_drops_the_bass():
    clip = two_tones()
    phone = shift_waveform(clip, RATE, "telephone", QUIET, [], np.random.default_rng(0))
    assert phone.shape == clip.shape and phone.dtype == np.float32
    before = band_power(clip, 50, 150) / band_power(clip, 900, 1100)
    after = band_power(phone, 50, 150) / band_power(phone, 900, 1100)
    assert after < before / 30


def test_a_room_smears_the_clip_in_time_without_changing_its_length():
    clip = np.zeros(RATE, dtype=np.float32)
    clip[1000] = 0.5  # a click: a room turns it into a decaying tail
    rooms = room_impulse_responses(QUIET, RATE, seed=0)
    roomy = shift_waveform(clip, RATE, "room", QUIET, rooms, np.random.default_rng(0))
    assert len(roomy) == len(clip)
    tail = roomy[1000 + int(0.05 * RATE):]
    assert np.sum(tail**2) > 0.01 * np.sum(roomy**2)


def test_impulse_responses_are_seeded_and_of_unit_energy():
    first, again, other = (room_impulse_responses(QUIET, RATE, seed) for seed in (1, 1, 2))
    assert len(first) == QUIET.rooms
    for response in first:
        assert np.sum(response.astype(np.float64) ** 2) == pytest.approx(1.0, rel=1e-4)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not np.array_equal(first[0], other[0])


def test_noise_colour_follows_its_exponent():
    rng = np.random.default_rng(0)
    white, brown = coloured_noise(RATE, 0.0, rng), coloured_noise(RATE, 2.0, rng)
    assert np.mean(white**2) == pytest.approx(1.0, rel=1e-3)
    assert band_power(brown, 20, 200) / band_power(brown, 2000, 2180) > 50 * band_power(white, 20, 200) / band_power(white, 2000, 2180)


@pytest.mark.parametrize("condition", CHANNEL_CONDITIONS)
def test_every_condition_stays_below_full_scale_and_repeats_for_the_same_draws(condition):
    loud = ChannelSettings(conditions=CHANNEL_CONDITIONS, noise_snr_db=(5.0, 10.0), gain_db=(6.0, 6.0), rooms=2,
                           rt60_seconds=(0.3, 0.6))
    clip = synthetic_clip("angry", 1, 1, RATE, 1.0) * np.float32(4.0)
    rooms = room_impulse_responses(loud, RATE, seed=0)
    once = shift_waveform(clip, RATE, condition, loud, rooms, np.random.default_rng(3))
    again = shift_waveform(clip, RATE, condition, loud, rooms, np.random.default_rng(3))
    assert np.array_equal(once, again)
    assert np.isfinite(once).all() and np.max(np.abs(once)) <= 0.99 + 1e-6


def test_every_clip_gets_one_shifted_copy_that_a_rerun_writes_again(tmp_path):
    raw = tmp_path / "raw"
    rows = []
    for actor in (1, 2):
        for index, emotion in enumerate(("happy", "sad", "angry")):
            clip_id = f"03-01-0{index + 3}-01-01-01-{actor:02d}"
            path = f"Actor_{actor:02d}/{clip_id}.flac"
            write_flac(raw / path, synthetic_clip(emotion, actor, 1, RATE, 0.5), RATE)
            rows.append({"clip_id": clip_id, "path": path, "actor": actor, "emotion": emotion, "gender": "male"})
    manifest = pd.DataFrame(rows)
    first = shift_every_clip(manifest, raw, tmp_path / "one", sample_rate=RATE, settings=QUIET, seed=7, n_jobs=1)
    second = shift_every_clip(manifest, raw, tmp_path / "two", sample_rate=RATE, settings=QUIET, seed=7, n_jobs=1)
    assert sorted(first["source_clip"]) == sorted(manifest["clip_id"])
    assert set(first["augmentation"]) <= set(CHANNEL_CONDITIONS)
    assert first.equals(second)
    for path in first["path"]:
        np.testing.assert_array_equal(load_audio(tmp_path / "one" / path, RATE), load_audio(tmp_path / "two" / path, RATE))
    splits = pd.DataFrame({"clip_id": manifest["clip_id"], "split": ["train", "val", "test"] * 2})
    clips = copies_to_featurise(manifest, splits, first, "shifted")
    assert (clips["origin"] == "shifted").all()
    assert clips.set_index("source_clip").loc[manifest["clip_id"], "split"].tolist() == splits["split"].tolist()


def test_bad_channel_params_are_refused_naming_the_key(project_params):
    assert channel_settings_from_params(project_params).conditions == tuple(project_params["channel_shift"]["conditions"])
    for key, value, message in (("conditions", ["telephone", "walkie_talkie"], "channel_shift.conditions"),
                                ("conditions", [], "channel_shift.conditions"),
                                ("rooms", 0, "channel_shift.rooms"), ("rooms", 2.5, "channel_shift.rooms"),
                                ("noise_snr_db", [30.0, 5.0], "channel_shift.noise_snr_db")):
        params = {**project_params, "channel_shift": {**project_params["channel_shift"], key: value}}
        with pytest.raises(ParamsError, match=message):
            channel_settings_from_params(params)


TRAINING = ChannelSettings(conditions=TRAINING_CONDITIONS, noise_snr_db=(80.0, 80.0), gain_db=(0.0, 0.0), rooms=2,
                           rt60_seconds=(0.3, 0.6), block="channel_augment")


def test_the_narrowband_line_loses_the_top_of_the_spectrum():
    time = np.arange(RATE) / RATE
    clip = (0.2 * np.sin(2 * np.pi * 1000 * time) + 0.2 * np.sin(2 * np.pi * 6500 * time)).astype(np.float32)
    for draw in range(4):
        narrow = shift_waveform(clip, RATE, "narrowband", TRAINING, [], np.random.default_rng(draw))
        # Resampled to at most 11,025 Hz and rolled off below its Nyquist frequency: 6.5 kHz is 13 dB down or more.
        assert band_power(narrow, 6400, 6600) < band_power(clip, 6400, 6600) / 20
        assert band_power(narrow, 900, 1100) > band_power(clip, 900, 1100) / 4


def test_the_graphic_eq_reshapes_the_spectrum_of_a_clip():
    clip = coloured_noise(RATE, 0.0, np.random.default_rng(1)) * np.float32(0.05)
    shaped = shift_waveform(clip, RATE, "microphone_eq", TRAINING, [], np.random.default_rng(2))
    gains = [10 * np.log10(band_power(shaped, centre / 1.2, centre * 1.2) / band_power(clip, centre / 1.2, centre * 1.2))
             for centre in (200.0, 800.0, 3200.0)]
    assert max(gains) - min(gains) > 3.0


@pytest.mark.parametrize("condition", TRAINING_CONDITIONS)
def test_every_training_condition_stays_below_full_scale_and_repeats(condition):
    loud = ChannelSettings(conditions=TRAINING_CONDITIONS, noise_snr_db=(5.0, 10.0), gain_db=(6.0, 6.0), rooms=2,
                           rt60_seconds=(0.3, 0.6), block="channel_augment")
    clip = synthetic_clip("angry", 1, 1, RATE, 1.0) * np.float32(4.0)
    rooms = room_impulse_responses(loud, RATE, seed=0)
    once = shift_waveform(clip, RATE, condition, loud, rooms, np.random.default_rng(3))
    assert np.array_equal(once, shift_waveform(clip, RATE, condition, loud, rooms, np.random.default_rng(3)))
    assert np.isfinite(once).all() and np.max(np.abs(once)) <= 0.99 + 1e-6


def test_training_rooms_are_never_the_held_out_rooms():
    held_out = room_impulse_responses(QUIET, RATE, seed=0)
    training = room_impulse_responses(TRAINING, RATE, seed=0)
    for train_room in training:
        for test_room in held_out:
            assert len(train_room) != len(test_room) or not np.allclose(train_room, test_room)


def test_training_copies_cover_every_clip_through_training_conditions_only(tmp_path):
    raw = tmp_path / "raw"
    rows = []
    for actor in (1, 2):
        clip_id = f"03-01-05-01-01-01-{actor:02d}"
        path = f"Actor_{actor:02d}/{clip_id}.flac"
        write_flac(raw / path, synthetic_clip("angry", actor, 1, RATE, 0.5), RATE)
        rows.append({"clip_id": clip_id, "path": path, "actor": actor, "emotion": "angry", "gender": "male"})
    manifest = pd.DataFrame(rows)
    copies = training_channel_copies(manifest, raw, tmp_path / "out", sample_rate=RATE, settings=TRAINING, copies=2,
                                     seed=7, n_jobs=1)
    assert sorted(copies["clip_id"]) == sorted(f"{clip}_chan{k}" for clip in manifest["clip_id"] for k in (0, 1))
    assert set(copies["augmentation"]) <= set(TRAINING_CONDITIONS)
    held_out = shift_every_clip(manifest, raw, tmp_path / "held", sample_rate=RATE, settings=QUIET, seed=7, n_jobs=1)
    for copy_id, source in zip(copies["clip_id"], copies["source_clip"]):
        heard = load_audio(tmp_path / "out" / copies.set_index("clip_id").loc[copy_id, "path"], RATE)
        other = load_audio(tmp_path / "held" / held_out.set_index("source_clip").loc[source, "path"], RATE)
        assert not np.allclose(heard[: len(other)], other[: len(heard)])
    with pytest.raises(ValueError, match="channel_augment"):
        training_channel_copies(manifest, raw, tmp_path / "x", sample_rate=RATE, settings=QUIET, copies=1, seed=7)


def test_the_two_blocks_cannot_share_a_condition(project_params):
    assert channel_settings_from_params(project_params, "channel_augment").block == "channel_augment"
    leaked = {**project_params, "channel_augment": {**project_params["channel_augment"], "conditions": ["telephone"]}}
    with pytest.raises(ParamsError, match="channel_augment.conditions"):
        channel_settings_from_params(leaked, "channel_augment")
    seen = {**project_params, "channel_shift": {**project_params["channel_shift"], "conditions": ["narrowband"]}}
    with pytest.raises(ParamsError, match="channel_shift.conditions"):
        channel_settings_from_params(seen)


def test_channel_augment_families_must_be_feature_families(project_params):
    from soundmind.features.channel_copies import channel_copy_families

    assert set(channel_copy_families(project_params)) <= {"rich", "compare", "egemaps", "frames"}
    for bad in (["frames", "spectrogram"], "frames"):
        params = {**project_params, "channel_augment": {**project_params["channel_augment"], "families": bad}}
        with pytest.raises(ParamsError, match="channel_augment.families"):
            channel_copy_families(params)
