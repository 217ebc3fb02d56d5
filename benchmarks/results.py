"""reports/benchmarks.json: each benchmark script writes its own section, keeping the others."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from soundmind.files import write_json  # noqa: E402

BENCHMARKS_FILE = REPO_ROOT / "reports" / "benchmarks.json"


def machine() -> dict[str, Any]:
    return {"cpu_cores": os.cpu_count(), "machine": platform.machine(), "python": platform.python_version()}


def record(section: str, results: dict[str, Any], path: Path = BENCHMARKS_FILE) -> None:
    """Replace ``section`` of the benchmarks file with ``results`` (stamped with the machine and date)."""
    existing = json.loads(path.read_text()) if path.is_file() else {}
    existing[section] = {**results, "measured_on": {**machine(), "date": time.strftime("%Y-%m-%d")}}
    write_json(path, existing)
    print(f"wrote section {section!r} of {path.relative_to(REPO_ROOT) if path.is_relative_to(REPO_ROOT) else path}")
