"""A tiny synthetic corpus in the RAVDESS layout: emotions differ in pitch, energy and tempo."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile
import soxr

from soundmind.data.ravdess import EMOTIONS, clip_id_for
from soundmind.data.synthetic import synthetic_clip

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


def break_corpus(source: Path) -> dict[str, str]:
    """Damage a tiny corpus in every way the download stage must catch; returns name -> expected reason."""
    actor_folder = source / "Actor_01"
    clips = sorted(actor_folder.glob("*.wav"))
    clips[0].write_bytes(clips[0].read_bytes()[:60])  # truncated inside the data
    clips[1].write_bytes(b"")
    clips[2].write_bytes(b"this is not audio at all" * 10)
    (actor_folder / "03-01-09-01-01-01-01.wav").write_bytes(clips[3].read_bytes())
    (actor_folder / "notes.txt").write_text("not audio")
    duplicate_folder = source / "copy" / "Actor_01"
    duplicate_folder.mkdir(parents=True)
    (duplicate_folder / clips[4].name).write_bytes(clips[4].read_bytes())
    return {
        clips[0].name: "truncated", clips[1].name: "empty", clips[2].name: "decoded",
        "03-01-09-01-01-01-01.wav": "not a RAVDESS", "notes.txt": "not a .wav", clips[4].name: "duplicate",
    }


# nEMO's upstream emotion names -> ours (its copy's README), and a tiny nEMO of three speakers: one per split.
NEMO_RAW = {"anger": "angry", "fear": "fearful", "happiness": "happy", "neutral": "neutral", "sadness": "sad",
            "surprised": "surprised"}
TINY_NEMO_SPEAKERS = {"AB0": "female", "CD0": "male", "EF0": "female"}


def make_tiny_nemo(folder: Path, speakers: dict[str, str] = TINY_NEMO_SPEAKERS, sample_rate: int = 16000,
                   seconds: float = 1.0) -> Path:
    """nEMO's layout (SPEAKER/<SPEAKER>_<emotion>_<n>.flac and labels.csv): one clip per speaker and emotion."""
    import pandas as pd

    rows = []
    for number, (speaker, gender) in enumerate(speakers.items(), start=7):
        for raw, emotion in NEMO_RAW.items():
            path = f"{speaker}/{speaker}_{raw}_1.flac"
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            soundfile.write(str(folder / path), synthetic_clip(emotion, number, 1, sample_rate, seconds), sample_rate)
            rows.append({"path": path, "emotion": emotion, "speaker": speaker, "gender": gender, "emotion_raw": raw})
    pd.DataFrame(rows).to_csv(folder / "labels.csv", index=False)
    return folder
