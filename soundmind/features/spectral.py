"""The seed's clip-level "rich" vector, computed from one STFT per clip.

Training and inference both call ``rich_feature_vector``; the 40-dim baseline set is the
MFCC-mean slice of the same vector, so the two can never drift apart.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import librosa
import numpy as np
from threadpoolctl import ThreadpoolController

from soundmind.audio import load_audio

# (name, number of rows per frame) in the order of the design's 392-dim vector.
RICH_BLOCKS = (("mfcc", 40), ("chroma", 12), ("mel", 128), ("contrast", 7), ("tonnetz", 6),
               ("zcr", 1), ("centroid", 1), ("rolloff", 1))
BLOCK_ROWS = dict(RICH_BLOCKS)


@dataclass(frozen=True)
class FeatureSettings:
    """How the rich vector is computed; recorded in its feature table and copied into every bundle."""

    sample_rate: int = 16000
    n_fft: int = 2048
    hop_length: int = 512
    # Not free knobs: the vector's layout (RICH_BLOCKS) fixes them; kept so a table and a bundle say so.
    n_mfcc: int = BLOCK_ROWS["mfcc"]
    n_mels: int = BLOCK_ROWS["mel"]

    def __post_init__(self) -> None:
        if self.n_mfcc != BLOCK_ROWS["mfcc"] or self.n_mels != BLOCK_ROWS["mel"]:
            raise ValueError(
                f"the rich vector is defined for n_mfcc={BLOCK_ROWS['mfcc']} and n_mels={BLOCK_ROWS['mel']}"
            )
        if self.n_fft <= 0 or self.hop_length <= 0:
            raise ValueError(f"n_fft and hop_length must be positive, got {self.n_fft}, {self.hop_length}")


def feature_settings_from_params(params: dict) -> FeatureSettings:
    """Return the settings of ``features.*`` and ``audio.sample_rate``; a bad value is named as a params key."""
    from soundmind.params import require_positive_int

    return FeatureSettings(
        sample_rate=require_positive_int(params, "audio.sample_rate"),
        n_fft=require_positive_int(params, "features.n_fft"),
        hop_length=require_positive_int(params, "features.hop_length"),
        n_mfcc=require_positive_int(params, "features.n_mfcc"),
        n_mels=require_positive_int(params, "features.n_mels"),
    )


def block_names(block: str, rows: int) -> list[str]:
    """Return the column names of one block's means then standard deviations."""
    if rows == 1:
        return [f"{block}_mean", f"{block}_std"]
    return [f"{block}_mean_{index:02d}" for index in range(rows)] + [f"{block}_std_{index:02d}" for index in range(rows)]


RICH_FEATURE_NAMES = [name for block, rows in RICH_BLOCKS for name in block_names(block, rows)]
MFCC_MEAN_COUNT = BLOCK_ROWS["mfcc"]  # the mfcc40 set: the rich vector's first columns


def frame_features(waveform: np.ndarray, settings: FeatureSettings) -> dict[str, np.ndarray]:
    """Return per-frame matrices of every block, all derived from one STFT of the clip."""
    if len(waveform) < settings.n_fft:
        # Very short clips: pad with silence so every block has at least one full frame.
        waveform = np.pad(waveform, (0, settings.n_fft - len(waveform)))
    sample_rate = settings.sample_rate
    magnitude = np.abs(librosa.stft(waveform, n_fft=settings.n_fft, hop_length=settings.hop_length))
    power = magnitude**2
    mel_power = librosa.feature.melspectrogram(S=power, sr=sample_rate, n_mels=settings.n_mels)
    log_mel = librosa.power_to_db(mel_power)
    chroma = librosa.feature.chroma_stft(S=power, sr=sample_rate, tuning=0.0)
    return {
        "mfcc": librosa.feature.mfcc(S=log_mel, n_mfcc=settings.n_mfcc),
        "chroma": chroma,
        "mel": log_mel,
        "contrast": librosa.feature.spectral_contrast(S=magnitude, sr=sample_rate),
        # Tonnetz from the STFT chroma rather than a second (CQT) transform of the audio.
        "tonnetz": librosa.feature.tonnetz(chroma=chroma, sr=sample_rate),
        "zcr": librosa.feature.zero_crossing_rate(
            waveform, frame_length=settings.n_fft, hop_length=settings.hop_length
        ),
        "centroid": librosa.feature.spectral_centroid(S=magnitude, sr=sample_rate),
        "rolloff": librosa.feature.spectral_rolloff(S=magnitude, sr=sample_rate, roll_percent=0.85),
    }


@cache
def blas_controller() -> ThreadpoolController:
    return ThreadpoolController()


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Run the block inside on one BLAS thread.

    OpenBLAS sums a matrix product in another order on two threads than on one, which moves the last bits
    of the mel and MFCC blocks (the rich vector's, the frames'); loky gives each worker cores // n_jobs threads,
    Dask one, the predictor all. One thread everywhere gives one answer."""
    with blas_controller().limit(limits=1, user_api="blas"):
        yield


def rich_feature_vector(waveform: np.ndarray, settings: FeatureSettings) -> np.ndarray:
    """Return the 392-dim vector: mean then standard deviation over time of each block, in design order."""
    with one_blas_thread():
        frames = frame_features(np.asarray(waveform, dtype=np.float32), settings)
    parts = []
    for block, _rows in RICH_BLOCKS:
        matrix = frames[block]
        parts.extend([matrix.mean(axis=1), matrix.std(axis=1)])
    # Silent input makes some normalised blocks undefined; zero is their natural value.
    return np.nan_to_num(np.concatenate(parts), nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)


def rich_vector_of_file(path: Path, settings: FeatureSettings) -> np.ndarray:
    """Return the rich vector of the audio file at ``path`` (what each extraction worker runs)."""
    return rich_feature_vector(load_audio(path, settings.sample_rate), settings)
