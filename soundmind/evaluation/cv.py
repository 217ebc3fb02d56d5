"""Cross-validation over actors: every clip is tested once, by a model that never heard its speaker.

Fold k tests actors 4k+1 ... 4k+4 and stops/selects on the next fold's four actors; the other
sixteen train. Two protocols are kept apart: ``plain`` (nothing known about test speakers) and
``speaker_normalised`` (each actor's features standardised with that actor's own unlabelled clips). The
CRNN reads the frame store: each clip standardised per band with its own statistics (plain) or with its
actor's (speaker-normalised).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score

from soundmind.data.ravdess import ACTORS, EMOTIONS
from soundmind.errors import ParamsError
from soundmind.features.frames import FrameSettings, standardise_per_band
from soundmind.features.normalise import speaker_normalise, speaker_normalise_frames
from soundmind.features.sets import VECTOR_FAMILIES, feature_family
from soundmind.features.tables import METADATA_COLUMNS, encode_labels
from soundmind.models.architectures import FRAME_ARCHITECTURES, SKLEARN_ARCHITECTURES, with_cv_training_length
from soundmind.models.seeds import training_seeds
from soundmind.models.sklearn_models import fit_with_selection
from soundmind.models.voting import greedy_weights, weighted_vote
from soundmind.params import is_int


CV_PROTOCOLS = ("plain", "speaker_normalised")
# Each fold needs its own test actors and the next fold's as val actors, with some left to train on.
MIN_FOLDS = 3
SPEAKER_FREE_FEATURE_SETS = VECTOR_FAMILIES  # whole tables: what cross-validation takes


def check_fold_count(folds: Any, n_actors: int = len(ACTORS)) -> None:
    """``cv.folds``: an integer from MIN_FOLDS to the number of actors."""
    if not is_int(folds) or not MIN_FOLDS <= folds <= n_actors:
        raise ParamsError(f"params.yaml: 'cv.folds' must be an integer from {MIN_FOLDS} to the {n_actors} actors, got {folds!r}.")


def check_cv_models(names: Any, models: dict[str, Any]) -> None:
    """``cv.models``: scikit-learn ``train.*`` entries on a whole feature table, or CRNNs."""
    if not isinstance(names, list):
        raise ParamsError(f"params.yaml: 'cv.models' must be a list, got {names!r}.")
    for name in names:
        block = models.get(name) if isinstance(name, str) else None
        if not isinstance(block, dict):
            raise ParamsError(f"params.yaml: 'cv.models' names {name!r}, which is not a train.* model.")
        if block.get("architecture") in FRAME_ARCHITECTURES:
            continue
        if block.get("architecture") not in SKLEARN_ARCHITECTURES or block.get("feature_set") not in SPEAKER_FREE_FEATURE_SETS:
            raise ParamsError(
                f"params.yaml: 'cv.models' names {name!r}; cross-validation takes scikit-learn models "
                f"({', '.join(SKLEARN_ARCHITECTURES)}) on a whole feature table ({', '.join(SPEAKER_FREE_FEATURE_SETS)}) "
                f"and {', '.join(FRAME_ARCHITECTURES)}."
            )


@dataclass(frozen=True)
class Fold:
    """One fold: the actors it tests and the next fold's actors it validates on."""

    index: int
    test_actors: tuple[int, ...]
    val_actors: tuple[int, ...]


def make_folds(actors: list[int], n_folds: int) -> list[Fold]:
    """Consecutive groups of actors (sizes differing by one at most when ``n_folds`` does not divide
    them); each fold validates on the next fold's group."""
    actors = sorted(actors)
    check_fold_count(n_folds, len(actors))
    groups = [tuple(int(actor) for actor in group) for group in np.array_split(np.array(actors), n_folds)]
    return [Fold(index, groups[index], groups[(index + 1) % n_folds]) for index in range(n_folds)]


@dataclass
class FeatureView:
    """One feature table's matrix, aligned to the clip order shared by all views."""

    matrix: np.ndarray
    actors: np.ndarray

    def for_protocol(self, protocol: str) -> np.ndarray:
        return speaker_normalise(self.matrix, self.actors) if protocol == "speaker_normalised" else self.matrix


@dataclass
class FrameView:
    """The original clips' frames (decibels), in the clip order shared by all views, and their settings."""

    clips: list[np.ndarray]
    actors: np.ndarray
    settings: dict[str, Any]

    def for_protocol(self, protocol: str) -> list[np.ndarray]:
        if protocol == "speaker_normalised":
            return speaker_normalise_frames(self.clips, self.actors)
        return [standardise_per_band(frames) for frames in self.clips]


def crnn_on_fold(
    spec: dict[str, Any], view: FrameView, masks: dict[str, np.ndarray], labels: np.ndarray, protocol: str, seeds: list[int]
) -> tuple[float, np.ndarray, np.ndarray]:
    """Train ``seeds`` CRNNs on the fold's train clips, each keeping its epoch best on the val clips; return their
    averaged val accuracy and their averaged val and test probabilities."""
    # Imported here: only a cross-validation with a CRNN loads TensorFlow.
    from soundmind.models.crnn_training import fold_probabilities

    clips = view.for_protocol(protocol)
    part = {name: [clips[row] for row in np.flatnonzero(mask)] for name, mask in masks.items()}
    return fold_probabilities(
        spec, seeds, train_clips=part["train"], train_y=labels[masks["train"]], val_clips=part["val"],
        val_y=labels[masks["val"]], test_clips=part["test"],
        crop_frames=FrameSettings(**view.settings).frames_in(spec["crop_seconds"]),
    )


def cv_model_specs(names: list[str], train_params: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Return the cross-validation recipe of each named ``train`` entry: its feature family, architecture and C grid."""
    check_cv_models(names, train_params)
    return {
        name: {**train_params[name],
               "features": feature_family(train_params[name]["feature_set"])}
        for name in names
    }


def run_fold(
    fold: Fold, models: dict[str, dict[str, Any]], views: dict[str, Any], *, labels: np.ndarray,
    actors: np.ndarray, protocol: str, ensemble_rounds: int, seed: int, crnn_seeds: int = 1,
) -> dict[str, Any]:
    """Every model of ``models`` on one fold, plus their soft-voting ensemble weighted on val actors."""
    test, val = np.isin(actors, fold.test_actors), np.isin(actors, fold.val_actors)
    train = ~(test | val)
    results, val_probabilities, test_probabilities = {}, {}, {}
    for name, spec in models.items():
        if spec["architecture"] in FRAME_ARCHITECTURES:
            seeds = training_seeds(seed, crnn_seeds)
            val_accuracy, val_probabilities[name], test_probabilities[name] = crnn_on_fold(
                spec, views[spec["features"]], {"train": train, "val": val, "test": test}, labels, protocol, seeds
            )
            results[name] = {"seeds": seeds, "val_accuracy": round(float(val_accuracy), 4),
                             **scores(labels[test], test_probabilities[name])}
            continue
        matrix = views[spec["features"]].for_protocol(protocol)
        val_accuracy, chosen, model = fit_with_selection(
            spec, train_x=matrix[train], train_y=labels[train], val_x=matrix[val], val_y=labels[val], seed=seed,
            train_groups=actors[train],
        )
        val_probabilities[name] = model.predict_proba(matrix[val])
        test_probabilities[name] = model.predict_proba(matrix[test])
        results[name] = {"C": chosen, "val_accuracy": round(float(val_accuracy), 4),
                         **scores(labels[test], test_probabilities[name])}
    weights = greedy_weights(val_probabilities, labels[val], ensemble_rounds)
    results["ensemble"] = {"weights": weights, **scores(labels[test], weighted_vote(test_probabilities, weights))}
    return results


def scores(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    """Return the accuracy and macro-F1 of ``probabilities`` against integer ``labels``."""
    predicted = probabilities.argmax(axis=1)
    return {
        "accuracy": round(float(accuracy_score(labels, predicted)), 4),
        "macro_f1": round(float(f1_score(labels, predicted, labels=np.arange(len(EMOTIONS)), average="macro",
                                         zero_division=0)), 4),
    }


def summarise(per_fold: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and standard deviation over folds of each model's accuracy and macro-F1."""
    summary = {}
    for name in per_fold[0]:
        accuracies = np.array([fold[name]["accuracy"] for fold in per_fold])
        macro_f1 = np.array([fold[name]["macro_f1"] for fold in per_fold])
        summary[name] = {
            "accuracy_mean": round(float(accuracies.mean()), 4), "accuracy_std": round(float(accuracies.std()), 4),
            "macro_f1_mean": round(float(macro_f1.mean()), 4), "macro_f1_std": round(float(macro_f1.std()), 4),
        }
    return summary


def aligned_views(tables: dict[str, Any]) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """Return the original clips only, in one clip order for every table (and the frame store, duck-typed by
    its ``frames_of``); returns the views, labels and actors."""
    def original_rows(table: Any) -> pd.DataFrame:
        rows = table.index if hasattr(table, "frames_of") else table
        return rows[rows["augmentation"] == "none"].sort_values("clip_id").reset_index(drop=True)

    originals = {name: original_rows(table) for name, table in tables.items()}
    reference = next(iter(originals.values()))
    for name, table in originals.items():
        if not table["clip_id"].equals(reference["clip_id"]):
            raise ValueError(f"feature table {name!r} does not hold the same clips as the others")
    actors = reference["actor"].to_numpy()
    views = {
        name: FrameView(tables[name].frames_of(rows["clip_id"].tolist()), actors, tables[name].settings)
        if hasattr(tables[name], "frames_of")
        else FeatureView(rows.drop(columns=METADATA_COLUMNS).to_numpy(dtype=np.float64), actors)
        for name, rows in originals.items()
    }
    return views, encode_labels(reference["emotion"]), actors


def cross_validate(
    tables: dict[str, pd.DataFrame], models: dict[str, dict[str, Any]], *,
    n_folds: int, protocols: tuple[str, ...], ensemble_rounds: int, seed: int, crnn_seeds: int = 1,
) -> dict[str, Any]:
    """Return every model's and their ensemble's figures per fold and over folds, for each protocol
    (a CRNN averaged over ``crnn_seeds`` seeds per fold)."""
    unknown = sorted(set(protocols) - set(CV_PROTOCOLS))
    if unknown:
        raise ParamsError(f"params.yaml: 'cv.protocols' has unknown entries {unknown}; known: {', '.join(CV_PROTOCOLS)}.")
    for name, spec in models.items():
        if spec.get("features") not in tables:
            raise ParamsError(f"params.yaml: 'cv.models.{name}.features' must be one of {', '.join(tables)}.")
    views, labels, actors = aligned_views(tables)
    folds = make_folds(sorted(set(actors.tolist())), n_folds)
    report: dict[str, Any] = {"folds": [{"test_actors": list(fold.test_actors), "val_actors": list(fold.val_actors)}
                                        for fold in folds]}
    for protocol in protocols:
        per_fold = [
            run_fold(fold, models, views, labels=labels, actors=actors, protocol=protocol,
                     ensemble_rounds=ensemble_rounds, seed=seed, crnn_seeds=crnn_seeds)
            for fold in folds
        ]
        report[protocol] = {"summary": summarise(per_fold), "per_fold": per_fold}
    return report


def fold_accuracy(report: dict[str, Any], protocols: list[str]) -> pd.DataFrame:
    """Return one row per protocol, fold and model with its test accuracy (what the folds' plot draws)."""
    rows = [
        {"protocol": protocol, "model": model, "fold": index, "accuracy": fold[model]["accuracy"]}
        for protocol in protocols for index, fold in enumerate(report[protocol]["per_fold"])
        for model in fold
    ]
    return pd.DataFrame(rows)


def fold_accuracy_by_model(long_table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Return per protocol a table of folds (numbered from 1) by models, so `dvc plots` draws one line per model."""
    wide_tables = {}
    for protocol, table in long_table.groupby("protocol"):
        wide = table.pivot(index="fold", columns="model", values="accuracy").reset_index()
        wide_tables[protocol] = wide.assign(fold=wide["fold"] + 1)
    return wide_tables
