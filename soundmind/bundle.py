"""A model bundle on disk: everything inference needs, written byte-for-byte reproducibly."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import joblib
import keras
import numpy as np
from sklearn.preprocessing import StandardScaler

from soundmind.features import select_feature_set
from soundmind.files import write_json

MODEL_FILE = "model.keras"
SCALER_FILE = "scaler.joblib"
LABELS_FILE = "labels.json"
METADATA_FILE = "bundle.json"
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass
class Bundle:
    model: keras.Model
    scaler: StandardScaler
    labels: list[str]
    metadata: dict[str, Any]

    @property
    def feature_set(self) -> str:
        return self.metadata["feature_set"]

    @property
    def sample_rate(self) -> int:
        return int(self.metadata["sample_rate"])

    def probabilities(self, rich_vectors: np.ndarray) -> np.ndarray:
        """Class probabilities for a batch of 392-dim rich vectors, sliced to this bundle's feature set."""
        selected = select_feature_set(np.atleast_2d(rich_vectors), self.feature_set)
        scaled = self.scaler.transform(selected).astype(np.float32)
        return np.asarray(self.model.predict(scaled, batch_size=256, verbose=0), dtype=np.float64)


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
                info = zipfile.ZipInfo(entry.filename, date_time=FIXED_ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                target.writestr(info, data)
        os.replace(temporary, path)


def save_bundle(bundle: Bundle, directory: Path) -> None:
    """Write the bundle into a temporary sibling folder, then rename it into place."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{directory.name}-", suffix=".tmp", dir=directory.parent))
    try:
        save_keras_deterministically(bundle.model, staging / MODEL_FILE)
        joblib.dump(bundle.scaler, staging / SCALER_FILE)
        write_json(staging / LABELS_FILE, bundle.labels)
        write_json(staging / METADATA_FILE, bundle.metadata)
        if directory.exists():
            shutil.rmtree(directory)
        os.replace(staging, directory)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def load_bundle(directory: Path | str) -> Bundle:
    directory = Path(directory)
    missing = [name for name in (MODEL_FILE, SCALER_FILE, LABELS_FILE, METADATA_FILE) if not (directory / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{directory}: not a model bundle (missing {', '.join(missing)}).")
    return Bundle(
        model=keras.saving.load_model(directory / MODEL_FILE, compile=False),
        scaler=joblib.load(directory / SCALER_FILE),
        labels=json.loads((directory / LABELS_FILE).read_text()),
        metadata=json.loads((directory / METADATA_FILE).read_text()),
    )
