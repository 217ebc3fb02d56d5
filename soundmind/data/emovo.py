"""EMOVO (Italian, 6 speakers, 7 emotions: no calm), a training corpus beside RAVDESS, read from its labels.csv
(``SPEAKER/<emotion>-<SPEAKER>-<sentence>.flac``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from soundmind.data.labelled import LabelledCorpus, read_labels

CORPUS = LabelledCorpus(
    name="emovo", emotions=("neutral", "happy", "sad", "angry", "fearful", "disgust", "surprised")
)


def read_emovo(folder: Path) -> pd.DataFrame:
    """The checked labels of the EMOVO copy in ``folder`` (see ``read_labels``)."""
    return read_labels(folder, CORPUS)
