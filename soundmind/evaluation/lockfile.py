"""Comparing two dvc.lock files and the metrics they produced: did two runs give the same bytes?"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml


def output_hashes(lock: dict[str, Any]) -> dict[str, str]:
    """``{output path: md5}`` of every stage's outs in a parsed dvc.lock (folders hash as ``<md5>.dir``)."""
    hashes = {}
    for stage in lock.get("stages", {}).values():
        for out in stage.get("outs", []):
            hashes[out["path"]] = out["md5"]
    return hashes


def read_lock(path: Path | str) -> dict[str, Any]:
    """Return a parsed dvc.lock."""
    return yaml.safe_load(Path(path).read_text()) or {}


def compare_outputs(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[str]]:
    """Output paths whose hash is the same in both locks, differs, or is in only one of them."""
    first, second = output_hashes(before), output_hashes(after)
    shared = sorted(set(first) & set(second))
    return {
        "identical": [path for path in shared if first[path] == second[path]],
        "different": [path for path in shared if first[path] != second[path]],
        "missing": sorted(set(first) ^ set(second)),
    }


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """Nested JSON as ``{"a.b.c": leaf}``, so two metric files can be compared key by key."""
    if isinstance(value, dict):
        items: dict[str, Any] = {}
        for key, child in value.items():
            items.update(flatten(child, f"{prefix}{key}."))
        return items
    return {prefix.rstrip("."): value}


def read_metrics(root: Path, metric_files: list[str]) -> dict[str, Any]:
    """Every metric file's values, flattened and keyed ``<file>:<key>``; a missing file is left out."""
    values = {}
    for name in metric_files:
        path = root / name
        if path.is_file():
            for key, value in flatten(json.loads(path.read_text())).items():
                values[f"{name}:{key}"] = value
    return values


def metric_differences(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """``{key: [before, after]}`` for every metric that changed, appeared or disappeared."""
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


# The figures a reader quotes; everything else (per-class values, confusion counts, epochs, weights)
# follows from them and is only counted when it differs.
HEADLINE_SUFFIXES = ("accuracy", "macro_f1", "accuracy_mean", "macro_f1_mean", "accuracy.mean", "macro_f1.mean")
# A clip or two of 240 test clips; the scikit-learn models and the folds see the same features up to
# the last float32 bit on another CPU.
DEFAULT_TOLERANCE = 0.01
# A seed-averaged Keras model retrained on another CPU is a new draw: allow twice its seed spread.
KERAS_TOLERANCE_FLOOR = 0.02


def is_headline(key: str) -> bool:
    """``reports/metrics.json:optimized.accuracy`` yes; ``...per_class.sad.recall`` or ``...best_epoch`` no."""
    leaf = key.split(":", 1)[-1]
    return leaf.endswith(HEADLINE_SUFFIXES) and ".per_class." not in leaf and ".per_seed." not in leaf


def seed_spreads(metrics: dict[str, Any]) -> dict[str, float]:
    """``{model: sample std of its seeds' test accuracy}`` from flattened metrics of reports/metrics.json."""
    prefix, suffix = "reports/metrics.json:", ".seeds.accuracy.std"
    return {
        key[len(prefix):-len(suffix)]: float(value)
        for key, value in metrics.items()
        if key.startswith(prefix) and key.endswith(suffix)
    }


def metric_tolerance(key: str, spreads: dict[str, float]) -> float:
    """How far a headline figure may move when the pipeline is rebuilt on another machine.

    A Keras model (one with a seed spread) may move by twice the spread of its seeds, an ensemble by
    twice the largest spread of the Keras models it may hold, each at least ``KERAS_TOLERANCE_FLOOR``;
    everything else by ``DEFAULT_TOLERANCE``.
    """
    file, _, leaf = key.partition(":")
    model = leaf.split(".", 1)[0] if file == "reports/metrics.json" else Path(file).stem
    if model in spreads:
        return max(KERAS_TOLERANCE_FLOOR, 2 * spreads[model])
    if model == "ensemble" and spreads:
        return max(KERAS_TOLERANCE_FLOOR, 2 * max(spreads.values()))
    return DEFAULT_TOLERANCE


def compare_with_tolerance(committed: dict[str, Any], rebuilt: dict[str, Any]) -> dict[str, Any]:
    """Each headline figure's difference against its tolerance, and a count of the other values that moved."""
    spreads = seed_spreads(committed)
    headline = []
    for key in sorted(key for key in committed if is_headline(key) and isinstance(committed[key], (int, float))):
        after = rebuilt.get(key)
        difference = None if not isinstance(after, (int, float)) else round(float(after) - float(committed[key]), 6)
        tolerance = metric_tolerance(key, spreads)
        headline.append({
            "metric": key, "committed": committed[key], "rebuilt": after, "difference": difference,
            "tolerance": round(tolerance, 4), "within": difference is not None and abs(difference) <= tolerance + 1e-9,
        })
    others = [key for key in metric_differences(committed, rebuilt) if not is_headline(key)]
    return {
        "headline": headline,
        "headline_outside_tolerance": [row["metric"] for row in headline if not row["within"]],
        "other_values_different": len(others),
        "other_values_compared": len([key for key in set(committed) | set(rebuilt) if not is_headline(key)]),
    }
