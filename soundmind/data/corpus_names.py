"""Which corpus a clip comes from, read from its id: a labelled corpus's clip ids (and its copies') start with the
corpus's name and an underscore; RAVDESS's are 03-01-.... Kept apart from the readers so that evaluation and
cross-validation can tell corpora apart without importing the ingest code."""

from __future__ import annotations

import numpy as np

RAVDESS = "ravdess"
# Each labelled corpus's speakers get the actor numbers base + 1, + 2, ... (RAVDESS keeps 1-24): fixed here, so that
# adding or reordering corpora in params.yaml never renumbers a speaker.
SPEAKER_NUMBER_BASE = {"nemo": 100, "emovo": 200}


def corpus_of_clip(clip_id: str) -> str:
    """The corpus a clip (or a copy of one) comes from."""
    prefix, separator, _ = clip_id.partition("_")
    return prefix if separator and prefix in SPEAKER_NUMBER_BASE else RAVDESS


def corpus_of_clips(clip_ids) -> np.ndarray:
    """``corpus_of_clip`` of each id, as an array aligned with ``clip_ids``."""
    return np.array([corpus_of_clip(str(clip_id)) for clip_id in clip_ids], dtype=object)


def extra_corpora(params: dict) -> list[str]:
    """``corpora.extra``: the labelled corpora trained on beside RAVDESS (checked by soundmind.checks)."""
    return list((params.get("corpora") or {}).get("extra") or [])
