"""Reading, resampling and writing audio: one implementation shared by the pipeline and inference."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile
import soxr

from soundmind.errors import CorpusError


def load_audio(path: Path | str, sample_rate: int) -> np.ndarray:
    """Decode ``path`` to a mono float32 waveform at ``sample_rate``.

    Stereo is mixed down by averaging channels; other rates are resampled once with soxr.
    Raises CorpusError with one sentence when the file cannot be decoded or holds no samples.
    """
    path = Path(path)
    if path.is_file() and path.stat().st_size == 0:
        raise CorpusError(f"{path}: the file is empty (0 bytes).")
    if declared_wav_bytes_missing(path) > 0:
        raise CorpusError(f"{path}: the file is truncated ({declared_wav_bytes_missing(path)} bytes of audio missing).")
    try:
        samples, native_rate = soundfile.read(str(path), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, OSError) as error:
        raise CorpusError(f"{path}: cannot be decoded as audio ({error}).") from error
    if samples.shape[0] == 0:
        raise CorpusError(f"{path}: the file holds no audio samples.")
    return to_mono_at_rate(samples, native_rate, sample_rate)


def declared_wav_bytes_missing(path: Path) -> int:
    """How many bytes shorter a RIFF/WAVE file is than its header says (0 for other formats).

    libsndfile quietly decodes what is there, so a cut-off WAV would otherwise pass as a short clip.
    """
    try:
        with path.open("rb") as handle:
            header = handle.read(12)
    except OSError:
        return 0
    if len(header) < 12 or header[:4] != b"RIFF" or header[8:12] != b"WAVE":
        return 0
    declared_size = int.from_bytes(header[4:8], "little") + 8
    return max(0, declared_size - path.stat().st_size)


def to_mono_at_rate(samples: np.ndarray, native_rate: int, sample_rate: int) -> np.ndarray:
    """Mix a (frames,) or (frames, channels) array to mono and resample it to ``sample_rate``."""
    samples = np.asarray(samples, dtype=np.float32)
    mono = samples.mean(axis=1) if samples.ndim == 2 else samples
    if native_rate != sample_rate:
        mono = soxr.resample(mono, native_rate, sample_rate, quality="VHQ")
    return np.ascontiguousarray(mono, dtype=np.float32)


def write_flac(path: Path, waveform: np.ndarray, sample_rate: int) -> None:
    """Write 16-bit FLAC through a temporary name so a killed run never leaves a half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    clipped = np.clip(waveform, -1.0, 1.0)
    soundfile.write(str(temporary), clipped, sample_rate, format="FLAC", subtype="PCM_16")
    os.replace(temporary, path)
