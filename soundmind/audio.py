"""Reading, resampling and writing audio: one implementation shared by the pipeline and inference."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import soundfile
import soxr

from soundmind.errors import CorpusError
from soundmind.files import replaced_on_success

# What decode_audio reads (libsndfile); the corpus itself comes as .wav or .flac (data.ingest).
AUDIO_SUFFIXES = (".wav", ".flac", ".mp3", ".ogg")


def load_audio(path: Path | str, sample_rate: int) -> np.ndarray:
    """Decode the file at ``path`` to a mono float32 waveform at ``sample_rate`` (see decode_audio)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CorpusError(f"{path}: cannot be read ({error.strerror or error}).") from error
    return decode_audio(data, str(path), sample_rate)


def decode_audio(data: bytes, name: str, sample_rate: int) -> np.ndarray:
    """Decode the bytes of an audio file (WAV, FLAC, OGG, MP3) named ``name`` in messages.

    Stereo is mixed down by averaging channels; other rates are resampled once with soxr.
    Raises CorpusError with one sentence when the bytes are empty, truncated or not audio.
    """
    if not data:
        raise CorpusError(f"{name}: the file is empty (0 bytes).")
    missing = declared_wav_bytes_missing(data)
    if missing > 0:
        raise CorpusError(f"{name}: the file is truncated ({missing} bytes of audio missing).")
    try:
        samples, native_rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as error:
        reason = str(error).replace(" : ", ": ").strip() or error.__class__.__name__
        raise CorpusError(f"{name}: cannot be decoded as audio ({reason}).") from error
    if samples.shape[0] == 0:
        raise CorpusError(f"{name}: the file holds no audio samples.")
    return to_mono_at_rate(samples, native_rate, sample_rate)


def declared_wav_bytes_missing(data: bytes) -> int:
    """How many bytes shorter a RIFF/WAVE file is than its header says (0 for other formats).

    libsndfile quietly decodes what is there, so a cut-off WAV would otherwise pass as a short clip.
    """
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return 0
    declared_size = int.from_bytes(data[4:8], "little") + 8
    return max(0, declared_size - len(data))


def to_mono_at_rate(samples: np.ndarray, native_rate: int, sample_rate: int) -> np.ndarray:
    """Mix a (frames,) or (frames, channels) array to mono and resample it to ``sample_rate``."""
    samples = np.asarray(samples, dtype=np.float32)
    mono = samples.mean(axis=1) if samples.ndim == 2 else samples
    if native_rate != sample_rate:
        mono = soxr.resample(mono, native_rate, sample_rate, quality="VHQ")
    return np.ascontiguousarray(mono, dtype=np.float32)


def write_flac(path: Path, waveform: np.ndarray, sample_rate: int) -> None:
    """Write 16-bit FLAC through a temporary name so a killed run never leaves a half file."""
    with replaced_on_success(path) as temporary:
        soundfile.write(str(temporary), np.clip(waveform, -1.0, 1.0), sample_rate, format="FLAC", subtype="PCM_16")
