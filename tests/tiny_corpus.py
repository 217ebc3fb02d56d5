"""A tiny synthetic corpus in the RAVDESS layout: emotions differ in pitch, energy and tempo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile
import soxr

from soundmind.data.ravdess import EMOTIONS, clip_id_for

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


def make_tiny_corpus(
    folder: Path, actors: tuple[int, ...] = (1, 2, 3, 4, 5, 6), sample_rate: int = 16000, seconds: float = 1.0
) -> list[str]:
    """Write Actor_XX/<id>.wav for every emotion and both statements; returns the clip ids.

    One clip is stereo and one is at 22.05 kHz, so ingest's mixing and resampling are exercised.
    """
    clip_ids = []
    for actor in actors:
        for emotion in EMOTIONS:
            for statement in (1, 2):
                clip_id = clip_id_for(emotion, "normal", statement, 1, actor)
                waveform = synthetic_clip(emotion, actor, statement, sample_rate, seconds)
                rate = sample_rate
                if len(clip_ids) == 1:
                    waveform = np.stack([waveform, waveform * 0.5], axis=1)
                if len(clip_ids) == 2:
                    rate = 22050
                    waveform = soxr.resample(waveform, sample_rate, rate)
                path = folder / f"Actor_{actor:02d}" / f"{clip_id}.wav"
                path.parent.mkdir(parents=True, exist_ok=True)
                soundfile.write(str(path), waveform, rate, subtype="PCM_16")
                clip_ids.append(clip_id)
    return clip_ids
