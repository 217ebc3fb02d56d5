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
