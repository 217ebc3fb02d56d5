"""Does requirements.txt install every third-party module the project's code imports?

    python scripts/check_imports.py [--project .]

Reads every ``import`` in soundmind/, stages/, app/, tests/, benchmarks/ and scripts/, maps each
third-party top-level module to the distributions that provide it in this environment, and names
every module whose distribution is not a line of requirements.txt (installed only as some other
package's dependency, or not installed at all). A package that arrives only transitively can vanish
with the next release of its parent, so each import must be declared itself. Exit status 1 when
any is undeclared.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

CODE_FOLDERS = ("soundmind", "stages", "app", "tests", "benchmarks", "scripts")


def canonical(name: str) -> str:
    """PEP 503 normalisation: ``Ruamel_Yaml`` and ``ruamel.yaml`` are the same distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared_distributions(requirements: Path) -> set[str]:
    """The distributions named by requirement lines (options such as ``-e .`` and comments skipped)."""
    names = set()
    for line in requirements.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", line)
        if match and not line.startswith("-"):
            names.add(canonical(match.group(0)))
    return names


def imported_modules(path: Path) -> set[str]:
    """Top-level names of the absolute imports in one Python file."""
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def local_modules(project: Path) -> set[str]:
    """Names that resolve inside the project: its top-level packages and modules, and the modules of
    each code folder (scripts put their own folder on sys.path)."""
    names = {path.name for path in project.iterdir() if path.is_dir()} | {path.stem for path in project.glob("*.py")}
    for folder in CODE_FOLDERS:
        names |= {path.stem for path in (project / folder).glob("*.py")}
    return names


def undeclared_imports(project: Path) -> dict[str, list[str]]:
    """``{module: [files importing it]}`` for every third-party module requirements.txt does not install."""
    declared = declared_distributions(project / "requirements.txt")
    providers = packages_distributions()
    local = local_modules(project)
    undeclared: dict[str, set[str]] = {}
    for folder in CODE_FOLDERS:
        for path in sorted((project / folder).rglob("*.py")):
            for module in imported_modules(path):
                if module in sys.stdlib_module_names or module in local or module == "__future__":
                    continue
                distributions = {canonical(name) for name in providers.get(module, [])}
                if not distributions & declared:
                    undeclared.setdefault(module, set()).add(str(path.relative_to(project)))
    return {module: sorted(files) for module, files in sorted(undeclared.items())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", type=Path, default=Path(__file__).resolve().parents[1])
    project = parser.parse_args().project.resolve()
    undeclared = undeclared_imports(project)
    providers = packages_distributions()
    for module, files in undeclared.items():
        installed_by = ", ".join(sorted(providers.get(module, []))) or "nothing installed provides it"
        print(f"{files[0]}: imports {module!r}, which requirements.txt does not install ({installed_by}).")
    if undeclared:
        sys.exit(1)
    print("every third-party module the code imports is installed by requirements.txt")


if __name__ == "__main__":
    main()
