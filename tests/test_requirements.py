"""requirements.txt installs every third-party module the code imports (scripts/check_imports.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO_ROOT

CHECK = REPO_ROOT / "scripts" / "check_imports.py"


def run_check(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(CHECK), "--project", str(project)], capture_output=True, text=True)


def test_every_module_the_project_imports_is_declared_in_requirements():
    result = run_check(REPO_ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_an_import_installed_only_as_a_dependency_or_not_at_all_is_named(tmp_path):
    (tmp_path / "requirements.txt").write_text("numpy==2.4.6\n-e .\n")
    (tmp_path / "tests").mkdir()
    # numba is installed here, but only because librosa needs it; the last module is installed by nothing.
    (tmp_path / "tests" / "test_something.py").write_text(
        "import numpy\nimport numba.core\nfrom not_a_real_module_xyz import thing\nimport json\nfrom . import local\n"
    )
    result = run_check(tmp_path)
    assert result.returncode == 1
    assert "imports 'numba'" in result.stdout and "imports 'not_a_real_module_xyz'" in result.stdout
    assert "nothing installed provides it" in result.stdout
    assert "'numpy'" not in result.stdout and "'json'" not in result.stdout
