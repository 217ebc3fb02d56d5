"""Keras model factories, one ``build_<name>`` per architecture, in the keras.io functional style."""

from __future__ import annotations

import inspect
from typing import Any, Callable, Sequence

from soundmind.models.architectures import KERAS_ARCHITECTURES
from soundmind.models.keras_backend import keras, layers

# Keras' default momentum (0.99) adapts too slowly with ~30 steps per epoch; see design.md.
BATCH_NORM_MOMENTUM = 0.9


def build_baseline(
    input_dim: int,
    num_classes: int,
    *,
    hidden_units: Sequence[int] = (256, 128, 64),
    dropout: float = 0.3,
) -> keras.Model:
    """The seed's baseline: a dense network on the 40 MFCC means."""
    if input_dim <= 0 or num_classes < 2:
        raise ValueError(f"need input_dim > 0 and num_classes >= 2, got {input_dim} and {num_classes}")
    if not hidden_units or any(units <= 0 for units in hidden_units):
        raise ValueError(f"hidden_units must be a non-empty list of positive sizes, got {list(hidden_units)}")
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"dropout must be in [0, 1), got {dropout}")
    inputs = keras.Input(shape=(input_dim,), name="features")
    hidden = inputs
    for index, units in enumerate(hidden_units):
        hidden = layers.Dense(units, activation="relu", name=f"dense_{index}")(hidden)
        hidden = layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM, name=f"batch_norm_{index}")(hidden)
        hidden = layers.Dropout(dropout, name=f"dropout_{index}")(hidden)
    outputs = layers.Dense(num_classes, activation="softmax", name="emotion_probabilities")(hidden)
    return keras.Model(inputs, outputs, name="baseline")


def check_common_arguments(input_dim: int, num_classes: int, dropouts: Sequence[float]) -> None:
    """Raise ValueError for an empty input, fewer than two classes or a dropout rate outside [0, 1)."""
    if input_dim <= 0 or num_classes < 2:
        raise ValueError(f"need input_dim > 0 and num_classes >= 2, got {input_dim} and {num_classes}")
    for rate in dropouts:
        if not 0.0 <= rate < 1.0:
            raise ValueError(f"dropout rates must be in [0, 1), got {rate}")


def dense_head(
    hidden: keras.KerasTensor,
    num_classes: int,
    dense_units: Sequence[int],
    dense_dropout: Sequence[float],
    regularizer: keras.regularizers.Regularizer | None = None,
) -> keras.KerasTensor:
    """Dense + batch norm + dropout per entry, then the softmax over emotions."""
    if len(dense_units) != len(dense_dropout):
        raise ValueError(f"dense_units and dense_dropout differ in length: {list(dense_units)}, {list(dense_dropout)}")
    for index, (units, rate) in enumerate(zip(dense_units, dense_dropout)):
        hidden = layers.Dense(units, activation="relu", kernel_regularizer=regularizer, name=f"head_dense_{index}")(hidden)
        hidden = layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM, name=f"head_batch_norm_{index}")(hidden)
        hidden = layers.Dropout(rate, name=f"head_dropout_{index}")(hidden)
    return layers.Dense(num_classes, activation="softmax", kernel_regularizer=regularizer, name="emotion_probabilities")(
        hidden
    )


def build_enhanced(
    input_dim: int,
    num_classes: int,
    *,
    conv_filters: Sequence[int] = (64, 128, 256),
    kernel_size: int = 5,
    conv_dropout: float = 0.2,
    dense_units: Sequence[int] = (256, 128),
    dense_dropout: Sequence[float] = (0.4, 0.3),
) -> keras.Model:
    """The seed's hybrid CNN: Conv1D blocks over the feature vector read as a sequence, then a dense head."""
    check_common_arguments(input_dim, num_classes, [conv_dropout, *dense_dropout])
    if not conv_filters or kernel_size <= 0:
        raise ValueError(f"need at least one conv block and kernel_size > 0, got {list(conv_filters)}, {kernel_size}")
    inputs = keras.Input(shape=(input_dim,), name="features")
    hidden = layers.Reshape((input_dim, 1), name="as_sequence")(inputs)
    for index, filters in enumerate(conv_filters):
        hidden = layers.Conv1D(filters, kernel_size, padding="same", name=f"conv_{index}")(hidden)
        hidden = layers.BatchNormalization(momentum=BATCH_NORM_MOMENTUM, name=f"conv_batch_norm_{index}")(hidden)
        hidden = layers.Activation("relu", name=f"conv_relu_{index}")(hidden)
        hidden = layers.MaxPooling1D(2, name=f"conv_pool_{index}")(hidden)
        hidden = layers.Dropout(conv_dropout, name=f"conv_dropout_{index}")(hidden)
    pooled = layers.Concatenate(name="pooled")(
        [layers.GlobalAveragePooling1D(name="average_pool")(hidden), layers.GlobalMaxPooling1D(name="max_pool")(hidden)]
    )
    outputs = dense_head(pooled, num_classes, dense_units, dense_dropout)
    return keras.Model(inputs, outputs, name="enhanced")


def squeeze_excitation(hidden: keras.KerasTensor, reduction: int, name: str) -> keras.KerasTensor:
    """Reweight channels by a gate computed from their global average (Hu et al., 2018)."""
    channels = hidden.shape[-1]
    gate = layers.GlobalAveragePooling1D(name=f"{name}_squeeze")(hidden)
    gate = layers.Dense(max(1, channels // reduction), activation="relu", name=f"{name}_reduce")(gate)
    gate = layers.Dense(channels, activation="sigmoid", name=f"{name}_expand")(gate)
    gate = layers.Reshape((1, channels), name=f"{name}_gate")(gate)
    return layers.Multiply(name=f"{name}_scale")([hidden, gate])


def build_optimized(
    input_dim: int,
    num_classes: int,
    *,
    conv_blocks: Sequence[dict[str, Any]] = (
        {"filters": 32, "kernel_sizes": [3, 5, 7], "dropout": 0.25},
        {"filters": 64, "kernel_sizes": [3, 5], "dropout": 0.25},
        {"filters": 128, "kernel_sizes": [3, 5], "dropout": 0.3},
    ),
    se_reduction: int = 16,
    lstm_units: Sequence[int] = (128, 64),
    lstm_dropout: Sequence[float] = (0.3, 0.4),
    dense_units: Sequence[int] = (256, 128),
    dense_dropout: Sequence[float] = (0.4, 0.3),
    l2: float = 5e-4,
) -> keras.Model:
    """The seed's best: multi-scale Conv1D blocks with squeeze-excitation, two BiLSTMs, a dense head."""
    check_common_arguments(input_dim, num_classes, [*(block["dropout"] for block in conv_blocks), *lstm_dropout])
    if not conv_blocks or not lstm_units or len(lstm_units) != len(lstm_dropout):
        raise ValueError(f"need conv blocks and matching lstm_units/lstm_dropout, got {list(lstm_units)}, {list(lstm_dropout)}")
    if se_reduction <= 0 or l2 < 0:
        raise ValueError(f"se_reduction must be positive and l2 non-negative, got {se_reduction}, {l2}")
    regularizer = keras.regularizers.L2(l2)
    inputs = keras.Input(shape=(input_dim,), name="features")
    hidden = layers.Reshape((input_dim, 1), name="as_sequence")(inputs)
    for index, block in enumerate(conv_blocks):
        branches = [
            layers.Conv1D(
                block["filters"], kernel, padding="same", activation="relu", kernel_regularizer=regularizer,
                name=f"block_{index}_conv_kernel_{kernel}",
            )(hidden)
            for kernel in block["kernel_sizes"]
        ]
        hidden = layers.Concatenate(name=f"block_{index}_multi_scale")(branches) if len(branches) > 1 else branches[0]
        hidden = squeeze_excitation(hidden, se_reduction, name=f"block_{index}_se")
        hidden = layers.MaxPooling1D(2, name=f"block_{index}_pool")(hidden)
        hidden = layers.Dropout(block["dropout"], name=f"block_{index}_dropout")(hidden)
    for index, (units, rate) in enumerate(zip(lstm_units, lstm_dropout)):
        last = index == len(lstm_units) - 1
        hidden = layers.Bidirectional(
            layers.LSTM(units, return_sequences=not last, kernel_regularizer=regularizer), name=f"bilstm_{index}"
        )(hidden)
        hidden = layers.Dropout(rate, name=f"bilstm_dropout_{index}")(hidden)
    outputs = dense_head(hidden, num_classes, dense_units, dense_dropout, regularizer)
    return keras.Model(inputs, outputs, name="optimized")


# The names come from models/architectures.py, the one registry; each name's factory is build_<name>, and the
# params keys it takes are its keyword-only arguments.
FACTORIES: dict[str, Callable[..., keras.Model]] = {name: globals()[f"build_{name}"] for name in KERAS_ARCHITECTURES}


def build_model(architecture: str, input_dim: int, num_classes: int, params: dict[str, Any]) -> keras.Model:
    """Build ``architecture`` with the keys of ``params`` that its factory takes."""
    if architecture not in FACTORIES:
        raise ValueError(f"unknown architecture {architecture!r}; known: {', '.join(FACTORIES)}")
    factory = FACTORIES[architecture]
    keys = [name for name, parameter in inspect.signature(factory).parameters.items() if parameter.kind is parameter.KEYWORD_ONLY]
    return factory(input_dim, num_classes, **{key: params[key] for key in keys if key in params})
