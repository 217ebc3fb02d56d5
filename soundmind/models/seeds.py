"""Seeds of the networks trained more than once, and the spread of their figures."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def training_seeds(base_seed: int, count: int) -> list[int]:
    """Return the seeds of ``train.<name>.seeds`` models: base.seed, base.seed + 1, ..."""
    if count <= 0:
        raise ValueError(f"the number of seeds must be positive, got {count}")
    return [base_seed + offset for offset in range(count)]


def spread_of(values: Sequence[float]) -> dict[str, float]:
    """Return the mean and sample standard deviation (0 for a single value), rounded for reports."""
    array = np.asarray(values, dtype=np.float64)
    deviation = float(array.std(ddof=1)) if len(array) > 1 else 0.0
    return {"mean": round(float(array.mean()), 4), "std": round(deviation, 4)}


def seeds_summary(
    averaged_val: np.ndarray, val_labels: np.ndarray, per_seed: dict[int, dict[str, Any]], parameters: int
) -> dict[str, Any]:
    """Return a seed-averaged network's training summary: the val accuracy of the averaged probabilities
    (the bundle's own figure, as the predictor uses them), each seed's figures and their spread."""
    return {
        "val_accuracy": round(float((averaged_val.argmax(axis=1) == val_labels).mean()), 6),
        "seed_val_accuracy": spread_of([result["val_accuracy"] for result in per_seed.values()]),
        "per_seed": {str(seed): result for seed, result in per_seed.items()},
        "parameters": parameters,
    }
