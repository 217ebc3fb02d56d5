"""The frame networks over log-mel frames (keras.io style): the CRNN (Conv2D blocks, a bidirectional GRU over time,
attention pooling) and the strided CRNN, which keeps a 2D front end but does the rest in 1D over time."""

from __future__ import annotations

import math
from typing import Any, Sequence

from soundmind.models.architectures import FRAME_ARCHITECTURE_KEYS, FRAME_NETWORK_KEYS
from soundmind.models.keras_backend import keras, layers



def check_crnn_arguments(
    n_mels: int, num_classes: int, conv_filters: Sequence[int], kernel_size: int, pool_sizes: Sequence[Sequence[int]],
    dropouts: Sequence[float], gru_units: int, batch_norm_momentum: float,
) -> None:
    """Raise ValueError, naming the argument, for anything build_crnn cannot build."""
    check_head_arguments(n_mels, num_classes, dropouts, gru_units, batch_norm_momentum)
    if not conv_filters or any(filters <= 0 for filters in conv_filters) or kernel_size <= 0:
        raise ValueError(f"need positive conv_filters and kernel_size, got {list(conv_filters)}, {kernel_size}")
    if len(pool_sizes) != len(conv_filters) or any(len(pool) != 2 or min(pool) < 1 for pool in pool_sizes):
        raise ValueError(f"pool_sizes needs one [time, band] pair of positive sizes per conv block, got {list(pool_sizes)}")
    if n_mels // math.prod(pool[1] for pool in pool_sizes) < 1:
        raise ValueError(f"pool_sizes {list(pool_sizes)} pool the {n_mels} mel bands away")


def check_head_arguments(n_mels: int, num_classes: int, dropouts: Sequence[float], gru_units: int,
                         batch_norm_momentum: float) -> None:
    """Raise ValueError, naming the argument, for what both frame networks share: the input, the classes, the
    dropout rates and the recurrent head."""
    if n_mels <= 0 or num_classes < 2:
        raise ValueError(f"need n_mels > 0 and num_classes >= 2, got {n_mels} and {num_classes}")
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
    return keras.Model(inputs, attention_head(sequence, num_classes, gru_units, head_dropout), name="crnn")


def attention_head(sequence, num_classes: int, gru_units: int, head_dropout: float):
    """A bidirectional GRU over the sequence, its outputs averaged with attention weights (a softmax over time of a
    Dense(1) score), dropout, then the softmax over emotions: the back end both frame networks share."""
    sequence = layers.Bidirectional(layers.GRU(gru_units, return_sequences=True), name="bidirectional_gru")(sequence)
    scores = layers.Dense(1, name="attention_score")(sequence)
    weights = layers.Softmax(axis=1, name="attention_weights")(scores)
    pooled = layers.Dot(axes=1, name="attention_pooling")([weights, sequence])
    pooled = layers.Reshape((2 * gru_units,), name="pooled")(pooled)
    pooled = layers.Dropout(head_dropout, name="head_dropout")(pooled)
    return layers.Dense(num_classes, activation="softmax", name="emotion_probabilities")(pooled)


def check_strided_crnn_arguments(
    n_mels: int, num_classes: int, front_filters: Sequence[int], conv1d_filters: Sequence[int], conv1d_kernel_size: int,
    conv1d_pools: Sequence[int], dropouts: Sequence[float], gru_units: int, batch_norm_momentum: float,
) -> None:
    """Raise ValueError, naming the argument, for anything build_strided_crnn cannot build."""
    check_head_arguments(n_mels, num_classes, dropouts, gru_units, batch_norm_momentum)
    if not front_filters or any(filters <= 0 for filters in front_filters):
        raise ValueError(f"front_filters must be a non-empty list of positive integers, got {list(front_filters)}")
    if any(filters <= 0 for filters in conv1d_filters) or conv1d_kernel_size <= 0:
        raise ValueError(f"need positive conv1d_filters and conv1d_kernel_size, got {list(conv1d_filters)}, "
                         f"{conv1d_kernel_size}")
    if len(conv1d_pools) != len(conv1d_filters) or any(pool < 1 for pool in conv1d_pools):
        raise ValueError(f"conv1d_pools needs one positive time pool per conv1d block, got {list(conv1d_pools)}")


def build_strided_crnn(
    n_mels: int,
    num_classes: int,
    *,
    front_filters: Sequence[int] = (32, 32),
    conv1d_filters: Sequence[int] = (128, 128),
    conv1d_kernel_size: int = 3,
    conv1d_pools: Sequence[int] = (2, 1),
    conv_dropout: float = 0.1,
    gru_units: int = 64,
    head_dropout: float = 0.3,
    batch_norm_momentum: float = 0.9,
) -> keras.Model:
    """Frames (time, n_mels) of any length -> emotion probabilities, at a fraction of the CRNN's cost.

    2D front end: per entry of ``front_filters`` a Conv2D 3x3 of stride 2 in time and band -> BatchNormalization ->
    ReLU (conformer-style subsampling: frequency-local patterns are still seen by 2D kernels, but at a quarter of the
    positions after the first); then the bands and channels of each time step become one vector, and per entry of
    ``conv1d_filters`` a Conv1D over time -> BatchNormalization -> ReLU -> MaxPooling1D (``conv1d_pools``) ->
    Dropout; then the CRNN's bidirectional GRU and attention pooling.
    """
    check_strided_crnn_arguments(n_mels, num_classes, front_filters, conv1d_filters, conv1d_kernel_size, conv1d_pools,
                                 [conv_dropout, head_dropout], gru_units, batch_norm_momentum)
    inputs = keras.Input(shape=(None, n_mels), name="log_mel_frames")
    hidden = layers.Reshape((-1, n_mels, 1), name="as_image")(inputs)
    bands = n_mels
    for index, filters in enumerate(front_filters):
        hidden = layers.Conv2D(filters, 3, strides=2, padding="same", name=f"front_{index}_conv")(hidden)
        hidden = layers.BatchNormalization(momentum=batch_norm_momentum, name=f"front_{index}_batch_norm")(hidden)
        hidden = layers.Activation("relu", name=f"front_{index}_relu")(hidden)
        bands = math.ceil(bands / 2)
    hidden = layers.Reshape((-1, bands * front_filters[-1]), name="as_sequence")(hidden)
    for index, (filters, pool) in enumerate(zip(conv1d_filters, conv1d_pools)):
        hidden = layers.Conv1D(filters, conv1d_kernel_size, padding="same", name=f"block_{index}_conv")(hidden)
        hidden = layers.BatchNormalization(momentum=batch_norm_momentum, name=f"block_{index}_batch_norm")(hidden)
        hidden = layers.Activation("relu", name=f"block_{index}_relu")(hidden)
        if pool > 1:
            hidden = layers.MaxPooling1D(pool, name=f"block_{index}_pool")(hidden)
        hidden = layers.Dropout(conv_dropout, name=f"block_{index}_dropout")(hidden)
    outputs = attention_head(hidden, num_classes, gru_units, head_dropout)
    return keras.Model(inputs, outputs, name="strided_crnn")


FRAME_NETWORKS = {"crnn": build_crnn, "strided_crnn": build_strided_crnn}


def build_crnn_from_params(params: dict[str, Any], n_mels: int, num_classes: int) -> keras.Model:
    """Build the frame network a ``train.<name>`` block describes (its ``architecture``: crnn or strided_crnn)."""
    architecture = params.get("architecture", "crnn")
    if architecture not in FRAME_NETWORKS:
        raise ValueError(f"unknown frame architecture {architecture!r}; known: {', '.join(FRAME_NETWORKS)}")
    keys = (*FRAME_ARCHITECTURE_KEYS[architecture], *FRAME_NETWORK_KEYS)
    return FRAME_NETWORKS[architecture](n_mels, num_classes, **{key: params[key] for key in keys if key in params})
