"""The soft-voting ensemble: trained Keras bundles plus scikit-learn members, weighted on val actors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import ExtraTreesClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from soundmind.bundle import AnyBundle, EnsembleBundle, SklearnBundle, weighted_vote
from soundmind.architectures import SKLEARN_KINDS
from soundmind.errors import ParamsError
from soundmind.features import family_matrices, feature_family, feature_names
from soundmind.ravdess import EMOTIONS
from soundmind.training import encode_labels, split_rows


def calibration_splits(groups: np.ndarray | None, n_splits: int = 3):
    """Folds for Platt scaling that hold out whole actors, so the SVM's probabilities are calibrated on
    voices it was not fitted to (row-wise folds would calibrate on known speakers: overconfident)."""
    if groups is None or len(np.unique(groups)) < 2:
        return n_splits
    folds = GroupKFold(n_splits=min(n_splits, len(np.unique(groups))))
    return list(folds.split(np.zeros(len(groups)), groups=groups))


def build_sklearn_member(kind: str, params: dict[str, Any], seed: int, groups: np.ndarray | None = None) -> Pipeline:
    """A standardising pipeline around one classifier that gives class probabilities.

    ``groups`` (the actor of each training row) makes the SVM's calibration folds speaker-independent.
    """
    if kind == "svm":
        # Platt-scaled probabilities from one SVC fit (SVC(probability=True) is deprecated).
        classifier = CalibratedClassifierCV(
            SVC(C=params.get("C", 10.0), gamma="scale", class_weight="balanced", random_state=seed),
            ensemble=False,
            cv=calibration_splits(groups),
        )
    elif kind == "logistic":
        classifier = LogisticRegression(C=params.get("C", 0.1), max_iter=5000, class_weight="balanced")
    elif kind == "extra_trees":
        classifier = ExtraTreesClassifier(n_estimators=params.get("n_estimators", 500), class_weight="balanced",
                                          random_state=seed, n_jobs=-1)
    else:
        raise ValueError(f"unknown scikit-learn member kind {kind!r}; known: {', '.join(SKLEARN_KINDS)}")
    return make_pipeline(StandardScaler(), classifier)


def fit_with_selection(spec: dict[str, Any], train_x, train_y, val_x, val_y, seed: int, train_groups=None):
    """Fit one candidate per value of ``spec["C"]`` (a list, or one value); keep the best on the val actors.

    Returns (val accuracy, chosen C, fitted pipeline)."""
    grid = spec.get("C", [None])
    best = None
    for value in grid if isinstance(grid, list) else [grid]:
        candidate = {**spec, "C": value} if value is not None else spec
        model = build_sklearn_member(spec["kind"], candidate, seed, train_groups)
        model.fit(train_x, train_y)
        val_accuracy = accuracy_score(val_y, model.predict(val_x))
        if best is None or val_accuracy > best[0]:
            best = (val_accuracy, value, model)
    return best


def train_sklearn_bundle(
    name: str, params: dict[str, Any], table: pd.DataFrame, seed: int, sample_rate: int, feature_settings: dict
) -> tuple[SklearnBundle, dict[str, Any]]:
    """A scikit-learn model of the train matrix: C chosen on the val actors, then saved like any bundle."""
    if params.get("kind") not in SKLEARN_KINDS:
        raise ParamsError(f"params.yaml: 'train.{name}.kind' must be one of {', '.join(SKLEARN_KINDS)}.")
    columns = feature_names(params["feature_set"])
    train_rows, val_rows = split_rows(table)
    val_accuracy, chosen, pipeline = fit_with_selection(
        params, train_rows[columns].to_numpy(), encode_labels(train_rows["emotion"]),
        val_rows[columns].to_numpy(), encode_labels(val_rows["emotion"]), seed, train_rows["actor"].to_numpy(),
    )
    summary = {"val_accuracy": round(float(val_accuracy), 6), "C": chosen, "n_train_clips": int(len(train_rows))}
    metadata = {"name": name, "architecture": params["architecture"], "feature_set": params["feature_set"],
                "sample_rate": sample_rate, "feature_settings": feature_settings, "params": params, "seed": seed, **summary}
    return SklearnBundle(pipeline, list(EMOTIONS), metadata), summary


def greedy_weights(probabilities: dict[str, np.ndarray], labels: np.ndarray, rounds: int) -> dict[str, float]:
    """Ensemble selection with replacement (Caruana et al., 2004): each round adds the member that most
    lowers the validation log-loss of the running average; weights are the selection counts."""
    counts = {name: 0 for name in probabilities}
    classes = np.arange(len(EMOTIONS))
    for _ in range(rounds):
        def loss_with(candidate: str) -> float:
            trial = {**counts, candidate: counts[candidate] + 1}
            return log_loss(labels, weighted_vote(probabilities, trial), labels=classes)

        best = min(sorted(probabilities), key=loss_with)
        counts[best] += 1
    return {name: round(count / rounds, 6) for name, count in counts.items()}


def train_ensemble(
    name: str,
    params: dict[str, Any],
    trained_members: dict[str, AnyBundle],
    tables: dict[str, pd.DataFrame],
    seed: int,
) -> tuple[EnsembleBundle, dict[str, Any]]:
    """Fit the scikit-learn members on the train split, then choose every member's weight on val actors."""
    if not trained_members:
        raise ParamsError(f"params.yaml: 'train.{name}.members' must name at least one trained model.")
    first_member = next(iter(trained_members.values()))
    _, val_rows = split_rows(tables["rich"])
    val_ids = val_rows["clip_id"].tolist()
    val_labels = encode_labels(val_rows["emotion"])
    members: dict[str, AnyBundle] = dict(trained_members)
    for member_name, member_params in params["sklearn_members"].items():
        feature_set = member_params.get("feature_set", "rich")
        train_rows, _ = split_rows(tables[feature_family(feature_set)])
        pipeline = build_sklearn_member(member_params["kind"], member_params, seed, train_rows["actor"].to_numpy())
        pipeline.fit(train_rows[feature_names(feature_set)].to_numpy(), encode_labels(train_rows["emotion"]))
        members[member_name] = SklearnBundle(
            pipeline, list(EMOTIONS),
            {"name": member_name, "feature_set": feature_set, "sample_rate": first_member.sample_rate,
             "params": member_params},
        )
    val_features = family_matrices(tables, val_ids)
    val_probabilities = {member_name: member.probabilities(val_features) for member_name, member in members.items()}
    weights = greedy_weights(val_probabilities, val_labels, params["selection_rounds"])
    ensemble_val = weighted_vote(val_probabilities, weights).argmax(axis=1)
    member_val_accuracy = {
        member_name: round(float((probabilities.argmax(axis=1) == val_labels).mean()), 6)
        for member_name, probabilities in val_probabilities.items()
    }
    summary = {
        "val_accuracy": round(float((ensemble_val == val_labels).mean()), 6),
        "member_val_accuracy": member_val_accuracy,
        "weights": weights,
    }
    metadata = {"name": name, "feature_set": "rich", "sample_rate": first_member.sample_rate, "params": params,
                "feature_settings": first_member.metadata["feature_settings"],
                "val_accuracy": summary["val_accuracy"], "member_val_accuracy": member_val_accuracy}
    # A member of weight 0 cannot change a vote: leaving it out of the bundle spares its features and model
    # at every prediction.
    voting = {member_name: members[member_name] for member_name, weight in weights.items() if weight > 0}
    for member in voting.values():
        if isinstance(member, SklearnBundle):
            score_one_clip_at_a_time(member.pipeline)
    voting_weights = {member_name: weights[member_name] for member_name in voting}
    return EnsembleBundle(voting, voting_weights, list(EMOTIONS), metadata), summary


def score_one_clip_at_a_time(pipeline: Pipeline) -> None:
    """Predict in one thread: for the single clip an app or CLI scores, starting threads costs more than
    the work (500 extra trees: 65 ms on all cores, 25 ms on one)."""
    for _, step in pipeline.steps:
        if "n_jobs" in step.get_params():
            step.set_params(n_jobs=1)


def ensemble_families(params: dict[str, Any], trained_members: dict[str, AnyBundle]) -> set[str]:
    """The feature tables an ensemble needs: its members' families, its own members' and 'rich' for the splits."""
    families = {"rich"}.union(*(member.required_families() for member in trained_members.values()))
    return families | {feature_family(spec.get("feature_set", "rich")) for spec in params["sklearn_members"].values()}
