"""openSMILE functionals (ComParE 2016, eGeMAPS v02): the field's standard clip-level feature sets.

openSMILE is audEERING's, under a research-only (non-commercial) licence, like RAVDESS itself.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm import tqdm

from soundmind.audio import load_audio
from soundmind.features.tables import METADATA_COLUMNS

FUNCTIONAL_SETS = {"compare": "ComParE_2016", "egemaps": "eGeMAPSv02"}


_per_thread = threading.local()


def _smile(feature_set: str):
    """One extractor per thread and set: building one parses openSMILE's config, which is slow, and
    an extractor used from a thread other than its own aborts the process (the Streamlit app scores
    in a worker thread)."""
    import opensmile

    if feature_set not in FUNCTIONAL_SETS:
        raise ValueError(f"unknown functional set {feature_set!r}; known: {', '.join(FUNCTIONAL_SETS)}")
    extractors = _per_thread.__dict__.setdefault("extractors", {})
    if feature_set not in extractors:
        extractors[feature_set] = opensmile.Smile(
            feature_set=getattr(opensmile.FeatureSet, FUNCTIONAL_SETS[feature_set]),
            feature_level=opensmile.FeatureLevel.Functionals,
        )
    return extractors[feature_set]


def functional_names(feature_set: str) -> list[str]:
    """Return the column names of one openSMILE functional set, in openSMILE's order."""
    return list(_smile(feature_set).feature_names)


def functional_vector(waveform: np.ndarray, sample_rate: int, feature_set: str) -> np.ndarray:
    """The functionals of one mono clip as float32 (non-finite values, rare on silence, become 0)."""
    values = _smile(feature_set).process_signal(np.asarray(waveform, dtype=np.float32), sample_rate)
    return np.nan_to_num(values.to_numpy(dtype=np.float64)[0], nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)


def _functionals_of_file(path: Path, sample_rate: int, feature_sets: tuple[str, ...]) -> list[np.ndarray]:
    waveform = load_audio(path, sample_rate)
    return [functional_vector(waveform, sample_rate, feature_set) for feature_set in feature_sets]


def extract_functional_tables(
    clips: pd.DataFrame, raw_dir: Path, sample_rate: int, feature_sets: tuple[str, ...], *, n_jobs: int = -1,
) -> dict[str, pd.DataFrame]:
    """One table per functional set for the clips of ``clips`` (metadata columns + relative ``path``)."""
    paths = [raw_dir / path for path in clips["path"]]
    results = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(_functionals_of_file)(path, sample_rate, feature_sets) for path in paths
    )
    per_clip = list(tqdm(results, total=len(paths), desc="functionals", unit="clip"))
    tables = {}
    for index, feature_set in enumerate(feature_sets):
        values = pd.DataFrame(
            np.vstack([vectors[index] for vectors in per_clip]), columns=functional_names(feature_set), index=clips.index
        )
        tables[feature_set] = pd.concat([clips[METADATA_COLUMNS], values], axis=1).reset_index(drop=True)
    return tables
