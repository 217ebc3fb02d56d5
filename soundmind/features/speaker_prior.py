"""The typical within-voice deviation of every feature over the training actors: the prior towards which a speaker
profile of few clips is shrunk (a deviation from 8 clips is a noisy estimate; the adapted models were trained on
actors normalised with 60 clips each). Written by the speaker-prior stage to models/speaker_prior.json."""

from __future__ import annotations

from typing import Any

import numpy as np

from soundmind.errors import ParamsError
from soundmind.features.frame_store import FRAMES_FAMILY
from soundmind.features.normalise import stacked_frames, statistics
from soundmind.features.tables import family_matrices, family_table_path, split_rows, table_settings
from soundmind.params import is_int, require


def clip_count_of(params: dict[str, Any], key: str) -> int:
    """``key`` (``adaptation.prior_clips``, ``adaptation.blend_clips``): a number of clips, a whole number of 0 or more."""
    value = require(params, key)
    if not is_int(value) or value < 0:
        raise ParamsError(f"params.yaml: '{key}' must be a whole number of 0 or more, got {value!r}.")
    return value


def typical_speaker_deviation(values: np.ndarray | list[np.ndarray], actors: np.ndarray, frames: bool) -> np.ndarray:
    """The root mean square over ``actors`` of each actor's own per-feature deviation (per band over an actor's
    frames when ``frames``): how much a feature varies within one voice."""
    variances = []
    for actor in np.unique(actors):
        rows = np.flatnonzero(actors == actor)
        own = stacked_frames([values[row] for row in rows]) if frames else np.asarray(values, dtype=np.float64)[rows]
        variances.append(statistics(own)[1] ** 2)
    return np.sqrt(np.mean(variances, axis=0))


def training_voice_deviations(inputs: dict[str, Any]) -> dict[str, np.ndarray]:
    """Per family (per feature; per mel band for frames), the root mean square over the training actors of each
    actor's own deviation, from their original clips (the clips the adapted models were normalised on)."""
    reference = inputs[FRAMES_FAMILY].index if FRAMES_FAMILY in inputs else next(iter(inputs.values()))
    train_rows, _ = split_rows(reference)
    originals = train_rows[train_rows["augmentation"] == "none"].sort_values("clip_id")
    matrices = family_matrices(inputs, originals["clip_id"].tolist())
    actors = originals["actor"].to_numpy()
    return {family: typical_speaker_deviation(values, actors, family == FRAMES_FAMILY)
            for family, values in sorted(matrices.items())}


def family_settings(inputs: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The feature settings each family's table (the frame store's index for frames) recorded: the prior is refused
    by an adapted bundle whose features were made otherwise."""
    return {family: table_settings(family_table_path(family)) for family in sorted(inputs)}
