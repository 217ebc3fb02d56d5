"""The checks of the CRNN's params: the ``frames`` block and a ``train.<name>`` block of a frame architecture.

Part of ``checks.check_params`` (kept apart only for length); nothing here imports TensorFlow.
"""

from __future__ import annotations

import math
from typing import Any

from soundmind.errors import ParamsError
from soundmind.params import is_int, is_number

# train.crnn keys by the values they take
POSITIVE_INTS = ("seeds", "kernel_size", "gru_units", "batch_size", "epochs")
NON_NEGATIVE_INTS = ("freq_masks", "freq_mask_bands", "time_masks", "time_mask_frames", "warmup_epochs", "min_epochs")
POSITIVE_NUMBERS = ("crop_seconds", "peak_learning_rate")
NON_NEGATIVE_NUMBERS = ("mixup_alpha", "weight_decay")
FRACTIONS = ("conv_dropout", "head_dropout", "label_smoothing", "batch_norm_momentum")  # in [0, 1)
CRNN_KEYS = ("architecture", "feature_set", "conv_filters", "pool_sizes", "jit_compile", *POSITIVE_INTS,
             *NON_NEGATIVE_INTS, *POSITIVE_NUMBERS, *NON_NEGATIVE_NUMBERS, *FRACTIONS)



def check_frames(params: dict[str, Any]) -> None:
    """``frames``: the extraction settings, ``include_augmented`` (true or false) and ``n_jobs`` (an integer)."""
    from soundmind.features.frames import frame_settings_from_params
    from soundmind.params import require

    frame_settings_from_params(params)
    if not isinstance(require(params, "frames.include_augmented"), bool):
        raise ParamsError("params.yaml: 'frames.include_augmented' must be true or false.")
    if not is_int(require(params, "frames.n_jobs")) or params["frames"]["n_jobs"] == 0:
        raise ParamsError(f"params.yaml: 'frames.n_jobs' must be a non-zero integer, got {params['frames']['n_jobs']!r}.")


def validate_crnn_params(name: str, block: dict[str, Any], n_mels: int) -> None:
    """A ``train.<name>`` block of the CRNN: every key present and in range, pools that leave a mel band."""
    prefix = f"train.{name}"
    for key in CRNN_KEYS:
        if key not in block:
            raise ParamsError(f"params.yaml: missing key '{prefix}.{key}'.")
    checks = [
        (POSITIVE_INTS, lambda value: is_int(value) and value > 0, "a positive integer"),
        (NON_NEGATIVE_INTS, lambda value: is_int(value) and value >= 0, "a non-negative integer"),
        (POSITIVE_NUMBERS, lambda value: is_number(value) and value > 0, "a positive number"),
        (NON_NEGATIVE_NUMBERS, lambda value: is_number(value) and value >= 0, "a non-negative number"),
        (FRACTIONS, lambda value: is_number(value) and 0 <= value < 1, "a number in [0, 1)"),
        (("jit_compile",), lambda value: isinstance(value, bool), "true or false"),
        (("feature_set",), lambda value: value == "frames", "'frames'"),
    ]
    for keys, allowed, meaning in checks:
        for key in keys:
            if not allowed(block[key]):
                raise ParamsError(f"params.yaml: '{prefix}.{key}' must be {meaning}, got {block[key]!r}.")
    filters, pools = block["conv_filters"], block["pool_sizes"]
    if not isinstance(filters, list) or not filters or not all(is_int(value) and value > 0 for value in filters):
        raise ParamsError(f"params.yaml: '{prefix}.conv_filters' must be a non-empty list of positive integers, got {filters!r}.")
    if (not isinstance(pools, list) or len(pools) != len(filters) or not all(
            isinstance(pool, list) and len(pool) == 2 and all(is_int(size) and size > 0 for size in pool) for pool in pools)):
        raise ParamsError(f"params.yaml: '{prefix}.pool_sizes' must hold one [time, band] pair of positive integers "
                          f"per conv block, got {pools!r}.")
    if n_mels // math.prod(pool[1] for pool in pools) < 1:
        raise ParamsError(f"params.yaml: '{prefix}.pool_sizes' pool the {n_mels} mel bands of 'frames.n_mels' away.")
    for key in ("min_epochs", "warmup_epochs"):
        if block[key] >= block["epochs"]:
            raise ParamsError(f"params.yaml: '{prefix}.{key}' must be below '{prefix}.epochs' ({block['epochs']}).")
