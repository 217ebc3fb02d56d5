"""Saving a Keras model so that the same weights always give the same bytes (dvc.lock must not churn)."""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from soundmind.files import replaced_on_success

if TYPE_CHECKING:
    import keras

MODEL_FILE = "model.keras"  # the name Keras saves under; a bundle holds one model_seed<seed>.keras per seed
FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


def save_keras_deterministically(model: keras.Model, path: Path) -> None:
    """Save a .keras archive whose bytes depend only on the model (no save date, fixed zip times)."""
    with tempfile.TemporaryDirectory() as scratch:
        plain = Path(scratch) / MODEL_FILE
        model.save(plain)
        with replaced_on_success(path) as temporary, zipfile.ZipFile(plain) as source, \
                zipfile.ZipFile(temporary, "w", zipfile.ZIP_DEFLATED) as target:
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
