"""Adapted training inputs and the evaluate-external stage's functions on tiny bundles (no `dvc repro`): the
speaker-normalised tables, EmoDB-named folder scoring (skipped, missing, scored) and the enrollment curve."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from soundmind.data.ravdess import EMOTIONS, parse_clip_id
from soundmind.errors import CorpusError, ParamsError
from soundmind.serving.adaptation_report import (
    SKIPPED_EXTERNAL, enrollment_curve, enrollment_sizes, external_folder, other_external_models, score_external,
)
from soundmind.features.normalise import speaker_normalise
from soundmind.features.sets import feature_names
from soundmind.features.tables import METADATA_COLUMNS
from soundmind.models.adapted import speaker_normalised_table
from soundmind.serving.predict import EmotionPredictor
from soundmind.serving.speaker import SpeakerProfile, leave_one_out_profiles
from tests.tiny_bundles import TINY_MODEL, rich_rows, write_speaker_prior, write_tiny_bundles


# EmoDB's emotion initials for the tiny corpus's RAVDESS emotions (calm stands in for boredom, L).
EMODB_INITIAL = {"angry": "W", "disgust": "E", "fearful": "A", "happy": "F", "sad": "T", "neutral": "N", "calm": "L"}


@pytest.fixture(scope="module")
def predictor(corpus, tmp_path_factory) -> EmotionPredictor:
    return EmotionPredictor(TINY_MODEL, write_tiny_bundles(corpus, tmp_path_factory.mktemp("models")))


def emodb_copy(corpus: Path, folder: Path) -> Path:
    """The tiny corpus's clips of actors 1 and 2 under EmoDB names (speakers 03 and 08), surprised left out."""
    folder.mkdir()
    for path in sorted(corpus.rglob("*.wav")):
        info = parse_clip_id(path.stem)
        if info.actor in (1, 2) and info.emotion in EMODB_INITIAL:
            speaker = {1: "03", 2: "08"}[info.actor]
            shutil.copy(path, folder / f"{speaker}a0{info.statement}{EMODB_INITIAL[info.emotion]}a.wav")
    return folder


def test_the_adapted_models_read_original_clips_standardised_per_actor():
    columns = feature_names("egemaps")
    rng = np.random.default_rng(0)
    table = pd.DataFrame({"clip_id": [f"c{i}" for i in range(8)], "source_clip": "", "actor": [1, 1, 1, 2, 2, 2, 1, 2],
                          "gender": "", "split": "train", "emotion": "angry",
                          "augmentation": ["none"] * 6 + ["noise", "noise"]})
    table = pd.concat([table, pd.DataFrame(rng.normal(size=(8, len(columns))) * 5 + 3, columns=columns)], axis=1)

    normalised = speaker_normalised_table(table, "egemaps")

    originals = table[table["augmentation"] == "none"].sort_values("clip_id").reset_index(drop=True)
    assert list(normalised.columns) == METADATA_COLUMNS + columns and len(normalised) == 6
    np.testing.assert_allclose(normalised[columns].to_numpy(),
                               speaker_normalise(originals[columns].to_numpy(), originals["actor"].to_numpy()))


def test_external_scoring_is_skipped_without_a_folder_and_refuses_a_missing_one(predictor, tmp_path):
    assert score_external("", predictor) == {"skipped": SKIPPED_EXTERNAL}
    with pytest.raises(CorpusError, match=r"^params.yaml: 'external.emodb' names .*nowhere, which is not a folder\.$"):
        score_external(str(tmp_path / "nowhere"), predictor)


def test_an_empty_setting_finds_a_local_copy_like_the_ravdess_one(tmp_path):
    local_copy = tmp_path / "data/external/emodb"
    assert external_folder("", local_copy) == ""
    local_copy.mkdir(parents=True)
    assert external_folder("", local_copy) == str(local_copy)
    assert external_folder("../elsewhere", local_copy) == "../elsewhere"


def test_an_emodb_named_folder_is_scored_plain_and_adapted_without_boredom(predictor, corpus, tmp_path):
    report = score_external(str(emodb_copy(corpus, tmp_path / "emodb")), predictor)

    assert report["classes"] == ["neutral", "happy", "sad", "angry", "fearful", "disgust"]
    assert any("labelled 'boredom'" in note for note in report["notes"]) and "predictions" not in report
    for kind in ("one_clip", "adapted"):
        assert report[kind]["clips"] == 2 * 2 * 6 and 0.0 <= report[kind]["accuracy"] <= 1.0
    assert report["adapted"]["model"] == "tiny_adapted" and report["adapted"]["adapted_clips"] == 24


def test_other_external_models_are_distinct_names():
    assert other_external_models({"external": {"other_models": ["crnn", "svm_rich"]}}) == ["crnn", "svm_rich"]
    for bad in (["crnn", "crnn"], "crnn", [""], [3]):
        with pytest.raises(ParamsError, match="'external.other_models' must be a list of distinct model names"):
            other_external_models({"external": {"other_models": bad}})


def test_enrollment_sizes_are_positive_integers_or_all():
    assert enrollment_sizes({"adaptation": {"enrollment_clips": [1, 2, "all"]}}) == [1, 2, "all"]
    for bad in ([0], [], [1, 1], ["most"], True):
        with pytest.raises(ParamsError, match="'adaptation.enrollment_clips'"):
            enrollment_sizes({"adaptation": {"enrollment_clips": bad}})


def test_the_enrollment_curve_scores_each_clip_with_a_profile_of_its_speakers_other_clips(predictor, corpus):
    paths = sorted(corpus.rglob("*.wav"))
    infos = [parse_clip_id(path.stem) for path in paths]
    clips = [{"rich": row[None, :]} for row in rich_rows(paths)]
    actors, emotions = np.array([info.actor for info in infos]), np.array([info.emotion for info in infos])

    rows = enrollment_curve(predictor, clips, actors, emotions, [1, 4, 40, "all"], draws=3, seed=7)

    assert [(row["k"], row["clips"], row["draws"]) for row in rows] == [("1", 1, 3), ("4", 4, 3), ("40", 15, 3), ("all", 15, 1)]
    plain = np.mean([predictor.score(predictor.clip_features(path))["emotion"] == emotion
                     for path, emotion in zip(paths, emotions)])
    assert {row["plain_accuracy"] for row in rows} == {round(float(plain), 4)}
    # k = all is the leave-one-out profile the CLI's per-folder adaptation uses, clip by clip.
    expected = []
    for actor in (1, 2, 3):
        own = [index for index, value in enumerate(actors) if value == actor]
        profiles = leave_one_out_profiles([clips[index] for index in own], predictor.adapted_bundle().feature_settings)
        for index, profile in zip(own, profiles):
            probabilities = predictor.adapted_bundle().probabilities(profile.normalise(clips[index]))
            expected.append(EMOTIONS[int(probabilities.argmax())] == emotions[index])
    assert rows[-1]["adapted_accuracy"] == round(float(np.mean(expected)), 4) and rows[-1]["adapted_accuracy_std"] == 0.0
    # Capped at the 15 other clips, every draw takes them all.
    assert rows[2]["adapted_accuracy"] == rows[3]["adapted_accuracy"] and rows[2]["adapted_accuracy_std"] == 0.0
    assert all(0.0 <= row["adapted_accuracy"] <= 1.0 for row in rows)


def test_with_a_speaker_prior_the_curve_scores_each_clip_as_the_predictor_does(corpus, tmp_path):
    models = write_tiny_bundles(corpus, tmp_path / "models")
    write_speaker_prior(corpus, models, prior_clips=8, blend_clips=4)
    predictor = EmotionPredictor(TINY_MODEL, models)
    paths = sorted(corpus.rglob("*.wav"))
    actors = np.array([parse_clip_id(path.stem).actor for path in paths])
    emotions = np.array([parse_clip_id(path.stem).emotion for path in paths])
    clips = [{"rich": row[None, :]} for row in rich_rows(paths)]

    rows = enrollment_curve(predictor, clips, actors, emotions, [2, "all"], draws=1, seed=3)

    settings = predictor.adapted_bundle().feature_settings
    for row, size in zip(rows, (2, "all")):
        rng = np.random.default_rng([3, 0 if size == 2 else 1, 0])  # the curve's own draws
        answers = []
        for index, path in enumerate(paths):
            others = np.flatnonzero((actors == actors[index]) & (np.arange(len(paths)) != index))
            if size != "all":
                others = np.sort(rng.choice(others, size=size, replace=False))
            profile = SpeakerProfile.from_features([clips[other] for other in others], settings, min_clips=1)
            result = predictor.score(predictor.clip_features(path), profile)
            assert result["adapted_weight"] == pytest.approx(len(others) / (len(others) + 4), abs=1e-4)
            answers.append(result["emotion"] == emotions[index])
        assert row["adapted_accuracy"] == round(float(np.mean(answers)), 4)
