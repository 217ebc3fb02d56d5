"""Soft voting: the weighted mean of members' probabilities, and weights chosen by ensemble selection."""

from __future__ import annotations

import warnings

import numpy as np

from soundmind.data.ravdess import EMOTIONS


# How far from 1 a member's rows may sum: float32 softmax rounding (~1e-7), with room to spare.
ROW_SUM_TOLERANCE = 1e-5


def weighted_vote(probabilities: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """The weighted mean of per-member probabilities; members of weight 0 do not count."""
    total = sum(weights[name] for name in probabilities)
    if total <= 0:
        raise ValueError("ensemble weights must have a positive sum")
    return sum(weights[name] * probabilities[name] for name in probabilities) / total


def greedy_weights(probabilities: dict[str, np.ndarray], labels: np.ndarray, rounds: int) -> dict[str, float]:
    """Return each member's weight by ensemble selection with replacement (Caruana et al., 2004): each round adds the member that most
    lowers the validation log-loss of the running average; weights are the selection counts."""
    # Imported here: serving loads this module for weighted_vote alone, without scikit-learn.
    from sklearn.metrics import log_loss

    for name, rows in probabilities.items():
        if not np.allclose(np.sum(rows, axis=1), 1.0, atol=ROW_SUM_TOLERANCE):
            raise ValueError(f"member {name!r}: its rows are not probabilities (they do not sum to one)")
    counts = {name: 0 for name in probabilities}
    classes = np.arange(len(EMOTIONS))
    for _ in range(rounds):
        def loss_with(candidate: str) -> float:
            trial = {**counts, candidate: counts[candidate] + 1}
            with warnings.catch_warnings():
                # Networks' float32 softmax rows sum to 1 within ~1e-7, outside the float64 tolerance log_loss checks
                # (1.5e-8): it would warn on every candidate of every round, thousands of lines a run, about nothing.
                # Rows further off than float32 rounding were refused above.
                warnings.filterwarnings("ignore", message="The y_prob values do not sum to one", category=UserWarning)
                return log_loss(labels, weighted_vote(probabilities, trial), labels=classes)

        best = min(sorted(probabilities), key=loss_with)
        counts[best] += 1
    return {name: round(count / rounds, 6) for name, count in counts.items()}
