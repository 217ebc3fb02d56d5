"""Adapted bundles: the recipes of ``train_adapted.models`` (the same ``train.<name>`` params) trained on the
speaker-normalised protocol's input, each actor's features standardised with that actor's own clips (train actors
to fit, val actors with their own statistics to choose C, the epoch and the ensemble's weights), written to
``models/<name>_adapted``. A speaker profile (serving/speaker.py) gives them a new speaker's features the same way.

Vector models read the original clips only, as the cross-validation's speaker_normalised protocol does: an
augmented copy is not a clip its speaker said, and its statistics are not the speaker's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from soundmind.errors import ParamsError
from soundmind.features.frame_store import (
    FRAMES_FAMILY, FrameStore, frame_settings_dict, load_frame_store, original_clips_only,
)
from soundmind.features.normalise import speaker_normalise
from soundmind.features.sets import feature_family, feature_names
from soundmind.features.tables import (
    METADATA_COLUMNS, family_settings_from_params, family_table_path, require_current_table, table_settings,
)
from soundmind.models.architectures import FRAME_ARCHITECTURES, SKLEARN_ARCHITECTURES, with_crnn_schedule
from soundmind.models.bundle import ADAPTED_SUFFIX, SPEAKER_NORMALISED, AnyBundle, TrainingResult
from soundmind.models.ensemble import ensemble_families, train_ensemble
from soundmind.models.recipes import train_sklearn_bundle
from soundmind.params import require, require_positive_int


def adapted_name(name: str) -> str:
    """``models/<name>_adapted``: where the predictor looks for a bundle's speaker-normalised twin."""
    return name + ADAPTED_SUFFIX


@dataclass
class NormalisedFrames:
    """The frame store's clips standardised per band with their actor's statistics, by clip id: what the
    ensemble's weight selection reads in place of the plain store (``frames_of``, as ``family_matrices`` asks)."""

    clips: dict[str, np.ndarray]

    def frames_of(self, clip_ids: list[str]) -> list[np.ndarray]:
        return [self.clips[clip_id] for clip_id in clip_ids]


def speaker_normalised_table(table: pd.DataFrame, family: str) -> pd.DataFrame:
    """The original clips of ``table`` with ``family``'s columns standardised per actor over that actor's clips."""
    originals = table[table["augmentation"] == "none"].sort_values("clip_id").reset_index(drop=True)
    columns = feature_names(family)
    values = speaker_normalise(originals[columns].to_numpy(dtype=np.float64), originals["actor"].to_numpy())
    return pd.concat([originals[METADATA_COLUMNS], pd.DataFrame(values, columns=columns)], axis=1)


def normalised_frames(store: FrameStore) -> NormalisedFrames:
    """Every clip of ``store`` standardised with its actor's band statistics, the CRNN's adapted input."""
    # Imported here: only an adapted CRNN or an ensemble over one loads TensorFlow's side of the package.
    from soundmind.models.crnn_training import store_clips

    store = original_clips_only(store)  # an actor's statistics are those of the clips the actor said
    return NormalisedFrames(dict(zip(store.index["clip_id"], store_clips(store, speaker_normalised=True))))


def adapted_model_names(params: dict[str, Any]) -> list[str]:
    """``train_adapted.models``, each a scikit-learn or frame recipe of the ``train`` block."""
    names, recipes = list(require(params, "train_adapted.models")), require(params, "train")
    for name in names:
        architecture = recipes.get(name, {}).get("architecture")
        if architecture not in (*SKLEARN_ARCHITECTURES, *FRAME_ARCHITECTURES):
            raise ParamsError(f"params.yaml: 'train_adapted.models' entry {name!r} must name a scikit-learn or CRNN "
                              f"model of the train block (the recipes the speaker_normalised protocol trains).")
    if not names:
        raise ParamsError("params.yaml: 'train_adapted.models' must name at least one model.")
    return names


def train_adapted_model(name: str, params: dict[str, Any]) -> TrainingResult:
    """Train ``train.<name>`` on speaker-normalised features; the bundle is marked speaker_normalised and records
    the same feature settings as its plain twin (the tables' own)."""
    recipe, seed = require(params, f"train.{name}"), require(params, "base.seed")
    if recipe["architecture"] in FRAME_ARCHITECTURES:
        from soundmind.models.crnn_training import train_crnn

        expected = frame_settings_dict(params)
        store = load_frame_store(family_table_path(FRAMES_FAMILY).parent, expected)
        schedule = with_crnn_schedule({name: recipe}, require_positive_int(params, "train_adapted.crnn_epochs"),
                                           require(params, "train_adapted.crnn_min_epochs"))[name]
        return train_crnn(adapted_name(name), schedule, store, base_seed=seed, feature_settings={FRAMES_FAMILY: expected},
                          live_dir=None, seed_workers=require_positive_int(params, "training.seed_workers"),
                          speaker_normalised=True)
    family = feature_family(recipe["feature_set"])
    path = family_table_path(family)
    settings = {family: require_current_table(path, family_settings_from_params(params, family))}
    table = speaker_normalised_table(pd.read_parquet(path), family)
    bundle, summary = train_sklearn_bundle(adapted_name(name), recipe, table, seed=seed, feature_settings=settings)
    bundle.metadata[SPEAKER_NORMALISED] = True
    return TrainingResult(bundle=bundle, histories={}, summary=summary)


def train_adapted_ensemble(members: dict[str, AnyBundle], params: dict[str, Any]) -> TrainingResult:
    """The ``train_adapted.ensemble`` recipe (its own members, rounds) over the adapted ``members``, every weight
    chosen on the val actors' speaker-normalised features by the plain ensemble's selection code."""
    base = require(params, "train_adapted.ensemble")
    # Its weights are chosen on the clean val actors only (channel-shifted copies are not speaker-normalised here).
    recipe = {**{key: value for key, value in require(params, f"train.{base}").items() if key != "channel_shifted_val"},
              "members": sorted(members)}
    tables: dict[str, Any] = {}
    for family in sorted(ensemble_families(recipe, members)):
        path = family_table_path(family)
        tables[family] = (normalised_frames(load_frame_store(path.parent)) if family == FRAMES_FAMILY
                          else speaker_normalised_table(pd.read_parquet(path), family))
    bundle, summary = train_ensemble(
        adapted_name(base), recipe, members, tables,
        table_settings={family: table_settings(family_table_path(family)) for family in tables}, seed=require(params, "base.seed"),
    )
    bundle.metadata[SPEAKER_NORMALISED] = True
    for member in bundle.members.values():
        member.metadata[SPEAKER_NORMALISED] = True
    return TrainingResult(bundle=bundle, histories={}, summary=summary)
