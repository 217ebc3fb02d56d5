"""Which feature families train on the training channel copies (data/channel_augmented), and their rows."""

from __future__ import annotations

from typing import Any

import pandas as pd

from soundmind.errors import ParamsError
from soundmind.features.sets import FAMILIES
from soundmind.features.tables import copies_to_featurise

CHANNEL_COPIES_ORIGIN = "channel_augmented"


def channel_copy_families(params: dict[str, Any]) -> tuple[str, ...]:
    """``channel_augment.families``: a list of feature families (possibly empty)."""
    from soundmind.params import require

    families = require(params, "channel_augment.families")
    if not isinstance(families, list) or not set(families) <= set(FAMILIES):
        raise ParamsError(f"params.yaml: 'channel_augment.families' must be a list of {', '.join(FAMILIES)}, got {families!r}.")
    return tuple(families)


def with_channel_copies(clips: pd.DataFrame, manifest: pd.DataFrame, splits: pd.DataFrame,
                        copies: pd.DataFrame) -> pd.DataFrame:
    """Return ``clips`` (``tables.clips_to_featurise`` rows) and the training channel copies, sorted by clip id."""
    rows = copies_to_featurise(manifest, splits, copies, CHANNEL_COPIES_ORIGIN)
    return pd.concat([clips, rows], ignore_index=True).sort_values("clip_id").reset_index(drop=True)
