"""nEMO (Polish, 9 speakers, 6 emotions: no calm, no disgust), a training corpus beside RAVDESS, read from its
labels.csv (``SPEAKER/<SPEAKER>_<emotion>_<n>.flac``)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from soundmind.data.labelled import LabelledCorpus, read_labels

CORPUS = LabelledCorpus(name="nemo", emotions=("neutral", "happy", "sad", "angry", "fearful", "surprised"))


def read_nemo(folder: Path) -> pd.DataFrame:
    """The checked labels of the nEMO copy in ``folder`` (see ``read_labels``)."""
    return read_labels(folder, CORPUS)
