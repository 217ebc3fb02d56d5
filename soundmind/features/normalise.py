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
