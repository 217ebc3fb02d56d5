"""The RAVDESS file-name scheme and the metadata it encodes."""

from __future__ import annotations

import re
from dataclasses import dataclass

ACTORS = range(1, 25)
EMOTIONS = ("neutral", "calm", "happy", "sad", "angry", "fearful", "disgust", "surprised")
INTENSITIES = {1: "normal", 2: "strong"}
STATEMENTS = {1: "Kids are talking by the door", 2: "Dogs are sitting by the door"}
# Modality 03 is audio-only, vocal channel 01 is speech.
CLIP_ID_PATTERN = re.compile(r"^03-01-(0[1-8])-(0[12])-(0[12])-(0[12])-(0[1-9]|1[0-9]|2[0-4])$")


@dataclass(frozen=True)
class ClipInfo:
    """The fields a RAVDESS speech clip id encodes."""

    clip_id: str
    actor: int
    gender: str
    emotion: str
    intensity: str
    statement: int
    repetition: int


def parse_clip_id(clip_id: str) -> ClipInfo:
    """Decode a RAVDESS speech clip id such as ``03-01-05-02-01-01-12``.

    Raises ValueError for anything that is not an audio-only speech clip of the scheme.
    """
    match = CLIP_ID_PATTERN.match(clip_id)
    if match is None:
        raise ValueError(
            f"'{clip_id}' is not a RAVDESS speech clip id (expected 03-01-EE-II-SS-RR-AA, "
            "emotion 01-08, intensity/statement/repetition 01-02, actor 01-24)"
        )
    emotion, intensity, statement, repetition, actor = (int(group) for group in match.groups())
    if emotion == 1 and intensity == 2:
        raise ValueError(f"'{clip_id}' is not a RAVDESS clip: neutral has no strong intensity")
    return ClipInfo(
        clip_id=clip_id,
        actor=actor,
        gender=actor_gender(actor),
        emotion=EMOTIONS[emotion - 1],
        intensity=INTENSITIES[intensity],
        statement=statement,
        repetition=repetition,
    )


def actor_gender(actor: int) -> str:
    """RAVDESS actors with odd ids are male, even ids female."""
    if actor not in ACTORS:
        raise ValueError(f"RAVDESS actors are numbered 1-24, got {actor}")
    return "male" if actor % 2 == 1 else "female"


def clip_id_for(emotion: str, intensity: str, statement: int, repetition: int, actor: int) -> str:
    """Build the clip id for the given fields (the inverse of parse_clip_id)."""
    emotion_code = EMOTIONS.index(emotion) + 1
    intensity_code = {name: code for code, name in INTENSITIES.items()}[intensity]
    return f"03-01-{emotion_code:02d}-{intensity_code:02d}-{statement:02d}-{repetition:02d}-{actor:02d}"
