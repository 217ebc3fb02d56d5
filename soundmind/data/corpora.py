"""Training corpora beside RAVDESS (issue 21): a corpus is a name, a folder and a reader. params.yaml's
``corpora.extra`` lists the labelled ones to train on; download-ravdess ingests each into data/raw/<name>/ beside
RAVDESS's Actor_XX folders, and the manifest gains ``corpus`` and ``speaker`` columns.

Every speaker gets an integer ``actor`` number, unique across corpora (RAVDESS keeps 1-24; a labelled corpus's
speakers, in sorted order, number from its base in corpus_names + 1), so that everything grouped by actor (splits,
speaker-normalised features, adaptation) holds whole speakers of any corpus."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from joblib import Parallel, delayed
from tqdm import tqdm

from soundmind.data.corpus_names import RAVDESS, SPEAKER_NUMBER_BASE
from soundmind.data.emovo import CORPUS as EMOVO
from soundmind.data.ingest import ON_BAD_FILE, format_problems, write_decoded_clip
from soundmind.data.labelled import LabelledCorpus, read_labels
from soundmind.data.nemo import CORPUS as NEMO
from soundmind.errors import CorpusError
from soundmind.files import built_in_staging

# name -> how its labels.csv is checked (the classes it holds).
LABELLED_CORPORA: dict[str, LabelledCorpus] = {NEMO.name: NEMO, EMOVO.name: EMOVO}
if set(LABELLED_CORPORA) != set(SPEAKER_NUMBER_BASE):
    raise ImportError("soundmind.data.corpus_names.SPEAKER_NUMBER_BASE must number every labelled corpus's speakers")
SPEAKERS_PER_CORPUS = 99


def speaker_numbers(name: str, speakers: list[str]) -> dict[str, int]:
    """The actor number of each of corpus ``name``'s speakers: its base + 1, + 2, ... in sorted order."""
    base = SPEAKER_NUMBER_BASE[name]
    ordered = sorted(set(speakers))
    if len(ordered) > SPEAKERS_PER_CORPUS:
        raise CorpusError(f"the {name} corpus lists {len(ordered)} speakers; at most {SPEAKERS_PER_CORPUS} are numbered.")
    return {speaker: base + rank for rank, speaker in enumerate(ordered, start=1)}


def corpus_folder(name: str, configured_source: str, external_dir: Path) -> Path:
    """The folder holding corpus ``name``: ``corpora.<name>.source``, or else data/external/<name>."""
    folder = Path(configured_source).expanduser() if configured_source else Path(external_dir) / name
    if not folder.is_dir():
        hint = (f"corpora.{name}.source names it" if configured_source else
                f"link a copy there (`ln -s /path/to/{name} {Path(external_dir) / name}`) or name it in corpora.{name}.source")
        raise CorpusError(f"{folder}: the {name} corpus folder does not exist ({hint}).")
    return folder


def ingest_labelled_corpus(
    name: str, folder: Path, raw_dir: Path, sample_rate: int, *, on_bad_file: str = "error", n_jobs: int = -1
) -> pd.DataFrame:
    """Decode every clip that corpus ``name``'s labels.csv lists into ``raw_dir``/<name>/ (built aside, put in place
    only when every check passed) and return its manifest rows, the RAVDESS manifest's columns plus ``corpus`` and
    ``speaker``; paths are relative to ``raw_dir``. Unreadable clips stop it, or with ``on_bad_file: skip`` are
    left out and listed in ``attrs["skipped"]``."""
    if on_bad_file not in ON_BAD_FILE:
        raise ValueError(f"on_bad_file must be one of {', '.join(ON_BAD_FILE)}, got {on_bad_file!r}")
    if name not in LABELLED_CORPORA:
        raise ValueError(f"unknown corpus {name!r}; known: {', '.join(LABELLED_CORPORA)}")
    labels = read_labels(folder, LABELLED_CORPORA[name])
    numbers = speaker_numbers(name, labels["speaker"].tolist())
    targets = [Path(path).with_suffix(".flac") for path in labels["path"]]
    with built_in_staging(Path(raw_dir) / name) as staging:
        results = Parallel(n_jobs=n_jobs)(
            delayed(write_decoded_clip)(folder / path, staging / target, sample_rate)
            for path, target in tqdm(list(zip(labels["path"], targets)), desc=f"ingest {name}", unit="clip")
        )
        problems = {folder / path: result for path, result in zip(labels["path"], results) if isinstance(result, str)}
        if problems and on_bad_file == "error":
            raise CorpusError(f"{folder}: {len(problems)} file(s) of the {name} corpus cannot be used (fix or remove "
                              "them, or set data.on_bad_file: skip):\n" + format_problems(problems))
        kept = [not isinstance(result, str) for result in results]
        if not any(kept):
            raise CorpusError(f"{folder}: no usable clips of the {name} corpus remain after skipping bad files.")
        rows = labels[kept].reset_index(drop=True)
        manifest = pd.DataFrame({
            "clip_id": rows["clip_id"],
            "path": [f"{name}/{target.as_posix()}" for target, keep in zip(targets, kept) if keep],
            "actor": rows["speaker"].map(numbers).astype("int64"),
            "gender": rows["gender"],
            "emotion": rows["emotion"],
            # RAVDESS's scheme fields, which these corpora do not have.
            "intensity": "",
            "statement": 0,
            "repetition": 0,
            "duration_seconds": [result for result in results if not isinstance(result, str)],
            "sample_rate": sample_rate,
            "corpus": name,
            "speaker": rows["speaker"],
        })
    manifest.attrs["skipped"] = {str(path): reason for path, reason in sorted(problems.items())}
    return manifest


def with_corpus_columns(ravdess_manifest: pd.DataFrame) -> pd.DataFrame:
    """RAVDESS's manifest with the ``corpus`` and ``speaker`` columns a multi-corpus manifest has."""
    return ravdess_manifest.assign(corpus=RAVDESS, speaker=[f"Actor_{actor:02d}" for actor in ravdess_manifest["actor"]])


def combined_manifest(ravdess_manifest: pd.DataFrame, others: list[pd.DataFrame]) -> pd.DataFrame:
    """One manifest for RAVDESS and the labelled corpora, sorted by actor and clip id. With no other corpus it is
    RAVDESS's as ingested (no corpus columns), so that a RAVDESS-only build keeps its data/raw."""
    if not others:
        return ravdess_manifest
    table = pd.concat([with_corpus_columns(ravdess_manifest), *others], ignore_index=True)
    return table.sort_values(["actor", "clip_id"]).reset_index(drop=True)
