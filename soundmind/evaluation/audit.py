"""The seed's protocol, reproduced to measure its leak: augment every clip, then split clips at random.

A copy of a test clip in the training set lets a model recognise the clip rather than the emotion.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.metrics import accuracy_score
from tqdm import tqdm

from soundmind.audio import load_audio
from soundmind.data.augment import AugmentSettings, augment_settings_from_params, augment_waveform, clip_generator
from soundmind.data.corpus_names import RAVDESS, corpus_of_clips
from soundmind.data.ingest import read_manifest
from soundmind.features.spectral import (
    RICH_FEATURE_NAMES,
    FeatureSettings,
    feature_settings_from_params,
    rich_feature_vector,
)
from soundmind.features.tables import encode_labels, family_table_path, require_current_table
from soundmind.models.sklearn_models import build_sklearn_member
from soundmind.params import require
from soundmind.paths import RAW, SPLITS_CSV


def _copies_of_clip(path: Path, clip_id: str, settings: FeatureSettings, augment: AugmentSettings, seed: int):
    waveform = load_audio(path, settings.sample_rate)
    return [
        rich_feature_vector(augment_waveform(waveform, settings.sample_rate, augment, clip_generator(seed, clip_id, copy))[0],
                            settings)
        for copy in range(augment.copies)
    ]


def augmented_rich_vectors(
    manifest: pd.DataFrame, raw_dir: Path, *, settings: FeatureSettings, augment: AugmentSettings, seed: int,
    n_jobs: int = -1,
) -> pd.DataFrame:
    """Return the rich vectors of ``augment.copies`` copies of every clip, drawn exactly as the augment stage draws them."""
    rows = manifest.sort_values("clip_id").to_dict("records")
    results = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(_copies_of_clip)(raw_dir / row["path"], row["clip_id"], settings, augment, seed) for row in rows
    )
    records = []
    for row, vectors in zip(rows, tqdm(results, total=len(rows), desc="audit copies", unit="clip")):
        for vector in vectors:
            records.append({"source_clip": row["clip_id"], "actor": row["actor"], "emotion": row["emotion"],
                            **dict(zip(RICH_FEATURE_NAMES, vector))})
    return pd.DataFrame(records)


def random_clip_split(n_rows: int, fractions: tuple[float, float, float], seed: int) -> np.ndarray:
    """Return 'train' / 'val' / 'test' per row, drawn at random as the seed did, ignoring speakers and sources."""
    order = np.random.default_rng(seed).permutation(n_rows)
    n_train, n_val = int(round(fractions[0] * n_rows)), int(round(fractions[1] * n_rows))
    split = np.empty(n_rows, dtype=object)
    split[order[:n_train]], split[order[n_train:n_train + n_val]], split[order[n_train + n_val:]] = "train", "val", "test"
    return split


def audit_seed_protocol(
    originals: pd.DataFrame, copies: pd.DataFrame, *, honest_train_actors: list[int], honest_test_actors: list[int],
    model: dict[str, Any], fractions: tuple[float, float, float], seed: int,
) -> dict[str, Any]:
    """Return the test accuracy of the same model, leaky (augment, then random split) against honest (actor split, training copies only), same model."""
    pool = pd.concat([originals.assign(source_clip=originals["clip_id"])[["source_clip", "actor", "emotion", *RICH_FEATURE_NAMES]],
                      copies], ignore_index=True)
    split = random_clip_split(len(pool), fractions, seed)
    train, test = pool[split == "train"], pool[split == "test"]
    leaked = test["source_clip"].isin(set(train["source_clip"]))
    leaky_accuracy = fit_and_score(model, train, test, seed)

    honest_train = pool[pool["actor"].isin(honest_train_actors)]
    honest_test = originals[originals["actor"].isin(honest_test_actors)]
    honest_accuracy = fit_and_score(model, honest_train, honest_test, seed)
    return {
        "seed_protocol": {
            "description": "every clip augmented, then originals and copies split 70/15/15 at random",
            "test_rows": int(len(test)),
            "test_rows_with_a_sibling_in_training": round(float(leaked.mean()), 4),
            "test_accuracy": round(leaky_accuracy, 4),
        },
        "speaker_independent": {
            "description": "whole actors held out; only training actors' copies used",
            "train_actors": honest_train_actors, "test_actors": honest_test_actors,
            "test_accuracy": round(honest_accuracy, 4),
        },
        "model": model,
    }


def fit_and_score(model: dict[str, Any], train: pd.DataFrame, test: pd.DataFrame, seed: int) -> float:
    """Return the test accuracy of ``model`` (a scikit-learn member spec) fitted on ``train``."""
    # The seed's recipe as it was: calibration folds ignore speakers in both arms of the comparison.
    classifier = build_sklearn_member(model["architecture"], model, seed)
    classifier.fit(train[RICH_FEATURE_NAMES].to_numpy(), encode_labels(train["emotion"]))
    return float(accuracy_score(encode_labels(test["emotion"]), classifier.predict(test[RICH_FEATURE_NAMES].to_numpy())))


def run_audit(params: dict[str, Any]) -> dict[str, Any]:
    """Return the audit of params.yaml's ``audit`` block on the ingested corpus and the rich feature table,
    which must have been extracted with the feature settings params.yaml gives now."""
    settings, seed = feature_settings_from_params(params), require(params, "base.seed")
    rich_path = family_table_path("rich")
    require_current_table(rich_path, asdict(settings))
    # The seed's protocol was RAVDESS's: the other training corpora take no part in either arm.
    manifest = read_manifest(RAW)
    manifest = manifest[corpus_of_clips(manifest["clip_id"]) == RAVDESS]
    copies = augmented_rich_vectors(
        manifest, RAW, settings=settings, augment=augment_settings_from_params(params), seed=seed,
        n_jobs=params["features"].get("n_jobs", -1),
    )
    rich = pd.read_parquet(rich_path)
    rich = rich[corpus_of_clips(rich["clip_id"]) == RAVDESS]
    splits = pd.read_csv(SPLITS_CSV)
    splits = splits[corpus_of_clips(splits["clip_id"]) == RAVDESS]
    actors_of = {split: sorted(splits.loc[splits["split"] == split, "actor"].unique().tolist()) for split in ("train", "test")}
    return audit_seed_protocol(
        rich[rich["augmentation"] == "none"], copies,
        honest_train_actors=actors_of["train"], honest_test_actors=actors_of["test"],
        model=dict(require(params, "audit.model")), fractions=tuple(require(params, "audit.fractions")), seed=seed,
    )
