"""File helpers: every output is written under a temporary name (or folder) and renamed into place, so a
killed run never leaves a half-written file under a final name; stable JSON; walking linked folders."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from contextlib import contextmanager
from typing import Any, Iterator


@contextmanager
def replaced_on_success(path: Path | str) -> Iterator[Path]:
    """Yield a temporary sibling name to write ``path`` under; it is renamed to ``path`` once the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    yield temporary
    os.replace(temporary, path)


def write_json(path: Path | str, payload: Any) -> None:
    """Write stable JSON (sorted keys, fixed indent) through a temporary name."""
    with replaced_on_success(path) as temporary:
        temporary.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")


def walk_paths(folder: Path) -> Iterator[Path]:
    """Every file and folder under ``folder`` in sorted order, following symbolic links
    (a corpus is often linked into data/external rather than copied)."""
    for root, folders, files in os.walk(folder, followlinks=True):
        folders.sort()
        root_path = Path(root)
        for name in folders:
            yield root_path / name
        for name in sorted(files):
            yield root_path / name


def staging_folder(final: Path) -> Path:
    """A new empty sibling of ``final`` to build it in before renaming it into place.

    Staging folders that a killed run left behind for the same ``final`` are removed first, so an
    interrupted stage needs no manual cleanup (DVC never runs one stage twice at once).
    """
    final.parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{final.name}-"
    # Exactly what mkdtemp makes for this name (8 random characters), never a sibling's staging folder.
    own = re.compile(rf"{re.escape(prefix)}[a-z0-9_]{{8}}\.tmp")
    for leftover in final.parent.iterdir():
        if own.fullmatch(leftover.name):
            shutil.rmtree(leftover, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=prefix, suffix=".tmp", dir=final.parent))


@contextmanager
def built_in_staging(final: Path) -> Iterator[Path]:
    """Yield an empty staging folder for ``final``; once the block succeeds it replaces ``final`` (a folder,
    a file or a symbolic link), and the staging folder never outlives the block."""
    staging = staging_folder(final)
    try:
        yield staging
        if final.is_dir() and not final.is_symlink():
            shutil.rmtree(final)
        elif final.exists() or final.is_symlink():
            final.unlink()
        os.replace(staging, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def write_table(
    table: "pandas.DataFrame", path: Path | str, *, metadata: dict[str, str] | None = None  # noqa: F821
) -> None:
    """Write a DataFrame as .parquet or .csv (by suffix) through a temporary name: never a half-written table.

    ``metadata`` (Parquet only) is added to the file's schema metadata.
    """
    path = Path(path)
    if path.suffix not in (".parquet", ".csv"):
        raise ValueError(f"{path}: expected a .parquet or .csv file name")
    if metadata and path.suffix != ".parquet":
        raise ValueError(f"{path}: only a .parquet table can hold metadata")
    with replaced_on_success(path) as temporary:
        if metadata:
            import pyarrow
            import pyarrow.parquet

            arrow = pyarrow.Table.from_pandas(table, preserve_index=False)
            extra = {key.encode(): value.encode() for key, value in metadata.items()}
            pyarrow.parquet.write_table(arrow.replace_schema_metadata({**(arrow.schema.metadata or {}), **extra}), temporary)
        elif path.suffix == ".parquet":
            table.to_parquet(temporary, index=False)
        else:
            table.to_csv(temporary, index=False)
