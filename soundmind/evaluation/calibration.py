"""Calibrated confidence: temperature scaling fitted on the val actors, expected calibration error and reliability
on the test actors, and the confidence below which an answer is flagged "uncertain".

A bundle's probabilities p become softmax(log p / T): T > 1 softens an over-confident model, T < 1 sharpens an
under-confident one; the answer (the arg max) never changes. The predictor imports ``calibrated_probabilities``, so
this module imports nothing heavy at its top (SciPy, the feature tables and the plots load where they are used).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Sequence

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

FLOOR = 1e-12  # probabilities are clipped here before the log: a bundle may say exactly 0
TEMPERATURE_BOUNDS = (0.05, 20.0)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, (bool, np.bool_))


def _checked(probabilities: Any, actual_indices: Any | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """A (clips, classes) array of probabilities, and the actual class index of each row where given."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    if probabilities.ndim != 2 or probabilities.shape[0] == 0 or probabilities.shape[1] < 2:
        raise ValueError(f"probabilities must be a (clips, classes) array with clips and 2+ classes, got shape {probabilities.shape}")
    if not np.isfinite(probabilities).all() or (probabilities < 0).any():
        raise ValueError("probabilities must be finite and non-negative")
    if actual_indices is None:
        return probabilities, None
    actual = np.asarray(actual_indices)
    if actual.shape != (len(probabilities),) or not np.issubdtype(actual.dtype, np.integer):
        raise ValueError(f"actual_indices must be one integer class index per row ({len(probabilities)}), got shape {actual.shape}")
    if ((actual < 0) | (actual >= probabilities.shape[1])).any():
        raise ValueError(f"actual_indices must lie in 0..{probabilities.shape[1] - 1}")
    return probabilities, actual.astype(np.int64)


def _scaled_log_probabilities(log_probabilities: np.ndarray, temperature: float) -> np.ndarray:
    scaled = log_probabilities / temperature
    return scaled - np.logaddexp.reduce(scaled, axis=1, keepdims=True)


def calibrated_probabilities(probabilities: Any, temperature: float) -> np.ndarray:
    """softmax(log p / temperature) of each row (p clipped at 1e-12): rows sum to 1; temperature 1 renormalises."""
    if not _is_number(temperature) or not 0 < temperature < np.inf:
        raise ValueError(f"the temperature must be a positive number, got {temperature!r}")
    probabilities, _ = _checked(np.atleast_2d(probabilities))
    return np.exp(_scaled_log_probabilities(np.log(np.clip(probabilities, FLOOR, None)), float(temperature)))


def negative_log_likelihood(probabilities: Any, actual_indices: Any) -> float:
    """The mean of -log p(actual class) over the rows (p clipped at 1e-12)."""
    probabilities, actual = _checked(probabilities, actual_indices)
    return float(-np.log(np.clip(probabilities[np.arange(len(actual)), actual], FLOOR, None)).mean())


def fit_temperature(probabilities: Any, actual_indices: Any) -> float:
    """The temperature in [0.05, 20] that minimises the negative log-likelihood of softmax(log p / T) on the rows."""
    from scipy.optimize import minimize_scalar

    probabilities, actual = _checked(probabilities, actual_indices)
    log_probabilities = np.log(np.clip(probabilities, FLOOR, None))
    rows = np.arange(len(actual))

    def loss(log_temperature: float) -> float:
        return float(-_scaled_log_probabilities(log_probabilities, np.exp(log_temperature))[rows, actual].mean())

    # Over log T: the loss is far better conditioned there, and the bounds are symmetric around T = 1.
    result = minimize_scalar(loss, bounds=tuple(np.log(TEMPERATURE_BOUNDS)), method="bounded", options={"xatol": 1e-6})
    return float(np.exp(result.x))


def _confidence_and_correct(probabilities: Any, actual_indices: Any) -> tuple[np.ndarray, np.ndarray]:
    probabilities, actual = _checked(probabilities, actual_indices)
    return probabilities.max(axis=1), probabilities.argmax(axis=1) == actual


def _check_bins(bins: Any) -> int:
    if isinstance(bins, bool) or not isinstance(bins, (int, np.integer)) or bins <= 0:
        raise ValueError(f"bins must be a positive integer, got {bins!r}")
    return int(bins)


def reliability_table(probabilities: Any, actual_indices: Any, bins: int = 15) -> pd.DataFrame:
    """The non-empty equal-width confidence bins over [0, 1] (the last one holds 1.0): each bin's bounds, the mean
    confidence and the accuracy of its answers, and how many clips it holds."""
    import pandas as pd  # here: serving imports this module for calibrated_probabilities alone

    bins = _check_bins(bins)
    confidence, correct = _confidence_and_correct(probabilities, actual_indices)
    index = np.minimum((confidence * bins).astype(np.int64), bins - 1)
    table = pd.DataFrame({"bin": index, "confidence": confidence, "correct": correct.astype(np.float64)})
    grouped = table.groupby("bin").agg(mean_confidence=("confidence", "mean"), accuracy=("correct", "mean"),
                                       clips=("correct", "size")).reset_index()
    grouped.insert(1, "confidence_low", grouped["bin"] / bins)
    grouped.insert(2, "confidence_high", (grouped["bin"] + 1) / bins)
    return grouped


def expected_calibration_error(probabilities: Any, actual_indices: Any, bins: int = 15) -> float:
    """The clip-weighted mean of |accuracy - mean confidence| over equal-width confidence bins: 0 when a model is
    right exactly as often as it says."""
    table = reliability_table(probabilities, actual_indices, bins)
    return float((table["clips"] * (table["accuracy"] - table["mean_confidence"]).abs()).sum() / table["clips"].sum())


def uncertain_threshold(calibrated: Any, actual_indices: Any, accuracy_below: float = 0.5) -> float:
    """The confidence below which answers are flagged uncertain: where the rows' accuracy, as a non-decreasing
    function of confidence (isotonic regression of right/wrong on confidence), first rises above ``accuracy_below``
    (0.5: below it an answer is more often wrong than right). 0.0 when every answer is above (nothing flagged),
    1.0 when none is (everything flagged). A local accuracy, not the accuracy of everything below t: that one
    stays under 0.5 far into confident answers when the least confident are very wrong."""
    from sklearn.isotonic import IsotonicRegression

    if not _is_number(accuracy_below) or not 0 < accuracy_below < 1:
        raise ValueError(f"accuracy_below must be a number between 0 and 1, got {accuracy_below!r}")
    confidence, correct = _confidence_and_correct(calibrated, actual_indices)
    local_accuracy = IsotonicRegression(increasing=True).fit(confidence, correct.astype(float)).predict(confidence)
    trusted = confidence[local_accuracy > accuracy_below]
    if len(trusted) == 0:
        return 1.0
    threshold = float(trusted.min())
    return 0.0 if threshold <= confidence.min() else threshold


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(float(value), 4)


def calibration_report(
    val_probabilities: Any, val_actual: Any, test_probabilities: Any, test_actual: Any,
    bins: int = 15, accuracy_below: float = 0.5,
) -> dict[str, Any]:
    """One model's calibration: temperature and uncertain threshold fitted on the val rows, and on the test rows
    the ECE and NLL before and after, the accuracy, the share of answers flagged uncertain and the accuracy of
    the flagged and of the other answers (None where there are none)."""
    # Rounded before use: the predictor applies the figure serving.json holds, and the threshold must fit it.
    temperature = round(fit_temperature(val_probabilities, val_actual), 4)
    threshold = uncertain_threshold(calibrated_probabilities(val_probabilities, temperature), val_actual, accuracy_below)
    after = calibrated_probabilities(test_probabilities, temperature)
    confidence, correct = _confidence_and_correct(after, test_actual)
    flagged = confidence < threshold
    return {
        "temperature": temperature,
        "uncertain_below": threshold,  # exact: rounding would move the answers that sit on it
        "ece_before": _rounded(expected_calibration_error(test_probabilities, test_actual, bins)),
        "ece_after": _rounded(expected_calibration_error(after, test_actual, bins)),
        "nll_before": _rounded(negative_log_likelihood(test_probabilities, test_actual)),
        "nll_after": _rounded(negative_log_likelihood(after, test_actual)),
        "accuracy": _rounded(correct.mean()),
        "uncertain_share": _rounded(flagged.mean()),
        "uncertain_accuracy": _rounded(correct[flagged].mean()) if flagged.any() else None,
        "certain_accuracy": _rounded(correct[~flagged].mean()) if (~flagged).any() else None,
        "val_clips": int(len(np.asarray(val_actual))),
        "test_clips": int(len(correct)),
    }


@dataclass
class Calibration:
    """Every model's report, and its test reliability bins before and after (``calibrated``: False, True)."""

    reports: dict[str, dict[str, Any]]
    reliability: pd.DataFrame
    val_actors: list[int]
    test_actors: list[int]


def actual_indices_of(emotions: Sequence[str], labels: Sequence[str]) -> np.ndarray:
    """Each emotion's index in a bundle's label order."""
    position = {label: index for index, label in enumerate(labels)}
    unknown = sorted(set(emotions) - set(position))
    if unknown:
        raise ValueError(f"the bundle has no class for {', '.join(unknown)}")
    return np.array([position[emotion] for emotion in emotions], dtype=np.int64)


def calibrate_models(bundles: dict[str, Any], tables: dict[str, Any], bins: int = 15,
                     accuracy_below: float = 0.5) -> Calibration:
    """Fit each bundle on the val actors' original clips and report on the test actors' (the rows of the rich
    table, which every family's table shares), as evaluate scores them."""
    import pandas as pd

    from soundmind.features.tables import family_matrices, held_out_rows, split_rows

    val_rows = split_rows(tables["rich"])[1].sort_values("clip_id")
    test_rows = held_out_rows(tables["rich"])
    val_features = family_matrices(tables, val_rows["clip_id"].tolist())
    test_features = family_matrices(tables, test_rows["clip_id"].tolist())
    reports, reliability = {}, []
    for name, bundle in bundles.items():
        val_actual = actual_indices_of(val_rows["emotion"], bundle.labels)
        test_actual = actual_indices_of(test_rows["emotion"], bundle.labels)
        test_probabilities = bundle.probabilities(test_features)
        reports[name] = calibration_report(bundle.probabilities(val_features), val_actual, test_probabilities,
                                           test_actual, bins, accuracy_below)
        after = calibrated_probabilities(test_probabilities, reports[name]["temperature"])
        for calibrated, probabilities in ((False, test_probabilities), (True, after)):
            reliability.append(reliability_table(probabilities, test_actual, bins).assign(model=name, calibrated=calibrated))
    columns = ["model", "calibrated", "bin", "confidence_low", "confidence_high", "mean_confidence", "accuracy", "clips"]
    actors = [sorted(int(actor) for actor in rows["actor"].unique()) for rows in (val_rows, test_rows)]
    return Calibration(reports, pd.concat(reliability, ignore_index=True)[columns].round(4), *actors)


def describe_calibration(name: str, report: dict[str, Any]) -> str:
    """The one line the calibrate stage prints for a model."""
    flagged = report["uncertain_accuracy"]
    return (f"{name}: temperature {report['temperature']:.3f}; test ECE {report['ece_before']:.4f} -> {report['ece_after']:.4f}, "
            f"NLL {report['nll_before']:.4f} -> {report['nll_after']:.4f}; uncertain below {report['uncertain_below']:.3f}: "
            f"{report['uncertain_share']:.1%} of test answers"
            + (f", right {flagged:.1%} of the time" if flagged is not None else ""))


def save_reliability_png(reliability: pd.DataFrame, path: Path, title: str) -> None:
    """Draw one model's reliability diagram, before and after calibration: each bin's accuracy at its mean
    confidence, against the diagonal of a perfectly calibrated model."""
    from soundmind.evaluation.plots import plt, save_png

    figure, axes = plt.subplots(figsize=(5, 5))
    axes.plot([0, 1], [0, 1], color="grey", linestyle="--", label="perfectly calibrated")
    for calibrated, label in ((False, "as the bundle says"), (True, "calibrated")):
        rows = reliability[reliability["calibrated"] == calibrated]
        axes.plot(rows["mean_confidence"], rows["accuracy"], marker="o", label=f"{label} ({int(rows['clips'].sum())} clips)")
    axes.set_xlim(0, 1)
    axes.set_ylim(0, 1)
    axes.set_xlabel("confidence")
    axes.set_ylabel("accuracy")
    axes.set_title(title, fontsize=9)
    axes.legend(fontsize=8)
    figure.tight_layout()
    save_png(figure, path)
