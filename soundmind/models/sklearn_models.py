"""scikit-learn models: the member factory and C chosen on val actors."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import ExtraTreesClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from soundmind.models.architectures import SKLEARN_ARCHITECTURES


def calibration_splits(groups: np.ndarray | None, n_splits: int = 3):
    """Return folds for Platt scaling that hold out whole actors, so the SVM's probabilities are calibrated on
    voices it was not fitted to (row-wise folds would calibrate on known speakers: overconfident)."""
    if groups is None or len(np.unique(groups)) < 2:
        return n_splits
    folds = GroupKFold(n_splits=min(n_splits, len(np.unique(groups))))
    return list(folds.split(np.zeros(len(groups)), groups=groups))


def build_sklearn_member(architecture: str, params: dict[str, Any], seed: int, groups: np.ndarray | None = None) -> Pipeline:
    """Return a standardising pipeline around one classifier that gives class probabilities.

    ``groups`` (the actor of each training row) makes the SVM's calibration folds speaker-independent.
    """
    if architecture == "svm":
        # Platt-scaled probabilities from one SVC fit (SVC(probability=True) is deprecated).
        classifier = CalibratedClassifierCV(
            SVC(C=params.get("C", 10.0), gamma="scale", class_weight="balanced", random_state=seed),
            ensemble=False,
            cv=calibration_splits(groups),
        )
    elif architecture == "logistic":
        classifier = LogisticRegression(C=params.get("C", 0.1), max_iter=5000, class_weight="balanced")
    elif architecture == "extra_trees":
        classifier = ExtraTreesClassifier(n_estimators=params.get("n_estimators", 500), class_weight="balanced",
                                          random_state=seed, n_jobs=-1)
    else:
        raise ValueError(f"unknown scikit-learn architecture {architecture!r}; known: {', '.join(SKLEARN_ARCHITECTURES)}")
    return make_pipeline(StandardScaler(), classifier)


def fit_with_selection(
    spec: dict[str, Any], *, train_x: np.ndarray, train_y: np.ndarray, val_x: np.ndarray, val_y: np.ndarray, seed: int,
    train_groups: np.ndarray | None = None,
) -> tuple[float, Any, Pipeline]:
    """Fit one candidate per value of ``spec["C"]`` (a list, or one value); keep the best on the val actors.

    Returns (val accuracy, chosen C, fitted pipeline)."""
    grid = spec.get("C", [None])
    best = None
    for value in grid if isinstance(grid, list) else [grid]:
        candidate = {**spec, "C": value} if value is not None else spec
        model = build_sklearn_member(spec["architecture"], candidate, seed, train_groups)
        model.fit(train_x, train_y)
        val_accuracy = accuracy_score(val_y, model.predict(val_x))
        if best is None or val_accuracy > best[0]:
            best = (val_accuracy, value, model)
    return best


def score_one_clip_at_a_time(pipeline: Pipeline) -> None:
    """Make ``pipeline`` predict in one thread: for the single clip an app or CLI scores, starting threads costs more than
    the work (500 extra trees: 65 ms on all cores, 25 ms on one)."""
    for _, step in pipeline.steps:
        if "n_jobs" in step.get_params():
            step.set_params(n_jobs=1)
