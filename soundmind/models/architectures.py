"""The architectures a ``train.<name>.architecture`` can name: which training path a stage takes.

Names only, no imports, so the params check can use them without loading TensorFlow.
"""

KERAS_ARCHITECTURES = ("baseline", "enhanced", "optimized")  # on a feature vector
FRAME_ARCHITECTURES = ("crnn",)  # Keras, on log-mel frames (features/frames.py)
SKLEARN_ARCHITECTURES = ("svm", "logistic", "extra_trees")
