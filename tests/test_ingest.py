"""Ingesting a source folder: good corpora land in data/raw, bad files are all named at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from soundmind.data.corpus import locate_source, opened_source
from soundmind.data.ingest import find_local_source, ingest_folder
from soundmind.errors import CorpusError
from tests.tiny_corpus import break_corpus, make_tiny_corpus


def test_ingest_writes_manifest_and_flac(tmp_path):
    clip_ids = make_tiny_corpus(tmp_path / "source", actors=(1, 2))
    manifest = ingest_folder(tmp_path / "source", tmp_path / "raw", 16000, expected_clips=len(clip_ids), n_jobs=1)
    assert sorted(manifest["clip_id"]) == sorted(clip_ids)
    assert (tmp_path / "raw/manifest.parquet").is_file()
    assert all((tmp_path / "raw" / path).is_file() for path in manifest["path"])
    assert manifest["duration_seconds"].between(0.99, 1.01).all()


def test_every_bad_file_is_listed_in_one_error_and_raw_is_untouched(tmp_path):
    make_tiny_corpus(tmp_path / "source", actors=(1, 2))
    expected = break_corpus(tmp_path / "source")
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "keep.txt").write_text("earlier output")
    with pytest.raises(CorpusError) as caught:
        ingest_folder(tmp_path / "source", raw, 16000, expected_clips=32, n_jobs=1)
    message = str(caught.value)
    for name, reason in expected.items():
        line = next(line for line in message.splitlines() if name in line)
        assert reason in line
    assert (raw / "keep.txt").read_text() == "earlier output"
    assert not list(tmp_path.glob(".raw-*"))


def test_skip_mode_goes_on_without_bad_files_and_records_them(tmp_path):
    make_tiny_corpus(tmp_path / "source", actors=(1, 2))
    expected = break_corpus(tmp_path / "source")
    manifest = ingest_folder(tmp_path / "source", tmp_path / "raw", 16000, expected_clips=32, on_bad_file="skip", n_jobs=1)
    skipped_names = {Path(path).name for path in manifest.attrs["skipped"]}
    assert skipped_names == set(expected)
    assert len(manifest) == 32 - 4  # three broken clips and the duplicated one


def test_missing_clips_are_reported_as_an_incomplete_corpus(tmp_path):
    make_tiny_corpus(tmp_path / "source", actors=(1,))
    with pytest.raises(CorpusError, match="found 16 usable clips, expected 1440"):
        ingest_folder(tmp_path / "source", tmp_path / "raw", 16000, expected_clips=1440, n_jobs=1)
    assert not (tmp_path / "raw").exists()


def test_local_sources_are_found_in_external_before_any_download(tmp_path):
    external = tmp_path / "external"
    assert find_local_source(external) is None
    make_tiny_corpus(external / "nested" / "ravdess", actors=(1,))
    assert find_local_source(external) == external / "nested" / "ravdess"
    # A closed port as URL: reaching the network would fail, so success proves it was not needed.
    assert locate_source("", external, "http://127.0.0.1:9/none.zip", "0" * 32, None) == external / "nested" / "ravdess"
    with pytest.raises(CorpusError, match="does not exist"):
        locate_source(str(tmp_path / "missing.zip"), external, "http://127.0.0.1:9/", "0" * 32, None)


def test_a_zip_source_is_extracted_to_scratch_and_removed(tmp_path):
    import shutil

    make_tiny_corpus(tmp_path / "corpus", actors=(1,))
    archive = Path(shutil.make_archive(str(tmp_path / "Audio_Speech_Actors_01-24"), "zip", tmp_path / "corpus"))
    with opened_source(archive, tmp_path / "scratch") as folder:
        assert len(list(folder.rglob("*.wav"))) == 16
    assert list((tmp_path / "scratch").iterdir()) == []
