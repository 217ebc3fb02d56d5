"""Figures of the reports: confusion matrices, per-class bars, training curves, cross-validation folds.

Written deterministically (no software tag in the PNG), so a rerun gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from soundmind.files import replaced_on_success  # noqa: E402

# Fixed metadata so the same figure gives the same PNG bytes on every run.
PNG_METADATA = {"Software": None}


def save_confusion_png(metrics: dict[str, Any], labels: Sequence[str], path: Path, title: str) -> None:
    """Draw the confusion matrix of ``metrics`` (``classification_metrics``) with its accuracy and macro-F1."""
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
    """Draw each class's precision, recall and F1 side by side."""
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
    """Draw loss and accuracy per epoch, train against val, one pair of lines per seed (Keras ``History.history``)."""
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
    """Write ``figure`` as a PNG through a temporary name and close it."""
    with replaced_on_success(path) as temporary:
        figure.savefig(temporary, format="png", dpi=100, metadata=PNG_METADATA)
    plt.close(figure)


def save_cv_png(fold_accuracy: pd.DataFrame, path: Path) -> None:
    """Draw the per-fold test accuracy of each model, one panel per protocol."""
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
