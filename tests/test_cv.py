"""Actor cross-validation, speaker normalisation and the seed-protocol audit on small synthetic data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from soundmind.evaluation.audit import audit_seed_protocol, random_clip_split
from soundmind.evaluation.cv import cross_validate, cv_ensemble_members, fold_inputs, fold_masks, make_folds, speaker_normalise
from soundmind.evaluation.finished_jobs import FinishedJobs, inputs_digest
from soundmind.models.architectures import with_crnn_schedule
from soundmind.errors import ParamsError
from soundmind.features.spectral import RICH_FEATURE_NAMES
from soundmind.data.ravdess import EMOTIONS


def test_folds_test_each_actor_once_and_validate_on_the_next_group():
    folds = make_folds(list(range(1, 25)), 6)
    assert [fold.test_actors for fold in folds][0] == (1, 2, 3, 4)
    assert folds[5].test_actors == (21, 22, 23, 24) and folds[5].val_actors == (1, 2, 3, 4)
    tested = sorted(actor for fold in folds for actor in fold.test_actors)
    assert tested == list(range(1, 25))
    assert all(set(fold.test_actors).isdisjoint(fold.val_actors) for fold in folds)
    uneven = make_folds(list(range(1, 25)), 5)
    assert [len(fold.test_actors) for fold in uneven] == [5, 5, 5, 5, 4]
    assert sorted(actor for fold in uneven for actor in fold.test_actors) == list(range(1, 25))
    for too_many_or_few in (2, 25):
        with pytest.raises(ParamsError, match="cv.folds"):
            make_folds(list(range(1, 25)), too_many_or_few)


def test_another_corpus_keeps_its_fixed_split_in_every_fold_and_only_ravdess_is_folded():
    fold = make_folds([1, 2, 3, 4, 5, 6], 3)[0]  # tests actors 1, 2; validates on 3, 4
    actors = np.array([1, 2, 3, 4, 5, 6, 101, 102, 103])
    fixed = np.array(["", "", "", "", "", "", "train", "val", "test"])
    masks = fold_masks(fold, actors, fixed)
    assert actors[masks["test"]].tolist() == [1, 2]
    assert actors[masks["val"]].tolist() == [3, 4, 102]
    assert actors[masks["train"]].tolist() == [5, 6, 101]  # the other corpus's test speaker takes no part
    assert fold_masks(fold, actors[:6])["train"].tolist() == [False] * 4 + [True] * 2


def test_speaker_normalisation_uses_each_actors_own_statistics():
    rng = np.random.default_rng(0)
    actors = np.repeat([1, 2], 50)
    matrix = rng.normal(size=(100, 3)) + np.where(actors[:, None] == 1, 10.0, -5.0)
    normalised = speaker_normalise(matrix, actors)
    for actor in (1, 2):
        np.testing.assert_allclose(normalised[actors == actor].mean(axis=0), 0, atol=1e-9)
        np.testing.assert_allclose(normalised[actors == actor].std(axis=0), 1, atol=1e-9)
    # A constant column must not become NaN.
    matrix[:, 0] = 3.0
    assert np.isfinite(speaker_normalise(matrix, actors)).all()


def speaker_shifted_table(n_actors: int = 6, clips_per_emotion: int = 4, seed: int = 0) -> pd.DataFrame:
    """Emotion shifts feature 0..7; each speaker adds a large offset that only per-speaker normalisation removes."""
    rng = np.random.default_rng(seed)
    rows = []
    for actor in range(1, n_actors + 1):
        offset = rng.normal(0, 3.0, size=8)
        for label, emotion in enumerate(EMOTIONS):
            for index in range(clips_per_emotion):
                values = rng.normal(0, 1.0, size=8) + offset
                values[label] += 2.5
                rows.append({"clip_id": f"{actor:02d}-{emotion}-{index}", "source_clip": f"{actor:02d}-{emotion}-{index}",
                             "actor": actor, "gender": "male", "split": "train", "emotion": emotion,
                             "augmentation": "none", **{f"value_{column}": values[column] for column in range(8)}})
    return pd.DataFrame(rows)


def test_cross_validation_reports_both_protocols_and_normalisation_helps_with_speaker_offsets():
    table = speaker_shifted_table()
    models = {"logistic": {"features": "toy", "architecture": "logistic", "C": [0.1, 1.0]},
              "svm": {"features": "toy", "architecture": "svm", "C": [1.0]}}
    report = cross_validate(
        {"toy": table}, models, n_folds=3, protocols=("plain", "speaker_normalised"), ensemble_rounds=5, seed=0
    )
    assert len(report["folds"]) == 3 and len(report["plain"]["per_fold"]) == 3
    plain = report["plain"]["summary"]["logistic"]["accuracy_mean"]
    normalised = report["speaker_normalised"]["summary"]["logistic"]["accuracy_mean"]
    assert normalised > plain
    assert set(report["plain"]["summary"]) == {"logistic", "svm", "ensemble"}
    for fold in report["speaker_normalised"]["per_fold"]:
        assert fold["logistic"]["C"] in (0.1, 1.0)
        assert sum(fold["ensemble"]["weights"].values()) == pytest.approx(1.0)


def test_each_protocols_ensemble_votes_only_over_the_members_it_is_given():
    table = speaker_shifted_table()
    models = {"logistic": {"features": "toy", "architecture": "logistic", "C": [1.0]},
              "svm": {"features": "toy", "architecture": "svm", "C": [1.0]}}
    arguments = {"n_folds": 3, "protocols": ("plain", "speaker_normalised"), "ensemble_rounds": 5, "seed": 0}
    report = cross_validate({"toy": table}, models, ensemble_members={"plain": ["svm"]}, **arguments)
    assert report["plain"]["ensemble_members"] == ["svm"]
    assert report["speaker_normalised"]["ensemble_members"] == ["logistic", "svm"]
    for plain_fold, normalised_fold in zip(report["plain"]["per_fold"], report["speaker_normalised"]["per_fold"]):
        # An ensemble of one member is that member: the same test accuracy, whatever the others score.
        assert plain_fold["ensemble"]["weights"] == {"svm": 1.0}
        assert plain_fold["ensemble"]["accuracy"] == plain_fold["svm"]["accuracy"]
        assert set(normalised_fold["ensemble"]["weights"]) == {"logistic", "svm"}
    for bad in ([], ["logistic", "mlp"]):
        with pytest.raises(ParamsError, match="plain ensemble of cross-validation"):
            cross_validate({"toy": table}, models, ensemble_members={"plain": bad}, **arguments)
    # Only the protocols that run are held to it; a name that is no protocol is a mistake, not "every model".
    report = cross_validate({"toy": table}, models, ensemble_members={"plain": []},
                            **{**arguments, "protocols": ("speaker_normalised",)})
    assert report["speaker_normalised"]["ensemble_members"] == ["logistic", "svm"]
    with pytest.raises(ValueError, match="speaker-normalised"):
        cross_validate({"toy": table}, models, ensemble_members={"speaker-normalised": ["svm"]}, **arguments)


def test_the_plain_cv_ensemble_follows_the_shipped_ensembles_members():
    train = {"svm_rich": {"architecture": "svm"}, "logistic_egemaps": {"architecture": "logistic"},
             "strided_crnn": {"architecture": "strided_crnn"},
             "ensemble": {"architecture": "ensemble", "members": ["svm_rich", "strided_crnn"]}}
    cv_models = ["svm_rich", "logistic_egemaps", "strided_crnn"]
    assert cv_ensemble_members(cv_models, train) == {"plain": ["svm_rich", "strided_crnn"], "speaker_normalised": cv_models}
    train["ensemble"]["members"] = "all"
    assert cv_ensemble_members(cv_models, train)["plain"] == cv_models


def test_cross_validation_refuses_unknown_protocols_and_feature_tables():
    table = speaker_shifted_table(n_actors=3, clips_per_emotion=1)
    with pytest.raises(ParamsError, match="cv.protocols"):
        cross_validate({"toy": table}, {}, n_folds=3, protocols=("transductive",), ensemble_rounds=5, seed=0)
    with pytest.raises(ParamsError, match="cv.models.svm.features"):
        cross_validate({"toy": table}, {"svm": {"features": "mfcc", "architecture": "svm", "C": [1.0]}},
                       n_folds=3, protocols=("plain",), ensemble_rounds=5, seed=0)


def test_random_clip_split_has_the_requested_sizes():
    split = random_clip_split(1000, (0.7, 0.15, 0.15), seed=1)
    assert (split == "train").sum() == 700 and (split == "val").sum() == 150 and (split == "test").sum() == 150
    assert not np.array_equal(split, random_clip_split(1000, (0.7, 0.15, 0.15), seed=2))


def test_the_audit_finds_the_leak_and_the_inflated_accuracy():
    """Copies of one clip share a clip-specific signature that says nothing about the emotion."""
    rng = np.random.default_rng(0)
    originals, copies = [], []
    for actor in range(1, 9):
        for index in range(24):
            emotion = EMOTIONS[rng.integers(8)]
            signature = rng.normal(0, 3.0, size=len(RICH_FEATURE_NAMES))
            clip_id = f"clip-{actor}-{index}"
            originals.append({"clip_id": clip_id, "actor": actor, "emotion": emotion, **dict(zip(RICH_FEATURE_NAMES, signature))})
            for _ in range(3):
                noisy = signature + rng.normal(0, 0.1, size=signature.shape)
                copies.append({"source_clip": clip_id, "actor": actor, "emotion": emotion, **dict(zip(RICH_FEATURE_NAMES, noisy))})
    report = audit_seed_protocol(
        pd.DataFrame(originals), pd.DataFrame(copies), honest_train_actors=[1, 2, 3, 4, 5, 6], honest_test_actors=[7, 8],
        model={"architecture": "svm", "C": 10.0}, fractions=(0.7, 0.15, 0.15), seed=0,
    )
    assert report["seed_protocol"]["test_rows_with_a_sibling_in_training"] > 0.9
    assert report["seed_protocol"]["test_accuracy"] > 0.6
    assert report["speaker_independent"]["test_accuracy"] < 0.35


def test_the_adapted_schedule_changes_only_the_crnns_training_length():
    models = {
        "crnn": {"architecture": "crnn", "epochs": 30, "min_epochs": 10, "warmup_epochs": 3},
        "svm_rich": {"architecture": "svm", "C": [1.0]},
    }
    shortened = with_crnn_schedule(models, epochs=2, min_epochs=1)
    assert shortened["crnn"] == {"architecture": "crnn", "epochs": 2, "min_epochs": 1, "warmup_epochs": 1}
    assert shortened["svm_rich"] == models["svm_rich"]
    assert models["crnn"]["epochs"] == 30  # the train.crnn recipe itself is left alone


def channel_test_tables(seed: int = 0) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """Two feature families: 'studio' carries a strong emotion cue in clean clips that the shifted channel wipes
    out; 'robust' carries a weaker cue that survives it. Each clip has one shifted copy in both."""
    rng = np.random.default_rng(seed)
    clean = {"studio": [], "robust": []}
    shifted = {"studio": [], "robust": []}
    for actor in range(1, 7):
        for label, emotion in enumerate(EMOTIONS):
            for index in range(4):
                clip = f"{actor:02d}-{emotion}-{index}"
                meta = {"source_clip": clip, "actor": actor, "gender": "male", "split": "train", "emotion": emotion}
                studio, robust = rng.normal(size=8), rng.normal(size=8)
                studio[label] += 4.0
                robust[label] += 1.5
                copy_robust = rng.normal(size=8)
                copy_robust[label] += 1.5
                for family, values, copy in (("studio", studio, rng.normal(size=8)), ("robust", robust, copy_robust)):
                    clean[family].append({"clip_id": clip, **meta, "augmentation": "none",
                                          **{f"value_{column}": values[column] for column in range(8)}})
                    shifted[family].append({"clip_id": f"{clip}_room", **meta, "augmentation": "room",
                                            **{f"value_{column}": copy[column] for column in range(8)}})
    return ({family: pd.DataFrame(rows) for family, rows in clean.items()},
            {family: pd.DataFrame(rows) for family, rows in shifted.items()})


def test_weights_chosen_with_shifted_val_clips_favour_the_member_that_survives_the_channel():
    clean, shifted = channel_test_tables()
    models = {"studio_model": {"features": "studio", "architecture": "logistic", "C": [1.0]},
              "robust_model": {"features": "robust", "architecture": "logistic", "C": [1.0]}}
    options = dict(n_folds=3, protocols=("plain",), ensemble_rounds=10, seed=0)
    clean_only = cross_validate(clean, models, **options)["plain"]
    with_shift = cross_validate(clean, models, shifted_tables=shifted, **options)["plain"]

    def robust_weight(report):
        return sum(fold["ensemble"]["weights"]["robust_model"] for fold in report["per_fold"])

    assert robust_weight(with_shift) > robust_weight(clean_only)
    summary = with_shift["summary"]
    # The studio model is near chance on the shifted copies, the robust one is not; the clean report has no such figure.
    assert summary["robust_model"]["shifted_accuracy_mean"] > summary["studio_model"]["shifted_accuracy_mean"] + 0.15
    assert {"shifted_accuracy_mean", "shifted_accuracy_std"} <= set(summary["ensemble"])
    assert "shifted_accuracy_mean" not in clean_only["summary"]["ensemble"]


def test_shifted_tables_without_a_copy_of_every_clip_are_refused():
    clean, shifted = channel_test_tables()
    shifted = {family: table.iloc[1:] for family, table in shifted.items()}
    with pytest.raises(ValueError, match="one copy of each original clip"):
        cross_validate(clean, {"robust_model": {"features": "robust", "architecture": "logistic", "C": [1.0]}},
                       n_folds=3, protocols=("plain",), ensemble_rounds=5, seed=0, shifted_tables=shifted)


def copy_test_tables(seed: int = 0) -> tuple[dict[str, pd.DataFrame], dict[str, pd.DataFrame]]:
    """One family whose clean clips carry the emotion on columns 0-7 and whose channel-shifted copies carry it on
    columns 8-15 instead; each clip also has a training channel copy shaped like the shifted ones."""
    rng = np.random.default_rng(seed)
    clean, shifted = [], []
    for actor in range(1, 7):
        for label, emotion in enumerate(EMOTIONS):
            for index in range(4):
                clip = f"{actor:02d}-{emotion}-{index}"
                meta = {"source_clip": clip, "actor": actor, "gender": "male", "split": "train", "emotion": emotion}
                for clip_id, augmentation, cue, rows in ((clip, "none", label, clean), (f"{clip}_chan0", "narrowband", 8 + label, clean),
                                                         (f"{clip}_room", "room", 8 + label, shifted)):
                    values = rng.normal(size=16)
                    values[cue] += 4.0
                    rows.append({"clip_id": clip_id, **meta, "augmentation": augmentation,
                                 **{f"value_{column}": values[column] for column in range(16)}})
    return {"voice": pd.DataFrame(clean)}, {"voice": pd.DataFrame(shifted)}


def test_plain_folds_train_on_the_channel_copies_and_speaker_normalised_folds_never_do():
    with_copies, shifted = copy_test_tables()
    without = {"voice": with_copies["voice"].query("augmentation == 'none'")}
    models = {"model": {"features": "voice", "architecture": "logistic", "C": [1.0]}}
    options = dict(n_folds=3, protocols=("plain", "speaker_normalised"), ensemble_rounds=5, seed=0, shifted_tables=shifted)
    copied, clean_only = cross_validate(with_copies, models, **options), cross_validate(without, models, **options)
    # The copies teach the plain model the shifted channel's look; without them it is near chance there.
    assert (copied["plain"]["summary"]["model"]["shifted_accuracy_mean"]
            > clean_only["plain"]["summary"]["model"]["shifted_accuracy_mean"] + 0.3)
    assert copied["speaker_normalised"] == clean_only["speaker_normalised"]


def test_a_stopped_cross_validation_reuses_the_folds_it_finished_and_a_completed_one_leaves_none(tmp_path, capsys):
    table = speaker_shifted_table(n_actors=6, clips_per_emotion=2)
    models = {"logistic": {"features": "toy", "architecture": "logistic", "C": [1.0]}}
    options = dict(n_folds=3, protocols=("plain",), ensemble_rounds=5, seed=0)
    store_folder = tmp_path / "finished"
    uninterrupted = cross_validate({"toy": table}, models, resume_folder=store_folder, **options)
    assert not store_folder.exists()

    # What a run stopped after its second fold left behind: that fold stored under these inputs' digest, marked.
    _, shared = fold_inputs({"toy": table}, models, **options)
    marked = {**uninterrupted["plain"]["per_fold"][1], "ensemble": {"weights": {"logistic": 1.0}, "accuracy": 0.123,
                                                                     "macro_f1": 0.456}}
    stopped_run = FinishedJobs(store_folder, inputs_digest(shared))
    stopped_run.save("plain-fold2", marked)
    stopped_run.runs_folder.joinpath("plain-fold3.pkl").write_bytes(b"\x80\x05truncated")  # killed mid-write
    resumed = cross_validate({"toy": table}, models, resume_folder=store_folder, **options)
    assert "reusing 1 of 3 folds" in capsys.readouterr().out
    assert resumed["plain"]["per_fold"][1]["ensemble"]["accuracy"] == 0.123
    assert resumed["plain"]["per_fold"][0] == uninterrupted["plain"]["per_fold"][0]
    assert resumed["plain"]["per_fold"][2] == uninterrupted["plain"]["per_fold"][2]  # the unreadable one ran again
    assert not store_folder.exists()

    # Other inputs (another seed) have another digest: nothing stored for the old ones is taken.
    FinishedJobs(store_folder, inputs_digest(shared)).save("plain-fold2", marked)
    reseeded = cross_validate({"toy": table}, models, resume_folder=store_folder, **{**options, "seed": 1})
    assert reseeded["plain"]["per_fold"][1]["ensemble"]["accuracy"] != 0.123
    assert inputs_digest(shared) != inputs_digest({**shared, "labels": shared["labels"][::-1].copy()})
