"""The checks of the CRNN's params: the ``frames`` block and a ``train.<name>`` block of a frame architecture.

Part of ``checks.check_params`` (kept apart only for length); nothing here imports TensorFlow.
"""

from __future__ import annotations

import math
from typing import Any

from soundmind.errors import ParamsError
from soundmind.models.architectures import FRAME_ARCHITECTURE_KEYS
from soundmind.params import is_int, is_number

# The keys of a frame network's train.<name> block by the values they take: the training recipe's and the shared head's
POSITIVE_INTS = ("seeds", "gru_units", "batch_size", "epochs")
NON_NEGATIVE_INTS = ("freq_masks", "freq_mask_bands", "time_masks", "time_mask_frames", "warmup_epochs", "min_epochs")
POSITIVE_NUMBERS = ("crop_seconds", "peak_learning_rate")
NON_NEGATIVE_NUMBERS = ("mixup_alpha", "weight_decay")
FRACTIONS = ("conv_dropout", "head_dropout", "label_smoothing", "batch_norm_momentum")  # in [0, 1)
RECIPE_KEYS = ("architecture", "feature_set", "jit_compile", *POSITIVE_INTS, *NON_NEGATIVE_INTS, *POSITIVE_NUMBERS,
               *NON_NEGATIVE_NUMBERS, *FRACTIONS)



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
    """A ``train.<name>`` block of a frame network: every key present and in range, pools that leave a mel band."""
    prefix = f"train.{name}"
    for key in (*RECIPE_KEYS, *FRAME_ARCHITECTURE_KEYS[block["architecture"]]):
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
    if block["architecture"] == "crnn":
        check_crnn_blocks(prefix, block, n_mels)
    else:
        check_strided_crnn_blocks(prefix, block)
    for key in ("min_epochs", "warmup_epochs"):
        if block[key] >= block["epochs"]:
            raise ParamsError(f"params.yaml: '{prefix}.{key}' must be below '{prefix}.epochs' ({block['epochs']}).")


def check_positive_int_list(prefix: str, block: dict[str, Any], key: str, allow_empty: bool = False) -> list[int]:
    values = block[key]
    if not isinstance(values, list) or (not values and not allow_empty) or not all(is_int(value) and value > 0 for value in values):
        raise ParamsError(f"params.yaml: '{prefix}.{key}' must be a{'' if allow_empty else ' non-empty'} list of positive "
                          f"integers, got {values!r}.")
    return values


def check_positive_int(prefix: str, block: dict[str, Any], key: str) -> int:
    if not is_int(block[key]) or block[key] <= 0:
        raise ParamsError(f"params.yaml: '{prefix}.{key}' must be a positive integer, got {block[key]!r}.")
    return block[key]


def check_crnn_blocks(prefix: str, block: dict[str, Any], n_mels: int) -> None:
    """The CRNN's conv blocks: filters, one [time, band] pool per block that leaves a mel band, a kernel size."""
    filters, pools = check_positive_int_list(prefix, block, "conv_filters"), block["pool_sizes"]
    check_positive_int(prefix, block, "kernel_size")
    if (not isinstance(pools, list) or len(pools) != len(filters) or not all(
            isinstance(pool, list) and len(pool) == 2 and all(is_int(size) and size > 0 for size in pool) for pool in pools)):
        raise ParamsError(f"params.yaml: '{prefix}.pool_sizes' must hold one [time, band] pair of positive integers "
                          f"per conv block, got {pools!r}.")
    if n_mels // math.prod(pool[1] for pool in pools) < 1:
        raise ParamsError(f"params.yaml: '{prefix}.pool_sizes' pool the {n_mels} mel bands of 'frames.n_mels' away.")


def check_strided_crnn_blocks(prefix: str, block: dict[str, Any]) -> None:
    """The strided CRNN's blocks: 2D front-end filters, 1D filters with one time pool each, a 1D kernel size."""
    check_positive_int_list(prefix, block, "front_filters")
    filters = check_positive_int_list(prefix, block, "conv1d_filters", allow_empty=True)
    pools = check_positive_int_list(prefix, block, "conv1d_pools", allow_empty=True)
    if len(pools) != len(filters):
        raise ParamsError(f"params.yaml: '{prefix}.conv1d_pools' must hold one time pool per entry of "
                          f"'{prefix}.conv1d_filters', got {pools!r}.")
    check_positive_int(prefix, block, "conv1d_kernel_size")
