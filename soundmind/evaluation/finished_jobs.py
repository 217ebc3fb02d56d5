"""Finished jobs of a long stage kept on disk, so that a killed run resumes where it stopped.

Cross-validation on three corpora trains for hours on 2 cores; a run that is killed (a closed laptop, an ended
session) would otherwise start again from its first fold. Each finished job is stored under a digest of everything
its result depends on: the inputs given to every job, the package's source and the versions of the libraries that
train. A run with anything different finds nothing to reuse, and a run that completes deletes the store.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import shutil
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
# Libraries whose version can change a trained model's numbers.
TRAINING_LIBRARIES = ("numpy", "scikit-learn", "tensorflow", "keras")


def _update(digest: Any, value: Any) -> None:
    """Feed ``value`` into ``digest``, arrays by their bytes (with dtype and shape) and containers item by item."""
    if isinstance(value, np.ndarray):
        digest.update(f"array{value.dtype.str}{value.shape}".encode())
        # The array's own buffer where it is contiguous: no copy of gigabytes of frames.
        digest.update(np.ascontiguousarray(value).reshape(-1).view(np.uint8) if value.dtype != object
                      else repr(value.tolist()).encode())
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        digest.update(type(value).__name__.encode())
        for field in dataclasses.fields(value):
            digest.update(field.name.encode())
            _update(digest, getattr(value, field.name))
    elif isinstance(value, dict):
        digest.update(f"dict{len(value)}".encode())
        for key in sorted(value, key=repr):
            _update(digest, key)
            _update(digest, value[key])
    elif isinstance(value, (list, tuple)):
        digest.update(f"{type(value).__name__}{len(value)}".encode())
        for item in value:
            _update(digest, item)
    elif value is None or isinstance(value, (str, int, float, bool, np.generic)):
        digest.update(f"{type(value).__name__}:{value!r}".encode())
    else:
        raise TypeError(f"cannot digest a {type(value).__name__}")


def code_and_libraries() -> dict[str, str]:
    """The package's source files (their contents) and the training libraries' versions."""
    sources = {str(path.relative_to(PACKAGE_ROOT)): hashlib.blake2b(path.read_bytes()).hexdigest()
               for path in sorted(PACKAGE_ROOT.rglob("*.py"))}
    libraries = {}
    for library in TRAINING_LIBRARIES:
        try:
            libraries[library] = version(library)
        except PackageNotFoundError:
            libraries[library] = "absent"
    return {**sources, **libraries}


def inputs_digest(inputs: Any) -> str:
    """A short hex digest of ``inputs`` (arrays, dataclasses, containers, scalars) with the code and libraries."""
    digest = hashlib.blake2b(digest_size=16)
    _update(digest, inputs)
    _update(digest, code_and_libraries())
    return digest.hexdigest()


class FinishedJobs:
    """Results of named jobs under ``folder/<digest>/``: saved one by one as they finish, read back by a rerun."""

    def __init__(self, folder: Path, digest: str) -> None:
        self.folder = Path(folder)
        self.runs_folder = self.folder / digest

    def _path(self, name: str) -> Path:
        return self.runs_folder / f"{name}.pkl"

    def load(self, name: str) -> Any | None:
        """The stored result of job ``name``, or None when it has none (or an unreadable one)."""
        try:
            with self._path(name).open("rb") as stored:
                return pickle.load(stored)
        except (OSError, pickle.UnpicklingError, EOFError):
            return None

    def save(self, name: str, result: Any) -> None:
        """Store ``result`` whole or not at all: written aside, then moved into place."""
        self.runs_folder.mkdir(parents=True, exist_ok=True)
        partial = self._path(name).with_suffix(f".{os.getpid()}.part")
        with partial.open("wb") as stored:
            pickle.dump(result, stored, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, self._path(name))

    def discard(self) -> None:
        """Delete every stored result (other digests' too: a completed run leaves nothing behind)."""
        shutil.rmtree(self.folder, ignore_errors=True)
