"""Held-out-actor metrics of trained bundles: overall, per class, per seed and per ensemble member."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support, recall_score

from soundmind.data.corpus_names import RAVDESS, corpus_of_clips
from soundmind.errors import StaleFeaturesError
from soundmind.features.tables import family_matrices, held_out_rows
from soundmind.models.seeds import spread_of

def classification_metrics(actual: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """Return accuracy, macro-F1, per-class precision/recall/F1/one-vs-rest accuracy and the confusion matrix."""
    labels = list(labels)
    actual, predicted = np.asarray(actual), np.asarray(predicted)
    matrix = confusion_matrix(actual, predicted, labels=labels)
    precision, recall, f1, support = precision_recall_fscore_support(
        actual, predicted, labels=labels, zero_division=0
    )
    total = matrix.sum()
    per_class = {}
    for index, label in enumerate(labels):
        true_positive = matrix[index, index]
        false_positive = matrix[:, index].sum() - true_positive
        false_negative = matrix[index, :].sum() - true_positive
        true_negative = total - true_positive - false_positive - false_negative
        per_class[label] = {
            "precision": round(float(precision[index]), 4),
            "recall": round(float(recall[index]), 4),
            "f1": round(float(f1[index]), 4),
            "accuracy": round(float((true_positive + true_negative) / total), 4) if total else 0.0,
            "support": int(support[index]),
        }
    return {
        "accuracy": round(float(accuracy_score(actual, predicted)), 4),
        "macro_f1": round(float(f1_score(actual, predicted, labels=labels, average="macro", zero_division=0)), 4),
        "n_test_clips": int(len(actual)),
        "per_class": per_class,
        "confusion_matrix": {
            actual_label: {predicted_label: int(matrix[row, column]) for column, predicted_label in enumerate(labels)}
            for row, actual_label in enumerate(labels)
        },
    }


def recognition_scores(actual: Sequence[str], predicted: Sequence[str], classes: Sequence[str]) -> dict[str, Any]:
    """Return accuracy, unweighted average recall (the mean of the per-class recalls: what an emotion corpus with
    unbalanced classes is compared by), macro-F1, per-class recall and the confusion matrix over ``classes``."""
    figures = classification_metrics(actual, predicted, classes)
    uar = recall_score(actual, predicted, labels=list(classes), average="macro", zero_division=0)
    return {
        "accuracy": figures["accuracy"], "unweighted_average_recall": round(float(uar), 4), "macro_f1": figures["macro_f1"],
        "clips": figures["n_test_clips"],
        "per_class_recall": {label: values["recall"] for label, values in figures["per_class"].items()},
        "confusion_matrix": figures["confusion_matrix"],
    }


def _labels_of(probabilities: np.ndarray, labels: Sequence[str]) -> list[str]:
    return [labels[index] for index in probabilities.argmax(axis=1)]


def evaluate_bundle(bundle: Any, features: dict[str, np.ndarray], actual: Sequence[str]) -> tuple[dict[str, Any], list[str]]:
    """Return a bundle's test metrics and predicted labels, plus, for a seed-averaged Keras bundle, each seed's
    accuracy and macro-F1 with their mean and sample standard deviation (``seeds``), and for an
    ensemble each voting member's weight and figures (``members``)."""
    labels = bundle.labels
    # Duck-typed so that the scikit-learn-only stages that use this module never import Keras.
    if hasattr(bundle, "member_probabilities"):
        parts = bundle.member_probabilities(features)
        probabilities = bundle.combine(parts)
    elif hasattr(bundle, "seed_probabilities"):
        parts = bundle.seed_probabilities(features)
        probabilities = bundle.combine(parts)
    else:
        parts, probabilities = {}, bundle.probabilities(features)
    predicted = _labels_of(probabilities, labels)
    metrics = classification_metrics(actual, predicted, labels)
    part_metrics = {}
    for part, values in parts.items():
        figures = classification_metrics(actual, _labels_of(values, labels), labels)
        part_metrics[str(part)] = {"accuracy": figures["accuracy"], "macro_f1": figures["macro_f1"]}
    if hasattr(bundle, "member_probabilities"):
        metrics["members"] = {name: {"weight": bundle.weights[name], **part_metrics[name]} for name in parts}
    elif hasattr(bundle, "seed_probabilities"):
        metrics["seeds"] = {
            "count": len(parts),
            "accuracy": spread_of([figures["accuracy"] for figures in part_metrics.values()]),
            "macro_f1": spread_of([figures["macro_f1"] for figures in part_metrics.values()]),
            "per_seed": part_metrics,
        }
    return metrics, predicted


def predictions_table(clip_ids: Sequence[str], actual: Sequence[str], predicted: Sequence[str]) -> pd.DataFrame:
    """Return one row per test clip, the shape DVC's confusion template reads."""
    return pd.DataFrame({"clip_id": clip_ids, "actual": actual, "predicted": predicted})


@dataclass
class Evaluation:
    """Every model's test metrics and its per-clip predictions, on the original clips of the test actors."""

    metrics: dict[str, dict[str, Any]]
    predictions: dict[str, pd.DataFrame]
    test_actors: list[int]


def evaluate_models(
    bundles: dict[str, Any], tables: dict[str, pd.DataFrame], shifted_tables: dict[str, Any] | None = None
) -> Evaluation:
    """Score every bundle on the test actors' original clips (the rows of the rich table, which every
    family's table shares) and return their metrics and predictions; with ``shifted_tables``, each model's
    figures on the channel-shifted copies of the same clips too (``channel_shifted``)."""
    rows = held_out_rows(tables["rich"])
    corpus = corpus_of_clips(rows["clip_id"])
    # The headline figures stay RAVDESS's test actors' (comparable with every earlier run); each other training
    # corpus's test speakers are scored apart (``by_corpus``).
    other_corpora = {name: rows[corpus == name] for name in sorted(set(corpus) - {RAVDESS})}
    rows = rows[corpus == RAVDESS]
    clip_ids, actual = rows["clip_id"].tolist(), rows["emotion"].tolist()
    features = family_matrices(tables, clip_ids)
    test_actors = sorted(int(actor) for actor in rows["actor"].unique())
    shifted = None
    if shifted_tables is not None:
        shifted_rows = shifted_tables["rich"].query("split == 'test'").sort_values("source_clip")
        shifted_rows = shifted_rows[corpus_of_clips(shifted_rows["source_clip"]) == RAVDESS]
        if shifted_rows["source_clip"].tolist() != sorted(clip_ids):
            raise StaleFeaturesError("features/shifted does not hold one copy of each test clip; run extract-shifted again.")
        shifted = (family_matrices(shifted_tables, shifted_rows["clip_id"].tolist()), shifted_rows["emotion"].tolist(),
                   shifted_rows["augmentation"].to_numpy())
    metrics, predictions = {}, {}
    for name, bundle in bundles.items():
        metrics[name], predicted = evaluate_bundle(bundle, features, actual)
        metrics[name]["test_actors"] = test_actors
        if shifted is not None:
            metrics[name]["channel_shifted"] = channel_shifted_figures(bundle, *shifted)
        if other_corpora:
            metrics[name]["by_corpus"] = {corpus_name: corpus_figures(bundle, tables, corpus_rows)
                                          for corpus_name, corpus_rows in other_corpora.items()}
        predictions[name] = predictions_table(clip_ids, actual, predicted)
    return Evaluation(metrics, predictions, test_actors)


def corpus_figures(bundle: Any, tables: dict[str, Any], rows: pd.DataFrame) -> dict[str, Any]:
    """A bundle's accuracy and macro-F1 on one corpus's test ``rows`` (over the classes that corpus has)."""
    actual = rows["emotion"].tolist()
    predicted = _labels_of(bundle.probabilities(family_matrices(tables, rows["clip_id"].tolist())), bundle.labels)
    present = [label for label in bundle.labels if label in set(actual)]
    figures = classification_metrics(actual, predicted, present)
    return {"accuracy": figures["accuracy"], "macro_f1": figures["macro_f1"], "clips": len(actual),
            "test_speakers": sorted(int(actor) for actor in rows["actor"].unique())}


def channel_shifted_figures(bundle: Any, features: dict[str, Any], actual: list[str], conditions: np.ndarray) -> dict[str, Any]:
    """A bundle's accuracy and macro-F1 on the channel-shifted copies, and its accuracy under each condition."""
    predicted = np.array(_labels_of(bundle.probabilities(features), bundle.labels))
    figures = classification_metrics(actual, predicted, bundle.labels)
    right = predicted == np.array(actual)
    return {"accuracy": figures["accuracy"], "macro_f1": figures["macro_f1"],
            "by_condition": {str(condition): round(float(right[conditions == condition].mean()), 4)
                             for condition in sorted(set(conditions))}}


def describe(name: str, metrics: dict[str, Any]) -> str:
    """Return the one line a stage prints for a model's test figures."""
    seeds = metrics.get("seeds")
    over_seeds = (f"; {seeds['count']} seeds alone: {seeds['accuracy']['mean']:.4f} ± {seeds['accuracy']['std']:.4f}"
                  if seeds else "")
    shifted = (f"; channel-shifted copies: accuracy {metrics['channel_shifted']['accuracy']:.4f}"
               if "channel_shifted" in metrics else "")
    return f"{name}: accuracy {metrics['accuracy']:.4f}, macro-F1 {metrics['macro_f1']:.4f}{over_seeds}{shifted}"
