"""soundmind: speaker-independent speech emotion recognition on RAVDESS, driven by DVC."""

__version__ = "0.1.0"

import os

# TensorFlow's C++ start-up chatter (oneDNN notices) hides the messages users need.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

# openSMILE's native library must be loaded before TensorFlow's: loaded after it, openSMILE corrupts
# the heap as soon as it runs outside the main thread (the Streamlit app scores in worker threads).
import opensmile  # noqa: E402,F401
