"""Feature tables (features/<family>.parquet): their rows, their columns and the settings they were made with.

Each table records the settings its family was extracted with in its Parquet metadata; bundles copy
them from there, so a bundle always says how the features it was trained on were computed.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm import tqdm

from soundmind.data.ravdess import EMOTIONS
from soundmind.errors import ParamsError, StaleFeaturesError
from soundmind.features.sets import feature_names
from soundmind.features.spectral import RICH_FEATURE_NAMES, FeatureSettings, rich_vector_of_file
from soundmind.files import write_table
from soundmind.paths import FEATURES

METADATA_COLUMNS = ["clip_id", "source_clip", "actor", "gender", "split", "emotion", "augmentation"]
SETTINGS_KEY = "soundmind.feature_settings"  # the Parquet metadata key of a table's extraction settings


def family_table_path(family: str, features_dir: Path = FEATURES) -> Path:
    """Return where ``family``'s table lives (for the frames, the index of the frame store, features/frames/)."""
    if family == "frames":
        return Path(features_dir) / "frames" / "index.parquet"
    return Path(features_dir) / f"{family}.parquet"


def family_settings_from_params(params: dict, family: str) -> dict[str, Any]:
    """Return the params that shape ``family``'s features: the rich vector's ``FeatureSettings``, and for
    the openSMILE functionals only ``audio.sample_rate``."""
    if family == "rich":
        from soundmind.features.spectral import feature_settings_from_params

        return asdict(feature_settings_from_params(params))
    from soundmind.params import require_positive_int

    return {"sample_rate": require_positive_int(params, "audio.sample_rate")}


def write_feature_table(table: pd.DataFrame, path: Path | str, settings: dict[str, Any]) -> None:
    """Write a feature table with the settings it was extracted with in its metadata."""
    write_table(table, path, metadata={SETTINGS_KEY: json.dumps(settings, sort_keys=True)})


def table_settings(path: Path | str) -> dict[str, Any]:
    """Return the extraction settings a feature table recorded."""
    import pyarrow.parquet as parquet

    metadata = parquet.read_schema(path).metadata or {}
    if SETTINGS_KEY.encode() not in metadata:
        raise StaleFeaturesError(f"{path}: the table does not record its feature settings; extract it again (dvc repro).")
    return json.loads(metadata[SETTINGS_KEY.encode()])


def require_current_table(path: Path | str, expected: dict[str, Any]) -> dict[str, Any]:
    """Return the table's recorded settings, refusing a table made with other settings than ``expected``."""
    recorded = table_settings(path)
    if recorded != expected:
        changed = ", ".join(
            f"{key} {recorded.get(key)!r} (params.yaml now: {expected.get(key)!r})"
            for key in sorted(set(recorded) | set(expected)) if recorded.get(key) != expected.get(key)
        )
        raise StaleFeaturesError(
            f"{path} was extracted with other feature settings: {changed}; extract the features again "
            "(dvc repro) before training on them."
        )
    return recorded


def clips_to_featurise(manifest: pd.DataFrame, splits: pd.DataFrame, augmented: pd.DataFrame) -> pd.DataFrame:
    """Return the originals of every split plus the augmented training copies, sorted by clip id, with
    each row's relative ``path`` and its ``origin`` folder (raw or augmented)."""
    split_of = splits.set_index("clip_id")["split"]
    originals = manifest.assign(
        source_clip=manifest["clip_id"], augmentation="none", origin="raw", split=manifest["clip_id"].map(split_of)
    )
    columns = METADATA_COLUMNS + ["path", "origin"]
    table = pd.concat([originals[columns], copies_to_featurise(manifest, splits, augmented, "augmented")], ignore_index=True)
    return table.sort_values("clip_id").reset_index(drop=True)


def copies_to_featurise(manifest: pd.DataFrame, splits: pd.DataFrame, copies: pd.DataFrame, origin: str) -> pd.DataFrame:
    """Return copies of original clips (augmented, or channel-shifted) with their source clip's split and gender,
    sorted by clip id, with each row's relative ``path`` and its ``origin`` folder."""
    split_of = splits.set_index("clip_id")["split"]
    gender_of = manifest.set_index("clip_id")["gender"]
    rows = copies.assign(
        gender=copies["source_clip"].map(gender_of), split=copies["source_clip"].map(split_of), origin=origin,
    )
    return rows[METADATA_COLUMNS + ["path", "origin"]].sort_values("clip_id").reset_index(drop=True)


def original_clips(manifest: pd.DataFrame, splits: pd.DataFrame) -> pd.DataFrame:
    """Return ``clips_to_featurise`` without augmented copies (what the functionals are extracted from)."""
    no_copies = pd.DataFrame(columns=["clip_id", "source_clip", "path", "actor", "emotion", "augmentation"])
    return clips_to_featurise(manifest, splits, no_copies)


def extract_rich_table(
    clips: pd.DataFrame, audio_root: dict[str, Path], settings: FeatureSettings, *, n_jobs: int = -1
) -> pd.DataFrame:
    """Return rich features for every row of ``clips`` (metadata columns + ``path`` + ``origin``).

    ``origin`` names the folder in ``audio_root`` that the row's relative ``path`` is under.
    """
    paths = [audio_root[origin] / path for origin, path in zip(clips["origin"], clips["path"])]
    results = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(rich_vector_of_file)(path, settings) for path in paths
    )
    vectors = list(tqdm(results, total=len(paths), desc="features", unit="clip"))
    matrix = np.vstack(vectors) if vectors else np.zeros((0, len(RICH_FEATURE_NAMES)), dtype=np.float32)
    values = pd.DataFrame(matrix, columns=RICH_FEATURE_NAMES, index=clips.index)
    return pd.concat([clips[METADATA_COLUMNS], values], axis=1).reset_index(drop=True)


def load_feature_matrix(table: pd.DataFrame, feature_set: str) -> np.ndarray:
    """Return ``feature_set``'s columns of ``table`` as a float32 matrix."""
    return table[feature_names(feature_set)].to_numpy(dtype=np.float32)


def load_family_tables(families: set[str] | list[str], features_dir: Path = FEATURES) -> dict[str, pd.DataFrame]:
    """Return the feature tables of the given families."""
    return {family: pd.read_parquet(family_table_path(family, features_dir)) for family in sorted(families)}


def family_matrices(tables: dict[str, Any], clip_ids: list[str]) -> dict[str, Any]:
    """Return each family's full vectors for ``clip_ids``, in that order: what bundles' ``probabilities`` take.

    A frame store (``frame_store.FrameStore``, duck-typed here so that the vector stages never import the
    frame code) gives the list of the clips' frame arrays instead."""
    return {
        family: table.frames_of(list(clip_ids)) if hasattr(table, "frames_of")
        else table.set_index("clip_id").loc[list(clip_ids), feature_names(family)].to_numpy(dtype=np.float32)
        for family, table in tables.items()
    }


def split_rows(table: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the training rows (originals and their copies) and val rows (originals only) of a feature table."""
    train_rows = table[table["split"] == "train"]
    val_rows = table[(table["split"] == "val") & (table["augmentation"] == "none")]
    if train_rows.empty or val_rows.empty:
        raise ParamsError("params.yaml: the split leaves no training or no validation clips.")
    return train_rows, val_rows


def copy_rows_by_source(copies: pd.DataFrame) -> dict[str, list[Any]]:
    """The index labels of ``copies`` (rows with a ``source_clip``) grouped by the clip each copies, in clip-id order:
    what a training loop draws a copy of, beside its source clip."""
    by_source: dict[str, list[Any]] = {}
    for label, source in copies.sort_values("clip_id")["source_clip"].items():
        by_source.setdefault(source, []).append(label)
    return by_source


def held_out_rows(table: pd.DataFrame) -> pd.DataFrame:
    """Return the original clips of the test actors, sorted by clip id."""
    rows = table[(table["split"] == "test") & (table["augmentation"] == "none")].sort_values("clip_id")
    if rows.empty:
        raise ParamsError("the feature table holds no test clips; check split.test_actors.")
    return rows


def encode_labels(emotions: pd.Series) -> np.ndarray:
    """Return each emotion's index in ``EMOTIONS``, the class order of every model."""
    return emotions.map({emotion: index for index, emotion in enumerate(EMOTIONS)}).to_numpy(dtype=np.int64)
