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


def _check_set(feature_set: str) -> None:
    if feature_set not in FUNCTIONAL_SETS:
        raise ValueError(f"unknown functional set {feature_set!r}; known: {', '.join(FUNCTIONAL_SETS)}")


def _smile(feature_set: str):
    """One ``opensmile.Smile`` per thread and set, for its feature names: an extractor used from a thread other
    than its own aborts the process (the Streamlit app scores in a worker thread)."""
    import opensmile

    _check_set(feature_set)
    extractors = _per_thread.__dict__.setdefault("extractors", {})
    if feature_set not in extractors:
        extractors[feature_set] = opensmile.Smile(
            feature_set=getattr(opensmile.FeatureSet, FUNCTIONAL_SETS[feature_set]),
            feature_level=opensmile.FeatureLevel.Functionals,
        )
    return extractors[feature_set]


class KeptEngine:
    """An openSMILE engine configured once and reset after each clip: ``Smile.process_signal`` parses the whole
    configuration again for every clip, which costs more than extracting a short one. It feeds the engine exactly
    as ``process_signal`` does (16-bit samples, the same options), so the values are the same."""

    def __init__(self, feature_set: str, sample_rate: int) -> None:
        from opensmile.core.config import config

        smile = _smile(feature_set)
        options = smile._options()
        options.update(source=str(Path(smile.default_config_root) / config.EXTERNAL_INPUT_CONFIG),
                       sampleRate=sample_rate, nBits=16)
        self.source, self.sink = config.EXTERNAL_SOURCE_COMPONENT, config.EXTERNAL_OUTPUT_COMPONENT
        self.feature_count = len(smile.feature_names)
        self.engine = smile._smile(options=options)

    def process(self, waveform: np.ndarray) -> np.ndarray:
        rows: list[np.ndarray] = []
        # The engine forgets its sink's callback at every reset; the old one is dropped with it.
        self.engine._callbacks.clear()
        self.engine.external_sink_set_callback_ex(self.sink, lambda data, meta: rows.append(data.copy()))
        samples = (np.asarray(waveform, dtype=np.float32).reshape(-1) * 32768).astype(np.int16)
        self.engine.external_audio_source_write_data(self.source, bytes(samples))
        self.engine.external_audio_source_set_eoi(self.source)
        try:
            self.engine.run()
        finally:
            self.engine.reset()
        # process_signal's answer to a clip too short for one frame: every value missing.
        return np.vstack(rows)[0] if rows else np.full(self.feature_count, np.nan)


def _engine(feature_set: str, sample_rate: int) -> KeptEngine:
    """This thread's kept engine for ``feature_set`` at ``sample_rate``."""
    _check_set(feature_set)
    engines = _per_thread.__dict__.setdefault("engines", {})
    if (feature_set, sample_rate) not in engines:
        engines[(feature_set, sample_rate)] = KeptEngine(feature_set, sample_rate)
    return engines[(feature_set, sample_rate)]


def functional_names(feature_set: str) -> list[str]:
    """Return the column names of one openSMILE functional set, in openSMILE's order."""
    return list(_smile(feature_set).feature_names)


def functional_vector(waveform: np.ndarray, sample_rate: int, feature_set: str) -> np.ndarray:
    """The functionals of one mono clip as float32 (non-finite values, rare on silence, become 0)."""
    engines = _per_thread.__dict__.setdefault("engines", {})
    try:
        values = _engine(feature_set, sample_rate).process(waveform)
    except Exception:
        # An engine whose run failed is not trusted again: the next clip gets a fresh one.
        engines.pop((feature_set, sample_rate), None)
        raise
    return np.nan_to_num(np.asarray(values, dtype=np.float64), nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)


def _functionals_of_file(path: Path, sample_rate: int, feature_sets: tuple[str, ...]) -> list[np.ndarray]:
    waveform = load_audio(path, sample_rate)
    return [functional_vector(waveform, sample_rate, feature_set) for feature_set in feature_sets]


def extract_functional_tables(
    clips: pd.DataFrame, audio_root: dict[str, Path], sample_rate: int, feature_sets: tuple[str, ...], *, n_jobs: int = -1,
) -> dict[str, pd.DataFrame]:
    """One table per functional set for the clips of ``clips`` (metadata columns + relative ``path`` + ``origin``,
    the folder of ``audio_root`` that the path is under)."""
    paths = [audio_root[origin] / path for origin, path in zip(clips["origin"], clips["path"])]
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
