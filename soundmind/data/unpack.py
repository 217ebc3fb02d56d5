"""Unpack a zip archive safely: no member outside the target folder, the old folder replaced only on success."""

from __future__ import annotations

import re
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from soundmind.errors import DownloadError
from soundmind.files import built_in_staging


def extract_zip(zip_path: Path, destination: Path) -> Path:
    """Extract ``zip_path`` into the folder ``destination``, replacing it only once extraction succeeded."""
    zip_path, destination = Path(zip_path), Path(destination)
    with built_in_staging(destination) as staging:
        _extract_into(zip_path, staging)
    return destination


def _extract_into(zip_path: Path, folder: Path) -> None:
    """Extract every member of ``zip_path`` into ``folder`` after refusing unsafe names."""
    try:
        with zipfile.ZipFile(zip_path) as archive:
            for name in archive.namelist():
                _check_member_name(zip_path, name)
            archive.extractall(folder)
    except DownloadError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, NotImplementedError,
            RuntimeError, OSError) as error:
        raise DownloadError(
            f"Could not extract {zip_path}: it is missing, corrupt or not a zip file ({error}); "
            f"delete it and run the stage again."
        ) from error


def _check_member_name(zip_path: Path, name: str) -> None:
    """Refuse members that would land outside the extraction folder (zip slip)."""
    normalised = name.replace("\\", "/")
    pure = PurePosixPath(normalised)
    if pure.is_absolute() or ".." in pure.parts or re.match(r"^[A-Za-z]:", normalised):
        raise DownloadError(
            f"Refusing to extract {zip_path}: member {name!r} would be written outside the target folder."
        )
