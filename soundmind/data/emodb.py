"""The EmoDB (Berlin Database of Emotional Speech) file-name scheme: ``SSTTTEV`` (speaker, text, emotion initial
in German, version), e.g. ``03a01Fa``; used to score the models on a corpus they never saw, never to train them."""

from __future__ import annotations

import re

NAME_PATTERN = re.compile(r"^(\d\d)([ab]\d\d)([WLEAFTN])([a-z])$")
# EmoDB's emotion initial -> RAVDESS's emotion; boredom (L, Langeweile) has no RAVDESS class (calm is not boredom).
EMOTIONS = {"W": "angry", "L": None, "E": "disgust", "A": "fearful", "F": "happy", "T": "sad", "N": "neutral"}
UNMAPPED = {"L": "boredom"}


def parse_emodb_name(stem: str) -> tuple[str, str | None, str]:
    """Return (speaker, emotion as RAVDESS names it or None for boredom, EmoDB's own emotion name) of a file stem.

    Raises ValueError for a name outside the scheme.
    """
    match = NAME_PATTERN.match(stem)
    if match is None:
        raise ValueError(f"'{stem}' is not an EmoDB file name (expected SSTTTEV such as 03a01Fa)")
    speaker, _, code, _ = match.groups()
    mapped = EMOTIONS[code]
    return speaker, mapped, mapped or UNMAPPED[code]
