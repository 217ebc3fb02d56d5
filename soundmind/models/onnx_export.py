"""Writing a bundle's Keras networks as ONNX files, and checking them against Keras (the export stage).

Keras' own exporter (``model.export(format="onnx")``, tf2onnx underneath) does the conversion; the file is then
written with deterministic protobuf serialisation, so that the same archive always gives the same bytes.
"""

from __future__ import annotations

import json
import tempfile
import warnings
from pathlib import Path
from typing import Any, Callable

import numpy as np

from soundmind.files import replaced_on_success
from soundmind.models.bundle import MEMBERS_DIR, METADATA_FILE, AnyBundle, Bundle, EnsembleBundle, seed_model_file
from soundmind.models.keras_backend import keras
from soundmind.models.onnx_networks import ONNX_SUFFIX

# Largest difference allowed between a network's Keras and ONNX probabilities on the test actors.
PROBABILITY_TOLERANCE = 1e-4
EXAMPLE_FRAMES = 200  # a frame model's example input: any length will do, its time axis stays dynamic


def keras_archives(bundle_dir: Path) -> list[Path]:
    """Every Keras archive of the bundle in ``bundle_dir`` (an ensemble's members' included), sorted."""
    metadata = json.loads((Path(bundle_dir) / METADATA_FILE).read_text())
    if metadata.get("framework") == "ensemble":
        return sorted(path for name in metadata["weights"] for path in keras_archives(Path(bundle_dir) / MEMBERS_DIR / name))
    if metadata.get("framework", "keras") in ("keras", "crnn"):
        return sorted(Path(bundle_dir) / seed_model_file(int(seed)) for seed in metadata.get("seeds", []))
    return []


def example_input(model: "keras.Model") -> np.ndarray:
    """Zeros of the model's input shape, one row (a frame model's time axis EXAMPLE_FRAMES long)."""
    shape = [1] + [EXAMPLE_FRAMES if size is None else int(size) for size in model.inputs[0].shape[1:]]
    return np.zeros(shape, dtype=np.float32)


def export_network(keras_file: Path, onnx_file: Path) -> None:
    """Write the network of the Keras archive ``keras_file`` as the ONNX file ``onnx_file`` (batch and, for frame
    models, time dynamic), through a temporary name: never a half-written file."""
    import onnx

    model = keras.saving.load_model(keras_file, compile=False)
    model.predict_on_batch(example_input(model))  # Keras exports only a model that has been called
    with tempfile.TemporaryDirectory() as scratch, warnings.catch_warnings():
        # tf2onnx's own deprecation notices (numpy aliases) are not the user's problem.
        warnings.simplefilter("ignore", FutureWarning)
        exported = Path(scratch) / f"model{ONNX_SUFFIX}"
        model.export(str(exported), format="onnx", verbose=False)
        proto = onnx.load(str(exported))
    onnx.checker.check_model(proto)
    with replaced_on_success(onnx_file) as temporary:
        temporary.write_bytes(proto.SerializeToString(deterministic=True))


def export_bundle(bundle_dir: Path, onnx_dir: Path) -> list[Path]:
    """Export every Keras archive of the bundle in ``bundle_dir`` to ``onnx_dir`` at the same relative path;
    return the ONNX files written."""
    written = []
    for keras_file in keras_archives(bundle_dir):
        onnx_file = Path(onnx_dir) / keras_file.relative_to(bundle_dir).with_suffix(ONNX_SUFFIX)
        export_network(keras_file, onnx_file)
        written.append(onnx_file)
    return written


def network_probabilities(bundle: AnyBundle, features: dict[str, Any], prefix: str = "") -> dict[str, np.ndarray]:
    """Each network's own probabilities, ``{"<member>/seed<seed>": rows}``, and the bundle's answer under ``prefix``
    alone (``"bundle"`` at the top)."""
    found = {prefix.rstrip("/") or "bundle": bundle.probabilities(features)}
    if isinstance(bundle, EnsembleBundle):
        for name, member in bundle.members.items():
            found.update(network_probabilities(member, features, f"{prefix}{name}/"))
    elif isinstance(bundle, Bundle):
        found.update({f"{prefix}seed{seed}": rows for seed, rows in bundle.seed_probabilities(features).items()})
    return found


def compare_runtimes(keras_bundle: AnyBundle, onnx_bundle: AnyBundle, features: dict[str, Any]) -> dict[str, Any]:
    """The ONNX bundle against the Keras one on ``features``: per network and for the bundle's answer, the largest
    probability difference and whether every clip gets the same arg max."""
    expected = network_probabilities(keras_bundle, features)
    found = network_probabilities(onnx_bundle, features)
    networks = {}
    for name in sorted(expected):
        difference = float(np.abs(expected[name] - found[name]).max())
        networks[name] = {"max_abs_difference": difference,
                          "same_argmax": bool((expected[name].argmax(axis=1) == found[name].argmax(axis=1)).all())}
    return {
        "clips": int(len(expected["bundle"])),
        "networks": networks,
        "max_abs_difference": max(figures["max_abs_difference"] for figures in networks.values()),
        "same_argmax": all(figures["same_argmax"] for figures in networks.values()),
        "tolerance": PROBABILITY_TOLERANCE,
    }


def check_agreement(name: str, comparison: dict[str, Any]) -> None:
    """Refuse, in one sentence naming the bundle, an export whose answers differ from Keras'."""
    if not comparison["same_argmax"] or comparison["max_abs_difference"] > PROBABILITY_TOLERANCE:
        worst = max(comparison["networks"], key=lambda network: comparison["networks"][network]["max_abs_difference"])
        raise ValueError(
            f"models/{name}: its ONNX export disagrees with Keras on the test actors (largest probability difference "
            f"{comparison['max_abs_difference']:.2e} in {worst}, tolerance {PROBABILITY_TOLERANCE:g}; same answer "
            f"everywhere: {comparison['same_argmax']})."
        )


def strict_onnx_loader(bundle_dir: Path, onnx_dir: Path) -> Callable[[Path], Any]:
    """A network loader that reads the ONNX file exported from each archive of ``bundle_dir``, never Keras."""
    from soundmind.models.onnx_networks import OnnxNetwork

    return lambda keras_file: OnnxNetwork(Path(onnx_dir) / Path(keras_file).relative_to(bundle_dir).with_suffix(ONNX_SUFFIX))
