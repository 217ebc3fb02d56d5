"""The CRNN over log-mel frames: Conv2D blocks, a bidirectional GRU over time, attention pooling (keras.io style)."""

from __future__ import annotations

import math
from typing import Any, Sequence

from soundmind.models.keras_backend import keras, layers

# The keys of train.crnn that build_crnn takes.
CRNN_ARCHITECTURE_KEYS = (
    "conv_filters", "kernel_size", "pool_sizes", "conv_dropout", "gru_units", "head_dropout", "batch_norm_momentum",
)


def check_crnn_arguments(
    n_mels: int, num_classes: int, conv_filters: Sequence[int], kernel_size: int, pool_sizes: Sequence[Sequence[int]],
    dropouts: Sequence[float], gru_units: int, batch_norm_momentum: float,
) -> None:
    """Raise ValueError, naming the argument, for anything build_crnn cannot build."""
    if n_mels <= 0 or num_classes < 2:
        raise ValueError(f"need n_mels > 0 and num_classes >= 2, got {n_mels} and {num_classes}")
    if not conv_filters or any(filters <= 0 for filters in conv_filters) or kernel_size <= 0:
        raise ValueError(f"need positive conv_filters and kernel_size, got {list(conv_filters)}, {kernel_size}")
    if len(pool_sizes) != len(conv_filters) or any(len(pool) != 2 or min(pool) < 1 for pool in pool_sizes):
        raise ValueError(f"pool_sizes needs one [time, band] pair of positive sizes per conv block, got {list(pool_sizes)}")
    if n_mels // math.prod(pool[1] for pool in pool_sizes) < 1:
        raise ValueError(f"pool_sizes {list(pool_sizes)} pool the {n_mels} mel bands away")
    if gru_units <= 0 or not 0.0 < batch_norm_momentum < 1.0:
        raise ValueError(f"need gru_units > 0 and batch_norm_momentum in (0, 1), got {gru_units}, {batch_norm_momentum}")
    for rate in dropouts:
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"dropout rates must be in [0, 1), got {rate}")


def build_crnn(
    n_mels: int,
    num_classes: int,
    *,
    conv_filters: Sequence[int] = (16, 32, 64, 64),
    kernel_size: int = 3,
    pool_sizes: Sequence[Sequence[int]] = ((2, 2), (2, 2), (2, 2), (1, 2)),
    conv_dropout: float = 0.1,
    gru_units: int = 64,
    head_dropout: float = 0.3,
    batch_norm_momentum: float = 0.9,
) -> keras.Model:
    """Frames (time, n_mels) of any length -> emotion probabilities.

    Each block: Conv2D kernel_size² -> BatchNormalization -> ReLU -> MaxPooling2D (time, band) -> Dropout;
    then the bands and channels of each time step feed a bidirectional GRU, whose outputs are averaged
    with attention weights (a softmax over time of a Dense(1) score) before the softmax over emotions.
    """
    check_crnn_arguments(n_mels, num_classes, conv_filters, kernel_size, pool_sizes, [conv_dropout, head_dropout],
                         gru_units, batch_norm_momentum)
    inputs = keras.Input(shape=(None, n_mels), name="log_mel_frames")
    hidden = layers.Reshape((-1, n_mels, 1), name="as_image")(inputs)
    for index, (filters, pool) in enumerate(zip(conv_filters, pool_sizes)):
        hidden = layers.Conv2D(filters, kernel_size, padding="same", name=f"block_{index}_conv")(hidden)
        hidden = layers.BatchNormalization(momentum=batch_norm_momentum, name=f"block_{index}_batch_norm")(hidden)
        hidden = layers.Activation("relu", name=f"block_{index}_relu")(hidden)
        hidden = layers.MaxPooling2D(tuple(pool), name=f"block_{index}_pool")(hidden)
        hidden = layers.Dropout(conv_dropout, name=f"block_{index}_dropout")(hidden)
    bands = n_mels // math.prod(pool[1] for pool in pool_sizes)
    sequence = layers.Reshape((-1, bands * conv_filters[-1]), name="as_sequence")(hidden)
    sequence = layers.Bidirectional(layers.GRU(gru_units, return_sequences=True), name="bidirectional_gru")(sequence)
    scores = layers.Dense(1, name="attention_score")(sequence)
    weights = layers.Softmax(axis=1, name="attention_weights")(scores)
    pooled = layers.Dot(axes=1, name="attention_pooling")([weights, sequence])
    pooled = layers.Reshape((2 * gru_units,), name="pooled")(pooled)
    pooled = layers.Dropout(head_dropout, name="head_dropout")(pooled)
    outputs = layers.Dense(num_classes, activation="softmax", name="emotion_probabilities")(pooled)
    return keras.Model(inputs, outputs, name="crnn")


def build_crnn_from_params(params: dict[str, Any], n_mels: int, num_classes: int) -> keras.Model:
    """Build the CRNN a ``train.crnn`` block describes."""
    return build_crnn(n_mels, num_classes, **{key: params[key] for key in CRNN_ARCHITECTURE_KEYS if key in params})
