"""The one door through which soundmind loads Keras (and so TensorFlow).

openSMILE's native library must be loaded before TensorFlow's: loaded after it, openSMILE corrupts the
heap as soon as it runs outside the main thread (the Streamlit app scores in worker threads). Every
process that can hold both loads TensorFlow through here, so openSMILE comes first, while the users
of soundmind that never touch Keras (the data and feature stages, the scikit-learn models, the params
check) load neither.
"""

import opensmile  # noqa: F401  (imported for its side effect: the native library loads first)

from soundmind.native_output import native_start_up_notes_dropped

# TensorFlow 2.21's C++ start-up notes (oneDNN, CPU features) go through absl before TF_CPP_MIN_LOG_LEVEL is read,
# so on CPUs where oneDNN is on they reach the terminal whatever that variable says; anything else it prints stays.
with native_start_up_notes_dropped():
    import keras  # noqa: E402
    import tensorflow  # noqa: E402
    from keras import layers  # noqa: E402

__all__ = ["keras", "layers", "tensorflow"]
