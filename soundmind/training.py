"""Training one model on the feature table: class weights, early stopping on val actors, a bundle."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import keras
import numpy as np
import pandas as pd
import tensorflow as tf
from dvclive import Live
from dvclive.keras import DVCLiveCallback
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_class_weight

from soundmind.bundle import Bundle
from soundmind.checks import validate_model_params
from soundmind.errors import ParamsError
from soundmind.features import FeatureSettings, load_feature_matrix
from soundmind.models import build_model
from soundmind.ravdess import EMOTIONS


@dataclass
class TrainingResult:
    bundle: Bundle
    history: dict[str, list[float]]
    summary: dict[str, Any]


def split_rows(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Training rows (originals and their copies) and val rows (originals only) of a feature table."""
    train_rows = table[table["split"] == "train"]
    val_rows = table[(table["split"] == "val") & (table["augmentation"] == "none")]
    if train_rows.empty or val_rows.empty:
        raise ParamsError("params.yaml: the split leaves no training or no validation clips.")
    return train_rows, val_rows


def make_deterministic(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow and ask TensorFlow for deterministic kernels."""
    keras.utils.set_random_seed(seed)
    tf.config.experimental.enable_op_determinism()


def encode_labels(emotions: pd.Series) -> np.ndarray:
    return emotions.map({emotion: index for index, emotion in enumerate(EMOTIONS)}).to_numpy(dtype=np.int64)


def balanced_class_weights(labels: np.ndarray) -> dict[int, float]:
    present = np.unique(labels)
    weights = compute_class_weight("balanced", classes=present, y=labels)
    return {int(label): float(weight) for label, weight in zip(present, weights)}


def training_callbacks(params: dict[str, Any], live_dir: Path) -> list[keras.callbacks.Callback]:
    # dvcyaml=False: inside a pipeline dvclive must not rewrite dvc.yaml; dvc.yaml declares the plots.
    live = Live(dir=str(live_dir), dvcyaml=False, save_dvc_exp=False, report=None)
    return [
        keras.callbacks.EarlyStopping(
            monitor="val_accuracy",
            patience=params["early_stopping_patience"],
            restore_best_weights=True,
            start_from_epoch=params["min_epochs"],
        ),
        keras.callbacks.ReduceLROnPlateau(
            monitor="val_loss",
            factor=params["reduce_lr_factor"],
            patience=params["reduce_lr_patience"],
            min_lr=params["min_learning_rate"],
        ),
        DVCLiveCallback(live=live),
    ]


def train_model(
    name: str,
    params: dict[str, Any],
    features: pd.DataFrame,
    seed: int,
    feature_settings: FeatureSettings,
    live_dir: Path,
) -> TrainingResult:
    """Fit ``train.<name>`` on the train split (originals + augmented), stopping on the val split."""
    validate_model_params(name, params)
    make_deterministic(seed)
    feature_set = params["feature_set"]
    train_rows, val_rows = split_rows(features)
    scaler = StandardScaler().fit(load_feature_matrix(train_rows, feature_set))
    train_x = scaler.transform(load_feature_matrix(train_rows, feature_set)).astype(np.float32)
    val_x = scaler.transform(load_feature_matrix(val_rows, feature_set)).astype(np.float32)
    train_y, val_y = encode_labels(train_rows["emotion"]), encode_labels(val_rows["emotion"])

    model = build_model(params["architecture"], train_x.shape[1], len(EMOTIONS), params)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=params["learning_rate"]),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    callbacks = training_callbacks(params, live_dir)
    history = model.fit(
        train_x,
        train_y,
        validation_data=(val_x, val_y),
        epochs=params["epochs"],
        batch_size=params["batch_size"],
        class_weight=balanced_class_weights(train_y),
        callbacks=callbacks,
        shuffle=True,
        verbose=2,
    )
    val_accuracy = history.history["val_accuracy"]
    early_stopping = callbacks[0]
    # The restored weights are the early-stopping callback's best, which ignores the first min_epochs.
    if early_stopping.best_weights is None:
        best_epoch, best_val_accuracy = len(val_accuracy), val_accuracy[-1]
    else:
        best_epoch, best_val_accuracy = early_stopping.best_epoch + 1, early_stopping.best
    metadata = {
        "name": name,
        "architecture": params["architecture"],
        "feature_set": feature_set,
        "n_features": train_x.shape[1],
        "sample_rate": feature_settings.sample_rate,
        "feature_settings": asdict(feature_settings),
        "params": params,
        "seed": seed,
        "val_accuracy": round(float(best_val_accuracy), 6),
        "best_epoch": best_epoch,
        "epochs_run": len(val_accuracy),
        "n_train_clips": int(len(train_rows)),
        "n_val_clips": int(len(val_rows)),
        "parameters": int(model.count_params()),
    }
    summary = {
        "val_accuracy": metadata["val_accuracy"],
        "best_epoch": best_epoch,
        "epochs_run": metadata["epochs_run"],
        "parameters": metadata["parameters"],
    }
    bundle = Bundle(model=model, scaler=scaler, labels=list(EMOTIONS), metadata=metadata)
    return TrainingResult(bundle=bundle, history=history.history, summary=summary)
