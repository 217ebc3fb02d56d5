"""The architectures a ``train.<name>.architecture`` can name: which training path a stage takes.

Names and plain functions on params only, no imports, so the params check can use them without loading TensorFlow.
"""

KERAS_ARCHITECTURES = ("baseline", "enhanced", "optimized")  # on a feature vector
# Keras, on log-mel frames (features/frames.py): the CRNN, and its cheaper variant with a strided 2D front end and a 1D
# back end (models/crnn.py); both train with the CRNN's loop and recipe.
FRAME_ARCHITECTURES = ("crnn", "strided_crnn")
# The train.<name> keys each frame architecture's factory takes beyond the ones both share (FRAME_NETWORK_KEYS).
FRAME_ARCHITECTURE_KEYS = {"crnn": ("conv_filters", "kernel_size", "pool_sizes"),
                           "strided_crnn": ("front_filters", "conv1d_filters", "conv1d_kernel_size", "conv1d_pools")}
FRAME_NETWORK_KEYS = ("conv_dropout", "gru_units", "head_dropout", "batch_norm_momentum")
SKLEARN_ARCHITECTURES = ("svm", "logistic", "extra_trees")


def with_crnn_schedule(models: dict, epochs: int, min_epochs: int) -> dict:
    """Return ``models`` with each CRNN trained ``epochs`` epochs, keeping its best epoch after ``min_epochs``:
    the adapted CRNN's own schedule (train_adapted.crnn_epochs)."""
    return {name: ({**spec, "epochs": epochs, "min_epochs": min_epochs, "warmup_epochs": min(spec["warmup_epochs"], epochs - 1)}
                   if spec["architecture"] in FRAME_ARCHITECTURES else spec)
            for name, spec in models.items()}
