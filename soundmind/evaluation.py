"""Held-out-actor metrics, confusion matrices and plots for trained bundles."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_recall_fscore_support  # noqa: E402

# Fixed metadata so the same figure gives the same PNG bytes on every run.
PNG_METADATA = {"Software": None}


def classification_metrics(actual: Sequence[str], predicted: Sequence[str], labels: Sequence[str]) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class precision/recall/F1/one-vs-rest accuracy and the confusion matrix."""
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


def _labels_of(probabilities: np.ndarray, labels: Sequence[str]) -> list[str]:
    return [labels[index] for index in probabilities.argmax(axis=1)]


def evaluate_bundle(bundle: Any, features: dict[str, np.ndarray], actual: Sequence[str]) -> tuple[dict[str, Any], list[str]]:
    """A bundle's test metrics and predicted labels, plus, for a seed-averaged Keras bundle, each seed's
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


def spread_of(values: Sequence[float]) -> dict[str, float]:
    """Mean and sample standard deviation (0 for a single value), rounded for reports."""
    array = np.asarray(values, dtype=np.float64)
    deviation = float(array.std(ddof=1)) if len(array) > 1 else 0.0
    return {"mean": round(float(array.mean()), 4), "std": round(deviation, 4)}


def predictions_table(clip_ids: Sequence[str], actual: Sequence[str], predicted: Sequence[str]) -> pd.DataFrame:
    """One row per test clip, the shape DVC's confusion template reads."""
    return pd.DataFrame({"clip_id": clip_ids, "actual": actual, "predicted": predicted})


def save_confusion_png(metrics: dict[str, Any], labels: Sequence[str], path: Path, title: str) -> None:
    labels = list(labels)
    matrix = np.array([[metrics["confusion_matrix"][row][column] for column in labels] for row in labels])
    figure, axes = plt.subplots(figsize=(7, 6))
    image = axes.imshow(matrix, cmap="Blues")
    axes.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("predicted")
    axes.set_ylabel("actual")
    threshold = matrix.max() / 2 if matrix.size else 0
    for row in range(len(labels)):
        for column in range(len(labels)):
            color = "white" if matrix[row, column] > threshold else "black"
            axes.text(column, row, str(matrix[row, column]), ha="center", va="center", color=color)
    axes.set_title(f"{title}\naccuracy {metrics['accuracy']:.1%}, macro-F1 {metrics['macro_f1']:.3f}")
    figure.colorbar(image, ax=axes)
    figure.tight_layout()
    save_png(figure, path)


def save_per_class_png(metrics: dict[str, Any], labels: Sequence[str], path: Path, title: str) -> None:
    labels = list(labels)
    positions = np.arange(len(labels))
    figure, axes = plt.subplots(figsize=(8, 4))
    for offset, key in zip((-0.27, 0.0, 0.27), ("precision", "recall", "f1")):
        axes.bar(positions + offset, [metrics["per_class"][label][key] for label in labels], width=0.27, label=key)
    axes.set_xticks(positions, labels, rotation=30, ha="right")
    axes.set_ylim(0, 1)
    axes.set_title(title)
    axes.legend()
    figure.tight_layout()
    save_png(figure, path)


def save_training_curves_png(histories: dict[int, dict[str, list[float]]], path: Path, title: str) -> None:
    """Loss and accuracy per epoch, train against val, one pair of lines per seed (Keras ``History.history``)."""
    figure, (loss_axes, accuracy_axes) = plt.subplots(1, 2, figsize=(10, 4))
    for index, (seed, history) in enumerate(histories.items()):
        epochs = np.arange(1, len(history["loss"]) + 1)
        color = f"C{index % 10}"
        for axes, key in ((loss_axes, "loss"), (accuracy_axes, "accuracy")):
            axes.plot(epochs, history[key], color=color, alpha=0.5, label=f"train {key}, seed {seed}")
            axes.plot(epochs, history[f"val_{key}"], color=color, label=f"val {key}, seed {seed}")
    for axes, key in ((loss_axes, "loss"), (accuracy_axes, "accuracy")):
        axes.set_xlabel("epoch")
        axes.set_title(f"{key} (faint: train, solid: val actors)")
        axes.legend(fontsize=7)
    figure.suptitle(title)
    figure.tight_layout()
    save_png(figure, path)


def save_png(figure: plt.Figure, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    figure.savefig(temporary, format="png", dpi=100, metadata=PNG_METADATA)
    plt.close(figure)
    os.replace(temporary, path)


def save_cv_png(fold_accuracy: pd.DataFrame, path: Path) -> None:
    """Per-fold test accuracy of each model, one panel per protocol."""
    protocols = list(dict.fromkeys(fold_accuracy["protocol"]))
    figure, axes_list = plt.subplots(1, len(protocols), figsize=(6 * len(protocols), 4), sharey=True, squeeze=False)
    for axes, protocol in zip(axes_list[0], protocols):
        table = fold_accuracy[fold_accuracy["protocol"] == protocol].pivot(index="fold", columns="model", values="accuracy")
        for model in table.columns:
            axes.plot(table.index + 1, table[model], marker="o", label=f"{model} ({table[model].mean():.1%})")
        axes.set_xlabel("fold (test actors 4k+1 ... 4k+4)")
        axes.set_title(protocol)
        axes.set_ylim(0, 1)
        axes.legend(fontsize=8)
    axes_list[0][0].set_ylabel("test accuracy")
    figure.tight_layout()
    save_png(figure, path)
