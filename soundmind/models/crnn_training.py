"""Training the CRNN on the frame store, once per seed: augmented crops, AdamW with warm-up and cosine decay,
label smoothing, and the epoch kept that is best on the val actors."""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from soundmind.data.channel import TRAINING_CONDITIONS
from soundmind.data.ravdess import EMOTIONS
from soundmind.features.frame_store import FrameStore, original_clips_only
from soundmind.features.frames import FrameSettings, standardise_per_band
from soundmind.features.normalise import speaker_normalise_frames
from soundmind.features.tables import copy_rows_by_source, encode_labels, split_rows
from soundmind.models.bundle import SPEAKER_NORMALISED, TrainingResult, common_sample_rate
from soundmind.models.crnn import build_crnn_from_params
from soundmind.models.crnn_inputs import augmented_epoch, centre_crops
from soundmind.models.frame_bundle import FrameBundle, seed_window_probabilities
from soundmind.models.keras_backend import keras
from soundmind.models.keras_training import kept_epoch_summary, live_callback, make_deterministic
from soundmind.models.seeds import seeds_summary, training_seeds
from soundmind.models.workers import map_in_worker_processes, run_on_one_thread


class AugmentedEpochs(keras.utils.PyDataset):
    """Batches of one epoch's augmented crops, all drawn at once with NumPy and drawn anew after each epoch.

    ``copies`` (one tuple per clip, possibly empty) are other versions of each clip: an epoch crops one version of
    every clip, drawn anew each epoch, so they add recording channels without making an epoch longer."""

    def __init__(self, clips: Sequence[np.ndarray], labels: np.ndarray, params: dict[str, Any], length: int, seed: int,
                 copies: Sequence[Sequence[np.ndarray]] | None = None):
        super().__init__()
        self.clips, self.params, self.length, self.copies = clips, params, length, copies
        self.targets = np.eye(len(EMOTIONS), dtype=np.float32)[labels]
        self.rng = np.random.default_rng(seed)
        self.on_epoch_end()

    def epoch_versions(self) -> list[np.ndarray]:
        if self.copies is None:
            return list(self.clips)
        return [clip if not others else (clip, *others)[int(self.rng.integers(len(others) + 1))]
                for clip, others in zip(self.clips, self.copies)]

    def __len__(self) -> int:
        return math.ceil(len(self.clips) / self.params["batch_size"])

    def __getitem__(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        rows = slice(index * self.params["batch_size"], (index + 1) * self.params["batch_size"])
        return self.inputs[rows], self.outputs[rows]

    def on_epoch_end(self) -> None:
        self.inputs, self.outputs = augmented_epoch(self.epoch_versions(), self.targets, self.params, self.length, self.rng)


def learning_rate_schedule(params: dict[str, Any], steps_per_epoch: int) -> keras.optimizers.schedules.LearningRateSchedule:
    """Linear warm-up from 0 to ``peak_learning_rate`` over ``warmup_epochs``, then cosine decay to 0."""
    warmup = params["warmup_epochs"] * steps_per_epoch
    return keras.optimizers.schedules.CosineDecay(
        0.0, decay_steps=max(1, (params["epochs"] - params["warmup_epochs"]) * steps_per_epoch), alpha=0.0,
        warmup_target=params["peak_learning_rate"], warmup_steps=warmup,
    )


def fit_crnn_seed(
    params: dict[str, Any], seed: int, *, train_clips: Sequence[np.ndarray], train_y: np.ndarray,
    val_clips: Sequence[np.ndarray], val_y: np.ndarray, crop_frames: int, live_dir: Path | None = None,
    train_copies: Sequence[Sequence[np.ndarray]] | None = None, timing: keras.callbacks.Callback | None = None,
    keras_epoch_lines: bool = True, steps_per_execution: int = 1,
) -> tuple[keras.Model, dict[str, list[float]], dict[str, Any]]:
    """Return one CRNN trained from scratch with ``seed`` on normalised clips, with the weights of its epoch
    best on the centre crops of the val clips (after ``min_epochs``), its history and its val summary. ``timing``, a
    callback that only observes (benchmarks/frame_models.py times epochs with it; a seed worker's ``SeedEpochLines``,
    which replace Keras' own epoch lines: ``keras_epoch_lines`` False there), joins the fit. ``steps_per_execution``:
    batches per call into the backend (benchmarks/frame_models.py --loop-options measures it; the stages use 1)."""
    make_deterministic(seed)
    model = build_crnn_from_params(params, train_clips[0].shape[1], len(EMOTIONS))
    batches = AugmentedEpochs(train_clips, train_y, params, crop_frames, seed, train_copies)
    model.compile(
        optimizer=keras.optimizers.AdamW(
            learning_rate=learning_rate_schedule(params, len(batches)), weight_decay=params["weight_decay"]
        ),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=params["label_smoothing"]),
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
        jit_compile=params["jit_compile"],
        steps_per_execution=steps_per_execution,
    )
    # patience = epochs: never stops early, only keeps the best epoch after min_epochs (the schedule needs every epoch).
    keep_best = keras.callbacks.EarlyStopping(
        monitor="val_accuracy", patience=params["epochs"], restore_best_weights=True, start_from_epoch=params["min_epochs"]
    )
    callbacks = [keep_best] + ([live_callback(live_dir)] if live_dir is not None else []) + ([timing] if timing else [])
    val_data = (centre_crops(val_clips, crop_frames), np.eye(len(EMOTIONS), dtype=np.float32)[val_y])
    history = model.fit(batches, validation_data=val_data, epochs=params["epochs"], callbacks=callbacks,
                        verbose=2 if keras_epoch_lines else 0)
    return model, history.history, kept_epoch_summary(history.history, keep_best)


def fit_crnn_seeds(
    params: dict[str, Any], seeds: list[int], *, train_clips: Sequence[np.ndarray], train_y: np.ndarray,
    val_clips: Sequence[np.ndarray], val_y: np.ndarray, crop_frames: int, live_dir: Path | None = None,
    train_copies: Sequence[Sequence[np.ndarray]] | None = None, seed_workers: int | None = None,
) -> tuple[dict[int, keras.Model], dict[int, dict[str, list[float]]], dict[str, Any]]:
    """Train one CRNN per seed; return them, their histories and the summary of their averaged val probabilities.

    ``seed_workers`` None: the seeds train in turn in this process (a cross-validation fold's worker, already on one
    thread). A number: in that many worker processes of one thread each, side by side (``soundmind.models.workers``);
    the models are the same for any number of workers."""
    inputs = {"params": params, "train_clips": train_clips, "train_y": train_y, "val_clips": val_clips, "val_y": val_y,
              "crop_frames": crop_frames, "live_dir": live_dir, "train_copies": train_copies}
    if seed_workers is None:
        trained = [_fit_seed(inputs, seed) for seed in seeds]
        models = {seed: model for seed, (model, _, _) in zip(seeds, trained)}
    else:
        trained = map_in_worker_processes(_fit_seed_in_worker, seeds, seed_workers, _start_seed_worker, (inputs,))
        models = {seed: _model_with_weights(params, train_clips[0].shape[1], weights)
                  for seed, (weights, _, _) in zip(seeds, trained)}
    histories = {seed: history for seed, (_, history, _) in zip(seeds, trained)}
    per_seed = {seed: summary for seed, (_, _, summary) in zip(seeds, trained)}
    averaged_val = np.mean(list(seed_window_probabilities(models, val_clips, crop_frames).values()), axis=0)
    summary = seeds_summary(averaged_val, val_y, per_seed, int(next(iter(models.values())).count_params()))
    return models, histories, summary


def _fit_seed(inputs: dict[str, Any], seed: int, epoch_lines: keras.callbacks.Callback | None = None):
    live_dir = inputs["live_dir"]
    return fit_crnn_seed(
        inputs["params"], seed, train_clips=inputs["train_clips"], train_y=inputs["train_y"],
        val_clips=inputs["val_clips"], val_y=inputs["val_y"], crop_frames=inputs["crop_frames"],
        live_dir=None if live_dir is None else live_dir / f"seed{seed}", train_copies=inputs["train_copies"],
        timing=epoch_lines, keras_epoch_lines=epoch_lines is None,
    )


class SeedEpochLines(keras.callbacks.Callback):
    """One line per epoch that names its seed: Keras' own lines from seeds trained side by side would interleave
    without saying whose they are."""

    def __init__(self, seed: int, epochs: int):
        super().__init__()
        self.seed, self.epochs = seed, epochs

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        figures = " - ".join(f"{name}: {value:.4f}" for name, value in (logs or {}).items() if name != "learning_rate")
        print(f"seed {self.seed}: epoch {epoch + 1}/{self.epochs} - {time.perf_counter() - self.started:.0f}s - {figures}",
              flush=True)


# What a seed worker was given once, at its start: the clips are the bulk of it.
_seed_worker_inputs: dict[str, Any] = {}


def _start_seed_worker(inputs: dict[str, Any]) -> None:
    _seed_worker_inputs.update(inputs)
    run_on_one_thread(with_tensorflow=True)


def _fit_seed_in_worker(seed: int) -> tuple[list[np.ndarray], dict[str, list[float]], dict[str, Any]]:
    model, history, summary = _fit_seed(_seed_worker_inputs, seed,
                                        SeedEpochLines(seed, _seed_worker_inputs["params"]["epochs"]))
    # Weights, not the model: a Keras model does not cross a process boundary; this process builds it again.
    return model.get_weights(), {name: [float(value) for value in values] for name, values in history.items()}, summary


def _model_with_weights(params: dict[str, Any], n_mels: int, weights: list[np.ndarray]) -> keras.Model:
    model = build_crnn_from_params(params, n_mels, len(EMOTIONS))
    model.set_weights(weights)
    return model


def fold_probabilities(
    params: dict[str, Any], seeds: list[int], *, train_clips: Sequence[np.ndarray], train_y: np.ndarray,
    val_clips: Sequence[np.ndarray], val_y: np.ndarray, scored: dict[str, Sequence[np.ndarray]], crop_frames: int,
    train_copies: Sequence[Sequence[np.ndarray]] | None = None,
) -> tuple[float, dict[str, np.ndarray]]:
    """One cross-validation fold: the val accuracy of ``seeds`` CRNNs averaged, and their averaged probabilities of
    each set of ``scored`` clips (no training curves logged)."""
    models, _, summary = fit_crnn_seeds(params, seeds, train_clips=train_clips, train_y=train_y, val_clips=val_clips,
                                        val_y=val_y, crop_frames=crop_frames, train_copies=train_copies)
    averaged = {name: np.mean(list(seed_window_probabilities(models, clips, crop_frames).values()), axis=0)
                for name, clips in scored.items()}
    return summary["val_accuracy"], averaged


def channel_copies_by_clip(rows: pd.DataFrame, clips: Sequence[np.ndarray]) -> tuple[pd.DataFrame, list[tuple[np.ndarray, ...]]]:
    """Split store ``rows`` into the clips trained on and, per clip, the frames of its training channel copies
    (``clips`` indexed by the rows' positions in the store): what ``AugmentedEpochs`` draws one version of."""
    is_copy = rows["augmentation"].isin(TRAINING_CONDITIONS)
    copies_of = copy_rows_by_source(rows[is_copy])
    kept = rows[~is_copy]
    return kept, [tuple(clips[position] for position in copies_of.get(clip_id, ())) for clip_id in kept["clip_id"]]


def store_clips(store: FrameStore, speaker_normalised: bool) -> list[np.ndarray]:
    """Every clip of ``store``, standardised per band with its own statistics, or with its actor's (the
    speaker-normalised protocol: what an adapted CRNN is trained on and a speaker profile gives it)."""
    clips = [store.clip_frames(row) for row in range(len(store.index))]
    if speaker_normalised:
        return speaker_normalise_frames(clips, store.index["actor"].to_numpy())
    return [standardise_per_band(frames) for frames in clips]


def train_crnn(
    name: str, params: dict[str, Any], store: FrameStore, *, base_seed: int,
    feature_settings: dict[str, dict[str, Any]], live_dir: Path | None, seed_workers: int,
    speaker_normalised: bool = False,
) -> TrainingResult:
    """Fit ``train.<name>`` once per seed on the train actors' clips (each standardised per band, or with its actor's
    band statistics when ``speaker_normalised``), keeping each seed's epoch best on the val actors; the bundle
    averages the seeds' probabilities. The seeds train in ``seed_workers`` one-thread worker processes."""
    if speaker_normalised:
        # A copy is not a clip its speaker said: the adapted model's statistics and clips are the speaker's own.
        store = original_clips_only(store)
    train_rows, val_rows = split_rows(store.index)
    clips = store_clips(store, speaker_normalised)
    train_rows, copies = channel_copies_by_clip(train_rows, clips)
    train_clips = [clips[row] for row in train_rows.index]
    val_clips = [clips[row] for row in val_rows.index]
    crop_frames = FrameSettings(**feature_settings["frames"]).frames_in(params["crop_seconds"])
    models, histories, summary = fit_crnn_seeds(
        params, training_seeds(base_seed, params["seeds"]), train_clips=train_clips,
        train_y=encode_labels(train_rows["emotion"]), val_clips=val_clips, val_y=encode_labels(val_rows["emotion"]),
        crop_frames=crop_frames, live_dir=live_dir, train_copies=copies, seed_workers=seed_workers,
    )
    metadata = {
        "name": name, "architecture": params["architecture"], "feature_set": params["feature_set"],
        "crop_frames": crop_frames, "sample_rate": common_sample_rate(feature_settings),
        "feature_settings": feature_settings, "params": params, **summary,
        "n_train_clips": int(len(train_rows)), "n_val_clips": int(len(val_rows)),
        "n_train_channel_copies": int(sum(len(others) for others in copies)),
        **({SPEAKER_NORMALISED: True} if speaker_normalised else {}),
    }
    bundle = FrameBundle(models=models, scaler=None, labels=list(EMOTIONS), metadata=metadata)
    return TrainingResult(bundle=bundle, histories=histories, summary=summary)
