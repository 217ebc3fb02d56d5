"""Small file helpers: stable JSON, and walking folders that may be symbolic links."""

from __future__ import annotations

import json
import os
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
