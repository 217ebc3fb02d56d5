"""Temperature scaling, expected calibration error and the "uncertain" threshold, on synthetic answers whose
true calibration is known."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from soundmind.evaluation.calibration import (
    calibrate_models, calibrated_probabilities, calibration_report, expected_calibration_error, fit_temperature,
    negative_log_likelihood, reliability_table, save_reliability_png, uncertain_threshold,
)
from soundmind.features.sets import feature_names
from soundmind.features.tables import METADATA_COLUMNS
from soundmind.files import write_json
from soundmind.serving.settings import SERVING_FILE, ModelCalibration, ServingSettings, SpeechSettings, load_serving_settings


def softmax(logits: np.ndarray) -> np.ndarray:
    exponentials = np.exp(logits - logits.max(axis=1, keepdims=True))
    return exponentials / exponentials.sum(axis=1, keepdims=True)


def calibrated_answers(clips: int, seed: int, classes: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Logits and labels drawn from softmax(logits): softmax(logits) is perfectly calibrated for them."""
    generator = np.random.default_rng(seed)
    logits = generator.normal(0.0, 2.0, size=(clips, classes))
    truth = softmax(logits)
    labels = np.array([generator.choice(classes, p=row) for row in truth])
    return logits, labels


def test_the_fitted_temperature_recovers_a_known_over_confidence():
    logits, labels = calibrated_answers(4000, seed=0)
    over_confident = softmax(2.5 * logits)  # what a model that is 2.5 times too sure would say
    assert fit_temperature(over_confident, labels) == pytest.approx(2.5, rel=0.1)
    under_confident = softmax(logits / 2.0)
    assert fit_temperature(under_confident, labels) == pytest.approx(0.5, rel=0.1)


def test_calibrating_lowers_the_error_and_the_likelihood_loss_on_unseen_answers():
    fit_logits, fit_labels = calibrated_answers(3000, seed=1)
    test_logits, test_labels = calibrated_answers(3000, seed=2)
    temperature = fit_temperature(softmax(3.0 * fit_logits), fit_labels)
    before = softmax(3.0 * test_logits)
    after = calibrated_probabilities(before, temperature)
    assert expected_calibration_error(before, test_labels) > 0.1
    assert expected_calibration_error(after, test_labels) < 0.04
    assert negative_log_likelihood(after, test_labels) < negative_log_likelihood(before, test_labels)
    np.testing.assert_array_equal(after.argmax(axis=1), before.argmax(axis=1))  # the answers never change


def test_perfectly_calibrated_answers_have_a_small_error():
    logits, labels = calibrated_answers(20000, seed=3)
    assert expected_calibration_error(softmax(logits), labels, bins=15) < 0.02


def test_calibrated_rows_sum_to_one_and_temperature_one_only_renormalises():
    raw = np.array([[2.0, 1.0, 1.0], [0.0, 0.5, 0.5]])
    # atol: a zero is clipped to 1e-12 before the log.
    np.testing.assert_allclose(calibrated_probabilities(raw, 1.0), raw / raw.sum(axis=1, keepdims=True), atol=1e-9)
    softened = calibrated_probabilities(raw, 4.0)
    np.testing.assert_allclose(softened.sum(axis=1), 1.0)
    assert softened[0, 0] < 0.5 and softened[1, 0] > 0  # softer, and an impossible class becomes merely unlikely
    np.testing.assert_allclose(calibrated_probabilities([0.7, 0.3], 1.0), [[0.7, 0.3]])  # one answer alone


def test_reliability_bins_hold_every_answer_within_their_bounds():
    logits, labels = calibrated_answers(500, seed=4)
    table = reliability_table(softmax(logits), labels, bins=10)
    assert table["clips"].sum() == 500 and table["bin"].is_unique
    assert ((table["mean_confidence"] >= table["confidence_low"]) & (table["mean_confidence"] <= table["confidence_high"])).all()
    certain = reliability_table(np.array([[1.0, 0.0], [1.0, 0.0]]), np.array([0, 1]), bins=5)
    assert certain[["bin", "mean_confidence", "accuracy", "clips"]].values.tolist() == [[4, 1.0, 0.5, 2]]


def answers(confidences: list[float], right: list[bool], classes: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Rows whose largest probability (class 0) is each confidence, labelled 0 where the answer is right."""
    rows = np.array([[confidence] + [(1 - confidence) / (classes - 1)] * (classes - 1) for confidence in confidences])
    return rows, np.where(right, 0, 1)


def test_the_uncertain_threshold_is_where_the_local_accuracy_rises_above_the_target():
    rows, labels = answers([0.2, 0.3, 0.4, 0.6, 0.7, 0.9], [False, True, True, False, True, True])
    # Isotonic accuracy: 0 at 0.2, (1 + 1 + 0) / 3 from 0.3 to 0.6, 1 above: only the 0.2 answer is flagged.
    assert uncertain_threshold(rows, labels, accuracy_below=0.5) == pytest.approx(0.3)
    assert uncertain_threshold(rows, labels, accuracy_below=0.7) == pytest.approx(0.7)
    mostly_wrong_below = answers([0.2, 0.25, 0.3, 0.35, 0.8, 0.9], [False, False, True, False, True, True])
    assert uncertain_threshold(*mostly_wrong_below, accuracy_below=0.5) == pytest.approx(0.8)
    everything_right = answers([0.2, 0.5, 0.9], [True, True, True])
    assert uncertain_threshold(*everything_right, accuracy_below=0.5) == 0.0  # nothing to flag
    everything_wrong = answers([0.2, 0.5, 0.9], [False, False, False])
    assert uncertain_threshold(*everything_wrong, accuracy_below=0.5) == 1.0  # everything flagged


def test_a_report_flags_what_falls_below_the_threshold_it_fitted_on_the_val_answers():
    fit_logits, fit_labels = calibrated_answers(1000, seed=5)
    test_logits, test_labels = calibrated_answers(1000, seed=6)
    report = calibration_report(softmax(2.0 * fit_logits), fit_labels, softmax(2.0 * test_logits), test_labels, 15, 0.5)
    assert report["temperature"] == pytest.approx(2.0, rel=0.15)
    assert 0 < report["uncertain_below"] < 1 and 0 < report["uncertain_share"] < 1
    assert report["uncertain_accuracy"] < report["accuracy"] < report["certain_accuracy"]
    assert report["ece_after"] < report["ece_before"] and report["nll_after"] < report["nll_before"]
    assert (report["val_clips"], report["test_clips"]) == (1000, 1000)


BAD_ARGUMENTS = [
    ("one row of one class", lambda: fit_temperature(np.ones((3, 1)), np.zeros(3, dtype=int))),
    ("a flat vector", lambda: fit_temperature(np.full(4, 0.25), np.zeros(4, dtype=int))),
    ("labels of other rows", lambda: fit_temperature(np.full((4, 2), 0.5), np.zeros(3, dtype=int))),
    ("a label beyond the classes", lambda: fit_temperature(np.full((2, 2), 0.5), np.array([0, 2]))),
    ("labels as words", lambda: expected_calibration_error(np.full((2, 2), 0.5), np.array(["angry", "calm"]))),
    ("negative probabilities", lambda: expected_calibration_error(np.array([[1.5, -0.5]]), np.array([0]))),
    ("not a number", lambda: negative_log_likelihood(np.array([[np.nan, 0.5]]), np.array([0]))),
    ("no rows", lambda: fit_temperature(np.zeros((0, 3)), np.zeros(0, dtype=int))),
    ("zero temperature", lambda: calibrated_probabilities(np.full((1, 2), 0.5), 0.0)),
    ("negative temperature", lambda: calibrated_probabilities(np.full((1, 2), 0.5), -1.0)),
    ("temperature not a number", lambda: calibrated_probabilities(np.full((1, 2), 0.5), float("nan"))),
    ("zero bins", lambda: expected_calibration_error(np.full((1, 2), 0.5), np.array([0]), bins=0)),
    ("fractional bins", lambda: reliability_table(np.full((1, 2), 0.5), np.array([0]), bins=2.5)),
    ("accuracy of 1", lambda: uncertain_threshold(np.full((1, 2), 0.5), np.array([0]), accuracy_below=1.0)),
]


@pytest.mark.parametrize("call", [case[1] for case in BAD_ARGUMENTS], ids=[case[0] for case in BAD_ARGUMENTS])
def test_bad_arguments_are_refused(call):
    with pytest.raises(ValueError):
        call()


class FakeBundle:
    """Says class 0 with a confidence of the clip's first feature value, and records which clips it saw."""

    labels = ["neutral", "calm"]

    def __init__(self) -> None:
        self.seen: list[list[float]] = []

    def probabilities(self, features: dict[str, np.ndarray]) -> np.ndarray:
        first = features["rich"][:, 0].astype(np.float64)
        self.seen.append(sorted(first.tolist()))
        return np.column_stack([first, 1 - first])


def test_models_are_fitted_on_the_val_originals_and_reported_on_the_test_originals(tmp_path):
    rows = [  # clip, actor, split, augmentation, first feature (the fake bundle's confidence), emotion
        ("a", 1, "train", "none", 0.91, "neutral"), ("a_aug", 1, "train", "noise", 0.92, "neutral"),
        ("b", 3, "val", "none", 0.6, "neutral"), ("c", 3, "val", "none", 0.8, "calm"), ("d", 4, "val", "none", 0.9, "neutral"),
        ("e", 5, "test", "none", 0.55, "calm"), ("f", 6, "test", "none", 0.95, "neutral"),
    ]
    table = pd.DataFrame(rows, columns=["clip_id", "actor", "split", "augmentation", "value", "emotion"])
    table = table.assign(source_clip=table["clip_id"].str[:1], gender="female")
    values = np.zeros((len(table), len(feature_names("rich"))), dtype=np.float32)
    values[:, 0] = table["value"]
    rich = pd.concat([table[METADATA_COLUMNS], pd.DataFrame(values, columns=feature_names("rich"))], axis=1)
    bundle = FakeBundle()
    calibration = calibrate_models({"fake": bundle}, {"rich": rich}, bins=5, accuracy_below=0.5)
    assert bundle.seen == [pytest.approx([0.55, 0.95]), pytest.approx([0.6, 0.8, 0.9])]  # test, then val rows
    assert (calibration.val_actors, calibration.test_actors) == ([3, 4], [5, 6])
    report = calibration.reports["fake"]
    assert (report["val_clips"], report["test_clips"], report["accuracy"]) == (3, 2, 0.5)
    reliability = calibration.reliability
    assert set(reliability["calibrated"]) == {False, True} and set(reliability["model"]) == {"fake"}
    assert reliability.groupby("calibrated")["clips"].sum().tolist() == [2, 2]
    save_reliability_png(reliability, tmp_path / "reliability_fake.png", "fake")
    assert (tmp_path / "reliability_fake.png").read_bytes()[:4] == b"\x89PNG"


def test_serving_settings_round_trip_through_serving_json(tmp_path):
    fit_logits, fit_labels = calibrated_answers(300, seed=7)
    report = calibration_report(softmax(2.0 * fit_logits), fit_labels, softmax(2.0 * fit_logits), fit_labels)
    settings = ServingSettings(
        SpeechSettings.from_params({"detect": False, "threshold": 0.6}),
        {"crnn": ModelCalibration(report["temperature"], report["uncertain_below"]), "baseline": ModelCalibration(1.5, 0.0)},
    )
    write_json(tmp_path / SERVING_FILE, settings.to_json())  # as the calibrate stage writes it
    assert load_serving_settings(tmp_path) == settings
    assert load_serving_settings(tmp_path).calibration_of("crnn").temperature == report["temperature"]
    assert load_serving_settings(tmp_path).calibration_of("svm_rich") == ModelCalibration()  # uncalibrated: as is
    written = (tmp_path / SERVING_FILE).read_text()
    assert written.endswith("}\n") and written.index('"baseline"') < written.index('"crnn"')  # sorted: no churn
