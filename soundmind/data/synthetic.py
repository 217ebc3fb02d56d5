"""Synthetic speech-like clips whose emotions differ in pitch, energy and tempo: for the test suite's tiny
corpus and for benchmarks run without the real corpus. No pipeline stage uses them."""

from __future__ import annotations

import numpy as np

from soundmind.data.ravdess import EMOTIONS

# emotion -> (fundamental Hz, amplitude, syllables per second)
EMOTION_VOICES = {
    "neutral": (120.0, 0.10, 3.0),
    "calm": (105.0, 0.06, 2.0),
    "happy": (230.0, 0.25, 5.0),
    "sad": (95.0, 0.05, 1.5),
    "angry": (200.0, 0.45, 6.0),
    "fearful": (290.0, 0.20, 7.0),
    "disgust": (140.0, 0.15, 2.5),
    "surprised": (330.0, 0.30, 4.0),
}


def synthetic_clip(emotion: str, actor: int, statement: int, sample_rate: int, seconds: float) -> np.ndarray:
    """A voiced, syllable-modulated tone; the actor shifts the pitch a little, as voices do."""
    fundamental, amplitude, syllable_rate = EMOTION_VOICES[emotion]
    rng = np.random.default_rng(actor * 100 + EMOTIONS.index(emotion) * 10 + statement)
    fundamental *= 1.0 + 0.04 * (actor % 3) + rng.uniform(-0.02, 0.02)
    time = np.arange(int(sample_rate * seconds)) / sample_rate
    voice = sum(np.sin(2 * np.pi * fundamental * harmonic * time) / harmonic for harmonic in range(1, 6))
    envelope = 0.5 * (1 + np.sin(2 * np.pi * syllable_rate * time))
    noise = rng.normal(0, 0.01, size=time.shape)
    return (amplitude * envelope * voice / 2.3 + noise).astype(np.float32)
