"""The CRNN's bundle: Keras models over log-mel frames, one per training seed, whose probabilities are averaged.

It is a ``Bundle`` without a scaler: each clip is standardised per mel band with its own statistics (an adapted
bundle's clips come standardised with their speaker's instead), and a
clip longer than the training crop is scored as the mean over windows of one crop (``crnn_inputs``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

from soundmind.features.frames import standardise_per_band
from soundmind.models.bundle import Bundle
from soundmind.models.crnn_inputs import windowed_probabilities

if TYPE_CHECKING:
    import keras


def seed_window_probabilities(
    models: dict[int, "keras.Model"], clips: Sequence[np.ndarray], crop_frames: int
) -> dict[int, np.ndarray]:
    """Each seed's model on normalised clips, a clip longer than a crop scored in windows."""
    # predict_on_batch: model.predict builds a data pipeline per call, far slower for a few windows.
    return {seed: windowed_probabilities(model.predict_on_batch, clips, crop_frames) for seed, model in models.items()}


@dataclass
class FrameBundle(Bundle):
    """Keras CRNNs trained with different seeds on ``frames``; ``scaler`` is None."""

    framework = "crnn"

    @property
    def crop_frames(self) -> int:
        return int(self.metadata["crop_frames"])

    def seed_probabilities(self, features: dict[str, Any]) -> dict[int, np.ndarray]:
        """Each seed's model alone: class probabilities for a batch of clips, given ``{"frames": [clip frames, ...]}``
        (each clip's (frames, n_mels) decibels, as ``features.frames.clip_frames`` makes them)."""
        if "frames" not in features:
            raise ValueError(f"model {self.name!r} needs the 'frames' features")
        # A speaker-normalised bundle's frames come standardised with the speaker's band statistics; standardising
        # each clip again would undo that (it is affine per band), so only plain bundles standardise per clip.
        normalise = (lambda frames: np.asarray(frames, dtype=np.float32)) if self.speaker_normalised else standardise_per_band
        clips = [normalise(frames) for frames in features["frames"]]
        return seed_window_probabilities(self.models, clips, self.crop_frames)
