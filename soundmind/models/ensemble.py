"""The soft-voting ensemble: trained bundles plus its own scikit-learn members, weighted on val actors."""

from __future__ import annotations

from typing import Any

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
) -> tuple[EnsembleBundle, dict[str, Any]]:
    """Fit the ensemble's own scikit-learn members on the train split, then choose every member's weight on
    val actors; return the ensemble bundle and its training summary.

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
    weights = greedy_weights(val_probabilities, val_labels, params["selection_rounds"])
    ensemble_val = weighted_vote(val_probabilities, weights).argmax(axis=1)
    member_val_accuracy = {
        member_name: round(float((probabilities.argmax(axis=1) == val_labels).mean()), 6)
        for member_name, probabilities in val_probabilities.items()
    }
    summary = {
        "val_accuracy": round(float((ensemble_val == val_labels).mean()), 6),
        "member_val_accuracy": member_val_accuracy,
        "weights": weights,
    }
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


def ensemble_families(params: dict[str, Any], trained_members: dict[str, AnyBundle]) -> set[str]:
    """Return the feature tables an ensemble needs: its members' families, its own members' and 'rich' for the splits."""
    families = {"rich"}.union(*(member.required_families() for member in trained_members.values()))
    return families | {feature_family(spec.get("feature_set", "rich")) for spec in params["sklearn_members"].values()}
