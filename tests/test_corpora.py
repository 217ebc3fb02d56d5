"""The labelled training corpora beside RAVDESS (nEMO, EMOVO): each reader on a tiny folder in its corpus's layout,
every malformed labels.csv refused in one sentence naming the file, and whole-speaker splits of string speakers."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest
import soundfile

from soundmind.audio import write_flac
from soundmind.data.emovo import read_emovo
from soundmind.data.labelled import LABELS_NAME, LabelledCorpus, read_labels
from soundmind.data.nemo import read_nemo
from soundmind.data.corpora import combined_manifest, corpus_folder, ingest_labelled_corpus
from soundmind.data.corpus_names import corpus_of_clip
from soundmind.data.split import assign_corpus_speakers, assign_speakers, check_whole_speakers
from soundmind.data.synthetic import synthetic_clip
from soundmind.errors import CorpusError, ParamsError
from tests.tiny_corpus import TINY_NEMO_SPEAKERS, make_tiny_nemo

SAMPLE_RATE = 16000
# upstream label -> our name, as in each copy's README
NEMO_RAW = {"anger": "angry", "fear": "fearful", "happiness": "happy", "neutral": "neutral", "sadness": "sad",
            "surprised": "surprised"}
EMOVO_RAW = {"dis": "disgust", "gio": "happy", "neu": "neutral", "pau": "fearful", "rab": "angry",
             "sor": "surprised", "tri": "sad"}


def _write_corpus(folder: Path, rows: list[dict]) -> Path:
    for index, row in enumerate(rows):
        write_flac(folder / row["path"], synthetic_clip(row["emotion"], index % 5, 1, SAMPLE_RATE, 0.3), SAMPLE_RATE)
    pd.DataFrame(rows).to_csv(folder / LABELS_NAME, index=False)
    return folder


def tiny_nemo(folder: Path) -> Path:
    """nEMO's layout: SPEAKER/<SPEAKER>_<emotion>_<n>.flac."""
    speakers = {"EB0": "female", "KS0": "male"}
    rows = [
        {"path": f"{speaker}/{speaker}_{raw}_{number}.flac", "emotion": emotion, "speaker": speaker,
         "gender": gender, "sentence": "Lubię czytać przed snem.", "emotion_raw": raw}
        for speaker, gender in speakers.items() for raw, emotion in NEMO_RAW.items() for number in (1, 3)
    ]
    return _write_corpus(folder, rows)


def tiny_emovo(folder: Path) -> Path:
    """EMOVO's layout: SPEAKER/<emotion>-<SPEAKER>-<sentence>.flac."""
    speakers = {"f1": "female", "m1": "male"}
    rows = [
        {"path": f"{speaker}/{raw}-{speaker}-{sentence}.flac", "emotion": emotion, "speaker": speaker,
         "gender": gender, "sentence": sentence, "emotion_raw": raw}
        for speaker, gender in speakers.items() for raw, emotion in EMOVO_RAW.items() for sentence in ("b1", "d1")
    ]
    return _write_corpus(folder, rows)


def test_the_nemo_reader_gives_every_clip_its_speaker_emotion_and_corpus(tmp_path):
    labels = read_nemo(tiny_nemo(tmp_path))
    assert len(labels) == 2 * 6 * 2
    assert set(labels["emotion"]) == set(NEMO_RAW.values())  # no calm, no disgust: absent, not invented
    assert set(labels["corpus"]) == {"nemo"}
    first = labels.iloc[0]
    assert (first["clip_id"], first["speaker"], first["gender"]) == ("nemo_EB0_anger_1", "EB0", "female")
    assert all((tmp_path / path).is_file() for path in labels["path"])


def test_the_emovo_reader_keeps_the_speakers_whole_and_the_clip_ids_unique(tmp_path):
    labels = read_emovo(tiny_emovo(tmp_path))
    assert len(labels) == labels["clip_id"].nunique() == 2 * 7 * 2
    assert labels.groupby("speaker")["gender"].unique().map(list).to_dict() == {"f1": ["female"], "m1": ["male"]}
    assert "emovo_dis-f1-b1" in set(labels["clip_id"])


def _rewrite_labels(folder: Path, edit) -> Path:
    table = pd.read_csv(folder / LABELS_NAME, dtype=str, keep_default_na=False)
    edit(table)
    table.to_csv(folder / LABELS_NAME, index=False)
    return folder / LABELS_NAME


def test_a_missing_labels_file_or_folder_is_refused_naming_it(tmp_path):
    folder = tiny_nemo(tmp_path / "nemo")
    (folder / LABELS_NAME).unlink()
    with pytest.raises(CorpusError, match=rf"^{re.escape(str(folder / LABELS_NAME))}: not found"):
        read_nemo(folder)
    with pytest.raises(CorpusError, match=rf"^{re.escape(str(tmp_path / 'absent'))}: the nemo corpus folder does not exist"):
        read_nemo(tmp_path / "absent")


@pytest.mark.parametrize("content, problem", [
    ("path,emotion,speaker\nEB0/a.flac,angry,EB0\n", "lacks the column\\(s\\) gender"),
    ("path,emotion,speaker,gender\n", "lists no clips"),
    ("", "not a readable CSV file"),
    ('path,emotion,speaker,gender\n"EB0/a.flac,angry,EB0,female\n', "not a readable CSV file"),
    (b"\xff\xfe\x00p\x00a".decode("latin-1"), "not a readable CSV file"),
])
def test_a_malformed_labels_file_is_refused_in_one_sentence_naming_it(tmp_path, content, problem):
    (tmp_path / LABELS_NAME).write_text(content, encoding="latin-1")
    with pytest.raises(CorpusError, match=rf"^{re.escape(str(tmp_path / LABELS_NAME))}: {problem}") as caught:
        read_nemo(tmp_path)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("edit, problem", [
    (lambda table: table.loc.__setitem__((3, "emotion"), "boredom"), "line 5 names the emotion 'boredom', which is not one of"),
    (lambda table: table.loc.__setitem__((0, "emotion"), "calm"), "line 2 names the emotion 'calm', which the nemo corpus does not hold"),
    (lambda table: table.loc.__setitem__((2, "gender"), "f"), "line 4 gives the gender 'f'"),
    (lambda table: table.loc.__setitem__((1, "speaker"), " "), "line 3 has no speaker"),
    (lambda table: table.loc.__setitem__((0, "path"), "../elsewhere/EB0_anger_1.flac"), "line 2 names ../elsewhere/EB0_anger_1.flac, a path outside"),
    (lambda table: table.loc.__setitem__((1, "path"), table.loc[0, "path"]), "line 3 names EB0/EB0_anger_1.flac, a clip already listed on line 2"),
    (lambda table: table.loc.__setitem__((0, "gender"), "male"), "speaker EB0 is listed as both female and male"),
])
def test_a_bad_row_is_refused_naming_the_file_and_its_line(tmp_path, edit, problem):
    labels_path = _rewrite_labels(tiny_nemo(tmp_path), edit)
    with pytest.raises(CorpusError, match=rf"^{re.escape(str(labels_path))}: {problem}"):
        read_nemo(tmp_path)


def test_a_corpus_cannot_claim_an_emotion_we_do_not_have():
    with pytest.raises(ValueError, match="boredom"):
        LabelledCorpus(name="emodb", emotions=("angry", "boredom"))


def test_a_labelled_corpus_reads_with_any_folder_layout(tmp_path):
    corpus = LabelledCorpus(name="tiny", emotions=("sad", "happy"))
    rows = [{"path": "clips/one.flac", "emotion": "sad", "speaker": "s1", "gender": "female"},
            {"path": "two.flac", "emotion": "happy", "speaker": "s2", "gender": "male"}]
    labels = read_labels(_write_corpus(tmp_path, rows), corpus)
    assert list(labels["clip_id"]) == ["tiny_one", "tiny_two"]


GENDERS = {"EB0": "female", "IC0": "female", "KD0": "female", "MK0": "female",
           "KS0": "male", "MP0": "male", "SM0": "male", "TP0": "male", "WR0": "male"}
KEYS = ("split.corpora.nemo.test_speakers", "split.corpora.nemo.val_speakers")


def test_speakers_are_drawn_whole_seeded_and_gender_balanced():
    first = assign_speakers(GENDERS, [], [], 2, 2, seed=3, keys=KEYS)
    assert first == assign_speakers(GENDERS, [], [], 2, 2, seed=3, keys=KEYS)
    assert set(first) == set(GENDERS)
    for split in ("test", "val"):
        drawn = [speaker for speaker, name in first.items() if name == split]
        assert sorted(GENDERS[speaker] for speaker in drawn) == ["female", "male"]


def test_a_speaker_named_in_two_splits_is_refused_naming_both_keys():
    with pytest.raises(ParamsError, match=r"^params.yaml: 'split.corpora.nemo.test_speakers' and "
                                          r"'split.corpora.nemo.val_speakers' share speakers \['KS0'\]"):
        assign_speakers(GENDERS, ["EB0", "KS0"], ["KS0", "IC0"], 2, 2, seed=0, keys=KEYS)
    with pytest.raises(ParamsError, match=r"names speakers \['XX9'\] that are not in the corpus"):
        assign_speakers(GENDERS, ["XX9"], ["IC0"], 1, 1, seed=0, keys=KEYS)


def test_a_split_table_with_a_speaker_in_two_splits_is_refused_naming_the_file(tmp_path):
    splits = pd.DataFrame({"corpus": ["nemo", "nemo", "emovo", "emovo"], "speaker": ["EB0", "EB0", "m1", "m1"],
                           "split": ["train", "train", "val", "test"]})
    with pytest.raises(ParamsError, match=r"^data/splits.csv: speaker emovo/m1 has clips in more than one split "
                                          r"\(test, val\)"):
        check_whole_speakers(splits, "data/splits.csv", ["corpus", "speaker"])
    # the same speaker id in two corpora is two speakers
    splits.loc[3, "split"] = "val"
    splits.loc[0:1, "speaker"] = "m1"
    check_whole_speakers(splits, "data/splits.csv", ["corpus", "speaker"])


def test_ingest_writes_a_labelled_corpus_under_its_name_with_speaker_numbers_that_never_move(tmp_path):
    source = make_tiny_nemo(tmp_path / "nemo")
    rows = ingest_labelled_corpus("nemo", source, tmp_path / "raw", SAMPLE_RATE, n_jobs=1)
    assert len(rows) == len(TINY_NEMO_SPEAKERS) * 6 and rows["clip_id"].is_unique
    assert set(rows["corpus"]) == {"nemo"} and rows.attrs["skipped"] == {}
    # nEMO's speakers number from 101 in sorted order, whatever else is ingested beside them.
    assert rows.groupby("speaker")["actor"].first().to_dict() == {"AB0": 101, "CD0": 102, "EF0": 103}
    for path in rows["path"]:
        assert path.startswith("nemo/")
        info = soundfile.info(str(tmp_path / "raw" / path))
        assert (info.channels, info.samplerate, info.format) == (1, SAMPLE_RATE, "FLAC")
    assert {corpus_of_clip(clip_id) for clip_id in rows["clip_id"]} == {"nemo"}


def test_a_bad_clip_of_a_labelled_corpus_is_named_and_nothing_is_written_or_it_is_skipped(tmp_path):
    source = make_tiny_nemo(tmp_path / "nemo")
    broken = source / "CD0" / "CD0_anger_1.flac"
    broken.write_bytes(b"not audio at all" * 20)
    with pytest.raises(CorpusError, match=re.escape(str(broken))):
        ingest_labelled_corpus("nemo", source, tmp_path / "raw", SAMPLE_RATE, n_jobs=1)
    assert not (tmp_path / "raw" / "nemo").exists()
    rows = ingest_labelled_corpus("nemo", source, tmp_path / "raw", SAMPLE_RATE, on_bad_file="skip", n_jobs=1)
    assert len(rows) == len(TINY_NEMO_SPEAKERS) * 6 - 1 and list(rows.attrs["skipped"]) == [str(broken)]


def test_a_missing_corpus_folder_is_named_with_how_to_provide_it(tmp_path):
    with pytest.raises(CorpusError, match=r"external/nemo: the nemo corpus folder does not exist \(link a copy"):
        corpus_folder("nemo", "", tmp_path / "external")
    with pytest.raises(CorpusError, match=r"/nowhere/emovo: .*corpora\.emovo\.source names it"):
        corpus_folder("emovo", "/nowhere/emovo", tmp_path)


def test_a_clip_id_tells_its_corpus_copies_included():
    assert corpus_of_clip("nemo_EB0_anger_1") == corpus_of_clip("nemo_EB0_anger_1_aug2") == "nemo"
    assert corpus_of_clip("emovo_dis-f1-b1_telephone") == "emovo"
    assert corpus_of_clip("03-01-05-02-01-01-12") == corpus_of_clip("03-01-05-02-01-01-12_aug0") == "ravdess"


def test_a_ravdess_only_manifest_keeps_its_columns_and_a_combined_one_tells_each_clips_corpus(tmp_path):
    ravdess = pd.DataFrame({"clip_id": ["03-01-01-01-01-01-02", "03-01-01-01-01-01-01"], "actor": [2, 1],
                            "path": ["Actor_02/a.flac", "Actor_01/b.flac"]})
    assert combined_manifest(ravdess, []) is ravdess
    nemo = ingest_labelled_corpus("nemo", make_tiny_nemo(tmp_path / "nemo"), tmp_path / "raw", SAMPLE_RATE, n_jobs=1)
    combined = combined_manifest(ravdess, [nemo])
    assert combined["actor"].tolist() == sorted(combined["actor"]) and combined["actor"].iloc[0] == 1
    assert combined.groupby("corpus").size().to_dict() == {"nemo": len(nemo), "ravdess": 2}
    assert combined.loc[combined["corpus"] == "ravdess", "speaker"].tolist() == ["Actor_01", "Actor_02"]


def test_each_corpus_splits_its_speakers_by_its_own_lists_and_refuses_an_unknown_one(tmp_path):
    rows = ingest_labelled_corpus("nemo", make_tiny_nemo(tmp_path / "nemo"), tmp_path / "raw", SAMPLE_RATE, n_jobs=1)
    block = {"test_speakers": ["EF0"], "val_speakers": ["CD0"]}
    assert assign_corpus_speakers(rows, block, "nemo", seed=1) == {101: "train", 102: "val", 103: "test"}
    drawn = assign_corpus_speakers(rows, {"n_test_speakers": 1, "n_val_speakers": 1}, "nemo", seed=1)
    assert sorted(drawn.values()) == ["test", "train", "val"]
    with pytest.raises(ParamsError, match=r"'corpora\.nemo\.test_speakers' names speakers \['XX9'\]"):
        assign_corpus_speakers(rows, {"test_speakers": ["XX9"], "val_speakers": ["CD0"]}, "nemo", seed=1)
