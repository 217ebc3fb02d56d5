"""openSMILE functionals (ComParE 2016, eGeMAPS v02): the field's standard clip-level feature sets.

openSMILE is audEERING's, under a research-only (non-commercial) licence, like RAVDESS itself.
"""

from __future__ import annotations

import functools
import importlib.util
import sys
import threading
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import numpy as np

from soundmind.audio import load_audio

if TYPE_CHECKING:
    import pandas as pd

FUNCTIONAL_SETS = {"compare": "ComParE_2016", "egemaps": "eGeMAPSv02"}
# Each set's configuration under openSMILE's config folder, and the pieces the opensmile package adds to it for
# functionals fed from memory (``Smile._options``): tests/test_functionals.py checks them against the package's own.
FUNCTIONAL_CONFIGS = {"compare": "compare/ComParE_2016.conf", "egemaps": "egemaps/v02/eGeMAPSv02.conf"}
EXTERNAL_SOURCE = ("extsource", "shared/standard_external_wave_input.conf.inc")
EXTERNAL_SINK = ("extsink", "shared/standard_external_data_output_single.conf.inc")
SHARED_INCLUDES = {"bufferModeRbConf": "shared/BufferModeRb.conf.inc",
                   "frameModeFunctionalsConf": "shared/FrameModeFunctionals.conf.inc"}


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


def opensmile_folder() -> Path:
    """The installed opensmile package's folder, found without importing it."""
    spec = importlib.util.find_spec("opensmile")
    if spec is None or spec.origin is None:
        raise ModuleNotFoundError("opensmile is not installed: pip install -r requirements.txt")
    return Path(spec.origin).parent


def native_api() -> ModuleType:
    """openSMILE's native API (``opensmile.core.lib``: ctypes over libSMILEapi). The opensmile package's own copy
    when it is imported; else the same file loaded alone, because the package's ``__init__`` imports audinterface,
    audformat and pandas, a quarter of a second of the command line's cold start that extraction does not need."""
    if "opensmile.core.lib" in sys.modules:
        return sys.modules["opensmile.core.lib"]
    return _native_api_alone()


@functools.cache
def _native_api_alone() -> ModuleType:
    spec = importlib.util.spec_from_file_location("soundmind_opensmile_api", opensmile_folder() / "core" / "lib.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def engine_configuration(feature_set: str, sample_rate: int) -> tuple[Path, dict[str, object]]:
    """The configuration file and options of an engine that reads ``feature_set``'s functionals of 16-bit samples
    at ``sample_rate`` written to it from memory: what ``Smile.process_signal`` gives its engine."""
    _check_set(feature_set)
    config_root = opensmile_folder() / "core" / "config"
    options: dict[str, object] = {"sink": str(config_root / EXTERNAL_SINK[1]), "sinkLevel": "func",
                                  **{name: str(config_root / path) for name, path in SHARED_INCLUDES.items()},
                                  "source": str(config_root / EXTERNAL_SOURCE[1]), "sampleRate": sample_rate, "nBits": 16}
    return config_root / FUNCTIONAL_CONFIGS[feature_set], options


class KeptEngine:
    """An openSMILE engine configured once and reset after each clip: ``Smile.process_signal`` parses the whole
    configuration again for every clip, which costs more than extracting a short one. It feeds the engine exactly
    as ``process_signal`` does (16-bit samples, the same options), so the values are the same.

    The reset that readies it for the next clip (13 ms of ComParE's 37 on a 3 s clip) waits until then, or until
    ``tidy`` is called: a caller with a thread to spare does it after the answer has gone."""

    def __init__(self, feature_set: str, sample_rate: int) -> None:
        config_file, options = engine_configuration(feature_set, sample_rate)
        self.feature_set, self.sample_rate = feature_set, sample_rate
        self.source, self.sink = EXTERNAL_SOURCE[0], EXTERNAL_SINK[0]
        self.engine = native_api().OpenSMILE()
        # Smile's defaults: log level 2, no log file, no debug output.
        self.engine.initialize(config_file=str(config_file), options=options, loglevel=2, log_file=None, debug=False)
        self.used = False
        self._feature_count: int | None = None

    def tidy(self) -> None:
        """Reset the engine after a clip, so that the next one starts at once."""
        if self.used:
            self.engine.reset()
            self.used = False

    def feature_count(self) -> int:
        """How many functionals the set has (openSMILE's answer to one second of silence)."""
        if self._feature_count is None:
            self._feature_count = len(self.process(np.zeros(self.sample_rate, dtype=np.float32)))
        return self._feature_count

    def process(self, waveform: np.ndarray) -> np.ndarray:
        self.tidy()
        rows: list[np.ndarray] = []
        # The engine forgets its sink's callback at every reset; the old one is dropped with it.
        self.engine._callbacks.clear()
        self.engine.external_sink_set_callback_ex(self.sink, lambda data, meta: rows.append(data.copy()))
        samples = (np.asarray(waveform, dtype=np.float32).reshape(-1) * 32768).astype(np.int16)
        self.engine.external_audio_source_write_data(self.source, bytes(samples))
        self.engine.external_audio_source_set_eoi(self.source)
        self.used = True
        self.engine.run()
        # process_signal's answer to a clip too short for one frame: every value missing.
        return np.vstack(rows)[0] if rows else np.full(self.feature_count(), np.nan)


def _engine(feature_set: str, sample_rate: int) -> KeptEngine:
    """This thread's kept engine for ``feature_set`` at ``sample_rate``."""
    _check_set(feature_set)
    engines = _per_thread.__dict__.setdefault("engines", {})
    if (feature_set, sample_rate) not in engines:
        engines[(feature_set, sample_rate)] = KeptEngine(feature_set, sample_rate)
    return engines[(feature_set, sample_rate)]


def tidy_engines() -> None:
    """Reset this thread's engines used since their last clip: work that can be done after an answer, not before."""
    for engine in _per_thread.__dict__.get("engines", {}).values():
        engine.tidy()


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
    # Imported here: serving extracts one clip at a time and should not pay for pandas and joblib at start-up.
    import pandas as pd
    from joblib import Parallel, delayed
    from tqdm import tqdm

    from soundmind.features.tables import METADATA_COLUMNS

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
