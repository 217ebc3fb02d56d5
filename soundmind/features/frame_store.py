"""The frame store (features/frames/): every clip's log-mel frames in one float16 array, plus a Parquet index.

``frames.npy`` holds the clips' frames one after another, ``(total frames, n_mels)``; ``index.parquet``
holds one row per clip (the feature tables' metadata columns, ``offset`` and ``length`` into the array)
and, in its metadata, the ``FrameSettings`` the frames were made with, as the feature tables do.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm import tqdm

from soundmind.features.frames import FRAMES_FAMILY, FrameSettings, frame_settings_from_params, frames_of_file
from soundmind.features.tables import (
    METADATA_COLUMNS,
    family_table_path,
    load_family_tables,
    require_current_table,
    table_settings,
    write_feature_table,
)
from soundmind.files import built_in_staging
from soundmind.paths import FEATURES, SHIFTED_FEATURES

FRAMES_ARRAY = "frames.npy"
INDEX_FILE = "index.parquet"


@dataclass
class FrameStore:
    """The frames of many clips: ``index`` rows (clip id, actor, split, emotion, offset, length) into ``values``."""

    index: pd.DataFrame
    values: np.ndarray
    settings: dict[str, Any] = field(default_factory=dict)  # the FrameSettings the frames were made with

    def clip_frames(self, row: int) -> np.ndarray:
        offset, length = int(self.index["offset"].iloc[row]), int(self.index["length"].iloc[row])
        return self.values[offset : offset + length]

    def frames_of(self, clip_ids: list[str]) -> list[np.ndarray]:
        """Return the frames of ``clip_ids`` in that order (what a CRNN bundle's ``probabilities`` takes)."""
        position = pd.Series(np.arange(len(self.index)), index=self.index["clip_id"])
        return [self.clip_frames(int(row)) for row in position.loc[list(clip_ids)]]


def original_clips_only(store: FrameStore) -> FrameStore:
    """The store's original clips only (no augmented or channel copies), the same frames array underneath."""
    index = store.index[store.index["augmentation"] == "none"].reset_index(drop=True)
    return FrameStore(index, store.values, store.settings)


def frame_settings_dict(params: dict) -> dict[str, Any]:
    """The settings a current frame store records, from params.yaml (what a stale store is compared with)."""
    return asdict(frame_settings_from_params(params))


def extract_frame_store(
    clips: pd.DataFrame, audio_root: dict[str, Path], settings: FrameSettings, *, n_jobs: int = -1
) -> FrameStore:
    """Return the frames of every row of ``clips`` (metadata columns + ``path`` + ``origin``, as
    ``tables.clips_to_featurise`` gives them), in the rows' order."""
    paths = [audio_root[origin] / path for origin, path in zip(clips["origin"], clips["path"])]
    results = Parallel(n_jobs=n_jobs, return_as="generator")(delayed(frames_of_file)(path, settings) for path in paths)
    per_clip = list(tqdm(results, total=len(paths), desc="frames", unit="clip"))
    lengths = np.array([len(frames) for frames in per_clip], dtype=np.int64)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64) if len(lengths) else lengths
    values = np.concatenate(per_clip) if per_clip else np.zeros((0, settings.n_mels), dtype=np.float16)
    index = clips[METADATA_COLUMNS].reset_index(drop=True).assign(offset=offsets, length=lengths)
    return FrameStore(index, values, asdict(settings))


def write_frame_store(store: FrameStore, folder: Path, settings: FrameSettings) -> None:
    """Write the store into ``folder`` (built in a staging folder: never half-written); same frames, same bytes."""
    with built_in_staging(Path(folder)) as staging:
        np.save(staging / FRAMES_ARRAY, np.ascontiguousarray(store.values, dtype=np.float16), allow_pickle=False)
        write_feature_table(store.index, staging / INDEX_FILE, asdict(settings))


def load_frame_store(folder: Path, expected: dict[str, Any] | None = None) -> FrameStore:
    """Read a frame store; with ``expected`` settings, refuse a store made with others (``StaleFeaturesError``)."""
    folder = Path(folder)
    if not (folder / INDEX_FILE).is_file() or not (folder / FRAMES_ARRAY).is_file():
        raise FileNotFoundError(f"{folder}: no frame store ({INDEX_FILE} and {FRAMES_ARRAY}); run extract-frames first.")
    settings = table_settings(folder / INDEX_FILE) if expected is None else require_current_table(folder / INDEX_FILE, expected)
    return FrameStore(pd.read_parquet(folder / INDEX_FILE), np.load(folder / FRAMES_ARRAY, allow_pickle=False), settings)


def load_family_inputs(
    families: set[str] | list[str], features_dir: Path = FEATURES, expected_frames: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Return each family's table, and the frame store for ``frames`` (refused when it was made with other
    settings than ``expected_frames``, where given): what evaluation, ensembles and cross-validation read."""
    inputs: dict[str, Any] = load_family_tables(set(families) - {FRAMES_FAMILY}, features_dir)
    if FRAMES_FAMILY in families:
        inputs[FRAMES_FAMILY] = load_frame_store(family_table_path(FRAMES_FAMILY, features_dir).parent, expected_frames)
    return inputs


def load_shifted_inputs(families: set[str] | list[str], clean_settings: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Return the channel-shifted copies' inputs (features/shifted/), each refused when it was made with other
    settings than its clean table's ``clean_settings[family]``: a choice made on them must see the same features."""
    for family in set(families) - {FRAMES_FAMILY}:
        require_current_table(family_table_path(family, SHIFTED_FEATURES), clean_settings[family])
    return load_family_inputs(families, SHIFTED_FEATURES, expected_frames=clean_settings.get(FRAMES_FAMILY))
