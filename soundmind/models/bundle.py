"""Model bundles on disk: everything inference needs, written byte-for-byte reproducibly.

Four frameworks share one interface (``labels``, ``feature_set``, ``sample_rate``, ``probabilities``):
Keras models (one per training seed, averaged) with their scaler, the CRNN's Keras models over log-mel
frames (``frame_bundle.FrameBundle``), a scikit-learn pipeline, and a soft-voting ensemble of bundles.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Union

import numpy as np

from soundmind.features.sets import feature_family, select_feature_set
from soundmind.errors import StaleFeaturesError
from soundmind.files import built_in_staging, write_json
from soundmind.models.keras_archive import save_keras_deterministically
from soundmind.models.voting import weighted_vote

if TYPE_CHECKING:
    import keras
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

SCALER_FILE = "scaler.joblib"
PIPELINE_FILE = "pipeline.joblib"
LABELS_FILE = "labels.json"
METADATA_FILE = "bundle.json"
MEMBERS_DIR = "members"
# bundle.json key, true for a bundle trained on speaker-normalised features (what the train-adapted stage makes):
# it must be given features standardised with the speaker's profile (serving/speaker.py), never plain ones.
SPEAKER_NORMALISED = "speaker_normalised"
# models/<name>_adapted: the <name> recipe trained on speaker-normalised features (the train-adapted stage).
ADAPTED_SUFFIX = "_adapted"


class _BundleBase:
    labels: list[str]
    metadata: dict[str, Any]

    @property
    def name(self) -> str:
        return self.metadata.get("name", "model")

    @property
    def feature_set(self) -> str:
        return self.metadata["feature_set"]

    @property
    def sample_rate(self) -> int:
        return int(self.metadata["sample_rate"])

    @property
    def feature_settings(self) -> dict[str, dict[str, Any]]:
        """The settings each feature family was extracted with, as its table recorded them."""
        return self.metadata["feature_settings"]

    @property
    def speaker_normalised(self) -> bool:
        """Whether the bundle was trained on features standardised with each speaker's statistics."""
        return bool(self.metadata.get(SPEAKER_NORMALISED, False))

    def required_families(self) -> set[str]:
        """The feature families (rich, compare, egemaps) this bundle needs computed for each clip."""
        return {feature_family(self.feature_set)}

    def _select(self, features: dict[str, np.ndarray]) -> np.ndarray:
        family = feature_family(self.feature_set)
        if family not in features:
            raise ValueError(f"model {self.name!r} needs the {family!r} features")
        return select_feature_set(np.atleast_2d(features[family]), self.feature_set)


def seed_model_file(seed: int) -> str:
    """Return the file name of the model trained with ``seed`` in a Keras bundle."""
    return f"model_seed{seed}.keras"


def load_keras_model(path: Path) -> "keras.Model":
    # Loaded on first use, so that bundles of scikit-learn models never load TensorFlow.
    from soundmind.models.keras_backend import keras

    return keras.saving.load_model(path, compile=False)


def common_sample_rate(feature_settings: dict[str, dict[str, Any]]) -> int:
    """Return the one sample rate of every family's settings (a bundle's predictor resamples clips once)."""
    rates = sorted({int(settings["sample_rate"]) for settings in feature_settings.values()})
    if len(rates) != 1:
        raise ValueError(f"the feature families were extracted at different sample rates: {rates}")
    return rates[0]


def merged_feature_settings(sources: dict[str, dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Return the per-family feature settings of all ``sources`` (``{source: {family: settings}}``: bundles'
    and tables' records), refusing sources that disagree about a family."""
    merged: dict[str, dict[str, Any]] = {}
    owner: dict[str, str] = {}
    for name, per_family in sources.items():
        for family, settings in per_family.items():
            if family in merged and merged[family] != settings:
                raise StaleFeaturesError(
                    f"{owner[family]} and {name} disagree about how the {family} features were made "
                    f"({merged[family]} against {settings}); retrain on the current feature tables (dvc repro)."
                )
            merged.setdefault(family, settings)
            owner.setdefault(family, name)
    return merged


@dataclass
class Bundle(_BundleBase):
    """Keras models of one architecture trained with different seeds, ``{seed: model}``, and the
    scaler fitted on their (shared) training features. The bundle's answer is the mean of the
    models' probabilities."""

    models: dict[int, keras.Model]  # or anything with Keras' predict_on_batch (onnx_networks.OnnxNetwork)
    scaler: StandardScaler | None  # or anything with its transform (onnx_networks.OnnxScaler)
    labels: list[str]
    metadata: dict[str, Any]
    framework = "keras"  # what bundle.json records; the CRNN's subclass (models/frame_bundle.py) says "crnn"

    def __post_init__(self) -> None:
        if not self.models:
            raise ValueError("a Keras bundle needs at least one model")

    def seed_probabilities(self, features: dict[str, np.ndarray]) -> dict[int, np.ndarray]:
        """Each seed's model alone: class probabilities for a batch, given each needed family's matrix
        (``{"rich": (n, 392)}``)."""
        scaled = self.scaler.transform(self._select(features)).astype(np.float32)
        # predict_on_batch: model.predict builds a data pipeline per call, ~40x slower for one clip.
        return {
            seed: np.asarray(model.predict_on_batch(scaled), dtype=np.float64) for seed, model in self.models.items()
        }

    def combine(self, seed_probabilities: dict[int, np.ndarray]) -> np.ndarray:
        """The bundle's answer from its seeds' answers: their mean."""
        return np.mean(list(seed_probabilities.values()), axis=0)

    def probabilities(self, features: dict[str, np.ndarray]) -> np.ndarray:
        return self.combine(self.seed_probabilities(features))


@dataclass
class SklearnBundle(_BundleBase):
    """A scikit-learn pipeline (scaler included) with ``predict_proba``."""

    pipeline: Pipeline  # or anything with its predict_proba (onnx_networks.OnnxClassifier)
    labels: list[str]
    metadata: dict[str, Any]

    def probabilities(self, features: dict[str, np.ndarray]) -> np.ndarray:
        return np.asarray(self.pipeline.predict_proba(self._select(features)), dtype=np.float64)


@dataclass
class EnsembleBundle(_BundleBase):
    """Soft voting: the weighted mean of the members' probabilities."""

    members: dict[str, "AnyBundle"]
    weights: dict[str, float]
    labels: list[str]
    metadata: dict[str, Any]

    def required_families(self) -> set[str]:
        return set().union(*(member.required_families() for member in self.members.values()))

    def member_probabilities(self, features: dict[str, np.ndarray],
                             scored: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
        """Each member's probabilities of ``features``' rows; ``scored``: members' probabilities of the same rows
        computed already (serving scores some while others' features are still being extracted)."""
        scored = scored or {}
        return {name: scored[name] if name in scored else member.probabilities(features)
                for name, member in self.members.items()}

    def combine(self, member_probabilities: dict[str, np.ndarray]) -> np.ndarray:
        return weighted_vote(member_probabilities, self.weights)

    def probabilities(self, features: dict[str, np.ndarray]) -> np.ndarray:
        return self.combine(self.member_probabilities(features))


AnyBundle = Union[Bundle, SklearnBundle, EnsembleBundle]


@dataclass
class TrainingResult:
    """A trained model's bundle, its per-seed Keras histories (none for other models) and its training summary."""

    bundle: AnyBundle
    histories: dict[int, dict[str, list[float]]]  # per seed, Keras' History.history
    summary: dict[str, Any]


def load_pickle(path: Path) -> Any:
    """A scaler or scikit-learn pipeline pickled by ``save_bundle`` (joblib is imported on the first call: serving
    scores ONNX files and should not pay for it at start-up)."""
    import joblib

    return joblib.load(path)


def _write_bundle_files(bundle: AnyBundle, folder: Path) -> None:
    import joblib

    if isinstance(bundle, Bundle):
        for seed, model in bundle.models.items():
            save_keras_deterministically(model, folder / seed_model_file(seed))
        if bundle.scaler is not None:
            joblib.dump(bundle.scaler, folder / SCALER_FILE)
        framework = bundle.framework
    elif isinstance(bundle, SklearnBundle):
        joblib.dump(bundle.pipeline, folder / PIPELINE_FILE)
        framework = "sklearn"
    else:
        for name, member in bundle.members.items():
            (folder / MEMBERS_DIR / name).mkdir(parents=True)
            _write_bundle_files(member, folder / MEMBERS_DIR / name)
        framework = "ensemble"
    write_json(folder / LABELS_FILE, bundle.labels)
    metadata = {**bundle.metadata, "framework": framework}
    if isinstance(bundle, EnsembleBundle):
        metadata["weights"] = bundle.weights
    if isinstance(bundle, Bundle):
        metadata["seeds"] = list(bundle.models)
    write_json(folder / METADATA_FILE, metadata)


def save_bundle(bundle: AnyBundle, directory: Path) -> None:
    """Write ``bundle`` into ``directory``, built in a staging folder: never a half-written bundle."""
    with built_in_staging(Path(directory)) as staging:
        _write_bundle_files(bundle, staging)


def load_bundle(directory: Path | str, load_network: Callable[[Path], Any] | None = None,
                load_fitted: Callable[[Path], Any] | None = None) -> AnyBundle:
    """Read the bundle that ``save_bundle`` wrote into ``directory``; ``load_network`` turns each Keras archive into
    the network that scores it, ``load_fitted`` each pickled scaler or pipeline into what transforms or scores with it
    (defaults: the Keras model and the pickle themselves; serving passes ONNX Runtime's, in onnx_networks)."""
    directory = Path(directory)
    load_network = load_network or load_keras_model
    load_fitted = load_fitted or load_pickle
    if not (directory / METADATA_FILE).is_file() or not (directory / LABELS_FILE).is_file():
        raise FileNotFoundError(f"{directory}: not a model bundle (missing {METADATA_FILE} or {LABELS_FILE}).")
    metadata = json.loads((directory / METADATA_FILE).read_text())
    labels = json.loads((directory / LABELS_FILE).read_text())
    framework = metadata.get("framework", "keras")
    if framework == "sklearn":
        return SklearnBundle(load_fitted(directory / PIPELINE_FILE), labels, metadata)
    if framework == "ensemble":
        members = {name: load_bundle(directory / MEMBERS_DIR / name, load_network, load_fitted)
                   for name in metadata["weights"]}
        return EnsembleBundle(members, metadata["weights"], labels, metadata)
    model_files = {int(seed): seed_model_file(int(seed)) for seed in metadata.get("seeds", [])}
    # A CRNN normalises each clip itself: its bundle holds no scaler.
    needed = (*model_files.values(), *([] if framework == "crnn" else [SCALER_FILE]))
    missing = [name for name in needed if not (directory / name).is_file()]
    if missing or not model_files:
        raise FileNotFoundError(
            f"{directory}: not a model bundle (missing {', '.join(missing) or 'the list of seeds in ' + METADATA_FILE})."
        )
    models = {seed: load_network(directory / name) for seed, name in model_files.items()}
    if framework == "crnn":
        # Imported here: frame_bundle imports this module.
        from soundmind.models.frame_bundle import FrameBundle

        return FrameBundle(models=models, scaler=None, labels=labels, metadata=metadata)
    return Bundle(models=models, scaler=load_fitted(directory / SCALER_FILE), labels=labels, metadata=metadata)
