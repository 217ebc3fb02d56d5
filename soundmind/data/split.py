"""Speaker-independent splits: whole actors go to train, val or test."""

from __future__ import annotations

import numpy as np
import pandas as pd

from soundmind.errors import ParamsError
from soundmind.data.ravdess import actor_gender

SPLITS = ("train", "val", "test")


def check_disjoint_splits(test_actors: set[int] | list[int], val_actors: set[int] | list[int]) -> None:
    """No actor may be both a test and a val actor."""
    overlap = sorted(set(test_actors) & set(val_actors))
    if overlap:
        raise ParamsError(f"params.yaml: 'split.test_actors' and 'split.val_actors' share actors {overlap}.")


def draw_balanced_actors(actors: list[int], count: int, rng: np.random.Generator) -> list[int]:
    """Return ``count`` actors drawn alternating male and female, so the draw is gender-balanced."""
    by_gender = {
        gender: sorted(actor for actor in actors if actor_gender(actor) == gender) for gender in ("male", "female")
    }
    for pool in by_gender.values():
        rng.shuffle(pool)
    drawn: list[int] = []
    order = ["male", "female"] if rng.random() < 0.5 else ["female", "male"]
    while len(drawn) < count:
        progressed = False
        for gender in order:
            if len(drawn) < count and by_gender[gender]:
                drawn.append(int(by_gender[gender].pop()))
                progressed = True
        if not progressed:
            raise ParamsError(f"params.yaml: cannot draw {count} actors from the {len(actors)} available.")
    return sorted(drawn)


def assign_actors(
    actors: list[int],
    test_actors: list[int],
    val_actors: list[int],
    n_test_actors: int,
    n_val_actors: int,
    seed: int,
) -> dict[int, str]:
    """Return every actor's split. Explicit lists win; empty lists mean a seeded balanced draw."""
    actors = sorted(set(int(actor) for actor in actors))
    rng = np.random.default_rng(seed)
    if not test_actors:
        test_actors = draw_balanced_actors(actors, n_test_actors, rng)
    if not val_actors:
        remaining = [actor for actor in actors if actor not in set(test_actors)]
        val_actors = draw_balanced_actors(remaining, n_val_actors, rng)
    check_disjoint_splits(test_actors, val_actors)
    for key, chosen in (("split.test_actors", test_actors), ("split.val_actors", val_actors)):
        unknown = sorted(set(chosen) - set(actors))
        if unknown:
            raise ParamsError(f"params.yaml: '{key}' names actors {unknown} that are not in the corpus.")
    assignment = {actor: "train" for actor in actors}
    assignment.update({int(actor): "test" for actor in test_actors})
    assignment.update({int(actor): "val" for actor in val_actors})
    if "train" not in assignment.values():
        raise ParamsError("params.yaml: the split leaves no actor for training.")
    return assignment


def split_manifest(manifest: pd.DataFrame, assignment: dict[int, str]) -> pd.DataFrame:
    """Return one row per clip: clip id, actor, gender, emotion and its split, sorted for stable output."""
    table = manifest[["clip_id", "actor", "gender", "emotion"]].copy()
    table["split"] = table["actor"].map(assignment)
    return table.sort_values(["split", "actor", "clip_id"]).reset_index(drop=True)
