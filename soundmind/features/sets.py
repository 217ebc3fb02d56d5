"""Feature sets and the families they come from: one table in features/ and one extractor per family."""

from __future__ import annotations

from typing import Any, Callable

import numpy as np

from soundmind.features.spectral import MFCC_MEAN_COUNT, RICH_FEATURE_NAMES, FeatureSettings, rich_feature_vector

# feature set -> the family it is taken from; "frames" are log-mel sequences (features/frames.py), not vectors
FEATURE_SETS = {"rich": "rich", "mfcc40": "rich", "compare": "compare", "egemaps": "egemaps", "frames": "frames"}
VECTOR_FEATURE_SETS = tuple(name for name in FEATURE_SETS if name != "frames")
FAMILIES = tuple(dict.fromkeys(FEATURE_SETS.values()))
VECTOR_FAMILIES = tuple(family for family in FAMILIES if family != "frames")  # each also a feature set: its whole table


def sets_of_family(family: str) -> tuple[str, ...]:
    """The feature sets taken from ``family``'s table (the rich family: rich and its head, mfcc40)."""
    return tuple(feature_set for feature_set, source in FEATURE_SETS.items() if source == family)


def feature_family(feature_set: str) -> str:
    """Return the family (``rich``, ``compare``, ``egemaps``) that ``feature_set`` is taken from."""
    if feature_set not in FEATURE_SETS:
        raise ValueError(f"unknown feature set {feature_set!r}; known: {', '.join(FEATURE_SETS)}")
    return FEATURE_SETS[feature_set]


def feature_names(feature_set: str) -> list[str]:
    """Return the column names of ``feature_set`` in its family's table."""
    family = feature_family(feature_set)
    if family != "rich":
        from soundmind.features.functionals import functional_names

        return functional_names(family)
    return RICH_FEATURE_NAMES[:MFCC_MEAN_COUNT] if feature_set == "mfcc40" else RICH_FEATURE_NAMES


def select_feature_set(vector: np.ndarray, feature_set: str) -> np.ndarray:
    """Slice a family's vector (or a batch of them) down to ``feature_set``: mfcc40 is the rich vector's head."""
    feature_family(feature_set)
    return vector[..., :MFCC_MEAN_COUNT] if feature_set == "mfcc40" else vector


def family_extractor(family: str, settings: dict[str, Any]) -> Callable[[np.ndarray], np.ndarray]:
    """Return the function from one clip's waveform to ``family``'s whole vector, computed with the
    ``settings`` its table recorded: the single place inference computes features."""
    if family == "rich":
        rich_settings = FeatureSettings(**settings)
        return lambda waveform: rich_feature_vector(waveform, rich_settings)
    from soundmind.features.functionals import functional_vector

    sample_rate = int(settings["sample_rate"])
    return lambda waveform: functional_vector(waveform, sample_rate, family)
