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
