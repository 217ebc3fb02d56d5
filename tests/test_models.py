"""Model factories, bundles and training parameters."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

from soundmind.bundle import Bundle, load_bundle, save_bundle
from soundmind.errors import ParamsError
from soundmind.models import build_baseline
from soundmind.ravdess import EMOTIONS
from soundmind.training import balanced_class_weights, validate_model_params

BASELINE_PARAMS = {
    "architecture": "baseline", "feature_set": "mfcc40", "hidden_units": [16, 8], "dropout": 0.1,
    "learning_rate": 0.001, "batch_size": 8, "epochs": 3, "early_stopping_patience": 2, "min_epochs": 1,
    "reduce_lr_factor": 0.5, "reduce_lr_patience": 1, "min_learning_rate": 1e-6,
}


def test_baseline_layers_and_parameter_count_follow_its_arguments():
    model = build_baseline(40, 8, hidden_units=[16, 8], dropout=0.1)
    dense_sizes = [layer.units for layer in model.layers if layer.__class__.__name__ == "Dense"]
    assert dense_sizes == [16, 8, 8]
    # dense (in*out + out) + batch norm (4 per unit) for each layer, then the softmax layer
    expected = (40 * 16 + 16) + 4 * 16 + (16 * 8 + 8) + 4 * 8 + (8 * 8 + 8)
    assert model.count_params() == expected
    assert model.output_shape == (None, 8)


@pytest.mark.parametrize(
    "arguments", [dict(input_dim=0, num_classes=8), dict(input_dim=40, num_classes=1),
                  dict(input_dim=40, num_classes=8, hidden_units=[]), dict(input_dim=40, num_classes=8, dropout=1.0)]
)
def test_baseline_refuses_bad_arguments(arguments):
    with pytest.raises(ValueError):
        build_baseline(**arguments)


def make_bundle() -> Bundle:
    rng = np.random.default_rng(0)
    model = build_baseline(40, 8, hidden_units=[16, 8], dropout=0.1)
    scaler = StandardScaler().fit(rng.normal(size=(20, 40)))
    return Bundle(model, scaler, list(EMOTIONS), {"feature_set": "mfcc40", "sample_rate": 16000, "name": "test"})


def digest_folder(folder) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.iterdir())}


def test_saving_a_bundle_twice_gives_identical_bytes_and_loads_back(tmp_path):
    bundle = make_bundle()
    save_bundle(bundle, tmp_path / "first")
    save_bundle(bundle, tmp_path / "second")
    assert digest_folder(tmp_path / "first") == digest_folder(tmp_path / "second")

    loaded = load_bundle(tmp_path / "first")
    rich = np.random.default_rng(1).normal(size=(5, 392)).astype(np.float32)
    np.testing.assert_allclose(loaded.probabilities(rich), bundle.probabilities(rich), rtol=1e-6)
    assert np.allclose(loaded.probabilities(rich).sum(axis=1), 1.0, atol=1e-5)
    assert (loaded.labels, loaded.feature_set) == (list(EMOTIONS), "mfcc40")


def test_loading_something_that_is_not_a_bundle_names_what_is_missing(tmp_path):
    with pytest.raises(FileNotFoundError, match="not a model bundle"):
        load_bundle(tmp_path)


@pytest.mark.parametrize(
    "key, value, message",
    [("epochs", 0, "train.baseline.epochs"), ("epochs", -3, "train.baseline.epochs"),
     ("architecture", "transformer", "train.baseline.architecture"),
     ("feature_set", "mfcc13", "train.baseline.feature_set"), ("learning_rate", 0, "train.baseline.learning_rate")],
)
def test_bad_training_params_are_refused_naming_the_key(key, value, message):
    with pytest.raises(ParamsError, match=message):
        validate_model_params("baseline", {**BASELINE_PARAMS, key: value})
    params = dict(BASELINE_PARAMS)
    del params["batch_size"]
    with pytest.raises(ParamsError, match="train.baseline.batch_size"):
        validate_model_params("baseline", params)


def test_balanced_class_weights_favour_rare_classes():
    weights = balanced_class_weights(np.array([0, 0, 0, 1]))
    assert weights[1] == pytest.approx(3 * weights[0])
