"""Corpora described by a ``labels.csv`` (path, emotion, speaker, gender; nEMO and EMOVO): the table read and
checked before any audio is touched, each problem one sentence naming the file and its line."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import pandas as pd

from soundmind.data.ravdess import EMOTIONS
from soundmind.errors import CorpusError

LABELS_NAME = "labels.csv"
REQUIRED_COLUMNS = ("path", "emotion", "speaker", "gender")
GENDERS = ("female", "male")
FIRST_ROW_LINE = 2  # the header is line 1


@dataclass(frozen=True)
class LabelledCorpus:
    """A corpus read from its labels.csv: its name (clip ids start with it) and the classes it holds."""

    name: str
    emotions: tuple[str, ...]

    def __post_init__(self) -> None:
        unknown = sorted(set(self.emotions) - set(EMOTIONS))
        if unknown:
            raise ValueError(f"corpus {self.name!r}: {unknown} are not among the emotions {', '.join(EMOTIONS)}")


def labelled_clip_id(corpus: str, path: str) -> str:
    """The clip id of one labels.csv row: the corpus name and the file's stem (``nemo_EB0_anger_1``)."""
    return f"{corpus}_{PurePosixPath(path).stem}"


def _read_table(labels_path: Path) -> pd.DataFrame:
    if not labels_path.is_file():
        raise CorpusError(f"{labels_path}: not found; a labelled corpus needs a labels.csv with the columns "
                          f"{', '.join(REQUIRED_COLUMNS)}.")
    try:
        table = pd.read_csv(labels_path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CorpusError(f"{labels_path}: not a readable CSV file ({reason}).") from error
    missing = [column for column in REQUIRED_COLUMNS if column not in table.columns]
    if missing:
        raise CorpusError(f"{labels_path}: lacks the column(s) {', '.join(missing)} "
                          f"(a labels.csv needs {', '.join(REQUIRED_COLUMNS)}).")
    if table.empty:
        raise CorpusError(f"{labels_path}: lists no clips.")
    return table


def _check_rows(table: pd.DataFrame, labels_path: Path, corpus: LabelledCorpus) -> None:
    first_line_of: dict[str, int] = {}
    for index, row in enumerate(table.itertuples(index=False)):
        line = index + FIRST_ROW_LINE
        for column in REQUIRED_COLUMNS:
            if not str(getattr(row, column)).strip():
                raise CorpusError(f"{labels_path}: line {line} has no {column}.")
        relative = PurePosixPath(row.path)
        if relative.is_absolute() or ".." in relative.parts:
            raise CorpusError(f"{labels_path}: line {line} names {row.path}, a path outside the corpus folder.")
        if row.emotion not in EMOTIONS:
            raise CorpusError(f"{labels_path}: line {line} names the emotion {row.emotion!r}, which is not one of "
                              f"{', '.join(EMOTIONS)}.")
        if row.emotion not in corpus.emotions:
            raise CorpusError(f"{labels_path}: line {line} names the emotion {row.emotion!r}, which the "
                              f"{corpus.name} corpus does not hold ({', '.join(corpus.emotions)}).")
        if row.gender not in GENDERS:
            raise CorpusError(f"{labels_path}: line {line} gives the gender {row.gender!r} "
                              f"(expected {' or '.join(GENDERS)}).")
        clip_id = labelled_clip_id(corpus.name, row.path)
        if clip_id in first_line_of:
            raise CorpusError(f"{labels_path}: line {line} names {row.path}, a clip already listed on line "
                              f"{first_line_of[clip_id]} (clip ids come from the file name, {clip_id}).")
        first_line_of[clip_id] = line
    genders = table.groupby("speaker")["gender"].unique()
    for speaker, listed in genders.items():
        if len(listed) > 1:
            raise CorpusError(f"{labels_path}: speaker {speaker} is listed as both {' and '.join(sorted(listed))}.")


def read_labels(folder: Path, corpus: LabelledCorpus) -> pd.DataFrame:
    """Return the checked labels of the corpus in ``folder``: clip_id, path (relative to ``folder``), speaker,
    gender, emotion and corpus, sorted by speaker and clip id. The audio files themselves are checked by ingest."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CorpusError(f"{folder}: the {corpus.name} corpus folder does not exist.")
    labels_path = folder / LABELS_NAME
    table = _read_table(labels_path)
    table = table.assign(**{column: table[column].str.strip() for column in REQUIRED_COLUMNS})
    _check_rows(table, labels_path, corpus)
    labels = pd.DataFrame({
        "clip_id": [labelled_clip_id(corpus.name, path) for path in table["path"]],
        "path": table["path"],
        "speaker": table["speaker"],
        "gender": table["gender"],
        "emotion": table["emotion"],
        "corpus": corpus.name,
    })
    return labels.sort_values(["speaker", "clip_id"]).reset_index(drop=True)
