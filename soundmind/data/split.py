"""Speaker-independent splits: whole actors go to train, val or test."""

from __future__ import annotations

from typing import Mapping, TypeVar

import numpy as np
import pandas as pd

from soundmind.errors import ParamsError
from soundmind.data.ravdess import actor_gender

SPLITS = ("train", "val", "test")
Speaker = TypeVar("Speaker", int, str)  # a RAVDESS actor number, or a labelled corpus's speaker id


def check_disjoint_splits(test_actors, val_actors, keys: tuple[str, str] = ("split.test_actors", "split.val_actors")
                          ) -> None:
    """No actor (or speaker) may be both a test and a val one; ``keys`` name the two params lists."""
    overlap = sorted(set(test_actors) & set(val_actors))
    if overlap:
        raise ParamsError(f"params.yaml: '{keys[0]}' and '{keys[1]}' share {_noun(keys)} {overlap}.")


def _noun(keys: tuple[str, str]) -> str:
    """What the params lists hold, for messages: 'actors' (RAVDESS) or 'speakers'."""
    return keys[0].rsplit("_", 1)[-1]


def draw_balanced_speakers(genders: Mapping[Speaker, str], count: int, rng: np.random.Generator,
                           noun: str = "speakers") -> list[Speaker]:
    """Return ``count`` of the speakers in ``genders`` (speaker -> gender) drawn alternating male and female, so the
    draw is gender-balanced."""
    by_gender = {
        gender: sorted(speaker for speaker, its_gender in genders.items() if its_gender == gender)
        for gender in ("male", "female")
    }
    for pool in by_gender.values():
        rng.shuffle(pool)
    drawn: list[Speaker] = []
    order = ["male", "female"] if rng.random() < 0.5 else ["female", "male"]
    while len(drawn) < count:
        progressed = False
        for gender in order:
            if len(drawn) < count and by_gender[gender]:
                drawn.append(by_gender[gender].pop())
                progressed = True
        if not progressed:
            raise ParamsError(f"params.yaml: cannot draw {count} {noun} from the {len(genders)} available.")
    return sorted(drawn)


def assign_speakers(
    genders: Mapping[Speaker, str],
    test_speakers: list[Speaker],
    val_speakers: list[Speaker],
    n_test: int,
    n_val: int,
    seed: int,
    keys: tuple[str, str] = ("split.test_actors", "split.val_actors"),
) -> dict[Speaker, str]:
    """Return every speaker's split (``genders``: speaker -> gender). Explicit lists win; empty lists mean a seeded
    gender-balanced draw; ``keys`` name the params lists in messages."""
    rng = np.random.default_rng(seed)
    genders = dict(sorted(genders.items()))
    if not test_speakers:
        test_speakers = draw_balanced_speakers(genders, n_test, rng, _noun(keys))
    if not val_speakers:
        remaining = {speaker: gender for speaker, gender in genders.items() if speaker not in set(test_speakers)}
        val_speakers = draw_balanced_speakers(remaining, n_val, rng, _noun(keys))
    check_disjoint_splits(test_speakers, val_speakers, keys)
    for key, chosen in zip(keys, (test_speakers, val_speakers)):
        unknown = sorted(set(chosen) - set(genders))
        if unknown:
            raise ParamsError(f"params.yaml: '{key}' names {_noun(keys)} {unknown} that are not in the corpus.")
    assignment = {speaker: "train" for speaker in sorted(genders)}
    assignment.update({speaker: "test" for speaker in test_speakers})
    assignment.update({speaker: "val" for speaker in val_speakers})
    if "train" not in assignment.values():
        raise ParamsError(f"params.yaml: the split leaves no {_noun(keys)[:-1]} for training.")
    return assignment


def assign_actors(
    actors: list[int],
    test_actors: list[int],
    val_actors: list[int],
    n_test_actors: int,
    n_val_actors: int,
    seed: int,
) -> dict[int, str]:
    """Return every RAVDESS actor's split (odd ids male, even female); see ``assign_speakers``."""
    genders = {int(actor): actor_gender(int(actor)) for actor in sorted(set(int(actor) for actor in actors))}
    return assign_speakers(genders, [int(actor) for actor in test_actors], [int(actor) for actor in val_actors],
                           n_test_actors, n_val_actors, seed)


def check_whole_speakers(splits: pd.DataFrame, source: str, speaker_columns: list[str]) -> None:
    """Refuse a split table (read from ``source``) in which one speaker's clips sit in more than one split."""
    splits_per_speaker = splits.groupby(speaker_columns)["split"].unique()
    for speaker, splits_of_speaker in splits_per_speaker.items():
        if len(splits_of_speaker) > 1:
            name = "/".join(str(part) for part in speaker) if isinstance(speaker, tuple) else str(speaker)
            raise ParamsError(f"{source}: speaker {name} has clips in more than one split "
                              f"({', '.join(sorted(splits_of_speaker))}); splits must hold whole speakers.")


def split_manifest(manifest: pd.DataFrame, assignment: dict[int, str]) -> pd.DataFrame:
    """Return one row per clip: clip id, actor, gender, emotion and its split, sorted for stable output."""
    table = manifest[["clip_id", "actor", "gender", "emotion"]].copy()
    table["split"] = table["actor"].map(assignment)
    return table.sort_values(["split", "actor", "clip_id"]).reset_index(drop=True)


def assign_corpus_speakers(rows: pd.DataFrame, block: dict, name: str, seed: int) -> dict[int, str]:
    """Every speaker of one labelled corpus (its manifest ``rows``) to a split by its ``corpora.<name>`` ``block``
    (test_speakers, val_speakers, n_test_speakers, n_val_speakers), keyed by the speakers' actor numbers."""
    genders = rows.groupby("speaker")["gender"].first().to_dict()
    actor_of = rows.groupby("speaker")["actor"].first().to_dict()
    by_speaker = assign_speakers(
        genders, [str(speaker) for speaker in block.get("test_speakers") or []],
        [str(speaker) for speaker in block.get("val_speakers") or []],
        int(block.get("n_test_speakers", 1)), int(block.get("n_val_speakers", 1)), seed,
        keys=(f"corpora.{name}.test_speakers", f"corpora.{name}.val_speakers"),
    )
    return {int(actor_of[speaker]): split for speaker, split in by_speaker.items()}
