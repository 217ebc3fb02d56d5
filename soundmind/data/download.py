"""Fetch a file over HTTP with resume, retries and verification."""

from __future__ import annotations

import hashlib
import os
import re
import time
from pathlib import Path

import requests
from tqdm import tqdm

from soundmind.errors import DownloadError

# Failures that a later attempt can cure; everything else from requests is final.
_TRANSIENT_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)
_CONTENT_RANGE = re.compile(r"bytes\s+(\d+)-(\d+)/(\d+|\*)")


class _Transient(Exception):
    """A failure worth another attempt; its message says what went wrong."""


class _Restart(Exception):
    """The partial file could not be resumed and was discarded."""


def md5_of_file(path: Path, chunk_size: int = 1 << 20) -> str:
    """Return the hex MD5 digest of the file at ``path``."""
    digest = hashlib.md5(usedforsecurity=False)
    with Path(path).open("rb") as handle:
        while chunk := handle.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def download_file(
    url: str,
    destination: Path,
    *,
    expected_md5: str | None = None,
    expected_size: int | None = None,
    retries: int = 5,
    backoff_seconds: float = 1.0,
    timeout_seconds: float = 30.0,
    chunk_size: int = 1 << 20,
    show_progress: bool = True,
) -> Path:
    """Download ``url`` to ``destination`` unless a verified copy is already there, and return it.

    A partial download (``<destination>.part``) is resumed; transient failures are retried ``retries``
    times with exponential backoff; the size and MD5, where given, are checked before the rename.
    """
    destination = Path(destination)
    if destination.is_file() and _already_valid(destination, expected_md5, expected_size):
        return destination
    destination.parent.mkdir(parents=True, exist_ok=True)
    part = destination.with_name(destination.name + ".part")
    # A part of exactly the announced size needs no network, which also lets an offline rerun finish.
    if not (expected_size is not None and part.is_file() and part.stat().st_size == expected_size):
        _fetch_with_retries(url, part, destination, expected_size, retries, backoff_seconds,
                            timeout_seconds, chunk_size, show_progress)
    _verify_part(url, part, destination, expected_md5, expected_size)
    os.replace(part, destination)
    return destination


def _already_valid(path: Path, expected_md5: str | None, expected_size: int | None) -> bool:
    """Tell whether an existing file passes the strongest check available."""
    if expected_md5 is not None:
        return md5_of_file(path) == expected_md5.lower()
    if expected_size is not None:
        return path.stat().st_size == expected_size
    return True


def _fetch_with_retries(url: str, part: Path, destination: Path, expected_size: int | None, retries: int,
                        backoff_seconds: float, timeout_seconds: float, chunk_size: int,
                        show_progress: bool) -> None:
    """Run attempts with exponential backoff until ``part`` holds the whole body."""
    attempts = max(retries, 1)
    last_problem = "no attempt was made"
    for attempt in range(attempts):
        try:
            _fetch_once(url, part, expected_size, timeout_seconds, chunk_size, show_progress)
            return
        except _Transient as problem:
            last_problem = str(problem)
        if attempt + 1 < attempts:
            time.sleep(backoff_seconds * 2 ** attempt)
    kept = (f"the partial download at {part} is kept and resumes on the next run, or "
            if part.is_file() and part.stat().st_size else "")
    kind = "zip file" if destination.suffix.lower() == ".zip" else "file"
    noun = "attempt" if attempts == 1 else "attempts"
    raise DownloadError(
        f"Could not download {url} after {attempts} {noun} (last problem: {last_problem}); "
        f"{kept}to work offline place the {kind} at {destination} and run again."
    )


def _fetch_once(url: str, part: Path, expected_size: int | None, timeout_seconds: float,
                chunk_size: int, show_progress: bool) -> None:
    """Make one request, appending to ``part`` when the server honours the range."""
    offset = part.stat().st_size if part.is_file() else 0
    # Identity encoding keeps Content-Length and byte ranges in terms of the file's own bytes.
    headers = {"Accept-Encoding": "identity"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    try:
        with requests.get(url, headers=headers, stream=True, timeout=timeout_seconds) as response:
            _store_response(url, response, part, offset, expected_size, chunk_size, show_progress)
    except _Restart:
        if not offset:
            # Nothing was resumed, so a fresh request would get the same unusable answer.
            raise _Transient("the server sent a byte range that was not asked for") from None
        _fetch_once(url, part, expected_size, timeout_seconds, chunk_size, show_progress)
    except _TRANSIENT_ERRORS as error:
        raise _Transient(_describe(error)) from error
    except requests.RequestException as error:
        raise DownloadError(f"Could not download {url}: {_describe(error)}.") from error
    except OSError as error:
        raise DownloadError(f"Could not write the download of {url} to {part}: {error.strerror or error}.") from error


def _store_response(url: str, response: requests.Response, part: Path, offset: int,
                    expected_size: int | None, chunk_size: int, show_progress: bool) -> None:
    """Write the body of ``response`` into ``part`` according to its status."""
    status = response.status_code
    if status == 416 and offset:
        # Reached when an earlier attempt wrote every byte but failed while closing.
        if expected_size is not None and offset == expected_size:
            return
        _discard(part)
    if status >= 500:
        raise _Transient(f"the server answered HTTP {status}")
    if status not in (200, 206):
        raise DownloadError(f"Could not download {url}: the server answered HTTP {status} {response.reason}.")
    start, total = _body_start_and_total(response)
    if start != offset and start != 0:
        _discard(part)
    mode = "ab" if start else "wb"
    announced = response.headers.get("Content-Length", "")
    body_length = int(announced) if announced.isdigit() else None
    written = 0
    with part.open(mode) as handle, tqdm(total=total, initial=start, unit="B", unit_scale=True,
                                         unit_divisor=1024, desc=part.name.removesuffix(".part"),
                                         disable=not show_progress) as bar:
        for chunk in response.iter_content(chunk_size):
            handle.write(chunk)
            written += len(chunk)
            bar.update(len(chunk))
    if body_length is not None and written < body_length:
        raise _Transient(f"the connection closed after {written} of {body_length} bytes")


def _body_start_and_total(response: requests.Response) -> tuple[int, int | None]:
    """Return where the body starts in the file and the file's total size, if known."""
    length = response.headers.get("Content-Length", "")
    if response.status_code == 200:
        return 0, int(length) if length.isdigit() else None
    match = _CONTENT_RANGE.fullmatch(response.headers.get("Content-Range", "").strip())
    if match is None:
        # A 206 without a usable range cannot be placed in the file safely.
        return -1, None
    start, total = int(match.group(1)), match.group(3)
    return start, int(total) if total.isdigit() else (start + int(length) if length.isdigit() else None)


def _discard(part: Path) -> None:
    """Delete the unusable partial file and ask for a fresh request."""
    part.unlink(missing_ok=True)
    raise _Restart


def _verify_part(url: str, part: Path, destination: Path, expected_md5: str | None,
                 expected_size: int | None) -> None:
    """Check size and MD5 of the finished download, deleting it when it is wrong."""
    size = part.stat().st_size
    if expected_size is not None and size != expected_size:
        part.unlink()
        raise DownloadError(
            f"Size mismatch for the download of {url} into {destination}: expected {expected_size} bytes, "
            f"got {size}; the file was deleted, run the stage again to re-download."
        )
    if expected_md5 is not None:
        actual = md5_of_file(part)
        if actual != expected_md5.lower():
            part.unlink()
            raise DownloadError(
                f"Checksum mismatch for the download of {url} into {destination}: expected MD5 "
                f"{expected_md5.lower()}, got {actual}; the file was deleted, run the stage again to re-download."
            )


def _describe(error: BaseException) -> str:
    """Say in a few words why a request failed; requests' own text is long and nested."""
    if isinstance(error, requests.exceptions.ChunkedEncodingError):
        return "the connection broke off mid-transfer"
    if isinstance(error, requests.Timeout):
        return "the connection timed out"
    reason = _os_reason(error)
    if isinstance(error, requests.ConnectionError):
        return f"could not connect ({reason})" if reason else "could not connect"
    return reason or type(error).__name__


def _os_reason(error: BaseException) -> str | None:
    """Find the innermost operating-system message (e.g. "Connection refused") in an error chain."""
    pending, seen = [error], set()
    while pending:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, OSError) and current.strerror:
            return current.strerror.rstrip(".")
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None), *current.args]
        pending.extend(item for item in linked if isinstance(item, BaseException))
    return None
