"""Augmented copies of training clips, each drawn from a generator seeded by the clip id."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm import tqdm

from soundmind.audio import load_audio, write_flac

AUGMENTATION_KINDS = ("noise", "stretch", "pitch", "shift")


@dataclass(frozen=True)
class AugmentSettings:
    """The ``augment`` block: how many copies of each training clip, and the ranges each kind draws from."""

    copies: int
    kinds: tuple[str, ...]
    noise_snr_db: tuple[float, float]
    stretch_rate: tuple[float, float]
    pitch_semitones: tuple[float, float]
    shift_max_seconds: float

    def __post_init__(self) -> None:
        unknown = sorted(set(self.kinds) - set(AUGMENTATION_KINDS))
        if unknown or not self.kinds:
            raise ValueError(f"augment.kinds must be a non-empty subset of {AUGMENTATION_KINDS}, got {self.kinds}")
        if self.copies < 0:
            raise ValueError(f"augment.copies must be >= 0, got {self.copies}")
        if self.stretch_rate[0] <= 0:
            raise ValueError(f"augment.stretch_rate must be positive, got {self.stretch_rate}")


def augment_settings_from_params(params: dict) -> AugmentSettings:
    """Return the ``augment.*`` block as settings; a bad value is refused naming its key."""
    from soundmind.errors import ParamsError
    from soundmind.params import require, require_range

    try:
        return AugmentSettings(
            copies=int(require(params, "augment.copies")),
            kinds=tuple(require(params, "augment.kinds")),
            noise_snr_db=require_range(params, "augment.noise_snr_db"),
            stretch_rate=require_range(params, "augment.stretch_rate"),
            pitch_semitones=require_range(params, "augment.pitch_semitones"),
            shift_max_seconds=float(require(params, "augment.shift_max_seconds")),
        )
    except ValueError as error:
        raise ParamsError(f"params.yaml: {error}.") from error


def clip_generator(seed: int, clip_id: str, copy_index: int) -> np.random.Generator:
    """Return a generator that depends only on the seed, the clip and the copy, never on run order."""
    return np.random.default_rng([seed, zlib.crc32(clip_id.encode()), copy_index])


def add_white_noise(waveform: np.ndarray, snr_db: float, rng: np.random.Generator) -> np.ndarray:
    """Return ``waveform`` plus white noise ``snr_db`` decibels below its power."""
    signal_power = float(np.mean(waveform**2)) or 1e-12
    noise_power = signal_power / (10.0 ** (snr_db / 10.0))
    return waveform + rng.normal(0.0, np.sqrt(noise_power), size=waveform.shape).astype(np.float32)


def shift_in_time(waveform: np.ndarray, shift_samples: int) -> np.ndarray:
    """Return the clip delayed (positive) or advance (negative) the clip, filling with silence, keeping its length."""
    shifted = np.zeros_like(waveform)
    if shift_samples >= 0:
        shifted[shift_samples:] = waveform[: len(waveform) - shift_samples]
    else:
        shifted[:shift_samples] = waveform[-shift_samples:]
    return shifted


def augment_waveform(
    waveform: np.ndarray, sample_rate: int, settings: AugmentSettings, rng: np.random.Generator
) -> tuple[np.ndarray, str, float]:
    """Apply one randomly chosen augmentation; return the audio, its kind and its amount."""
    kind = settings.kinds[int(rng.integers(len(settings.kinds)))]
    if kind == "noise":
        amount = float(rng.uniform(*settings.noise_snr_db))
        augmented = add_white_noise(waveform, amount, rng)
    elif kind == "stretch":
        amount = float(rng.uniform(*settings.stretch_rate))
        augmented = librosa.effects.time_stretch(waveform, rate=amount)
    elif kind == "pitch":
        amount = float(rng.uniform(*settings.pitch_semitones))
        augmented = librosa.effects.pitch_shift(waveform, sr=sample_rate, n_steps=amount)
    else:
        amount = float(rng.uniform(-settings.shift_max_seconds, settings.shift_max_seconds))
        augmented = shift_in_time(waveform, int(round(amount * sample_rate)))
    return augmented.astype(np.float32), kind, round(amount, 6)


def _augment_clip(row: dict, raw_dir: Path, out_dir: Path, sample_rate: int, settings: AugmentSettings, seed: int):
    waveform = load_audio(raw_dir / row["path"], sample_rate)
    rows = []
    for copy_index in range(settings.copies):
        rng = clip_generator(seed, row["clip_id"], copy_index)
        augmented, kind, amount = augment_waveform(waveform, sample_rate, settings, rng)
        augmented_id = f"{row['clip_id']}_aug{copy_index}"
        relative_path = Path(f"Actor_{row['actor']:02d}") / f"{augmented_id}.flac"
        write_flac(out_dir / relative_path, augmented, sample_rate)
        rows.append(
            {
                "clip_id": augmented_id,
                "source_clip": row["clip_id"],
                "path": relative_path.as_posix(),
                "actor": row["actor"],
                "emotion": row["emotion"],
                "augmentation": kind,
                "amount": amount,
            }
        )
    return rows


def augment_training_clips(
    manifest: pd.DataFrame,
    splits: pd.DataFrame,
    raw_dir: Path,
    out_dir: Path,
    *,
    sample_rate: int,
    settings: AugmentSettings,
    seed: int,
    n_jobs: int = -1,
) -> pd.DataFrame:
    """Write augmented copies of the training split's clips only; val and test are never touched."""
    training_ids = set(splits.loc[splits["split"] == "train", "clip_id"])
    training = manifest[manifest["clip_id"].isin(training_ids)].sort_values("clip_id")
    records = training.to_dict("records")
    per_clip = Parallel(n_jobs=n_jobs)(
        delayed(_augment_clip)(row, raw_dir, out_dir, sample_rate, settings, seed)
        for row in tqdm(records, desc="augment", unit="clip")
    )
    columns = ["clip_id", "source_clip", "path", "actor", "emotion", "augmentation", "amount"]
    table = pd.DataFrame([row for rows in per_clip for row in rows], columns=columns)
    return table.sort_values("clip_id").reset_index(drop=True)
