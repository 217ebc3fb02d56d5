"""Training one Keras network on a feature table, once per seed: class weights, early stopping on val actors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler
from sklearn.utils.class_weight import compute_class_weight

from soundmind.data.ravdess import EMOTIONS
from soundmind.features.tables import encode_labels, load_feature_matrix, split_rows
from soundmind.models.bundle import Bundle, TrainingResult, common_sample_rate
from soundmind.models.keras_backend import keras, tensorflow
from soundmind.models.networks import build_model
from soundmind.models.seeds import seeds_summary, training_seeds


def make_deterministic(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow and ask TensorFlow for deterministic kernels."""
    keras.utils.set_random_seed(seed)
    tensorflow.config.experimental.enable_op_determinism()


def balanced_class_weights(labels: np.ndarray) -> dict[int, float]:
    """Return weights that make every present class count as much in the loss as the others."""
    present = np.unique(labels)
    weights = compute_class_weight("balanced", classes=present, y=labels)
    return {int(label): float(weight) for label, weight in zip(present, weights)}


def training_callbacks(params: dict[str, Any], live_dir: Path) -> list[keras.callbacks.Callback]:
    """Return early stopping on val accuracy (first, as ``fit_one_seed`` expects), learning-rate decay and logging."""
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
        live_callback(live_dir),
    ]


def live_callback(live_dir: Path) -> keras.callbacks.Callback:
    """Return the callback that logs every epoch's figures with dvclive under ``live_dir``."""
    # Imported here, after keras_backend: dvclive.keras loads TensorFlow, which must come after openSMILE.
    from dvclive import Live
    from dvclive.keras import DVCLiveCallback

    class CurvesOnlyCallback(DVCLiveCallback):
        def on_train_end(self, logs=None):
            super().on_train_end(logs)
            # dvclive's own summary of the last epoch: reports/training/<model>.json holds the kept epoch's, and
            # the curves folder holds plot data only, for dvc.yaml's directory plot.
            Path(self.live.metrics_file).unlink(missing_ok=True)

    # dvcyaml=False: inside a pipeline dvclive must not rewrite dvc.yaml; dvc.yaml declares the plots.
    return CurvesOnlyCallback(live=Live(dir=str(live_dir), dvcyaml=False, save_dvc_exp=False, report=None))


def fit_one_seed(
    params: dict[str, Any], seed: int, *, train_x: np.ndarray, train_y: np.ndarray, val_x: np.ndarray, val_y: np.ndarray,
    live_dir: Path,
) -> tuple[keras.Model, dict[str, list[float]], dict[str, Any]]:
    """Return one model trained from scratch with ``seed``: the restored best weights, its history and its val summary."""
    make_deterministic(seed)
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
    return model, history.history, kept_epoch_summary(history.history, callbacks[0])


def kept_epoch_summary(history: dict[str, list[float]], early_stopping: keras.callbacks.EarlyStopping) -> dict[str, Any]:
    """Return the val accuracy and number of the epoch whose weights were kept, and how many epochs ran."""
    val_accuracy = history["val_accuracy"]
    # The restored weights are the early-stopping callback's best, which ignores the first min_epochs.
    if early_stopping.best_weights is None:
        best_epoch, best_val_accuracy = len(val_accuracy), val_accuracy[-1]
    else:
        best_epoch, best_val_accuracy = early_stopping.best_epoch + 1, early_stopping.best
    return {"val_accuracy": round(float(best_val_accuracy), 6), "best_epoch": best_epoch, "epochs_run": len(val_accuracy)}


def train_network(
    name: str,
    params: dict[str, Any],
    table: pd.DataFrame,
    *,
    base_seed: int,
    feature_settings: dict[str, dict[str, Any]],
    live_dir: Path,
) -> TrainingResult:
    """Fit ``train.<name>`` once per seed on the train split (originals + augmented), each stopping on
    the val split; the bundle averages the seeds' probabilities.

    ``feature_settings`` (per family) are the ones ``table`` recorded; the bundle copies them.
    """
    feature_set = params["feature_set"]
    train_rows, val_rows = split_rows(table)
    scaler = StandardScaler().fit(load_feature_matrix(train_rows, feature_set))
    train_x = scaler.transform(load_feature_matrix(train_rows, feature_set)).astype(np.float32)
    val_x = scaler.transform(load_feature_matrix(val_rows, feature_set)).astype(np.float32)
    train_y, val_y = encode_labels(train_rows["emotion"]), encode_labels(val_rows["emotion"])

    models, histories, per_seed = {}, {}, {}
    for seed in training_seeds(base_seed, params["seeds"]):
        models[seed], histories[seed], per_seed[seed] = fit_one_seed(
            params, seed, train_x=train_x, train_y=train_y, val_x=val_x, val_y=val_y, live_dir=live_dir / f"seed{seed}"
        )
    averaged_val = np.mean([model.predict_on_batch(val_x) for model in models.values()], axis=0)
    summary = seeds_summary(averaged_val, val_y, per_seed, int(next(iter(models.values())).count_params()))
    metadata = {
        "name": name,
        "architecture": params["architecture"],
        "feature_set": feature_set,
        "n_features": train_x.shape[1],
        "sample_rate": common_sample_rate(feature_settings),
        "feature_settings": feature_settings,
        "params": params,
        **summary,
        "n_train_clips": int(len(train_rows)),
        "n_val_clips": int(len(val_rows)),
    }
    bundle = Bundle(models=models, scaler=scaler, labels=list(EMOTIONS), metadata=metadata)
    return TrainingResult(bundle=bundle, histories=histories, summary=summary)

