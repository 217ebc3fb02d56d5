"""Standardising features with a speaker's statistics, without labels: the one implementation behind the
cross-validation's speaker-normalised protocol, the CRNN's per-clip band standardisation and the speaker
profiles that adapt predictions to an enrolled user (serving/speaker.py).

A feature vector family is standardised per feature over a speaker's clips; log-mel frames per mel band over
all of a speaker's frames. A deviation at or below the family's floor (a constant feature, a flat band) is
not divided by: the feature is only centred, so silence or padding never blows up.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

# A feature whose deviation over a speaker's clips is below this is constant for that speaker.
VECTOR_FLOOR = 1e-12
# A band whose deviation is below this (in dB) is flat (silence, padding): it is centred, not scaled.
FLAT_BAND = 1e-3


def statistics(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the per-column mean and standard deviation of ``rows`` (clips' vectors, or frames by band)."""
    return rows.mean(axis=0), rows.std(axis=0)


def standardise(values: np.ndarray, mean: np.ndarray, std: np.ndarray, floor: float) -> np.ndarray:
    """Return ``values`` centred on ``mean`` and divided by ``std`` wherever ``std`` is above ``floor``."""
    return (values - mean) / np.where(std > floor, std, 1.0)


def stacked_frames(clips: Sequence[np.ndarray]) -> np.ndarray:
    """Return the frames of ``clips`` one under another, as float32: the rows whose band statistics are a speaker's."""
    return np.concatenate([np.asarray(clip, dtype=np.float32) for clip in clips])


def speaker_normalise(matrix: np.ndarray, actors: np.ndarray) -> np.ndarray:
    """Standardise each actor's rows with that actor's own mean and standard deviation (no labels used)."""
    normalised = np.empty_like(matrix, dtype=np.float64)
    for actor in np.unique(actors):
        rows = actors == actor
        normalised[rows] = standardise(matrix[rows], *statistics(matrix[rows]), VECTOR_FLOOR)
    return normalised


def speaker_normalise_frames(clips: list[np.ndarray], actors: np.ndarray) -> list[np.ndarray]:
    """Return every clip standardised per band with its actor's mean and deviation over all of that actor's
    frames (no labels used): the speaker-normalised protocol's input."""
    normalised: list[np.ndarray] = [np.empty(0)] * len(clips)
    for actor in np.unique(actors):
        rows = np.flatnonzero(actors == actor)
        mean, std = statistics(stacked_frames([clips[row] for row in rows]))
        for row in rows:
            normalised[row] = standardise(np.asarray(clips[row], dtype=np.float32), mean, std, FLAT_BAND)
    return normalised


def typical_speaker_deviation(values: np.ndarray | list[np.ndarray], actors: np.ndarray, frames: bool) -> np.ndarray:
    """The root mean square over ``actors`` of each actor's own per-feature deviation (per band over an actor's
    frames when ``frames``): how much a feature varies within one voice, the prior a small profile is shrunk to."""
    variances = []
    for actor in np.unique(actors):
        rows = np.flatnonzero(actors == actor)
        own = stacked_frames([values[row] for row in rows]) if frames else np.asarray(values, dtype=np.float64)[rows]
        variances.append(statistics(own)[1] ** 2)
    return np.sqrt(np.mean(variances, axis=0))


def shrunk_deviation(deviation: np.ndarray, clips: int, prior: np.ndarray, prior_clips: int) -> np.ndarray:
    """A profile's deviation from ``clips`` clips pulled towards ``prior`` as if the prior came from ``prior_clips``
    clips: sqrt((clips * deviation^2 + prior_clips * prior^2) / (clips + prior_clips)). A deviation from a few
    clips is a noisy estimate (from one clip it is 0); from many it is hardly moved."""
    if clips < 1 or prior_clips < 0:
        raise ValueError(f"clips must be at least 1 and prior_clips at least 0, got {clips} and {prior_clips}")
    return np.sqrt((clips * np.square(deviation) + prior_clips * np.square(prior)) / (clips + prior_clips))
