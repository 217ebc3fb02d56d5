"""Tests for soundmind.data.download against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import io
import random
import re
import socket
import zipfile
from pathlib import Path
from typing import Iterator

import pytest

from soundmind.data.download import download_file, md5_of_file
from soundmind.data.unpack import extract_zip
from soundmind.errors import DownloadError
from tests.http_server import Server, serve

FAST = {"backoff_seconds": 0.01, "timeout_seconds": 5.0, "chunk_size": 4096, "show_progress": False}


def _make_zip() -> bytes:
    """Build a small stored (uncompressed) zip so the body is large enough to cut in half."""
    rng = random.Random(7)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for index in range(1, 4):
            name = f"Actor_01/03-01-0{index}-01-01-01-01.wav"
            archive.writestr(name, rng.randbytes(40_000))
    return buffer.getvalue()


PAYLOAD = _make_zip()
PAYLOAD_MD5 = hashlib.md5(PAYLOAD).hexdigest()


@pytest.fixture
def server() -> Iterator[Server]:
    with serve(PAYLOAD) as running:
        yield running


def _part(destination: Path) -> Path:
    return destination.with_name(destination.name + ".part")


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/Audio_Speech_Actors_01-24.zip"


def test_md5_of_file_matches_hashlib(tmp_path: Path) -> None:
    path = tmp_path / "blob.bin"
    path.write_bytes(PAYLOAD)
    assert md5_of_file(path, chunk_size=1000) == PAYLOAD_MD5


def test_download_writes_verified_file(server: Server, tmp_path: Path) -> None:
    destination = tmp_path / "external" / "corpus.zip"
    result = download_file(server.url, destination, expected_md5=PAYLOAD_MD5, expected_size=len(PAYLOAD), **FAST)
    assert result == destination
    assert destination.read_bytes() == PAYLOAD
    assert not _part(destination).exists()
    assert len(server.plan.seen) == 1
    assert "Range" not in server.plan.seen[0]


@pytest.mark.parametrize("drops", [1, 3])
def test_resumes_with_range_after_dropped_connection(server: Server, tmp_path: Path, drops: int) -> None:
    server.plan.truncate_first = drops
    destination = tmp_path / "corpus.zip"
    download_file(server.url, destination, expected_md5=PAYLOAD_MD5, retries=drops + 1, **FAST)
    assert md5_of_file(destination) == PAYLOAD_MD5
    assert len(server.plan.seen) == drops + 1
    offsets = [int(re.fullmatch(r"bytes=(\d+)-", h["Range"]).group(1)) for h in server.plan.seen[1:]]
    assert offsets == sorted(offsets) and 0 < offsets[0] <= len(PAYLOAD) // 2
    assert offsets[-1] < len(PAYLOAD)


def test_partial_download_is_kept_for_a_later_run(server: Server, tmp_path: Path) -> None:
    server.plan.truncate_first = 1
    destination = tmp_path / "corpus.zip"
    with pytest.raises(DownloadError, match="1 attempt") as caught:
        download_file(server.url, destination, expected_md5=PAYLOAD_MD5, retries=1, **FAST)
    part = _part(destination)
    assert str(part) in str(caught.value)
    kept = part.stat().st_size
    assert 0 < kept < len(PAYLOAD)
    assert not destination.exists()
    download_file(server.url, destination, expected_md5=PAYLOAD_MD5, retries=1, **FAST)
    assert server.plan.seen[1]["Range"] == f"bytes={kept}-"
    assert md5_of_file(destination) == PAYLOAD_MD5


def test_retries_server_errors_then_succeeds(server: Server, tmp_path: Path) -> None:
    server.plan.errors_first = 2
    destination = tmp_path / "corpus.zip"
    download_file(server.url, destination, expected_md5=PAYLOAD_MD5, retries=3, **FAST)
    assert len(server.plan.seen) == 3
    assert destination.read_bytes() == PAYLOAD


def test_persistent_server_error_gives_up_after_retries(server: Server, tmp_path: Path) -> None:
    server.plan.always_status = 500
    destination = tmp_path / "corpus.zip"
    with pytest.raises(DownloadError) as caught:
        download_file(server.url, destination, expected_md5=PAYLOAD_MD5, retries=3, **FAST)
    message = str(caught.value)
    assert server.url in message and "3 attempts" in message and "HTTP 500" in message
    assert len(server.plan.seen) == 3
    assert not destination.exists()


def test_client_error_fails_without_retry(server: Server, tmp_path: Path) -> None:
    server.plan.always_status = 404
    destination = tmp_path / "corpus.zip"
    with pytest.raises(DownloadError, match="HTTP 404"):
        download_file(server.url, destination, retries=5, **FAST)
    assert len(server.plan.seen) == 1
    assert not destination.exists() and not _part(destination).exists()


def test_checksum_mismatch_deletes_download_and_stops_before_extract(server: Server, tmp_path: Path) -> None:
    destination = tmp_path / "corpus.zip"
    extracted = tmp_path / "raw"

    def fetch_and_extract() -> None:
        extract_zip(download_file(server.url, destination, expected_md5="0" * 32, **FAST), extracted)

    with pytest.raises(DownloadError, match=r"(?i)checksum|md5") as caught:
        fetch_and_extract()
    assert PAYLOAD_MD5 in str(caught.value)
    assert not destination.exists()
    assert not _part(destination).exists()
    assert not extracted.exists()


def test_size_mismatch_deletes_download(server: Server, tmp_path: Path) -> None:
    destination = tmp_path / "corpus.zip"
    with pytest.raises(DownloadError, match="Size mismatch"):
        download_file(server.url, destination, expected_size=len(PAYLOAD) + 1, retries=1, **FAST)
    assert not destination.exists() and not _part(destination).exists()


def test_existing_valid_destination_makes_no_request(server: Server, tmp_path: Path) -> None:
    destination = tmp_path / "corpus.zip"
    destination.write_bytes(PAYLOAD)
    assert download_file(server.url, destination, expected_md5=PAYLOAD_MD5, **FAST) == destination
    assert server.plan.seen == []


def test_existing_invalid_destination_is_replaced(server: Server, tmp_path: Path) -> None:
    destination = tmp_path / "corpus.zip"
    destination.write_bytes(b"stale")
    download_file(server.url, destination, expected_md5=PAYLOAD_MD5, **FAST)
    assert len(server.plan.seen) == 1
    assert destination.read_bytes() == PAYLOAD


def test_server_ignoring_range_restarts_from_zero(server: Server, tmp_path: Path) -> None:
    server.plan.ignore_range = True
    destination = tmp_path / "corpus.zip"
    _part(destination).write_bytes(b"x" * 1000)
    download_file(server.url, destination, expected_md5=PAYLOAD_MD5, **FAST)
    assert server.plan.seen[0]["Range"] == "bytes=1000-"
    assert destination.read_bytes() == PAYLOAD


def test_range_not_satisfiable_without_expected_size_restarts(server: Server, tmp_path: Path) -> None:
    destination = tmp_path / "corpus.zip"
    _part(destination).write_bytes(PAYLOAD + b"junk")
    download_file(server.url, destination, expected_md5=PAYLOAD_MD5, **FAST)
    assert len(server.plan.seen) == 2
    assert "Range" in server.plan.seen[0] and "Range" not in server.plan.seen[1]
    assert destination.read_bytes() == PAYLOAD


def test_resumes_existing_part_and_accepts_complete_part_offline(server: Server, tmp_path: Path) -> None:
    destination = tmp_path / "corpus.zip"
    part = _part(destination)
    part.write_bytes(PAYLOAD[:-10])
    download_file(server.url, destination, expected_md5=PAYLOAD_MD5, expected_size=len(PAYLOAD), **FAST)
    assert server.plan.seen[0]["Range"] == f"bytes={len(PAYLOAD) - 10}-"
    assert destination.read_bytes() == PAYLOAD
    # A part of the expected size is verified without asking the server again.
    destination.unlink()
    part.write_bytes(PAYLOAD)
    download_file(_closed_port_url(), destination, expected_md5=PAYLOAD_MD5, expected_size=len(PAYLOAD), **FAST)
    assert len(server.plan.seen) == 1
    assert destination.read_bytes() == PAYLOAD and not part.exists()


def test_offline_failure_says_where_to_put_the_zip(tmp_path: Path) -> None:
    destination = tmp_path / "external" / "Audio_Speech_Actors_01-24.zip"
    url = _closed_port_url()
    with pytest.raises(DownloadError) as caught:
        download_file(url, destination, expected_md5=PAYLOAD_MD5, retries=2, **FAST)
    message = str(caught.value)
    assert url in message and str(destination) in message and "offline" in message
    assert "2 attempts" in message
    assert message.endswith(".") and ". " not in message, "the message should be one sentence"
    assert not destination.exists() and not _part(destination).exists()


def test_offline_with_no_local_copy_the_corpus_step_says_a_folder_works_too(tmp_path: Path) -> None:
    from soundmind.data.corpus import locate_source

    external = tmp_path / "data" / "external"
    with pytest.raises(DownloadError) as caught:
        locate_source("", external, _closed_port_url(), PAYLOAD_MD5, len(PAYLOAD), retries=1, **FAST)
    message = str(caught.value)
    assert str(external / "Audio_Speech_Actors_01-24.zip") in message  # the zip ...
    assert f"ln -s /path/to/ravdess {external}/ravdess" in message and "data.source" in message  # ... or a folder
    assert message.endswith(".") and ". " not in message, "the message should be one sentence"


def test_extract_zip_produces_files_and_replaces_old_folder(tmp_path: Path) -> None:
    archive = tmp_path / "corpus.zip"
    archive.write_bytes(PAYLOAD)
    destination = tmp_path / "raw"
    destination.mkdir()
    (destination / "old.txt").write_text("old")
    assert extract_zip(archive, destination) == destination
    names = sorted(p.relative_to(destination).as_posix() for p in destination.rglob("*.wav"))
    with zipfile.ZipFile(archive) as original:
        assert names == sorted(original.namelist())
        assert (destination / names[0]).read_bytes() == original.read(names[0])
    assert not (destination / "old.txt").exists()
    assert list(tmp_path.glob(".*.tmp")) == []


def test_extract_zip_rejects_corrupt_file(tmp_path: Path) -> None:
    archive = tmp_path / "corpus.zip"
    archive.write_bytes(PAYLOAD[: len(PAYLOAD) // 3])
    destination = tmp_path / "raw"
    with pytest.raises(DownloadError) as caught:
        extract_zip(archive, destination)
    assert str(archive) in str(caught.value)
    assert not destination.exists()
    assert list(tmp_path.glob("*.tmp")) + list(tmp_path.glob(".*.tmp")) == []


@pytest.mark.parametrize("member", ["../evil.txt", "Actor_01/../../evil.txt", "/tmp/evil.txt"])
def test_extract_zip_refuses_zip_slip(tmp_path: Path, member: str) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as handle:
        handle.writestr("Actor_01/ok.wav", b"fine")
        handle.writestr(member, b"evil")
    destination = tmp_path / "out" / "raw"
    with pytest.raises(DownloadError, match="outside"):
        extract_zip(archive, destination)
    assert not destination.exists()
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path / "out" / "evil.txt").exists()
    assert list((tmp_path / "out").glob(".*.tmp")) == []
