"""The architectures a ``train.<name>.architecture`` can name: which training path a stage takes.

Names and plain functions on params only, no imports, so the params check can use them without loading TensorFlow.
"""

KERAS_ARCHITECTURES = ("baseline", "enhanced", "optimized")  # on a feature vector
FRAME_ARCHITECTURES = ("crnn",)  # Keras, on log-mel frames (features/frames.py)
SKLEARN_ARCHITECTURES = ("svm", "logistic", "extra_trees")


def with_crnn_schedule(models: dict, epochs: int, min_epochs: int) -> dict:
    """Return ``models`` with each CRNN trained ``epochs`` epochs, keeping its best epoch after ``min_epochs``:
    the adapted CRNN's own schedule (train_adapted.crnn_epochs)."""
    return {name: ({**spec, "epochs": epochs, "min_epochs": min_epochs, "warmup_epochs": min(spec["warmup_epochs"], epochs - 1)}
                   if spec["architecture"] in FRAME_ARCHITECTURES else spec)
            for name, spec in models.items()}
