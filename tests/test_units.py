"""Unit tests of the package's pure functions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from soundmind.data.augment import AugmentSettings, augment_waveform, clip_generator, shift_in_time
from soundmind.errors import ParamsError
from soundmind.features.frames import FrameSettings, log_mel
from soundmind.features.sets import select_feature_set
from soundmind.features.spectral import RICH_FEATURE_NAMES, FeatureSettings, rich_feature_vector
from soundmind.data.ravdess import EMOTIONS, actor_gender, clip_id_for, parse_clip_id
from soundmind.data.split import assign_actors, split_manifest
from tests.tiny_corpus import synthetic_clip

SETTINGS = FeatureSettings()


# --- file names -------------------------------------------------------------------------------

def test_parse_clip_id_decodes_every_field():
    info = parse_clip_id("03-01-05-02-01-02-12")
    assert (info.emotion, info.intensity, info.statement, info.repetition, info.actor, info.gender) == (
        "angry", "strong", 1, 2, 12, "female"
    )


@pytest.mark.parametrize(
    "clip_id",
    ["03-01-09-01-01-01-01", "03-01-05-03-01-01-01", "03-01-05-01-01-01-25", "03-01-05-01-01-01-00",
     "01-01-05-01-01-01-01", "03-02-05-01-01-01-01", "03-01-01-02-01-01-01", "03-01-05-01-01-01", "hello"],
)
def test_parse_clip_id_refuses_names_outside_the_scheme(clip_id):
    with pytest.raises(ValueError, match="not a RAVDESS"):
        parse_clip_id(clip_id)


def test_clip_id_for_is_the_inverse_of_parse():
    for emotion in EMOTIONS:
        clip_id = clip_id_for(emotion, "normal", 2, 1, 7)
        assert parse_clip_id(clip_id).emotion == emotion
    assert actor_gender(1) == "male" and actor_gender(24) == "female"


# --- split ------------------------------------------------------------------------------------

def test_explicit_split_lists_are_used_as_given():
    assignment = assign_actors(list(range(1, 25)), [21, 22, 23, 24], [17, 18, 19, 20], 4, 4, seed=0)
    assert [actor for actor, split in assignment.items() if split == "test"] == [21, 22, 23, 24]
    assert sum(split == "train" for split in assignment.values()) == 16


def test_drawn_split_is_seeded_disjoint_and_gender_balanced():
    first = assign_actors(list(range(1, 25)), [], [], 4, 4, seed=7)
    assert first == assign_actors(list(range(1, 25)), [], [], 4, 4, seed=7)
    assert first != assign_actors(list(range(1, 25)), [], [], 4, 4, seed=8)
    for split in ("test", "val"):
        actors = [actor for actor, name in first.items() if name == split]
        assert len(actors) == 4
        assert sum(actor_gender(actor) == "male" for actor in actors) == 2


def test_overlapping_or_unknown_actors_are_refused_naming_the_key():
    with pytest.raises(ParamsError, match="share actors"):
        assign_actors(list(range(1, 25)), [1, 2], [2, 3], 2, 2, seed=0)
    with pytest.raises(ParamsError, match="split.test_actors"):
        assign_actors(list(range(1, 7)), [30], [1], 1, 1, seed=0)
    with pytest.raises(ParamsError, match="no actor for training"):
        assign_actors([1, 2], [1], [2], 1, 1, seed=0)


def test_split_manifest_gives_each_clip_its_actors_split():
    manifest = pd.DataFrame(
        {"clip_id": ["a", "b", "c"], "actor": [1, 2, 2], "gender": ["male", "female", "female"], "emotion": ["sad"] * 3}
    )
    table = split_manifest(manifest, {1: "train", 2: "test"})
    assert dict(zip(table["clip_id"], table["split"])) == {"a": "train", "b": "test", "c": "test"}


# --- features ---------------------------------------------------------------------------------

def tone(seconds: float = 1.0, frequency: float = 220.0) -> np.ndarray:
    time = np.arange(int(16000 * seconds)) / 16000
    return (0.3 * np.sin(2 * np.pi * frequency * time)).astype(np.float32)


def test_rich_vector_has_392_finite_values_for_speech_like_silent_and_tiny_input():
    for waveform in (tone(), np.zeros(16000, np.float32), tone(0.01), np.zeros(1, np.float32)):
        vector = rich_feature_vector(waveform, SETTINGS)
        assert vector.shape == (392,) and vector.dtype == np.float32
        assert np.isfinite(vector).all()


def test_rich_vector_is_deterministic_and_tells_pitches_apart():
    low, high = rich_feature_vector(tone(frequency=150), SETTINGS), rich_feature_vector(tone(frequency=600), SETTINGS)
    np.testing.assert_array_equal(low, rich_feature_vector(tone(frequency=150), SETTINGS))
    centroid = RICH_FEATURE_NAMES.index("centroid_mean")
    assert high[centroid] > low[centroid]


@pytest.mark.parametrize("extractor", [lambda waveform: rich_feature_vector(waveform, SETTINGS),
                                       lambda waveform: log_mel(waveform, FrameSettings())], ids=["rich", "frames"])
def test_features_are_the_same_whatever_number_of_blas_threads_the_caller_allows(extractor):
    """Loky workers get cores // n_jobs BLAS threads, Dask workers one, the predictor every core: on OpenBLAS's
    AVX2 and AVX-512 kernels two threads used to sum the mel and MFCC products in another order than one."""
    from threadpoolctl import threadpool_limits

    waveform = synthetic_clip("angry", actor=3, statement=1, sample_rate=16000, seconds=3.0)
    with threadpool_limits(limits=1, user_api="blas"):
        on_one_thread = extractor(waveform)
    with threadpool_limits(limits=4, user_api="blas"):
        on_four_threads = extractor(waveform)
    assert on_one_thread.tobytes() == on_four_threads.tobytes()


def test_mfcc40_is_the_mfcc_mean_block_of_the_rich_vector():
    vector = rich_feature_vector(tone(), SETTINGS)
    assert RICH_FEATURE_NAMES[:40] == [f"mfcc_mean_{index:02d}" for index in range(40)]
    np.testing.assert_array_equal(select_feature_set(vector, "mfcc40"), vector[:40])
    with pytest.raises(ValueError, match="unknown feature set"):
        select_feature_set(vector, "mfcc13")


# --- augmentation -----------------------------------------------------------------------------

AUGMENT = AugmentSettings(3, ("noise", "stretch", "pitch", "shift"), (40.0, 50.0), (0.8, 1.2), (-3.0, 3.0), 0.3)


def test_augmentation_is_a_function_of_seed_clip_and_copy():
    waveform = tone()
    first = augment_waveform(waveform, 16000, AUGMENT, clip_generator(42, "03-01-05-01-01-01-01", 0))
    again = augment_waveform(waveform, 16000, AUGMENT, clip_generator(42, "03-01-05-01-01-01-01", 0))
    np.testing.assert_array_equal(first[0], again[0])
    assert first[1:] == again[1:]
    draws = {augment_waveform(waveform, 16000, AUGMENT, clip_generator(42, "03-01-05-01-01-01-01", index))[1:]
             for index in range(12)}
    assert len(draws) == 12


@pytest.mark.parametrize("kind", ["noise", "stretch", "pitch", "shift"])
def test_each_augmentation_changes_the_audio_within_its_range(kind):
    settings = AugmentSettings(1, (kind,), (40.0, 50.0), (0.8, 1.2), (-3.0, 3.0), 0.3)
    waveform = tone()
    augmented, chosen, amount = augment_waveform(waveform, 16000, settings, np.random.default_rng(1))
    assert chosen == kind and np.isfinite(augmented).all()
    assert not np.array_equal(augmented[: len(waveform)], waveform[: len(augmented)])
    if kind == "noise":
        snr = 10 * np.log10(np.mean(waveform**2) / np.mean((augmented - waveform) ** 2))
        assert 38 < snr < 52 and 40 <= amount <= 50
    if kind == "stretch":
        assert len(augmented) == pytest.approx(len(waveform) / amount, rel=0.01)
    if kind in ("pitch", "shift"):
        assert len(augmented) == len(waveform)


def test_shift_in_time_keeps_length_and_fills_with_silence():
    waveform = np.arange(1, 11, dtype=np.float32)
    np.testing.assert_array_equal(shift_in_time(waveform, 3), [0, 0, 0, 1, 2, 3, 4, 5, 6, 7])
    np.testing.assert_array_equal(shift_in_time(waveform, -3), [4, 5, 6, 7, 8, 9, 10, 0, 0, 0])


def test_augment_settings_refuse_unknown_kinds():
    with pytest.raises(ValueError, match="augment.kinds"):
        AugmentSettings(1, ("reverb",), (40.0, 50.0), (0.8, 1.2), (-3.0, 3.0), 0.3)


def test_a_killed_runs_staging_folder_is_removed_but_a_siblings_is_kept(tmp_path):
    from soundmind.files import staging_folder

    final = tmp_path / "baseline"
    leftover = tmp_path / ".baseline-k1ll3d0a.tmp"
    (leftover / "model.keras").parent.mkdir(parents=True)
    (leftover / "model.keras").write_bytes(b"half written")
    sibling = tmp_path / ".baseline-rbf-abcd1234.tmp"
    sibling.mkdir()
    staging = staging_folder(final)
    assert staging.is_dir() and staging.parent == tmp_path
    assert not leftover.exists() and sibling.exists()


def test_tables_are_written_whole_or_not_at_all(tmp_path):
    from soundmind.files import write_table

    table = pd.DataFrame({"clip_id": ["a", "b"], "value": [1.0, 2.0]})
    write_table(table, tmp_path / "features" / "rich.parquet")
    write_table(table, tmp_path / "splits.csv")
    assert pd.read_parquet(tmp_path / "features" / "rich.parquet").equals(table)
    assert pd.read_csv(tmp_path / "splits.csv").equals(table)
    assert not list(tmp_path.rglob("*.tmp"))
    with pytest.raises(ValueError, match="parquet or .csv"):
        write_table(table, tmp_path / "table.xlsx")
