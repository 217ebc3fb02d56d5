"""The audio people bring, made scoreable: files read with a size limit, bytes decoded, arrays validated, mixed to
mono and resampled, too short or silent audio refused, long audio cut into windows. Every refusal is a
PredictionError with one sentence naming the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

import numpy as np

from soundmind.audio import AUDIO_SUFFIXES, decode_audio, to_mono_at_rate
from soundmind.errors import PredictionError, SoundmindError

MAX_FILE_BYTES = 50 * 1024 * 1024
MIN_SECONDS = 0.25
SILENCE_PEAK = 1e-4
# RAVDESS clips are 3-5 s; longer audio is scored in windows of that size.
WINDOW_SECONDS = 4.0
WINDOW_HOP_SECONDS = 2.0
SAMPLE_RATE_RANGE = (1000, 384_000)


def scoreable_waveform(audio: str | Path | bytes | np.ndarray, sample_rate: int | None, name: str | None,
                       target_rate: int, refuse_silence: bool = True) -> np.ndarray:
    """Mono audio at ``target_rate`` from a path, a file's bytes or an array at ``sample_rate``, checked for the
    problems real-world audio brings. Only uploaded bytes have a size limit: a file on disk may be of any length."""
    from_disk = isinstance(audio, (str, Path))
    if from_disk:
        name = name or str(audio)
        audio = read_file(Path(audio))
    if isinstance(audio, (bytes, bytearray)):
        name = name or "the uploaded audio"
        if not from_disk and len(audio) > MAX_FILE_BYTES:
            raise PredictionError(f"{name}: the file is larger than the {MAX_FILE_BYTES // 2**20} MiB limit.")
        try:
            waveform = decode_audio(bytes(audio), name, target_rate)
        except SoundmindError as error:
            raise PredictionError(str(error)) from error
    else:
        waveform = waveform_from_array(audio, sample_rate, target_rate, name or "the waveform")
    check_scoreable(waveform, target_rate, name or "the waveform", refuse_silence)
    return waveform


def read_file(path: Path) -> bytes:
    """Return the bytes of ``path``, refusing folders and unreadable files."""
    try:
        return path.read_bytes()
    except IsADirectoryError as error:
        raise PredictionError(f"{path}: is a folder, not an audio file.") from error
    except OSError as error:
        raise PredictionError(f"{path}: cannot be read ({error.strerror or error}).") from error


def waveform_from_array(samples: Any, sample_rate: int | None, target_rate: int, name: str) -> np.ndarray:
    """Validate an in-memory waveform ((frames,) or (frames, channels)) and bring it to ``target_rate``."""
    if sample_rate is None or isinstance(sample_rate, bool) or not isinstance(sample_rate, (int, np.integer)):
        raise PredictionError(f"{name}: a waveform needs its sample rate as an integer, got {sample_rate!r}.")
    if not SAMPLE_RATE_RANGE[0] <= sample_rate <= SAMPLE_RATE_RANGE[1]:
        raise PredictionError(
            f"{name}: sample rate {sample_rate} Hz is outside {SAMPLE_RATE_RANGE[0]}-{SAMPLE_RATE_RANGE[1]} Hz."
        )
    try:
        samples = as_unit_float(np.asarray(samples))
    except (TypeError, ValueError) as error:
        raise PredictionError(f"{name}: is not a numeric array of samples.") from error
    if samples.ndim == 2 and samples.shape[0] < samples.shape[1] and samples.shape[0] <= 8:
        samples = samples.T  # (channels, frames), as librosa returns stereo
    if samples.ndim not in (1, 2) or samples.size == 0:
        raise PredictionError(f"{name}: expected a non-empty 1-D or 2-D array of samples, got shape {samples.shape}.")
    if not np.all(np.isfinite(samples)):
        raise PredictionError(f"{name}: the waveform holds NaN or infinite samples.")
    return to_mono_at_rate(samples, int(sample_rate), target_rate)


def as_unit_float(samples: np.ndarray) -> np.ndarray:
    """Float32 audio in [-1, 1]: integer PCM is divided by its full scale, louder floats by their peak."""
    if np.issubdtype(samples.dtype, np.integer):
        return (samples / float(np.iinfo(samples.dtype).max)).astype(np.float32)
    samples = samples.astype(np.float64)
    finite = samples[np.isfinite(samples)]
    peak = float(np.max(np.abs(finite))) if finite.size else 0.0
    # Samples beyond float32's range would overflow to inf in the power spectrum.
    return (samples / peak if peak > 1.0 else samples).astype(np.float32)


def check_scoreable(waveform: np.ndarray, sample_rate: int, name: str, refuse_silence: bool = True) -> None:
    """Refuse audio that is too short, not finite or (unless a speech detector will judge it) silent, with one
    sentence naming it."""
    seconds = len(waveform) / sample_rate
    if seconds < MIN_SECONDS:
        raise PredictionError(f"{name}: too short to score ({seconds:.3f} s; at least {MIN_SECONDS} s needed).")
    if not np.all(np.isfinite(waveform)):
        raise PredictionError(f"{name}: the audio holds NaN or infinite samples.")
    if refuse_silence and float(np.max(np.abs(waveform))) < SILENCE_PEAK:
        raise PredictionError(f"{name}: the audio is silent; there is no speech to score.")


def split_into_windows(waveform: np.ndarray, sample_rate: int) -> list[tuple[int, np.ndarray]]:
    """(start sample, window) pairs: the whole clip when it fits one window, else overlapping windows."""
    window, hop = int(WINDOW_SECONDS * sample_rate), int(WINDOW_HOP_SECONDS * sample_rate)
    if len(waveform) <= window + hop // 2:
        return [(0, waveform)]
    starts = list(range(0, len(waveform) - window + 1, hop))
    if starts[-1] + window < len(waveform):
        starts.append(len(waveform) - window)
    return [(start, waveform[start : start + window]) for start in starts]


def audio_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given, and the audio files inside given folders (sorted, recursively)."""
    found: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found.extend(sorted(item for item in path.rglob("*") if item.suffix.lower() in AUDIO_SUFFIXES and item.is_file()))
        else:
            found.append(path)
    return found
