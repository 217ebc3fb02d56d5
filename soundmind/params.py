"""Reading params.yaml and refusing bad values before any work starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from soundmind.errors import ParamsError


def load_params(path: Path | str = "params.yaml") -> dict[str, Any]:
    """Load the whole params file as a dict."""
    from ruamel.yaml import YAML  # here, so that the serving code's checks import this module without a YAML parser

    path = Path(path)
    if not path.is_file():
        raise ParamsError(f"{path}: params file not found.")
    # YAML 1.2, as DVC reads it: `1e-4` is a number (PyYAML's YAML 1.1 would make it a string).
    with path.open() as handle:
        params = YAML(typ="safe").load(handle) or {}
    if not isinstance(params, dict):
        raise ParamsError(f"{path}: expected a mapping of parameter blocks.")
    return params


def is_int(value: Any) -> bool:
    """An integer param; YAML's true/false are bools, which Python counts as ints."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: Any) -> bool:
    """An int or float param, not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def require(params: dict[str, Any], dotted_key: str) -> Any:
    """Return the value at ``dotted_key`` (e.g. ``train.baseline.epochs``) or name the missing key."""
    value: Any = params
    for part in dotted_key.split("."):
        if not isinstance(value, dict) or part not in value:
            raise ParamsError(f"params.yaml: missing key '{dotted_key}'.")
        value = value[part]
    return value


def require_positive_int(params: dict[str, Any], dotted_key: str) -> int:
    """Return the value at ``dotted_key``, refusing anything but a positive integer."""
    value = require(params, dotted_key)
    if not is_int(value) or value <= 0:
        raise ParamsError(f"params.yaml: '{dotted_key}' must be a positive integer, got {value!r}.")
    return value


def require_choice(params: dict[str, Any], dotted_key: str, choices: tuple[str, ...]) -> str:
    """Return the value at ``dotted_key``, refusing anything but one of ``choices``."""
    value = require(params, dotted_key)
    if value not in choices:
        raise ParamsError(f"params.yaml: '{dotted_key}' must be one of {', '.join(choices)}, got {value!r}.")
    return value


def require_range(params: dict[str, Any], dotted_key: str) -> tuple[float, float]:
    """A [low, high] pair with low <= high."""
    value = require(params, dotted_key)
    if not (isinstance(value, (list, tuple)) and len(value) == 2 and value[0] <= value[1]):
        raise ParamsError(f"params.yaml: '{dotted_key}' must be a pair [low, high] with low <= high, got {value!r}.")
    return float(value[0]), float(value[1])


# The one list of models is the keys of params.yaml's ``train`` block. A params list that names models is a choice
# among them; ALL_MODELS there means every entry that fits, in the train block's order.
ALL_MODELS = "all"


def model_names(params: dict[str, Any]) -> list[str]:
    """Every trained model: the keys of params.yaml's ``train`` block, in order."""
    return list(require(params, "train"))


def chosen_models(params: dict[str, Any], dotted_key: str, candidates: list[str]) -> list[str]:
    """The models a list param names, or every one of ``candidates`` for ``all``."""
    value = require(params, dotted_key)
    return list(candidates) if value == ALL_MODELS else list(value)


def ensemble_members(trained_models: dict[str, Any], name: str) -> list[str]:
    """``train.<name>.members``, given the ``train`` block: the entries an ensemble votes over (``all``: every one
    but the ensembles)."""
    others = [other for other, spec in trained_models.items()
              if other != name and isinstance(spec, dict) and spec.get("architecture") != "ensemble"]
    return chosen_models({"train": trained_models}, f"train.{name}.members", others)


def calibrated_models(params: dict[str, Any]) -> list[str]:
    """``calibration.models``: the bundles calibrate fits a temperature for (``all``: every train entry)."""
    return chosen_models(params, "calibration.models", model_names(params))
