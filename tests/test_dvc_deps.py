"""dvc.yaml's code deps are exactly the package modules each stage's script can reach by imports.

A static walk of the import statements, lazy (function-level) imports included: a module a stage can
import is code that can shape its outputs. Not followed, and not declared (see dvc.yaml's header):
soundmind/checks.py and soundmind/stage.py (they can stop a stage, never change what it writes),
soundmind/errors.py (exception classes: the sentence a stage stops with), soundmind/native_output.py (what native
libraries print at start-up, kept off the terminal), and the packages' ``__init__.py`` files, which hold docstrings only (checked below).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
import yaml

from tests.conftest import REPO_ROOT

# soundmind/native_output.py only filters what native libraries print to stderr at start-up.
UNDECLARED = {"soundmind/checks.py", "soundmind/stage.py", "soundmind/errors.py", "soundmind/native_output.py"}
# soundmind/__init__.py only sets TensorFlow's log level, which changes what is printed, not what is written.
IMPORT_FREE_INITS = {"soundmind/__init__.py"}


def module_file(module: str) -> str | None:
    """The repository path of a soundmind module (``soundmind.features.tables``), None for a package or no module."""
    path = REPO_ROOT / Path(*module.split("."))
    if path.with_suffix(".py").is_file():
        return path.with_suffix(".py").relative_to(REPO_ROOT).as_posix()
    return None


def imported_modules(path: Path) -> set[str]:
    """Every soundmind module named by an import statement anywhere in the file (top level or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # `from soundmind.features import tables` imports the module soundmind.features.tables.
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        for name in names:
            if name.split(".")[0] == "soundmind" and module_file(name):
                found.add(module_file(name))
    return found


def reachable_modules(script: Path) -> set[str]:
    """The package modules ``script`` reaches through imports, not following the undeclared ones."""
    seen: set[str] = set()
    pending = list(imported_modules(script))
    while pending:
        module = pending.pop()
        if module in seen or module in UNDECLARED:
            continue
        seen.add(module)
        pending.extend(imported_modules(REPO_ROOT / module))
    return seen


def stages() -> dict[str, dict]:
    return yaml.safe_load((REPO_ROOT / "dvc.yaml").read_text())["stages"]


def stage_script(stage: dict) -> Path:
    module = stage["cmd"].split()[2]  # python -m stages.<name> [arguments]
    return REPO_ROOT / Path(*module.split(".")).with_suffix(".py")


@pytest.mark.parametrize("name", sorted(stages()))
def test_a_stage_declares_exactly_the_package_modules_its_script_reaches(name):
    stage = stages()[name]
    script = stage_script(stage)
    declared = {dep for dep in stage["deps"] if dep.startswith("soundmind/")}
    reachable = reachable_modules(script)
    assert script.relative_to(REPO_ROOT).as_posix() in stage["deps"] and "stages/__init__.py" in stage["deps"]
    assert sorted(reachable - declared) == [], f"{name}: modules its script imports but dvc.yaml does not declare"
    assert sorted(declared - reachable) == [], f"{name}: modules dvc.yaml declares that its script never imports"
    assert not declared & UNDECLARED


def test_the_walk_follows_lazy_imports_and_skips_the_undeclared_modules():
    # recipes.py imports keras_training inside a function; keras_training imports networks at top level.
    reached = reachable_modules(REPO_ROOT / "soundmind" / "models" / "recipes.py")
    assert {"soundmind/models/keras_training.py", "soundmind/models/networks.py"} <= reached
    # data/split.py imports checks.py, whose own imports (features.parallel among them) are not followed.
    assert reachable_modules(REPO_ROOT / "soundmind" / "data" / "split.py").isdisjoint(
        UNDECLARED | {"soundmind/features/parallel.py"}
    )


def test_package_init_files_import_nothing_of_soundmind():
    for init in sorted((REPO_ROOT / "soundmind").rglob("__init__.py")):
        assert imported_modules(init) == set(), init
    for init in IMPORT_FREE_INITS:
        tree = ast.parse((REPO_ROOT / init).read_text())
        assert not any(isinstance(node, ast.ImportFrom) for node in ast.walk(tree)), init


def test_stages_init_imports_nothing_of_soundmind():
    # It pins numpy's and OpenBLAS's CPU paths, which only works before numpy loads (see its docstring).
    assert imported_modules(REPO_ROOT / "stages" / "__init__.py") == set()
    tree = ast.parse((REPO_ROOT / "stages" / "__init__.py").read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    assert imported <= {"os", "platform"}


def declared_models(stage: dict) -> list[str]:
    return [dep.removeprefix("models/") for dep in stage["deps"] if dep.startswith("models/") and "." not in dep]


def test_stages_that_read_every_model_declare_exactly_the_bundles_params_yaml_names():
    from soundmind.models.onnx_export import exported_models
    from soundmind.params import calibrated_models, ensemble_members, load_params, model_names

    params, declared = load_params(REPO_ROOT / "params.yaml"), stages()
    # The one list of models is params.yaml's train block: adding a model there without its deps here fails.
    assert sorted(declared_models(declared["evaluate"])) == sorted(model_names(params))
    assert sorted(declared_models(declared["calibrate"])) == sorted(calibrated_models(params))
    assert sorted(declared_models(declared["train-ensemble"])) == sorted(ensemble_members(params["train"], "ensemble"))
    assert sorted(declared_models(declared["export"])) == sorted(exported_models(params))
    assert {f"train-{name}" for name in model_names(params)} <= set(declared)
