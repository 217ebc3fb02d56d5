"""Model factories, bundles and training parameters."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile

import numpy as np
import pytest
from sklearn.preprocessing import StandardScaler

from soundmind.checks import validate_model_params
from soundmind.data.ravdess import EMOTIONS
from soundmind.errors import ParamsError
from soundmind.models.bundle import Bundle, load_bundle, save_bundle
from soundmind.models.keras_archive import save_keras_deterministically
from soundmind.models.keras_backend import keras
from soundmind.models.keras_training import balanced_class_weights
from soundmind.models.networks import build_baseline

BASELINE_PARAMS = {
    "architecture": "baseline", "feature_set": "mfcc40", "seeds": 1, "hidden_units": [16, 8], "dropout": 0.1,
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


def make_bundle(seeds=(42,)) -> Bundle:
    rng = np.random.default_rng(0)
    models = {}
    for seed in seeds:
        keras.utils.set_random_seed(seed)
        models[seed] = build_baseline(40, 8, hidden_units=[16, 8], dropout=0.1)
    scaler = StandardScaler().fit(rng.normal(size=(20, 40)))
    return Bundle(models, scaler, list(EMOTIONS), {"feature_set": "mfcc40", "sample_rate": 16000, "name": "test"})


def test_a_bundle_of_several_seeds_answers_with_their_mean_and_keeps_every_seed(tmp_path):
    bundle = make_bundle(seeds=(7, 8, 9))
    features = {"rich": np.random.default_rng(2).normal(size=(6, 392)).astype(np.float32)}
    per_seed = bundle.seed_probabilities(features)
    assert list(per_seed) == [7, 8, 9]
    assert not np.allclose(per_seed[7], per_seed[8])  # different seeds, different models
    np.testing.assert_allclose(bundle.probabilities(features), (per_seed[7] + per_seed[8] + per_seed[9]) / 3)

    save_bundle(bundle, tmp_path / "bundle")
    assert {path.name for path in (tmp_path / "bundle").glob("*.keras")} == {
        "model_seed7.keras", "model_seed8.keras", "model_seed9.keras"
    }
    loaded = load_bundle(tmp_path / "bundle")
    assert list(loaded.models) == [7, 8, 9]
    np.testing.assert_allclose(loaded.probabilities(features), bundle.probabilities(features), rtol=1e-6)

    (tmp_path / "bundle" / "model_seed8.keras").unlink()
    with pytest.raises(FileNotFoundError, match="model_seed8.keras"):
        load_bundle(tmp_path / "bundle")


def test_evaluating_a_seed_averaged_bundle_reports_each_seed_and_their_spread():
    from soundmind.evaluation.metrics import evaluate_bundle

    bundle = make_bundle(seeds=(1, 2, 3))
    features = {"rich": np.random.default_rng(3).normal(size=(40, 392)).astype(np.float32)}
    actual = [EMOTIONS[index % 8] for index in range(40)]
    metrics, predicted = evaluate_bundle(bundle, features, actual)
    assert predicted == [EMOTIONS[index] for index in bundle.probabilities(features).argmax(axis=1)]
    seeds = metrics["seeds"]
    alone = [np.mean([EMOTIONS[index] == truth for index, truth in zip(values.argmax(axis=1), actual)])
             for values in bundle.seed_probabilities(features).values()]
    assert seeds["count"] == 3 and set(seeds["per_seed"]) == {"1", "2", "3"}
    assert [seeds["per_seed"][seed]["accuracy"] for seed in ("1", "2", "3")] == pytest.approx(alone, abs=1e-4)
    assert seeds["accuracy"]["mean"] == pytest.approx(np.mean(alone), abs=1e-4)
    assert seeds["accuracy"]["std"] == pytest.approx(np.std(alone, ddof=1), abs=1e-4)


def digest_folder(folder) -> dict[str, str]:
    return {path.name: hashlib.sha256(path.read_bytes()).hexdigest() for path in sorted(folder.iterdir())}


def test_saving_a_bundle_twice_gives_identical_bytes_and_loads_back(tmp_path):
    bundle = make_bundle()
    save_bundle(bundle, tmp_path / "first")
    save_bundle(bundle, tmp_path / "second")
    assert digest_folder(tmp_path / "first") == digest_folder(tmp_path / "second")

    loaded = load_bundle(tmp_path / "first")
    rich = np.random.default_rng(1).normal(size=(5, 392)).astype(np.float32)
    features = {"rich": rich}
    np.testing.assert_allclose(loaded.probabilities(features), bundle.probabilities(features), rtol=1e-6)
    assert np.allclose(loaded.probabilities(features).sum(axis=1), 1.0, atol=1e-5)
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


# --- the seed's deep models, built from params.yaml -------------------------------------------

def project_params() -> dict:
    from soundmind.params import load_params
    from tests.conftest import REPO_ROOT

    return load_params(REPO_ROOT / "params.yaml")["train"]


def conv_parameters(kernel: int, channels_in: int, filters: int) -> int:
    return kernel * channels_in * filters + filters


def dense_parameters(inputs: int, units: int) -> int:
    return inputs * units + units


def lstm_parameters(inputs: int, units: int) -> int:
    return 4 * (units * (inputs + units) + units)


def test_optimized_model_matches_the_seed_architecture_and_its_parameter_count():
    from soundmind.models.networks import build_model

    params = project_params()["optimized"]
    model = build_model("optimized", 392, 8, params)
    expected, channels, steps = 0, 1, 392
    for index, block in enumerate(params["conv_blocks"]):
        expected += sum(conv_parameters(kernel, channels, block["filters"]) for kernel in block["kernel_sizes"])
        channels = block["filters"] * len(block["kernel_sizes"])
        squeezed = channels // params["se_reduction"]
        expected += dense_parameters(channels, squeezed) + dense_parameters(squeezed, channels)
        steps //= 2
        assert model.get_layer(f"block_{index}_pool").output.shape == (None, steps, channels)
    inputs = channels
    for units in params["lstm_units"]:
        expected += 2 * lstm_parameters(inputs, units)
        inputs = 2 * units
    for units in params["dense_units"]:
        expected += dense_parameters(inputs, units) + 4 * units
        inputs = units
    expected += dense_parameters(inputs, 8)
    assert model.count_params() == expected
    # The seed's numbers, as the issue lists them.
    assert [block["filters"] for block in params["conv_blocks"]] == [32, 64, 128]
    assert [block["kernel_sizes"] for block in params["conv_blocks"]] == [[3, 5, 7], [3, 5], [3, 5]]
    assert (params["lstm_units"], params["dense_units"], params["l2"]) == ([128, 64], [256, 128], 0.0005)
    assert model.get_layer("block_0_multi_scale").output.shape[-1] == 96
    assert model.get_layer("bilstm_0").output.shape == (None, 392 // 8, 256)
    assert model.get_layer("bilstm_1").output.shape == (None, 128)
    assert model.get_layer("block_0_se_reduce").units == 96 // 16


def test_enhanced_model_follows_its_params():
    from soundmind.models.networks import build_model

    params = project_params()["enhanced"]
    model = build_model("enhanced", 392, 8, params)
    conv_filters = [layer.filters for layer in model.layers if layer.__class__.__name__ == "Conv1D"]
    assert conv_filters == params["conv_filters"]
    expected, channels = 0, 1
    for filters in params["conv_filters"]:
        expected += conv_parameters(params["kernel_size"], channels, filters) + 4 * filters
        channels = filters
    inputs = 2 * channels
    for units in params["dense_units"]:
        expected += dense_parameters(inputs, units) + 4 * units
        inputs = units
    assert model.count_params() == expected + dense_parameters(inputs, 8)


# --- the ensemble -----------------------------------------------------------------------------

def test_greedy_weights_favour_the_member_that_is_right_on_val():
    from soundmind.models.voting import greedy_weights

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 8, size=200)
    right = np.full((200, 8), 0.02)
    right[np.arange(200), labels] = 0.86
    noise = rng.dirichlet(np.ones(8), size=200)
    weights = greedy_weights({"right": right, "noise": noise}, labels, rounds=20)
    assert weights["right"] > weights["noise"]
    assert sum(weights.values()) == pytest.approx(1.0)


def test_greedy_weights_are_quiet_about_float32_rounding_and_choose_as_with_exact_rows():
    import warnings

    from soundmind.models.voting import greedy_weights

    rng = np.random.default_rng(1)
    labels = rng.integers(0, 8, size=100)
    exact = {name: rng.dirichlet(np.ones(8) * concentration, size=100) for name, concentration in (("a", 0.5), ("b", 2.0))}
    exact["a"][np.arange(100), labels] += 1.0
    exact["a"] /= exact["a"].sum(axis=1, keepdims=True)
    # As a Keras network gives them: float32 rows, read as float64, summing to 1 only within float32 rounding.
    rounded = {name: rows.astype(np.float32).astype(np.float64) for name, rows in exact.items()}
    assert np.abs(rounded["a"].sum(axis=1) - 1).max() > 1.5e-8
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        weights = greedy_weights(rounded, labels, rounds=10)
    assert weights == greedy_weights(exact, labels, rounds=10)
    # Rows that are not probabilities at all are refused, by member.
    with pytest.raises(ValueError, match="'halved'.*do not sum to one"):
        greedy_weights({"b": exact["b"], "halved": exact["a"] / 2}, labels, rounds=1)


def test_weighted_vote_is_the_weighted_mean_of_member_probabilities():
    from soundmind.models.voting import weighted_vote

    first, second = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
    np.testing.assert_allclose(weighted_vote({"a": first, "b": second}, {"a": 0.75, "b": 0.25}), [[0.75, 0.25]])
    with pytest.raises(ValueError):
        weighted_vote({"a": first}, {"a": 0.0})


def test_an_ensemble_bundle_saves_byte_identically_and_votes_like_its_members(tmp_path):
    from soundmind.models.bundle import EnsembleBundle, SklearnBundle
    from soundmind.models.sklearn_models import build_sklearn_member

    rng = np.random.default_rng(0)
    rich = rng.normal(size=(40, 392)).astype(np.float32)
    labels = np.arange(40) % 8
    pipeline = build_sklearn_member("logistic", {"C": 0.1}, seed=0).fit(rich, labels)
    members = {
        "keras": make_bundle(),
        "logistic": SklearnBundle(pipeline, list(EMOTIONS), {"feature_set": "rich", "sample_rate": 16000}),
    }
    ensemble = EnsembleBundle(members, {"keras": 0.25, "logistic": 0.75}, list(EMOTIONS),
                              {"feature_set": "rich", "sample_rate": 16000, "name": "ensemble"})
    save_bundle(ensemble, tmp_path / "first")
    save_bundle(ensemble, tmp_path / "second")
    first_files = {path.relative_to(tmp_path / "first"): path.read_bytes() for path in (tmp_path / "first").rglob("*") if path.is_file()}
    second_files = {path.relative_to(tmp_path / "second"): path.read_bytes() for path in (tmp_path / "second").rglob("*") if path.is_file()}
    assert first_files == second_files and len(first_files) == 9
    loaded = load_bundle(tmp_path / "first")
    features = {"rich": rich[:5]}
    expected = 0.25 * members["keras"].probabilities(features) + 0.75 * members["logistic"].probabilities(features)
    np.testing.assert_allclose(loaded.probabilities(features), expected, rtol=1e-5)
    assert loaded.required_families() == {"rich"}


def test_a_saved_keras_archive_holds_no_memory_addresses(tmp_path):
    """Keras writes the id() of shared objects into config.json; left there, two identical trainings
    would give different bytes and DVC hashes."""
    save_keras_deterministically(build_baseline(40, 8, hidden_units=[16, 8], dropout=0.1), tmp_path / "model.keras")
    config = zipfile.ZipFile(tmp_path / "model.keras").read("config.json").decode()
    shared_ids = {int(value) for value in re.findall(r'"shared_object_id": (\d+)', config)}
    assert shared_ids and shared_ids == set(range(1, len(shared_ids) + 1))
    json.loads(config)
