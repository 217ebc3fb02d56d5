"""What the CRNN is fed: fixed-length crops of normalised frames, augmented in whole batches with NumPy.

Training takes a random crop of each clip (zero-padded when shorter; zero is a band's mean after
normalisation), SpecAugment masks and mixup; evaluation takes the centre crop, and the bundle scores a
clip longer than one crop as the mean over windows of one crop length, half a crop apart.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np


def crop_at(frames: np.ndarray, start: int, length: int) -> np.ndarray:
    """Return ``length`` frames from ``start``, zero-padded at the end when the clip runs out."""
    window = np.zeros((length, frames.shape[1]), dtype=np.float32)
    piece = frames[start : start + length]
    window[: len(piece)] = piece
    return window


def random_crops(clips: Sequence[np.ndarray], length: int, rng: np.random.Generator) -> np.ndarray:
    """Return one random crop of each clip, ``(clips, length, n_mels)``; a short clip is placed at a random
    offset inside the zero padding, so that the model never learns where speech starts."""
    batch = np.zeros((len(clips), length, clips[0].shape[1]), dtype=np.float32)
    for row, frames in enumerate(clips):
        spare = len(frames) - length
        if spare >= 0:
            start = int(rng.integers(0, spare + 1))
            batch[row] = frames[start : start + length]
        else:
            shift = int(rng.integers(0, -spare + 1))
            batch[row, shift : shift + len(frames)] = frames
    return batch


def centre_crops(clips: Sequence[np.ndarray], length: int) -> np.ndarray:
    """Return the centre crop of each clip (the start of a short clip, zero-padded), ``(clips, length, n_mels)``."""
    return np.stack([crop_at(frames, max(0, (len(frames) - length) // 2), length) for frames in clips])


def window_starts(n_frames: int, length: int) -> list[int]:
    """Starts of the windows that score a clip: one for a clip that fits a crop, else windows half a crop apart,
    the last one ending with the clip."""
    if n_frames <= length:
        return [0]
    hop = max(1, length // 2)
    starts = list(range(0, n_frames - length + 1, hop))
    if starts[-1] + length < n_frames:
        starts.append(n_frames - length)
    return starts


def windowed_probabilities(
    predict: Callable[[np.ndarray], np.ndarray], clips: Sequence[np.ndarray], length: int, batch_size: int = 64
) -> np.ndarray:
    """Return each clip's probabilities: the mean of ``predict`` over the clip's windows (all windows of all
    clips go through ``predict`` in batches of ``batch_size``)."""
    windows, owner = [], []
    for row, frames in enumerate(clips):
        for start in window_starts(len(frames), length):
            windows.append(crop_at(frames, start, length))
            owner.append(row)
    stacked = np.stack(windows)
    scores = np.concatenate([np.asarray(predict(stacked[start : start + batch_size]), dtype=np.float64)
                             for start in range(0, len(stacked), batch_size)])
    owner_array = np.asarray(owner)
    return np.stack([scores[owner_array == row].mean(axis=0) for row in range(len(clips))])


def spec_augment(
    batch: np.ndarray, rng: np.random.Generator, *, freq_masks: int, freq_mask_bands: int, time_masks: int,
    time_mask_frames: int,
) -> np.ndarray:
    """Return a copy of ``batch`` (clips, frames, bands) with, per clip, ``freq_masks`` bands of up to
    ``freq_mask_bands`` and ``time_masks`` spans of up to ``time_mask_frames`` set to zero (SpecAugment)."""
    masked = batch.copy()
    count, n_frames, n_bands = batch.shape
    band_axis, frame_axis = np.arange(n_bands)[None, :], np.arange(n_frames)[None, :]
    for _ in range(freq_masks):
        width = rng.integers(0, freq_mask_bands + 1, size=(count, 1))
        start = rng.integers(0, np.maximum(n_bands - width, 0) + 1)
        masked *= ~((band_axis >= start) & (band_axis < start + width))[:, None, :]
    for _ in range(time_masks):
        width = rng.integers(0, time_mask_frames + 1, size=(count, 1))
        start = rng.integers(0, np.maximum(n_frames - width, 0) + 1)
        masked *= ~((frame_axis >= start) & (frame_axis < start + width))[:, :, None]
    return masked


def mixup(batch: np.ndarray, targets: np.ndarray, rng: np.random.Generator, alpha: float) -> tuple[np.ndarray, np.ndarray]:
    """Return each clip blended with a random partner, its one-hot targets blended alike (Zhang et al., 2018);
    the weight, drawn from Beta(alpha, alpha), is folded to >= 0.5 so each clip stays mostly itself."""
    if alpha <= 0:
        return batch, targets
    weight = rng.beta(alpha, alpha, size=len(batch)).astype(np.float32)
    weight = np.maximum(weight, 1.0 - weight)
    partner = rng.permutation(len(batch))
    mixed = weight[:, None, None] * batch + (1.0 - weight[:, None, None]) * batch[partner]
    return mixed, weight[:, None] * targets + (1.0 - weight[:, None]) * targets[partner]


def augmented_epoch(
    clips: Sequence[np.ndarray], targets: np.ndarray, params: dict, length: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Return one epoch of training input in a shuffled order: random crops, SpecAugment, then mixup."""
    order = rng.permutation(len(clips))
    batch = random_crops([clips[row] for row in order], length, rng)
    batch = spec_augment(
        batch, rng, freq_masks=params["freq_masks"], freq_mask_bands=params["freq_mask_bands"],
        time_masks=params["time_masks"], time_mask_frames=params["time_mask_frames"],
    )
    return mixup(batch, targets[order], rng, params["mixup_alpha"])
