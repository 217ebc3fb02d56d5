"""The one door through which soundmind loads Keras (and so TensorFlow).

openSMILE's native library must be loaded before TensorFlow's: loaded after it, openSMILE corrupts the
heap as soon as it runs outside the main thread (the Streamlit app scores in worker threads). Every
process that can hold both loads TensorFlow through here, so openSMILE comes first, while the users
of soundmind that never touch Keras (the data and feature stages, the scikit-learn models, the params
check) load neither.
"""

import opensmile  # noqa: F401  (imported for its side effect: the native library loads first)
import keras  # noqa: E402
import tensorflow  # noqa: E402
from keras import layers  # noqa: E402

__all__ = ["keras", "layers", "tensorflow"]
