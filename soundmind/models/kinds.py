"""The model kinds a ``train.<name>.architecture`` can name: which training path a stage takes.

Names only, no imports, so the params check can use them without loading TensorFlow.
"""

KERAS_ARCHITECTURES = ("baseline", "enhanced", "optimized")
SKLEARN_KINDS = ("svm", "logistic", "extra_trees")
