"""Log-mel frames of a clip for the CRNN: silence trimmed at both ends, stored as float16 decibels.

``clip_frames`` is the one function that turns a waveform into frames, in the extract-frames stage and
at prediction time. The store (features/frames/) keeps the trimmed, unnormalised decibels, so each
protocol normalises them its own way at read time: per clip and band (``standardise_per_band``), or
with each actor's band statistics over its clips (``speaker_normalise_frames``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np

from soundmind.audio import load_audio
from soundmind.features.spectral import one_blas_thread
# speaker_normalise_frames lives in normalise.py with the other speaker statistics; importable from here too.
from soundmind.features.normalise import FLAT_BAND, speaker_normalise_frames, standardise, statistics  # noqa: F401

FRAMES_FAMILY = "frames"  # the family name of the frames in feature settings, bundles and features/
# Floor of the power spectrum before the logarithm: -100 dB, far below any recorded room noise.
POWER_FLOOR = 1e-10


@dataclass(frozen=True)
class FrameSettings:
    """How frames are computed; recorded in the frame store's index and copied into every CRNN bundle."""

    sample_rate: int = 16000
    n_mels: int = 64
    window_seconds: float = 0.025
    hop_seconds: float = 0.010
    trim_top_db: float = 35.0
    trim_margin_seconds: float = 0.1

    def __post_init__(self) -> None:
        if self.sample_rate <= 0 or self.n_mels <= 0:
            raise ValueError(f"sample_rate and n_mels must be positive, got {self.sample_rate}, {self.n_mels}")
        if not 0 < self.hop_seconds <= self.window_seconds:
            raise ValueError(f"need 0 < hop_seconds <= window_seconds, got {self.hop_seconds}, {self.window_seconds}")
        if self.trim_top_db <= 0 or self.trim_margin_seconds < 0:
            raise ValueError(f"trim_top_db must be positive and trim_margin_seconds non-negative, "
                             f"got {self.trim_top_db}, {self.trim_margin_seconds}")

    @property
    def hop_length(self) -> int:
        return max(1, round(self.hop_seconds * self.sample_rate))

    @property
    def window_length(self) -> int:
        return max(self.hop_length, round(self.window_seconds * self.sample_rate))

    @property
    def n_fft(self) -> int:
        return int(2 ** np.ceil(np.log2(self.window_length)))

    def frames_in(self, seconds: float) -> int:
        """The number of frames that ``seconds`` of audio make (a crop's length)."""
        return max(1, round(seconds / self.hop_seconds))


def frame_settings_from_params(params: dict) -> FrameSettings:
    """Return the settings of ``frames.*`` and ``audio.sample_rate``; a bad value is named as a params key."""
    from soundmind.errors import ParamsError
    from soundmind.params import is_number, require, require_positive_int

    numbers = {}
    for key in ("window_seconds", "hop_seconds", "trim_top_db", "trim_margin_seconds"):
        value = require(params, f"frames.{key}")
        if not is_number(value):
            raise ParamsError(f"params.yaml: 'frames.{key}' must be a number, got {value!r}.")
        numbers[key] = float(value)
    try:
        return FrameSettings(sample_rate=require_positive_int(params, "audio.sample_rate"),
                             n_mels=require_positive_int(params, "frames.n_mels"), **numbers)
    except ValueError as error:
        raise ParamsError(f"params.yaml: frames: {error}.") from error


def log_mel(waveform: np.ndarray, settings: FrameSettings) -> np.ndarray:
    """Return the (frames, n_mels) log-mel power in dB of a waveform."""
    waveform = np.asarray(waveform, dtype=np.float32)
    if len(waveform) < settings.n_fft:
        waveform = np.pad(waveform, (0, settings.n_fft - len(waveform)))
    # One BLAS thread, as for the rich vector: the extraction workers' count, so that the predictor's frames are the
    # stored ones to the last bit (and no idle BLAS thread spins on a core the openSMILE threads need).
    with one_blas_thread():
        power = librosa.feature.melspectrogram(
            y=waveform, sr=settings.sample_rate, n_fft=settings.n_fft, hop_length=settings.hop_length,
            win_length=settings.window_length, n_mels=settings.n_mels, power=2.0,
        )
    return (10.0 * np.log10(np.maximum(power, POWER_FLOOR))).T


def voiced_span(decibels: np.ndarray, settings: FrameSettings) -> tuple[int, int]:
    """Return [start, stop) of the frames from the first to the last within ``trim_top_db`` of the loudest
    frame, widened by the margin on each side."""
    energy = 10.0 * np.log10(np.maximum(np.sum(10.0 ** (decibels / 10.0), axis=1), POWER_FLOOR))
    loud = np.flatnonzero(energy >= energy.max() - settings.trim_top_db)
    margin = round(settings.trim_margin_seconds / settings.hop_seconds)
    return max(0, int(loud[0]) - margin), min(len(decibels), int(loud[-1]) + 1 + margin)


def clip_frames(waveform: np.ndarray, settings: FrameSettings) -> np.ndarray:
    """Return a clip's log-mel frames in dB, leading and trailing silence trimmed, as float16 (what the
    store holds; prediction rounds the same way so that it sees exactly what training saw)."""
    decibels = log_mel(waveform, settings)
    start, stop = voiced_span(decibels, settings)
    return decibels[start:stop].astype(np.float16)


def frames_of_file(path: Path, settings: FrameSettings) -> np.ndarray:
    """Return the frames of the audio file at ``path`` (what each extraction worker runs)."""
    return clip_frames(load_audio(path, settings.sample_rate), settings)


def standardise_per_band(frames: np.ndarray) -> np.ndarray:
    """Return one clip's frames with each mel band at zero mean and unit deviation over the clip's own frames
    (uses the clip alone, so it is legitimate in the plain protocol)."""
    frames = np.asarray(frames, dtype=np.float32)
    return standardise(frames, *statistics(frames), FLAT_BAND)
