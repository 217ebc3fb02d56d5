"""reports/benchmarks.json: each benchmark script writes its own section, keeping the others."""

from __future__ import annotations

import json
import os
import platform
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS_FILE = REPO_ROOT / "reports" / "benchmarks.json"


def machine() -> dict[str, Any]:
    return {"cpu_cores": os.cpu_count(), "machine": platform.machine(), "python": platform.python_version()}


def record(section: str, results: dict[str, Any], path: Path = BENCHMARKS_FILE) -> None:
    """Replace ``section`` of the benchmarks file with ``results`` (stamped with the machine and date)."""
    existing = json.loads(path.read_text()) if path.is_file() else {}
    existing[section] = {**results, "measured_on": {**machine(), "date": time.strftime("%Y-%m-%d")}}
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(existing, indent=2, sort_keys=True) + "\n")
    os.replace(temporary, path)
    print(f"wrote section {section!r} of {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}")
