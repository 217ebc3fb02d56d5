"""The seed's clip-level feature vectors, computed from one STFT per clip.

Training and inference both call ``rich_feature_vector``; the 40-dim baseline set is the
MFCC-mean slice of the same vector, so the two can never drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm import tqdm

from soundmind.audio import load_audio

# (name, number of rows per frame) in the order of the design's 392-dim vector.
RICH_BLOCKS = (("mfcc", 40), ("chroma", 12), ("mel", 128), ("contrast", 7), ("tonnetz", 6),
               ("zcr", 1), ("centroid", 1), ("rolloff", 1))
METADATA_COLUMNS = ["clip_id", "source_clip", "actor", "gender", "split", "emotion", "augmentation"]


@dataclass(frozen=True)
class FeatureSettings:
    sample_rate: int = 16000
    n_fft: int = 2048
    hop_length: int = 512
    n_mfcc: int = 40
    n_mels: int = 128

    def __post_init__(self) -> None:
        if self.n_mfcc != 40 or self.n_mels != 128:
            raise ValueError("the rich vector is defined for n_mfcc=40 and n_mels=128")
        if self.n_fft <= 0 or self.hop_length <= 0:
            raise ValueError(f"n_fft and hop_length must be positive, got {self.n_fft}, {self.hop_length}")


def feature_settings_from_params(params: dict) -> FeatureSettings:
    """The settings of ``features.*`` and ``audio.sample_rate``; a bad value is named as a params key."""
    from soundmind.params import require_positive_int

    return FeatureSettings(
        sample_rate=require_positive_int(params, "audio.sample_rate"),
        n_fft=require_positive_int(params, "features.n_fft"),
        hop_length=require_positive_int(params, "features.hop_length"),
        n_mfcc=require_positive_int(params, "features.n_mfcc"),
        n_mels=require_positive_int(params, "features.n_mels"),
    )


def block_names(block: str, rows: int) -> list[str]:
    if rows == 1:
        return [f"{block}_mean", f"{block}_std"]
    return [f"{block}_mean_{index:02d}" for index in range(rows)] + [f"{block}_std_{index:02d}" for index in range(rows)]


RICH_FEATURE_NAMES = [name for block, rows in RICH_BLOCKS for name in block_names(block, rows)]
# feature set -> the family (one table in features/, one extractor) it is taken from
FEATURE_SETS = {"rich": "rich", "mfcc40": "rich", "compare": "compare", "egemaps": "egemaps"}


def feature_family(feature_set: str) -> str:
    if feature_set not in FEATURE_SETS:
        raise ValueError(f"unknown feature set {feature_set!r}; known: {', '.join(FEATURE_SETS)}")
    return FEATURE_SETS[feature_set]


def feature_names(feature_set: str) -> list[str]:
    family = feature_family(feature_set)
    if family != "rich":
        from soundmind.functionals import functional_names

        return functional_names(family)
    return RICH_FEATURE_NAMES[:40] if feature_set == "mfcc40" else RICH_FEATURE_NAMES


def family_vector(waveform: np.ndarray, family: str, settings: "FeatureSettings") -> np.ndarray:
    """The whole vector of one family for one clip: the single place inference computes features."""
    if family == "rich":
        return rich_feature_vector(waveform, settings)
    from soundmind.functionals import functional_vector

    return functional_vector(waveform, settings.sample_rate, family)


def frame_features(waveform: np.ndarray, settings: FeatureSettings) -> dict[str, np.ndarray]:
    """Per-frame matrices of every block, all derived from one STFT of the clip."""
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


def rich_feature_vector(waveform: np.ndarray, settings: FeatureSettings) -> np.ndarray:
    """The 392-dim vector: mean then standard deviation over time of each block, in design order."""
    frames = frame_features(np.asarray(waveform, dtype=np.float32), settings)
    parts = []
    for block, _rows in RICH_BLOCKS:
        matrix = frames[block]
        parts.extend([matrix.mean(axis=1), matrix.std(axis=1)])
    # Silent input makes some normalised blocks undefined; zero is their natural value.
    return np.nan_to_num(np.concatenate(parts), nan=0.0, posinf=0.0, neginf=0.0).astype(np.float32)


def select_feature_set(vector: np.ndarray, feature_set: str) -> np.ndarray:
    """Slice a family's vector (or a batch of them) down to ``feature_set``: mfcc40 is the rich vector's head."""
    feature_family(feature_set)
    return vector[..., :40] if feature_set == "mfcc40" else vector


def _features_of_file(path: Path, settings: FeatureSettings) -> np.ndarray:
    return rich_feature_vector(load_audio(path, settings.sample_rate), settings)


def extract_feature_table(
    clips: pd.DataFrame, audio_root: dict[str, Path], settings: FeatureSettings, n_jobs: int = -1
) -> pd.DataFrame:
    """Rich features for every row of ``clips`` (metadata columns + ``path`` + ``origin``).

    ``origin`` names the folder in ``audio_root`` that the row's relative ``path`` is under.
    """
    paths = [audio_root[origin] / path for origin, path in zip(clips["origin"], clips["path"])]
    results = Parallel(n_jobs=n_jobs, return_as="generator")(
        delayed(_features_of_file)(path, settings) for path in paths
    )
    vectors = list(tqdm(results, total=len(paths), desc="features", unit="clip"))
    matrix = np.vstack(vectors) if vectors else np.zeros((0, len(RICH_FEATURE_NAMES)), dtype=np.float32)
    values = pd.DataFrame(matrix, columns=RICH_FEATURE_NAMES, index=clips.index)
    return pd.concat([clips[METADATA_COLUMNS], values], axis=1).reset_index(drop=True)


def clips_to_featurise(manifest: pd.DataFrame, splits: pd.DataFrame, augmented: pd.DataFrame) -> pd.DataFrame:
    """Originals of every split plus the augmented training copies, sorted by clip id."""
    split_of = splits.set_index("clip_id")["split"]
    originals = manifest.assign(
        source_clip=manifest["clip_id"], augmentation="none", origin="raw", split=manifest["clip_id"].map(split_of)
    )
    gender_of = manifest.set_index("clip_id")["gender"]
    copies = augmented.assign(
        gender=augmented["source_clip"].map(gender_of),
        split=augmented["source_clip"].map(split_of),
        origin="augmented",
    )
    columns = METADATA_COLUMNS + ["path", "origin"]
    table = pd.concat([originals[columns], copies[columns]], ignore_index=True)
    return table.sort_values("clip_id").reset_index(drop=True)


def load_feature_matrix(table: pd.DataFrame, feature_set: str) -> np.ndarray:
    return table[feature_names(feature_set)].to_numpy(dtype=np.float32)


def load_family_tables(families: set[str] | list[str], features_dir: Path = Path("features")) -> dict[str, pd.DataFrame]:
    """The feature tables (features/<family>.parquet) of the given families."""
    return {family: pd.read_parquet(features_dir / f"{family}.parquet") for family in sorted(families)}


def family_matrices(tables: dict[str, pd.DataFrame], clip_ids: list[str]) -> dict[str, np.ndarray]:
    """Each family's full vectors for ``clip_ids``, in that order: what bundles' ``probabilities`` take."""
    return {
        family: table.set_index("clip_id").loc[list(clip_ids), feature_names(family)].to_numpy(dtype=np.float32)
        for family, table in tables.items()
    }
