"""Training the model that one ``train.<name>`` block of params.yaml describes: a Keras network, a
scikit-learn model or an ensemble, on feature tables that must still match params.yaml."""

from __future__ import annotations

from typing import Any

import pandas as pd

from soundmind.data.ravdess import EMOTIONS
from soundmind.features.frame_store import (
    FRAMES_FAMILY, frame_settings_dict, load_family_inputs, load_frame_store, load_shifted_inputs,
)
from soundmind.features.sets import feature_family, feature_names
from soundmind.features.tables import (
    encode_labels,
    family_settings_from_params,
    family_table_path,
    require_current_table,
    split_rows,
    table_settings,
)
from soundmind.models.bundle import SklearnBundle, TrainingResult, common_sample_rate, load_bundle
from soundmind.models.ensemble import ensemble_families, train_ensemble
from soundmind.models.architectures import FRAME_ARCHITECTURES, SKLEARN_ARCHITECTURES
from soundmind.models.sklearn_models import fit_with_selection
from soundmind.params import ensemble_members, require, require_positive_int
from soundmind.paths import MODELS, TRAINING_CURVES


def train_named_model(name: str, params: dict[str, Any]) -> TrainingResult:
    """Train ``train.<name>`` of ``params`` (the whole params file) and return its bundle, its per-seed
    histories (Keras only) and the summary for its training report.

    A single model's feature table must have been extracted with the settings params.yaml gives now
    (``StaleFeaturesError`` otherwise); the bundle copies the settings the table recorded.
    """
    model_params, seed = require(params, f"train.{name}"), require(params, "base.seed")
    architecture = model_params.get("architecture")
    if architecture == "ensemble":
        # "all" resolved here, so the bundle records the members it votes over, not the word.
        model_params = {**model_params, "members": ensemble_members(require(params, "train"), name)}
        members = {member: load_bundle(MODELS / member) for member in model_params["members"]}
        families = ensemble_families(model_params, members)
        settings = {family: table_settings(family_table_path(family)) for family in families}
        bundle, summary = train_ensemble(
            name, model_params, members, load_family_inputs(families), table_settings=settings, seed=seed,
            shifted_tables=load_shifted_inputs(families, settings) if model_params.get("channel_shifted_val") else None,
        )
        return TrainingResult(bundle=bundle, histories={}, summary=summary)
    if architecture in FRAME_ARCHITECTURES:
        return train_frame_model(name, model_params, params)
    feature_set = model_params["feature_set"]
    family = feature_family(feature_set)
    # scikit-learn models read their family's whole table, the networks the table of their own feature set.
    path = family_table_path(family if architecture in SKLEARN_ARCHITECTURES else feature_set)
    settings = {family: require_current_table(path, family_settings_from_params(params, family))}
    table = pd.read_parquet(path)
    if architecture in SKLEARN_ARCHITECTURES:
        bundle, summary = train_sklearn_bundle(name, model_params, table, seed=seed, feature_settings=settings)
        return TrainingResult(bundle=bundle, histories={}, summary=summary)
    # Imported only for a network, so that the scikit-learn stages never load TensorFlow.
    from soundmind.models.keras_training import train_network

    return train_network(
        name, model_params, table, base_seed=seed, feature_settings=settings, live_dir=TRAINING_CURVES / name
    )


def train_sklearn_bundle(
    name: str, params: dict[str, Any], table: pd.DataFrame, *, seed: int, feature_settings: dict[str, dict[str, Any]]
) -> tuple[SklearnBundle, dict[str, Any]]:
    """Return a scikit-learn model of ``train.<name>`` fitted on the train split with C chosen on the val
    actors, as a bundle, and its training summary."""
    columns = feature_names(params["feature_set"])
    train_rows, val_rows = split_rows(table)
    val_accuracy, chosen, pipeline = fit_with_selection(
        params, train_x=train_rows[columns].to_numpy(), train_y=encode_labels(train_rows["emotion"]),
        val_x=val_rows[columns].to_numpy(), val_y=encode_labels(val_rows["emotion"]), seed=seed,
        train_groups=train_rows["actor"].to_numpy(),
    )
    summary = {"val_accuracy": round(float(val_accuracy), 6), "C": chosen, "n_train_clips": int(len(train_rows))}
    metadata = {"name": name, "architecture": params["architecture"], "feature_set": params["feature_set"],
                "sample_rate": common_sample_rate(feature_settings), "feature_settings": feature_settings,
                "params": params, "seed": seed, **summary}
    return SklearnBundle(pipeline, list(EMOTIONS), metadata), summary


def train_frame_model(name: str, model_params: dict[str, Any], params: dict[str, Any]) -> TrainingResult:
    """Train the CRNN of ``train.<name>`` on the frame store, refusing frames made with other settings than
    params.yaml's ``frames`` block (``StaleFeaturesError``)."""
    expected = frame_settings_dict(params)
    store = load_frame_store(family_table_path(FRAMES_FAMILY).parent, expected)
    # Imported only for a network, so that the scikit-learn stages never load TensorFlow.
    from soundmind.models.crnn_training import train_crnn

    return train_crnn(name, model_params, store, base_seed=require(params, "base.seed"),
                      feature_settings={FRAMES_FAMILY: expected}, live_dir=TRAINING_CURVES / name,
                      seed_workers=require_positive_int(params, "training.seed_workers"))
