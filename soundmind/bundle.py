"""Model bundles on disk: everything inference needs, written byte-for-byte reproducibly.

Three kinds share one interface (``labels``, ``feature_set``, ``sample_rate``, ``probabilities``):
Keras models (one per training seed, averaged) with their scaler, a scikit-learn pipeline, and a
soft-voting ensemble of bundles.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Union

import joblib
import keras
import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from soundmind.features import feature_family, select_feature_set
from soundmind.files import staging_folder, write_json

MODEL_FILE = "model.keras"  # the name Keras saves under; a bundle holds one model_seed<seed>.keras per seed
SCALER_FILE = "scaler.joblib"
PIPELINE_FILE = "pipeline.joblib"
LABELS_FILE = "labels.json"
METADATA_FILE = "bundle.json"
MEMBERS_DIR = "members"
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


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

    def required_families(self) -> set[str]:
        """The feature families (rich, compare, egemaps) this bundle needs computed for each clip."""
        return {feature_family(self.feature_set)}

    def _select(self, features: dict[str, np.ndarray]) -> np.ndarray:
        family = feature_family(self.feature_set)
        if family not in features:
            raise ValueError(f"model {self.name!r} needs the {family!r} features")
        return select_feature_set(np.atleast_2d(features[family]), self.feature_set)


def seed_model_file(seed: int) -> str:
    return f"model_seed{seed}.keras"


@dataclass
class Bundle(_BundleBase):
    """Keras models of one architecture trained with different seeds, ``{seed: model}``, and the
    scaler fitted on their (shared) training features. The bundle's answer is the mean of the
    models' probabilities."""

    models: dict[int, keras.Model]
    scaler: StandardScaler
    labels: list[str]
    metadata: dict[str, Any]

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

    pipeline: Pipeline
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

    def member_probabilities(self, features: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        return {name: member.probabilities(features) for name, member in self.members.items()}

    def combine(self, member_probabilities: dict[str, np.ndarray]) -> np.ndarray:
        return weighted_vote(member_probabilities, self.weights)

    def probabilities(self, features: dict[str, np.ndarray]) -> np.ndarray:
        return self.combine(self.member_probabilities(features))


AnyBundle = Union[Bundle, SklearnBundle, EnsembleBundle]


def weighted_vote(probabilities: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """The weighted mean of per-member probabilities; members of weight 0 do not count."""
    total = sum(weights[name] for name in probabilities)
    if total <= 0:
        raise ValueError("ensemble weights must have a positive sum")
    return sum(weights[name] * probabilities[name] for name in probabilities) / total


def save_keras_deterministically(model: keras.Model, path: Path) -> None:
    """Save a .keras archive whose bytes depend only on the model (no save date, fixed zip times)."""
    with tempfile.TemporaryDirectory() as scratch:
        plain = Path(scratch) / MODEL_FILE
        model.save(plain)
        temporary = path.with_name(f".{path.name}.tmp")
        with zipfile.ZipFile(plain) as source, zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as target:
            for entry in sorted(source.infolist(), key=lambda item: item.filename):
                data = source.read(entry.filename)
                if entry.filename == "metadata.json":
                    metadata = json.loads(data)
                    metadata["date_saved"] = "1980-01-01@00:00:00"
                    data = json.dumps(metadata, sort_keys=True).encode()
                elif entry.filename == "config.json":
                    data = json.dumps(renumber_shared_objects(json.loads(data)), sort_keys=True).encode()
                info = zipfile.ZipInfo(entry.filename, date_time=FIXED_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                target.writestr(info, data)
        os.replace(temporary, path)


def renumber_shared_objects(config: Any, numbers: dict[int, int] | None = None) -> Any:
    """Replace Keras' ``shared_object_id`` values (the Python id() of, say, a shared dtype policy: a
    memory address, different every run) by 1, 2, 3... in order of first appearance."""
    numbers = {} if numbers is None else numbers
    if isinstance(config, dict):
        return {
            key: numbers.setdefault(value, len(numbers) + 1) if key == "shared_object_id"
            else renumber_shared_objects(value, numbers)
            for key, value in config.items()
        }
    if isinstance(config, list):
        return [renumber_shared_objects(item, numbers) for item in config]
    return config


def _write_into(directory: Path, write_contents: Callable[[Path], None]) -> None:
    """Fill a temporary sibling folder, then rename it into place: never a half-written bundle."""
    staging = staging_folder(directory)
    try:
        write_contents(staging)
        if directory.exists():
            shutil.rmtree(directory)
        os.replace(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_bundle_files(bundle: AnyBundle, folder: Path) -> None:
    if isinstance(bundle, Bundle):
        for seed, model in bundle.models.items():
            save_keras_deterministically(model, folder / seed_model_file(seed))
        joblib.dump(bundle.scaler, folder / SCALER_FILE)
        kind = "keras"
    elif isinstance(bundle, SklearnBundle):
        joblib.dump(bundle.pipeline, folder / PIPELINE_FILE)
        kind = "sklearn"
    else:
        for name, member in bundle.members.items():
            (folder / MEMBERS_DIR / name).mkdir(parents=True)
            _write_bundle_files(member, folder / MEMBERS_DIR / name)
        kind = "ensemble"
    write_json(folder / LABELS_FILE, bundle.labels)
    metadata = {**bundle.metadata, "kind": kind}
    if isinstance(bundle, EnsembleBundle):
        metadata["weights"] = bundle.weights
    if isinstance(bundle, Bundle):
        metadata["seeds"] = list(bundle.models)
    write_json(folder / METADATA_FILE, metadata)


def save_bundle(bundle: AnyBundle, directory: Path) -> None:
    _write_into(directory, lambda folder: _write_bundle_files(bundle, folder))


def load_bundle(directory: Path | str) -> AnyBundle:
    directory = Path(directory)
    if not (directory / METADATA_FILE).is_file() or not (directory / LABELS_FILE).is_file():
        raise FileNotFoundError(f"{directory}: not a model bundle (missing {METADATA_FILE} or {LABELS_FILE}).")
    metadata = json.loads((directory / METADATA_FILE).read_text())
    labels = json.loads((directory / LABELS_FILE).read_text())
    kind = metadata.get("kind", "keras")
    if kind == "sklearn":
        return SklearnBundle(joblib.load(directory / PIPELINE_FILE), labels, metadata)
    if kind == "ensemble":
        members = {name: load_bundle(directory / MEMBERS_DIR / name) for name in metadata["weights"]}
        return EnsembleBundle(members, metadata["weights"], labels, metadata)
    model_files = {int(seed): seed_model_file(int(seed)) for seed in metadata.get("seeds", [])}
    missing = [name for name in (*model_files.values(), SCALER_FILE) if not (directory / name).is_file()]
    if missing or not model_files:
        raise FileNotFoundError(
            f"{directory}: not a model bundle (missing {', '.join(missing) or 'the list of seeds in ' + METADATA_FILE})."
        )
    return Bundle(
        models={seed: keras.saving.load_model(directory / name, compile=False) for seed, name in model_files.items()},
        scaler=joblib.load(directory / SCALER_FILE),
        labels=labels,
        metadata=metadata,
    )
