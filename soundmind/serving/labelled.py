"""Which emotion each clip of a folder holds, and whose voice it is: from a labels CSV (``path, emotion[, speaker]``,
paths relative to the CSV), or read from file names in a known corpus's scheme (RAVDESS, EmoDB); corpora that name
emotions otherwise are brought to the model's names with a label map (``old=new,...``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import pandas as pd

from soundmind.data.emodb import parse_emodb_name
from soundmind.data.ravdess import parse_clip_id
from soundmind.errors import CorpusError
from soundmind.serving.audio_input import audio_files

LABEL_COLUMNS = ("path", "emotion")


@dataclass(frozen=True)
class LabelledClip:
    """One audio file, its emotion (None: a class no model knows, left out) and its speaker (None: unknown)."""

    path: Path
    emotion: str | None
    speaker: str | None
    source_emotion: str  # the corpus's own name, kept for the notes on what was left out


def read_labels(csv_path: Path) -> list[LabelledClip]:
    """The clips a labels CSV names; a missing file, column or audio file is refused naming the CSV."""
    try:
        table = pd.read_csv(csv_path, dtype=str, skipinitialspace=True)
    except (OSError, ValueError) as error:
        raise CorpusError(f"{csv_path}: the labels file cannot be read ({error}).") from error
    table.columns = [str(column).strip() for column in table.columns]
    missing = [column for column in LABEL_COLUMNS if column not in table.columns]
    if missing or table.empty or table[list(LABEL_COLUMNS)].isna().any().any():
        raise CorpusError(f"{csv_path}: a labels file needs the columns path, emotion (and optionally speaker), "
                          f"filled on every row; {'missing ' + ', '.join(missing) if missing else 'some rows are empty'}.")
    has_speaker = "speaker" in table.columns and table["speaker"].notna().all()
    clips = [LabelledClip(csv_path.parent / row.path.strip(), row.emotion.strip(),
                          row.speaker.strip() if has_speaker else None, row.emotion.strip())
             for row in table.itertuples(index=False)]
    absent = [str(clip.path) for clip in clips if not clip.path.is_file()]
    if absent:
        raise CorpusError(f"{csv_path}: {len(absent)} listed audio file(s) do not exist, the first {absent[0]}.")
    return clips


def clip_from_name(path: Path) -> LabelledClip:
    """The emotion and speaker a RAVDESS or EmoDB file name encodes; ValueError for any other name."""
    try:
        info = parse_clip_id(path.stem)
        return LabelledClip(path, info.emotion, f"{info.actor:02d}", info.emotion)
    except ValueError:
        speaker, emotion, own_name = parse_emodb_name(path.stem)
        return LabelledClip(path, emotion, speaker, own_name)


def labels_from_names(folder: Path) -> list[LabelledClip]:
    """Every audio file under ``folder``, labelled from its name; one that follows no known scheme is refused."""
    clips = []
    for path in audio_files([folder]):
        try:
            clips.append(clip_from_name(path))
        except ValueError as error:
            raise CorpusError(f"{path}: the name follows neither the RAVDESS (03-01-05-01-02-01-12) nor the EmoDB "
                              f"(03a01Fa) scheme; give the emotions in a labels CSV (--labels).") from error
    if not clips:
        raise CorpusError(f"{folder}: holds no audio files (wav, flac, mp3, ogg).")
    return clips


def parse_label_map(text: str) -> dict[str, str]:
    """``old=new,...`` as a mapping; a malformed entry is a ValueError naming it."""
    mapping = {}
    for entry in filter(None, (part.strip() for part in text.split(","))):
        old, separator, new = (side.strip() for side in entry.partition("="))
        if not separator or not old or not new:
            raise ValueError(f"--label-map: '{entry}' is not of the form old=new")
        mapping[old] = new
    return mapping


def usable_clips(clips: Sequence[LabelledClip], label_map: dict[str, str], known: Sequence[str]) -> tuple[list[LabelledClip], list[str]]:
    """The clips whose (mapped) emotion the model knows, and one note per emotion left out with its count."""
    kept, left_out = [], {}
    for clip in clips:
        # The map speaks the corpus's own names (EmoDB's boredom can be mapped too).
        emotion = label_map.get(clip.source_emotion, clip.emotion)
        if emotion in known:
            kept.append(LabelledClip(clip.path, emotion, clip.speaker, clip.source_emotion))
        else:
            left_out[clip.source_emotion] = left_out.get(clip.source_emotion, 0) + 1
    notes = [f"left out {count} clip(s) labelled {name!r}: not one of the model's classes ({', '.join(known)})"
             for name, count in sorted(left_out.items())]
    return kept, notes
