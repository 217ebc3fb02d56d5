"""Scoring people's own audio with a trained bundle: the one code path behind the CLI and the app."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterable

import numpy as np

from soundmind.audio import AUDIO_SUFFIXES, decode_audio, to_mono_at_rate
from soundmind.errors import SoundmindError
from soundmind.features.frames import FRAMES_FAMILY, FrameSettings, clip_frames
from soundmind.features.sets import family_extractor
from soundmind.models.bundle import METADATA_FILE, AnyBundle, load_bundle

# The ensemble first; every other bundle by the val-actor accuracy it recorded (never by test accuracy).
PREFERRED_MODEL = "ensemble"
MAX_FILE_BYTES = 50 * 1024 * 1024
MIN_SECONDS = 0.25
SILENCE_PEAK = 1e-4
# RAVDESS clips are 3-5 s; longer audio is scored in windows of that size.
WINDOW_SECONDS = 4.0
WINDOW_HOP_SECONDS = 2.0
SAMPLE_RATE_RANGE = (1000, 384_000)


class PredictionError(SoundmindError):
    """The audio or the model cannot be used for a prediction; the message says why in one sentence."""


def available_bundles(models_dir: Path | str = "models") -> list[str]:
    """Names of the trained bundles under ``models_dir``, best first: the ensemble, then by val accuracy."""
    models_dir = Path(models_dir)
    if not models_dir.is_dir():
        return []
    found = sorted(path.name for path in models_dir.iterdir() if (path / METADATA_FILE).is_file())
    return sorted(found, key=lambda name: (name != PREFERRED_MODEL, -_val_accuracy(models_dir / name)))


def _val_accuracy(bundle_dir: Path) -> float:
    """The recorded val accuracy; a broken bundle.json ranks last and fails later with a clear message."""
    try:
        return float(json.loads((bundle_dir / METADATA_FILE).read_text()).get("val_accuracy") or 0.0)
    except (OSError, ValueError, TypeError, AttributeError):
        return 0.0


def resolve_bundle(model: str | Path | None, models_dir: Path | str = "models") -> Path:
    """A bundle folder from a path, a model name under ``models_dir``, or the best one available."""
    models_dir = Path(models_dir)
    if model is None:
        names = available_bundles(models_dir)
        if not names:
            raise PredictionError(f"No trained model in {models_dir}/: run `dvc repro` first (or pass a bundle path).")
        return models_dir / names[0]
    for candidate in (Path(model), models_dir / str(model)):
        if (candidate / METADATA_FILE).is_file():
            return candidate
    known = ", ".join(available_bundles(models_dir)) or "none"
    raise PredictionError(f"{model}: no model bundle by that name or path (trained models: {known}).")


class EmotionPredictor:
    """Predict the emotion of speech with a trained bundle.

    >>> predictor = EmotionPredictor()            # the best bundle under models/
    >>> predictor.predict("clip.wav")["emotion"]
    """

    def __init__(self, bundle: str | Path | None = None, models_dir: str | Path = "models") -> None:
        self.bundle_path = resolve_bundle(bundle, models_dir)
        try:
            self.bundle: AnyBundle = load_bundle(self.bundle_path)
        except (FileNotFoundError, KeyError, ValueError, OSError) as error:
            raise PredictionError(f"{self.bundle_path}: the model bundle cannot be loaded ({error}).") from error
        # The settings each feature table was extracted with, as the bundle copied them from there.
        settings = self.bundle.feature_settings
        self.extractors = {family: extractor_of(family, settings[family]) for family in self.bundle.required_families()}

    @property
    def name(self) -> str:
        return self.bundle.name

    @property
    def sample_rate(self) -> int:
        return self.bundle.sample_rate

    def predict(self, audio: str | Path | bytes | np.ndarray, sample_rate: int | None = None, name: str | None = None) -> dict[str, Any]:
        """Score a file path, the bytes of a file, or a waveform with its sample rate.

        Returns ``{"emotion", "confidence", "probabilities", "model", "duration_seconds"}``; audio
        longer than one window also gets ``"windows"``, the per-window results whose mean is the answer.
        Raises PredictionError with one sentence for anything that cannot be scored.
        """
        waveform = self.waveform(audio, sample_rate, name)
        windows = split_into_windows(waveform, self.sample_rate)
        probabilities = self.bundle.probabilities(self.window_features(windows))
        result = self._describe(probabilities.mean(axis=0))
        result["duration_seconds"] = round(len(waveform) / self.sample_rate, 3)
        if len(windows) > 1:
            result["windows"] = [
                {"start_seconds": round(start / self.sample_rate, 3), **self._describe(row)}
                for (start, _), row in zip(windows, probabilities)
            ]
        return result

    def window_features(self, windows: list[tuple[int, np.ndarray]]) -> dict[str, np.ndarray]:
        """Every feature family the bundle needs, one row per window: the pipeline's own extractors."""
        features: dict[str, Any] = {}
        for family, extract in sorted(self.extractors.items()):
            rows = [extract(window) for _, window in windows]
            # Frames are sequences of different lengths: a list of one array per window, as the frame store gives.
            features[family] = rows if family == FRAMES_FAMILY else np.vstack(rows)
        return features

    def predict_many(self, items: Iterable[str | Path]) -> list[dict[str, Any]]:
        """Score many files; a file that cannot be scored gives ``{"file", "error"}`` instead of stopping the batch."""
        results = []
        for item in items:
            try:
                results.append({"file": str(item), **self.predict(item)})
            except PredictionError as error:
                results.append({"file": str(item), "error": str(error)})
        return results

    def waveform(self, audio: str | Path | bytes | np.ndarray, sample_rate: int | None, name: str | None) -> np.ndarray:
        """Mono audio at the bundle's rate, checked for the problems real-world audio brings."""
        if isinstance(audio, (str, Path)):
            name = name or str(audio)
            audio = read_limited(Path(audio))
        if isinstance(audio, (bytes, bytearray)):
            name = name or "the uploaded audio"
            if len(audio) > MAX_FILE_BYTES:
                raise PredictionError(f"{name}: the file is larger than the {MAX_FILE_BYTES // 2**20} MiB limit.")
            try:
                waveform = decode_audio(bytes(audio), name, self.sample_rate)
            except SoundmindError as error:
                raise PredictionError(str(error)) from error
        else:
            waveform = waveform_from_array(audio, sample_rate, self.sample_rate, name or "the waveform")
        check_scoreable(waveform, self.sample_rate, name or "the waveform")
        return waveform

    def _describe(self, probabilities: np.ndarray) -> dict[str, Any]:
        probabilities = np.asarray(probabilities, dtype=np.float64)
        probabilities = probabilities / probabilities.sum()
        best = int(np.argmax(probabilities))
        return {
            "emotion": self.bundle.labels[best],
            "confidence": float(probabilities[best]),
            "probabilities": {label: float(value) for label, value in zip(self.bundle.labels, probabilities)},
            "model": self.name,
        }


def extractor_of(family: str, settings: dict[str, Any]) -> Callable[[np.ndarray], Any]:
    """Return the function from a waveform to ``family``'s features, made with the ``settings`` the bundle
    recorded: the pipeline's own extractors (the log-mel frames for a CRNN, a vector for the others)."""
    if family == FRAMES_FAMILY:
        frame_settings = FrameSettings(**settings)
        return lambda waveform: clip_frames(waveform, frame_settings)
    return family_extractor(family, settings)


def read_limited(path: Path) -> bytes:
    """Return the bytes of ``path``, refusing folders, unreadable files and files over MAX_FILE_BYTES."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise PredictionError(f"{path}: the file is larger than the {MAX_FILE_BYTES // 2**20} MiB limit.")
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


def check_scoreable(waveform: np.ndarray, sample_rate: int, name: str) -> None:
    """Refuse audio that is too short, not finite or silent, with one sentence naming it."""
    seconds = len(waveform) / sample_rate
    if seconds < MIN_SECONDS:
        raise PredictionError(f"{name}: too short to score ({seconds:.3f} s; at least {MIN_SECONDS} s needed).")
    if not np.all(np.isfinite(waveform)):
        raise PredictionError(f"{name}: the audio holds NaN or infinite samples.")
    if float(np.max(np.abs(waveform))) < SILENCE_PEAK:
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
