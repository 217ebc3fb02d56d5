"""What training on nEMO (Polish) and EMOVO (Italian) beside RAVDESS does for the frame model on voices it never heard
(issue 21): the strided CRNN trained with the shipped recipe on RAVDESS's training actors alone, then with the two
corpora's training speakers added, each scored on RAVDESS's test actors, both corpora's test speakers and EmoDB
(German, never trained on), one clip at a time: the most probable of all 8 classes, and of the classes the test set
holds (evaluate-external's convention for EmoDB).

    python benchmarks/corpora.py [--nemo DIR] [--emovo DIR] [--emodb DIR] [--seeds 42 43] [--write]

RAVDESS comes from the frame store (features/frames, `dvc repro extract-frames`: the fixed split, the training actors'
channel copies drawn as the stage draws them); the other corpora's frames are computed here with the store's own
settings (`features.frames.frames_of_file`). Each labelled corpus is split by whole speakers, gender-balanced and
seeded (`data.split.assign_speakers`): nEMO 2 test and 1 val speakers of 9, EMOVO 2 and 1 of 6. Both conditions keep
each seed's epoch best on the same val set: the val speakers of all three corpora (RAVDESS's val actors included); no
test speaker and no EmoDB clip takes part in any choice. A class a corpus lacks is simply absent from its clips.
An exploration, not the pipeline: nothing here is shipped until the download, split and train stages take corpora.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.results import record  # noqa: E402

SECTION = "corpora"
MODEL = "strided_crnn"
SHARED = REPO_ROOT.parent / "shared"
# Test and val speakers drawn per labelled corpus (whole speakers, gender-balanced, seeded).
HELD_OUT = {"nemo": (2, 1), "emovo": (2, 1)}


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nemo", type=Path, default=SHARED / "nemo16k", help="nEMO folder (labels.csv)")
    parser.add_argument("--emovo", type=Path, default=SHARED / "emovo16k", help="EMOVO folder (labels.csv)")
    parser.add_argument("--emodb", type=Path, default=SHARED / "emodb16k", help="EmoDB folder (upstream names)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42], help="training seeds per condition")
    parser.add_argument("--n-jobs", type=int, default=-1, help="processes computing the frames")
    parser.add_argument("--write", action="store_true", help="record the results in reports/benchmarks.json")
    return parser.parse_args()


def labelled_corpus(name: str, folder: Path, seed: int) -> pd.DataFrame:
    """The corpus's checked labels with each speaker's split."""
    from soundmind.data.emovo import read_emovo
    from soundmind.data.nemo import read_nemo
    from soundmind.data.split import assign_speakers

    labels = {"nemo": read_nemo, "emovo": read_emovo}[name](folder)
    genders = labels.groupby("speaker")["gender"].first().to_dict()
    n_test, n_val = HELD_OUT[name]
    splits = assign_speakers(genders, [], [], n_test, n_val, seed, keys=(f"{name}.test_speakers", f"{name}.val_speakers"))
    return labels.assign(split=labels["speaker"].map(splits), folder=str(folder))


def emodb_clips(folder: Path) -> pd.DataFrame:
    """EmoDB's clips with a RAVDESS emotion (boredom has none), named as upstream."""
    from soundmind.data.emodb import parse_emodb_name

    rows = []
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() not in (".wav", ".flac"):
            continue
        speaker, emotion, _ = parse_emodb_name(path.stem)
        if emotion is not None:
            rows.append({"clip_id": f"emodb_{path.stem}", "path": str(path.relative_to(folder)), "speaker": speaker,
                         "emotion": emotion, "split": "test", "corpus": "emodb", "folder": str(folder)})
    return pd.DataFrame(rows)


def clip_frames_of(table: pd.DataFrame, settings: Any, n_jobs: int) -> list[np.ndarray]:
    """Each row's frames, standardised per band (what the frame model reads)."""
    from joblib import Parallel, delayed

    from soundmind.features.frames import frames_of_file, standardise_per_band

    frames = Parallel(n_jobs=n_jobs)(delayed(frames_of_file)(Path(row.folder) / row.path, settings)
                                     for row in table.itertuples())
    return [standardise_per_band(clip) for clip in frames]


def ravdess_parts(store: Any) -> dict[str, Any]:
    """The frame store's training clips (with their channel copies), val and test actors' clips, standardised."""
    from soundmind.features.tables import encode_labels, split_rows
    from soundmind.models.crnn_training import channel_copies_by_clip, store_clips

    clips = store_clips(store, speaker_normalised=False)
    train_rows, val_rows = split_rows(store.index)
    train_rows, copies = channel_copies_by_clip(train_rows, clips)
    test_rows = store.index[(store.index["split"] == "test") & (store.index["augmentation"] == "none")]
    return {
        "train": ([clips[row] for row in train_rows.index], encode_labels(train_rows["emotion"]), list(copies)),
        "val": ([clips[row] for row in val_rows.index], encode_labels(val_rows["emotion"])),
        "test": ([clips[row] for row in test_rows.index], encode_labels(test_rows["emotion"])),
    }


def accuracies(models: dict[int, Any], clips: list[np.ndarray], labels: np.ndarray, crop_frames: int) -> dict[str, float]:
    """The seeds' averaged answers scored two ways: the most probable of all 8 classes, and of the classes the test
    set holds (evaluate-external's convention for EmoDB: `serving.scoring.restricted_choice`)."""
    from soundmind.models.frame_bundle import seed_window_probabilities

    averaged = np.mean(list(seed_window_probabilities(models, clips, crop_frames).values()), axis=0)
    present = np.isin(np.arange(averaged.shape[1]), labels)
    restricted = np.where(present, averaged, -np.inf).argmax(axis=1)
    return {"all_classes": round(float((averaged.argmax(axis=1) == labels).mean()), 4),
            "classes_present": round(float((restricted == labels).mean()), 4)}


def main() -> None:
    arguments = parse_arguments()
    from soundmind.features.frame_store import load_frame_store
    from soundmind.features.frames import FrameSettings
    from soundmind.features.tables import encode_labels
    from soundmind.models.crnn_training import fit_crnn_seeds
    from soundmind.params import load_params
    from soundmind.paths import FEATURES

    params = load_params(REPO_ROOT / "params.yaml")
    recipe = params["train"][MODEL]
    store = load_frame_store(REPO_ROOT / FEATURES / "frames")
    settings = FrameSettings(**store.settings)
    crop_frames = settings.frames_in(recipe["crop_seconds"])
    ravdess = ravdess_parts(store)
    seed = params["base"]["seed"]
    others = {name: labelled_corpus(name, folder, seed) for name, folder in (("nemo", arguments.nemo),
                                                                               ("emovo", arguments.emovo))}
    started = time.perf_counter()
    other_clips = {name: clip_frames_of(table, settings, arguments.n_jobs) for name, table in others.items()}
    emodb = emodb_clips(arguments.emodb)
    emodb_frames = clip_frames_of(emodb, settings, arguments.n_jobs)
    print(f"frames of {sum(map(len, others.values())) + len(emodb)} clips in {time.perf_counter() - started:.0f} s")

    def part(name: str, split: str) -> tuple[list[np.ndarray], np.ndarray]:
        rows = np.flatnonzero((others[name]["split"] == split).to_numpy())
        return [other_clips[name][row] for row in rows], encode_labels(others[name]["emotion"].iloc[rows])

    # One val set for both conditions: every corpus's val speakers.
    val_clips = ravdess["val"][0] + [clip for name in others for clip in part(name, "val")[0]]
    val_y = np.concatenate([ravdess["val"][1], *(part(name, "val")[1] for name in others)])
    test_sets = {"ravdess_test_actors": ravdess["test"], **{f"{name}_test_speakers": part(name, "test") for name in others},
                 "emodb": (emodb_frames, encode_labels(emodb["emotion"]))}
    train_clips, train_y, copies = ravdess["train"]
    conditions = {
        "ravdess": (train_clips, train_y, copies),
        "ravdess_nemo_emovo": (
            train_clips + [clip for name in others for clip in part(name, "train")[0]],
            np.concatenate([train_y, *(part(name, "train")[1] for name in others)]),
            # The labelled corpora have no channel copies: each of their clips is its only version.
            copies + [() for name in others for _ in part(name, "train")[0]],
        ),
    }
    results: dict[str, Any] = {
        "model": MODEL, "seeds": arguments.seeds, "epochs": recipe["epochs"],
        "speakers": {name: {split: sorted(table.loc[table["split"] == split, "speaker"].unique().tolist())
                            for split in ("train", "val", "test")} for name, table in others.items()},
        "clips": {"val": len(val_y), **{name: len(labels) for name, (_, labels) in test_sets.items()}},
        "conditions": {},
    }
    for condition, (clips, labels, condition_copies) in conditions.items():
        started = time.perf_counter()
        models, _, summary = fit_crnn_seeds(recipe, arguments.seeds, train_clips=clips, train_y=labels,
                                            val_clips=val_clips, val_y=val_y, crop_frames=crop_frames,
                                            train_copies=condition_copies)
        results["conditions"][condition] = {
            "train_clips": len(labels), "val_accuracy": round(float(summary["val_accuracy"]), 4),
            "train_minutes": round((time.perf_counter() - started) / 60, 1),
            **{name: accuracies(models, test_clips, test_labels, crop_frames)
               for name, (test_clips, test_labels) in test_sets.items()},
        }
        print(json.dumps({condition: results["conditions"][condition]}, indent=2), flush=True)
    if arguments.write:
        record(SECTION, results)


if __name__ == "__main__":
    main()
