"""Scoring a bundle with ONNX Runtime, so that serving imports neither TensorFlow nor scikit-learn.

A Keras archive ``model_seed<seed>.keras``, a fitted scaler ``scaler.joblib`` and a scikit-learn pipeline
``pipeline.joblib`` each have an ONNX twin (``model_seed<seed>.onnx``, ``scaler.onnx``, ``pipeline.onnx``) either
beside them (what ``python -m soundmind export BUNDLE`` writes into a bundle folder) or under ``<models>/onnx/`` at the
same relative path (what the export stage writes: DVC lets only the train stage that made a bundle write into its
folder). A twin that is missing or cannot be loaded is reported in one warning sentence naming the file, and the
original is used instead.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

from soundmind.errors import SoundmindError, SoundmindWarning
from soundmind.paths import ONNX_FOLDER

ONNX_SUFFIX = ".onnx"
# <models>/onnx mirrors <models>: models/onnx/ensemble/members/crnn/model_seed42.onnx is the twin of
# models/ensemble/members/crnn/model_seed42.keras.
# "onnx": ONNX Runtime wherever a twin exists (serving's default); "keras": the Keras archives and scikit-learn pickles
# (training and the pipeline's own scoring, which measure the models as trained).
RUNTIMES = ("onnx", "keras")


# The output of a scikit-learn classifier's ONNX twin that holds the class probabilities (skl2onnx's name for it).
PROBABILITIES_OUTPUT = "probabilities"


class OnnxFallbackWarning(SoundmindWarning):
    """An ONNX twin is missing or unusable: the original (Keras, or scikit-learn's pickle) scores instead."""


class OnnxThreadsError(SoundmindError, ValueError):
    """SOUNDMIND_ONNX_THREADS is not a whole number."""


class OnnxSession:
    """One ONNX Runtime session on a file, run on float32 rows."""

    def __init__(self, path: Path | str, threads: int | None = None) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = session_threads() if threads is None else threads
        options.inter_op_num_threads = 1
        # Its threads must not spin between runs: spinning takes the cores from the feature extraction.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3  # errors only: its optimiser notices are not the user's business
        self.path = Path(path)
        self.session = onnxruntime.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name
        self.output_names = [output.name for output in self.session.get_outputs()]

    def run(self, inputs: np.ndarray, output: str | None = None) -> np.ndarray:
        """The first output (or the one named ``output``) for ``inputs``."""
        index = 0 if output is None else self.output_names.index(output)
        return self.session.run([self.output_names[index]], {self.input_name: np.asarray(inputs, dtype=np.float32)})[0]


def session_threads() -> int:
    """ONNX Runtime's threads per session: SOUNDMIND_ONNX_THREADS, else one. Serving scores a clip's few rows, for
    which one thread is faster than one per core (the default ensemble's networks: 11.8 against 12.7 ms for a 3 s
    clip) and leaves the other core to the feature extraction that runs beside them; 0 is one per core."""
    value = os.environ.get("SOUNDMIND_ONNX_THREADS", "1")
    if not value.isdigit():
        raise OnnxThreadsError(f"SOUNDMIND_ONNX_THREADS must be a whole number of threads (0: one per core), "
                               f"got {value!r}.")
    return int(value)


class OnnxNetwork(OnnxSession):
    """A Keras network's twin, answering ``predict_on_batch`` as a Keras model does."""

    def predict_on_batch(self, inputs: np.ndarray) -> np.ndarray:
        return self.run(inputs)


class OnnxScaler(OnnxSession):
    """A fitted StandardScaler's twin, answering ``transform`` (in float32, what the networks read)."""

    def transform(self, rows: np.ndarray) -> np.ndarray:
        return self.run(rows)


class OnnxClassifier(OnnxSession):
    """A scikit-learn pipeline's twin, answering ``predict_proba``."""

    def __init__(self, path: Path | str, threads: int | None = None) -> None:
        super().__init__(path, threads)
        if PROBABILITIES_OUTPUT not in self.output_names:
            raise ValueError(f"it has no {PROBABILITIES_OUTPUT!r} output (outputs: {', '.join(self.output_names)})")

    def predict_proba(self, rows: np.ndarray) -> np.ndarray:
        return self.run(rows, PROBABILITIES_OUTPUT)


def onnx_twins(keras_file: Path, models_dir: Path | None) -> list[Path]:
    """Where the ONNX twin of ``keras_file`` may be, in the order they are tried: beside it, then the export
    stage's mirror ``<models_dir>/onnx/...`` when the file lies under ``models_dir``."""
    candidates = [keras_file.with_suffix(ONNX_SUFFIX)]
    if models_dir is not None:
        try:
            relative = keras_file.resolve().relative_to(Path(models_dir).resolve())
        except ValueError:
            return candidates
        candidates.append(Path(models_dir) / ONNX_FOLDER / relative.with_suffix(ONNX_SUFFIX))
    return candidates


def twin_loader(runtime: str, models_dir: Path | str | None, open_twin: Callable[[Path], object],
                load_original: Callable[[Path], object], original: str, library: str) -> Callable[[Path], object]:
    """Return the function from a saved file's path to what scores it under ``runtime``: its ONNX twin opened by
    ``open_twin``, else (one warning) ``load_original``; ``original`` and ``library`` name them in messages."""
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {', '.join(RUNTIMES)}, got {runtime!r}")
    if runtime == "keras":
        return load_original
    session_threads()  # a bad SOUNDMIND_ONNX_THREADS is refused here, not taken for a damaged file below
    root = None if models_dir is None else Path(models_dir)

    def load(saved_file: Path) -> object:
        candidates = onnx_twins(Path(saved_file), root)
        twin = next((path for path in candidates if path.is_file()), None)
        if twin is None:
            problem = f"{candidates[-1]}: no ONNX twin of {saved_file} (the export stage writes it)"
        else:
            try:
                return open_twin(twin)
            except Exception as error:  # onnxruntime raises its own exception types for a damaged file
                problem = f"{twin}: cannot be loaded by ONNX Runtime ({str(error).splitlines()[0][:160]})"
        warnings.warn(OnnxFallbackWarning(f"{problem}; scoring with {original} instead, which loads {library}."),
                      stacklevel=2)
        try:
            return load_original(Path(saved_file))
        except ImportError as error:
            # An inference-only install: nothing to fall back to. Loading the bundle fails with one sentence.
            raise FileNotFoundError(f"{problem}, and {original} needs {library}, which cannot be imported "
                                    f"here ({error})") from error

    return load


def network_loader(runtime: str, models_dir: Path | str | None,
                   load_keras: Callable[[Path], object]) -> Callable[[Path], object]:
    """Return the function from a Keras archive's path to the network that scores it under ``runtime``."""
    return twin_loader(runtime, models_dir, OnnxNetwork, load_keras, "the Keras archive", "TensorFlow")


def fitted_loader(runtime: str, models_dir: Path | str | None,
                  load_joblib: Callable[[Path], object]) -> Callable[[Path], object]:
    """Return the function from a pickled scaler's or pipeline's path to what transforms or scores with it under
    ``runtime`` (``"keras"``: the pickle itself, as for networks)."""
    return twin_loader(runtime, models_dir, open_fitted_twin, load_joblib, "the scikit-learn pickle", "scikit-learn")


def open_fitted_twin(onnx_file: Path, threads: int | None = None) -> OnnxClassifier | OnnxScaler:
    """The ONNX twin of a pipeline (``pipeline.onnx``: a classifier) or of a scaler (any other name)."""
    from soundmind.models.bundle import PIPELINE_FILE

    kind = OnnxClassifier if Path(onnx_file).stem == Path(PIPELINE_FILE).stem else OnnxScaler
    return kind(onnx_file, threads)
