"""Scoring a bundle's networks with ONNX Runtime, so that serving never imports TensorFlow.

A Keras archive ``model_seed<seed>.keras`` has its ONNX twin ``model_seed<seed>.onnx`` either beside it (what
``python -m soundmind export BUNDLE`` writes into a bundle folder) or under ``<models>/onnx/`` at the same relative
path (what the export stage writes: DVC lets only the train stage that made a bundle write into its folder). A
twin that is missing or cannot be loaded is reported in one warning sentence naming the file, and the Keras
archive is used instead.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Callable

import numpy as np

from soundmind.errors import SoundmindWarning
from soundmind.paths import ONNX_FOLDER

ONNX_SUFFIX = ".onnx"
# <models>/onnx mirrors <models>: models/onnx/ensemble/members/crnn/model_seed42.onnx is the twin of
# models/ensemble/members/crnn/model_seed42.keras.
# "onnx": ONNX Runtime wherever a twin exists (serving's default); "keras": the Keras archives (training and the
# pipeline's own scoring, which measure the models as trained).
RUNTIMES = ("onnx", "keras")


class OnnxFallbackWarning(SoundmindWarning):
    """A network's ONNX twin is missing or unusable: it is scored with Keras (TensorFlow) instead."""


class OnnxNetwork:
    """One network as an ONNX Runtime session, answering ``predict_on_batch`` as a Keras model does."""

    def __init__(self, path: Path | str) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        # ONNX Runtime's threads (one per core unless SOUNDMIND_ONNX_THREADS says otherwise) must not spin between
        # runs: spinning takes the cores from the feature extraction and from the other sessions of an ensemble.
        options.intra_op_num_threads = int(os.environ.get("SOUNDMIND_ONNX_THREADS", "0"))
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.log_severity_level = 3  # errors only: its optimiser notices are not the user's business
        self.path = Path(path)
        self.session = onnxruntime.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        self.input_name = self.session.get_inputs()[0].name

    def predict_on_batch(self, inputs: np.ndarray) -> np.ndarray:
        return self.session.run(None, {self.input_name: np.asarray(inputs, dtype=np.float32)})[0]


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


def network_loader(runtime: str, models_dir: Path | str | None,
                   load_keras: Callable[[Path], object]) -> Callable[[Path], object]:
    """Return the function from a Keras archive's path to the network that scores it under ``runtime``."""
    if runtime not in RUNTIMES:
        raise ValueError(f"runtime must be one of {', '.join(RUNTIMES)}, got {runtime!r}")
    if runtime == "keras":
        return load_keras
    root = None if models_dir is None else Path(models_dir)

    def load(keras_file: Path) -> object:
        candidates = onnx_twins(Path(keras_file), root)
        twin = next((path for path in candidates if path.is_file()), None)
        if twin is None:
            problem = f"{candidates[-1]}: no ONNX twin of {keras_file} (the export stage writes it)"
        else:
            try:
                return OnnxNetwork(twin)
            except Exception as error:  # onnxruntime raises its own exception types for a damaged file
                problem = f"{twin}: cannot be loaded by ONNX Runtime ({str(error).splitlines()[0][:160]})"
        warnings.warn(OnnxFallbackWarning(f"{problem}; scoring with the Keras archive instead, which loads TensorFlow."),
                      stacklevel=2)
        try:
            return load_keras(Path(keras_file))
        except ImportError as error:
            # An inference-only install: no Keras to fall back to. Loading the bundle fails with one sentence.
            raise FileNotFoundError(f"{problem}, and the Keras archive needs TensorFlow, which cannot be imported "
                                    f"here ({error})") from error

    return load
