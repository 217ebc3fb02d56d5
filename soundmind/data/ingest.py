"""Turning a RAVDESS source (zip or folder) into data/raw/Actor_XX/<id>.flac and a manifest."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm import tqdm

from soundmind.audio import load_audio, write_flac
from soundmind.errors import CorpusError
from soundmind.files import built_in_staging, walk_paths
from soundmind.data.ravdess import parse_clip_id
from soundmind.paths import MANIFEST_NAME

ON_BAD_FILE = ("error", "skip")  # data.on_bad_file: stop on a bad file, or go on without it

CORPUS_SUFFIXES = (".wav", ".flac")  # the upstream layout, or a converted copy
UPSTREAM_ZIP_NAME = "Audio_Speech_Actors_01-24.zip"


@dataclass
class SourceScan:
    """Audio files found in a source folder, and the ones that cannot be used."""

    clips: dict[str, Path] = field(default_factory=dict)
    problems: dict[Path, str] = field(default_factory=dict)


def find_local_source(external_dir: Path) -> Path | None:
    """The upstream zip or a folder holding Actor_XX folders under ``external_dir``, if any."""
    if not external_dir.is_dir():
        return None
    upstream_zip = external_dir / UPSTREAM_ZIP_NAME
    if upstream_zip.is_file():
        return upstream_zip
    actor_folders = sorted(
        path for path in walk_paths(external_dir) if path.name.startswith("Actor_") and path.is_dir()
    )
    if actor_folders:
        return actor_folders[0].parent
    return None


def scan_source_folder(folder: Path) -> SourceScan:
    """Find every audio file under ``folder`` and check its name against the RAVDESS scheme."""
    scan = SourceScan()
    paths_by_clip: dict[str, list[Path]] = defaultdict(list)
    for path in sorted(walk_paths(folder)):
        if not path.is_file() or path.name.startswith("."):
            continue
        if path.suffix.lower() not in CORPUS_SUFFIXES:
            if path.parent != folder and path.parent.name.startswith("Actor_"):
                scan.problems[path] = "not a .wav or .flac file"
            continue
        try:
            info = parse_clip_id(path.stem)
        except ValueError as error:
            scan.problems[path] = str(error)
            continue
        if path.parent.name.startswith("Actor_") and path.parent.name != f"Actor_{info.actor:02d}":
            scan.problems[path] = f"actor {info.actor:02d} of the file name does not match its folder"
            continue
        paths_by_clip[info.clip_id].append(path)
    for clip_id, paths in paths_by_clip.items():
        if len(paths) > 1:
            for path in paths:
                scan.problems[path] = f"duplicate of clip {clip_id}"
        else:
            scan.clips[clip_id] = paths[0]
    return scan


def write_decoded_clip(source: Path, target: Path, sample_rate: int) -> float | str:
    """Decode ``source`` to mono at ``sample_rate`` and write it as FLAC to ``target``; returns its duration in
    seconds, or the problem (without the file's name) as a string."""
    try:
        waveform = load_audio(source, sample_rate)
    except CorpusError as error:
        return str(error).split(": ", 1)[-1]
    if not len(waveform):
        return "the decoded audio is empty."
    if not np.all(np.isfinite(waveform)):
        return "the decoded audio holds NaN or infinite samples."
    write_flac(target, waveform, sample_rate)
    return round(len(waveform) / sample_rate, 6)


def _decode_and_write(clip_id: str, source: Path, raw_dir: Path, sample_rate: int) -> dict | str:
    """Ingest one clip; returns its manifest row, or the problem as a string."""
    info = parse_clip_id(clip_id)
    relative_path = Path(f"Actor_{info.actor:02d}") / f"{clip_id}.flac"
    duration = write_decoded_clip(source, raw_dir / relative_path, sample_rate)
    if isinstance(duration, str):
        return duration
    return {
        "clip_id": clip_id,
        "path": relative_path.as_posix(),
        "actor": info.actor,
        "gender": info.gender,
        "emotion": info.emotion,
        "intensity": info.intensity,
        "statement": info.statement,
        "repetition": info.repetition,
        "duration_seconds": duration,
        "sample_rate": sample_rate,
    }


def format_problems(problems: dict[Path, str], limit: int = 50) -> str:
    """Return one indented line per problem file, at most ``limit`` of them."""
    lines = [f"  {path}: {reason}" for path, reason in sorted(problems.items())[:limit]]
    if len(problems) > limit:
        lines.append(f"  ... and {len(problems) - limit} more")
    return "\n".join(lines)


def ingest_folder(
    source_folder: Path,
    raw_dir: Path,
    sample_rate: int,
    *,
    expected_clips: int | None,
    on_bad_file: str = "error",
    n_jobs: int = -1,
) -> pd.DataFrame:
    """Decode, mix to mono, resample and write every clip of ``source_folder`` into ``raw_dir``.

    The result is built in a temporary sibling folder and renamed into place only when every
    check passed, so a failed or killed run leaves ``raw_dir`` untouched.
    Returns the manifest; the clips skipped with ``on_bad_file: skip`` are in ``manifest.attrs``.
    """
    if on_bad_file not in ON_BAD_FILE:
        raise ValueError(f"on_bad_file must be one of {', '.join(ON_BAD_FILE)}, got {on_bad_file!r}")
    scan = scan_source_folder(source_folder)
    if not scan.clips and not scan.problems:
        raise CorpusError(f"{source_folder}: no RAVDESS .wav or .flac files found (expected Actor_XX/03-01-*.wav).")
    with built_in_staging(raw_dir) as staging:
        clip_ids = sorted(scan.clips)
        results = Parallel(n_jobs=n_jobs)(
            delayed(_decode_and_write)(clip_id, scan.clips[clip_id], staging, sample_rate)
            for clip_id in tqdm(clip_ids, desc="ingest", unit="clip")
        )
        problems = dict(scan.problems)
        rows = []
        for clip_id, result in zip(clip_ids, results):
            if isinstance(result, str):
                problems[scan.clips[clip_id]] = result
            else:
                rows.append(result)
        if problems and on_bad_file == "error":
            raise CorpusError(
                f"{source_folder}: {len(problems)} file(s) cannot be used "
                "(fix or remove them, or set data.on_bad_file: skip):\n" + format_problems(problems)
            )
        if expected_clips is not None and on_bad_file == "error" and len(rows) != expected_clips:
            raise CorpusError(
                f"{source_folder}: found {len(rows)} usable clips, expected {expected_clips} "
                "(data.expected_clips); the corpus is incomplete."
            )
        if not rows:
            raise CorpusError(f"{source_folder}: no usable clips remain after skipping bad files.")
        manifest = pd.DataFrame(rows).sort_values(["actor", "clip_id"]).reset_index(drop=True)
        manifest.to_parquet(staging / MANIFEST_NAME, index=False)
    manifest.attrs["skipped"] = {str(path): reason for path, reason in sorted(problems.items())}
    return manifest


def ingest_report(manifest: pd.DataFrame, source_folder: Path) -> dict:
    """Return what reports/ingest.json says: clips and actors ingested, and every skipped file with its reason."""
    # Paths inside the source: two duplicates share a file name.
    skipped = {
        str(Path(path).relative_to(source_folder)): reason for path, reason in manifest.attrs["skipped"].items()
    }
    return {"clips": len(manifest), "actors": int(manifest["actor"].nunique()), "skipped_files": len(skipped),
            "skipped": skipped}


def read_manifest(raw_dir: Path) -> pd.DataFrame:
    """Return the manifest that ingest wrote into ``raw_dir``."""
    path = raw_dir / MANIFEST_NAME
    if not path.is_file():
        raise CorpusError(f"{path}: manifest not found; run the download-ravdess stage first.")
    return pd.read_parquet(path)
