"""Small file helpers: stable JSON, and walking folders that may be symbolic links."""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator


def write_json(path: Path, payload: Any) -> None:
    """Stable JSON (sorted keys, fixed indent) written through a temporary name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    os.replace(temporary, path)


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


def write_table(table: "pandas.DataFrame", path: Path | str) -> None:  # noqa: F821 (pandas imported lazily)
    """A DataFrame as .parquet or .csv (by suffix), through a temporary name: never a half-written table."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    if path.suffix == ".parquet":
        table.to_parquet(temporary, index=False)
    elif path.suffix == ".csv":
        table.to_csv(temporary, index=False)
    else:
        raise ValueError(f"{path}: expected a .parquet or .csv file name")
    os.replace(temporary, path)
