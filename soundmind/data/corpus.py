"""Where the corpus comes from: a configured path, a local copy in data/external, or the URL."""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from soundmind.data.download import download_file
from soundmind.data.unpack import extract_zip
from soundmind.errors import CorpusError, DownloadError
from soundmind.files import staging_folder
from soundmind.data.ingest import UPSTREAM_ZIP_NAME, find_local_source


def locate_source(
    configured_source: str, external_dir: Path, url: str, md5: str, size_bytes: int | None, **download_options
) -> Path:
    """Return a zip or folder holding the corpus, downloading the upstream zip only as a last resort
    (``download_options``: retries and timing of ``download_file``)."""
    if configured_source:
        source = Path(configured_source).expanduser()
        if not source.exists():
            raise CorpusError(f"{source}: data.source names a path that does not exist.")
        return source
    local = find_local_source(external_dir)
    if local is not None:
        return local
    try:
        return download_file(url, external_dir / UPSTREAM_ZIP_NAME, expected_md5=md5, expected_size=size_bytes,
                             **download_options)
    except DownloadError as error:
        # A newcomer often has the corpus already unpacked (or converted): say that a folder works too.
        raise DownloadError(
            f"{str(error).rstrip('.')}, or link an extracted copy (the folders Actor_01 to Actor_24 of .wav or .flac files) "
            f"into {external_dir}/, for example `ln -s /path/to/ravdess {external_dir}/ravdess`, "
            "or name it in params.yaml's data.source."
        ) from error


@contextmanager
def opened_source(source: Path, scratch_parent: Path) -> Iterator[Path]:
    """Yield a folder of audio for ``source``; a zip is extracted into a scratch folder removed afterwards."""
    if source.is_dir():
        yield source
        return
    if source.suffix.lower() != ".zip":
        raise CorpusError(f"{source}: expected a .zip archive or a folder of Actor_XX audio.")
    scratch = staging_folder(scratch_parent / "extract")
    try:
        yield extract_zip(source, scratch / "corpus")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
