"""Keras model factories, one ``build_<name>`` per architecture, in the keras.io functional style."""

from __future__ import annotations

from typing import Any, Callable, Sequence

import keras
from keras import layers

# Keras' default momentum (0.99) adapts too slowly with ~30 steps per epoch; see design.md.
BATCH_NORM_MOMENTUM = 0.9


def build_baseline(
    input_dim: int,
    num_classes: int,
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


# architecture name -> (factory, the params keys it takes)
ARCHITECTURES: dict[str, tuple[Callable[..., keras.Model], tuple[str, ...]]] = {
    "baseline": (build_baseline, ("hidden_units", "dropout")),
}


def build_model(architecture: str, input_dim: int, num_classes: int, params: dict[str, Any]) -> keras.Model:
    """Build ``architecture`` with the keys of ``params`` that its factory takes."""
    if architecture not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {architecture!r}; known: {', '.join(ARCHITECTURES)}")
    factory, keys = ARCHITECTURES[architecture]
    return factory(input_dim, num_classes, **{key: params[key] for key in keys if key in params})
