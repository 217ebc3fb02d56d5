"""The soft-voting ensemble: trained bundles plus its own scikit-learn members, weighted on val actors."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from soundmind.data.ravdess import EMOTIONS
from soundmind.errors import ParamsError
from soundmind.features.sets import feature_family, feature_names
from soundmind.features.tables import encode_labels, family_matrices, split_rows
from soundmind.models.bundle import (
    AnyBundle,
    EnsembleBundle,
    SklearnBundle,
    common_sample_rate,
    merged_feature_settings,
)
from soundmind.models.sklearn_models import build_sklearn_member, score_one_clip_at_a_time
from soundmind.models.voting import greedy_weights, weighted_vote


def train_ensemble(
    name: str,
    params: dict[str, Any],
    trained_members: dict[str, AnyBundle],
    tables: dict[str, pd.DataFrame],
    *,
    table_settings: dict[str, dict[str, Any]],
    seed: int,
    shifted_tables: dict[str, Any] | None = None,
) -> tuple[EnsembleBundle, dict[str, Any]]:
    """Fit the ensemble's own scikit-learn members on the train split, then choose every member's weight on
    val actors (their clean clips, plus their channel-shifted copies from ``shifted_tables`` where given);
    return the ensemble bundle and its training summary.

    ``table_settings`` are the settings each of ``tables`` recorded: the trained members must have been
    trained on features made with the same ones, and the bundle records them.
    """
    if not trained_members:
        raise ParamsError(f"params.yaml: 'train.{name}.members' must name at least one trained model.")
    feature_settings = merged_feature_settings({
        **{member_name: member.feature_settings for member_name, member in trained_members.items()},
        **{f"the {family} table": {family: settings} for family, settings in table_settings.items()},
    })
    sample_rate = common_sample_rate(feature_settings)
    _, val_rows = split_rows(tables["rich"])
    val_ids = val_rows["clip_id"].tolist()
    val_labels = encode_labels(val_rows["emotion"])
    members: dict[str, AnyBundle] = dict(trained_members)
    for member_name, member_params in params["sklearn_members"].items():
        feature_set = member_params.get("feature_set", "rich")
        train_rows, _ = split_rows(tables[feature_family(feature_set)])
        pipeline = build_sklearn_member(member_params["architecture"], member_params, seed, train_rows["actor"].to_numpy())
        pipeline.fit(train_rows[feature_names(feature_set)].to_numpy(), encode_labels(train_rows["emotion"]))
        members[member_name] = SklearnBundle(
            pipeline, list(EMOTIONS),
            {"name": member_name, "feature_set": feature_set, "sample_rate": sample_rate,
             "feature_settings": {feature_family(feature_set): table_settings[feature_family(feature_set)]},
             "params": member_params},
        )
    val_features = family_matrices(tables, val_ids)
    val_probabilities = {member_name: member.probabilities(val_features) for member_name, member in members.items()}
    selection_probabilities, selection_labels = val_probabilities, val_labels
    if shifted_tables is not None:
        shifted_rows = shifted_val_rows(shifted_tables)
        shifted_labels = encode_labels(shifted_rows["emotion"])
        shifted_features = family_matrices(shifted_tables, shifted_rows["clip_id"].tolist())
        shifted_probabilities = {member_name: member.probabilities(shifted_features) for member_name, member in members.items()}
        selection_probabilities = {member_name: np.concatenate([val_probabilities[member_name], shifted_probabilities[member_name]])
                                   for member_name in members}
        selection_labels = np.concatenate([val_labels, shifted_labels])
    weights = greedy_weights(selection_probabilities, selection_labels, params["selection_rounds"])
    member_val_accuracy = accuracy_by_member(val_probabilities, val_labels)
    summary = {
        "val_accuracy": round(float((weighted_vote(val_probabilities, weights).argmax(axis=1) == val_labels).mean()), 6),
        "member_val_accuracy": member_val_accuracy,
        "weights": weights,
    }
    if shifted_tables is not None:
        summary["shifted_val_accuracy"] = round(float(
            (weighted_vote(shifted_probabilities, weights).argmax(axis=1) == shifted_labels).mean()), 6)
        summary["member_shifted_val_accuracy"] = accuracy_by_member(shifted_probabilities, shifted_labels)
    metadata = {"name": name, "feature_set": "rich", "sample_rate": sample_rate, "params": params,
                "feature_settings": feature_settings,
                "val_accuracy": summary["val_accuracy"], "member_val_accuracy": member_val_accuracy}
    # A member of weight 0 cannot change a vote: leaving it out of the bundle spares its features and model
    # at every prediction.
    voting = {member_name: members[member_name] for member_name, weight in weights.items() if weight > 0}
    for member in voting.values():
        if isinstance(member, SklearnBundle):
            score_one_clip_at_a_time(member.pipeline)
    voting_weights = {member_name: weights[member_name] for member_name in voting}
    return EnsembleBundle(voting, voting_weights, list(EMOTIONS), metadata), summary


def accuracy_by_member(probabilities: dict[str, np.ndarray], labels: np.ndarray) -> dict[str, float]:
    """Return each member's accuracy (its probabilities' argmax against integer ``labels``)."""
    return {name: round(float((member.argmax(axis=1) == labels).mean()), 6) for name, member in probabilities.items()}


def shifted_val_rows(shifted_tables: dict[str, Any]) -> pd.DataFrame:
    """Return the channel-shifted copies of the val actors' clips, sorted by clip id (any family lists them)."""
    table = next(iter(shifted_tables.values()))
    rows = table.index if hasattr(table, "frames_of") else table
    shifted = rows[rows["split"] == "val"].sort_values("clip_id")
    if shifted.empty:
        raise ParamsError("the channel-shifted features hold no val clips; run shift-channels and extract-shifted again.")
    return shifted


def ensemble_families(params: dict[str, Any], trained_members: dict[str, AnyBundle]) -> set[str]:
    """Return the feature tables an ensemble needs: its members' families, its own members' and 'rich' for the splits."""
    families = {"rich"}.union(*(member.required_families() for member in trained_members.values()))
    return families | {feature_family(spec.get("feature_set", "rich")) for spec in params["sklearn_members"].values()}
