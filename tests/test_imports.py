"""Who loads what: openSMILE before TensorFlow wherever both load, and neither for users that need neither."""

from __future__ import annotations

import ast
import subprocess
import sys

from tests.conftest import REPO_ROOT

HEAVY = ("tensorflow", "keras", "dvclive.keras")


def loaded_after(code: str) -> list[str]:
    """The names in sys.modules, in the order they started loading, after running ``code`` in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport sys; print(' '.join(sys.modules))"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=True,
    )
    return result.stdout.split()


def test_the_package_and_its_non_keras_layers_load_neither_opensmile_nor_tensorflow():
    modules = loaded_after(
        "import soundmind, soundmind.checks, soundmind.data.ingest, soundmind.features.tables, "
        "soundmind.models.bundle, soundmind.models.recipes, soundmind.evaluation.cv, soundmind.serving.predict"
    )
    assert "opensmile" not in modules and "tensorflow" not in modules


def test_loading_keras_through_the_package_loads_opensmile_first():
    for module in ("soundmind.models.networks", "soundmind.models.keras_training"):
        modules = loaded_after(f"import {module}")
        assert modules.index("opensmile") < modules.index("tensorflow"), module


def test_only_keras_backend_imports_keras_or_tensorflow_at_module_level():
    # Anywhere else a module-level import could load TensorFlow before openSMILE.
    offenders = []
    for path in sorted((REPO_ROOT / "soundmind").rglob("*.py")):
        if path.name == "keras_backend.py":
            continue
        for node in ast.parse(path.read_text()).body:
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else (
                [node.module] if isinstance(node, ast.ImportFrom) and node.module else [])
            offenders += [f"{path.relative_to(REPO_ROOT)}: {name}" for name in names if name.startswith(HEAVY)]
    assert offenders == []


# The package's layers, lowest first (ARCHITECTURE.md): a module imports only from its own layer or lower ones.
# The top layer reads every other: the params check (it names each layer's choices), the stage runner and the entry
# point of `python -m soundmind`.
LAYERS = (
    ("soundmind.audio", "soundmind.errors", "soundmind.files", "soundmind.machine", "soundmind.native_output",
     "soundmind.params", "soundmind.paths"),
    ("soundmind.data",),
    ("soundmind.features",),
    ("soundmind.models",),
    ("soundmind.evaluation",),
    ("soundmind.serving",),
    ("soundmind.checks", "soundmind.frame_checks", "soundmind.stage", "soundmind.__main__"),
)


def layer_of(module: str) -> int:
    for index, prefixes in enumerate(LAYERS):
        if any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes):
            return index
    raise AssertionError(f"{module} belongs to no layer: add it to LAYERS")


def upward_imports(module: str, source: str) -> list[str]:
    """The imports in ``source`` (module ``module``) of soundmind modules from a higher layer, function-level ones too."""
    upward = []
    for node in ast.walk(ast.parse(source)):
        names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else (
            [node.module] if isinstance(node, ast.ImportFrom) and node.module and node.level == 0 else [])
        upward += [f"{module} imports {name}" for name in names
                   if name.startswith("soundmind.") and layer_of(name) > layer_of(module)]
    return upward


def test_imports_only_go_down_the_layers():
    upward = []
    for path in sorted((REPO_ROOT / "soundmind").rglob("*.py")):
        module = ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts).removesuffix(".__init__")
        if module != "soundmind":
            upward += upward_imports(module, path.read_text())
    assert upward == []


def test_the_layer_check_sees_an_upward_import():
    source = (
        "from soundmind.features.tables import encode_labels\n"
        "def helper():\n"
        "    import soundmind.serving.predict\n"
        "    from soundmind.checks import check_params\n"
    )
    assert upward_imports("soundmind.data.split", source) == [
        "soundmind.data.split imports soundmind.features.tables",
        "soundmind.data.split imports soundmind.serving.predict",
        "soundmind.data.split imports soundmind.checks",
    ]
    assert upward_imports("soundmind.serving.predict", source) == ["soundmind.serving.predict imports soundmind.checks"]
