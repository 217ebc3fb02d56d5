"""Writing a bundle's Keras networks and scikit-learn pickles as ONNX files, and checking them against the originals
(the export stage).

Keras' own exporter (``model.export(format="onnx")``, tf2onnx underneath) converts the networks, skl2onnx the scalers
and pipelines; each file is then written with deterministic protobuf serialisation, so that the same archive always
gives the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

import numpy as np

from soundmind.files import replaced_on_success
from soundmind.models.bundle import (
    ADAPTED_SUFFIX, MEMBERS_DIR, METADATA_FILE, PIPELINE_FILE, SCALER_FILE, AnyBundle, Bundle, EnsembleBundle,
    seed_model_file,
)
from soundmind.models.onnx_networks import ONNX_SUFFIX, PROBABILITIES_OUTPUT
from soundmind.params import model_names, require

if TYPE_CHECKING:
    import keras

# Largest difference allowed between a network's Keras and ONNX probabilities on the test actors.
PROBABILITY_TOLERANCE = 1e-4
EXAMPLE_FRAMES = 200  # a frame model's example input: any length will do, its time axis stays dynamic


def exported_models(params: dict[str, Any]) -> list[str]:
    """Every trained bundle, in the train block's order, then the adapted twins (what the export stage writes as
    ONNX): each holds Keras networks, a scikit-learn pipeline, or members that do."""
    adapted = list(require(params, "train_adapted.models"))
    adapted_ensemble = [require(params, "train_adapted.ensemble")] if adapted else []
    return model_names(params) + [name + ADAPTED_SUFFIX for name in adapted + adapted_ensemble]


def bundle_files(bundle_dir: Path, own_files: Callable[[Path, dict[str, Any]], list[Path]]) -> list[Path]:
    """``own_files(folder, metadata)`` of the bundle in ``bundle_dir``, or of each member of an ensemble there, sorted."""
    metadata = json.loads((Path(bundle_dir) / METADATA_FILE).read_text())
    if metadata.get("framework") == "ensemble":
        return sorted(path for name in metadata["weights"]
                      for path in bundle_files(Path(bundle_dir) / MEMBERS_DIR / name, own_files))
    return sorted(own_files(Path(bundle_dir), metadata))


def keras_archives(bundle_dir: Path) -> list[Path]:
    """Every Keras archive of the bundle in ``bundle_dir`` (an ensemble's members' included), sorted."""
    return bundle_files(bundle_dir, lambda folder, metadata: [
        folder / seed_model_file(int(seed)) for seed in metadata.get("seeds", [])
    ] if metadata.get("framework", "keras") in ("keras", "crnn") else [])


def pickled_files(bundle_dir: Path) -> list[Path]:
    """Every scikit-learn pickle of the bundle in ``bundle_dir`` (a Keras bundle's scaler, a pipeline; an ensemble's
    members' included), sorted."""
    return bundle_files(bundle_dir, lambda folder, _: [
        path for path in (folder / SCALER_FILE, folder / PIPELINE_FILE) if path.is_file()])


def export_pickle(pickle_file: Path, onnx_file: Path) -> None:
    """Write the scaler or pipeline pickled in ``pickle_file`` as the ONNX file ``onnx_file`` (float32 rows in; a
    classifier's class probabilities as the output named PROBABILITIES_OUTPUT), through a temporary name."""
    import joblib
    import onnx
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    fitted = joblib.load(pickle_file)
    final = fitted.steps[-1][1] if hasattr(fitted, "steps") else fitted
    # ZipMap (one dictionary per row) is the converter's default for classifiers: a plain matrix is what we score.
    options = {id(final): {"zipmap": False}} if hasattr(final, "predict_proba") else None
    proto = to_onnx(fitted, initial_types=[("input", FloatTensorType([None, int(fitted.n_features_in_)]))],
                    options=options)
    if hasattr(final, "predict_proba") and PROBABILITIES_OUTPUT not in [output.name for output in proto.graph.output]:
        raise ValueError(f"{pickle_file}: its ONNX conversion has no {PROBABILITIES_OUTPUT!r} output.")
    onnx.checker.check_model(proto)
    with replaced_on_success(onnx_file) as temporary:
        temporary.write_bytes(proto.SerializeToString(deterministic=True))


def example_input(model: "keras.Model") -> np.ndarray:
    """Zeros of the model's input shape, one row (a frame model's time axis EXAMPLE_FRAMES long)."""
    shape = [1] + [EXAMPLE_FRAMES if size is None else int(size) for size in model.inputs[0].shape[1:]]
    return np.zeros(shape, dtype=np.float32)


def export_network(keras_file: Path, onnx_file: Path) -> None:
    """Write the network of the Keras archive ``keras_file`` as the ONNX file ``onnx_file`` (batch and, for frame
    models, time dynamic), through a temporary name: never a half-written file."""
    import onnx

    # Imported here: exporting scikit-learn pickles alone needs no TensorFlow.
    from soundmind.models.keras_backend import keras

    model = keras.saving.load_model(keras_file, compile=False)
    model.predict_on_batch(example_input(model))  # Keras exports only a model that has been called
    with tempfile.TemporaryDirectory() as scratch, warnings.catch_warnings():
        # tf2onnx's own deprecation notices (numpy aliases) are not the user's problem.
        warnings.simplefilter("ignore", FutureWarning)
        exported = Path(scratch) / f"model{ONNX_SUFFIX}"
        model.export(str(exported), format="onnx", verbose=False)
        proto = onnx.load(str(exported))
    # The same archive must give the same bytes (dvc.lock must not churn): a canonical order, then canonical names.
    canonical_order(proto.graph)
    canonical_loop_outputs(proto.graph)
    canonical_names(proto.graph)
    onnx.checker.check_model(proto)
    with replaced_on_success(onnx_file) as temporary:
        temporary.write_bytes(proto.SerializeToString(deterministic=True))


def outer_names(node: Any) -> list[str]:
    """The tensors of the enclosing graph that ``node``'s subgraphs (loop bodies) read, sorted."""
    found: set[str] = set()
    for attribute in node.attribute:
        for body in [attribute.g] if attribute.HasField("g") else list(attribute.graphs):
            local = {value.name for value in body.input} | {initializer.name for initializer in body.initializer}
            local |= {name for inner in body.node for name in inner.output}
            for inner in body.node:
                found |= {name for name in [*inner.input, *outer_names(inner)] if name and name not in local}
            found |= {value.name for value in body.output if value.name not in local}
    return sorted(found)


def canonical_order(graph: Any) -> None:
    """Order the graph's nodes by what they compute, not by how the converter happened to emit them: a topological
    order in which, among the nodes ready to run, the one whose signature (its operator, attributes and the
    signatures of its inputs, down to the initialisers' values) sorts first comes first. tf2onnx emits independent
    branches (the GRU's two directions) in an order that changes from run to run."""
    constant = {}
    for initializer in graph.initializer:
        anonymous = type(initializer)()
        anonymous.CopyFrom(initializer)
        anonymous.name = ""
        constant[initializer.name] = hashlib.sha256(anonymous.SerializeToString(deterministic=True)).hexdigest()
    producer = {name: node for node in graph.node for name in node.output}
    signatures: dict[int, str] = {}
    # A loop body reads tensors of the graph around it by name: those are inputs of the loop node too.
    inputs = {id(node): [*node.input, *outer_names(node)] for node in graph.node}

    def tensor_signature(name: str) -> str:
        if name in constant:
            return constant[name]
        if name in producer:
            node = producer[name]
            return f"{node_signature(node)}:{list(node.output).index(name)}"
        return f"input:{name}"  # the graph's own inputs keep their names

    def node_signature(node: Any) -> str:
        if id(node) not in signatures:
            attributes = []
            for attribute in node.attribute:
                bodies = [attribute.g] if attribute.HasField("g") else list(attribute.graphs)
                attributes.append(f"{attribute.name}=" + ("|".join(",".join(inner.op_type for inner in body.node) for body in bodies)
                                                        if bodies else hashlib.sha256(attribute.SerializeToString(deterministic=True)).hexdigest()))
            text = ";".join([node.op_type, *attributes, *(tensor_signature(name) for name in inputs[id(node)])])
            signatures[id(node)] = hashlib.sha256(text.encode()).hexdigest()
        return signatures[id(node)]

    waiting = {id(node): sum(name in producer for name in inputs[id(node)]) for node in graph.node}
    consumers: dict[str, list[Any]] = {}
    for node in graph.node:
        for name in inputs[id(node)]:
            consumers.setdefault(name, []).append(node)
    ready = sorted((node for node in graph.node if waiting[id(node)] == 0), key=node_signature)
    ordered = []
    while ready:
        node = ready.pop(0)
        ordered.append(node)
        for name in node.output:
            for consumer in consumers.get(name, []):
                waiting[id(consumer)] -= 1
                if waiting[id(consumer)] == 0:
                    ready.append(consumer)
        ready.sort(key=node_signature)
    if len(ordered) != len(graph.node):
        raise ValueError("the exported ONNX graph has a cycle")
    copies = [type(node)() for node in ordered]
    for copy, node in zip(copies, ordered):
        copy.CopyFrom(node)
    del graph.node[:]
    graph.node.extend(copies)


def canonical_loop_outputs(graph: Any) -> None:
    """In every loop body, where several outputs carry one value (a tensor and Identity copies of it), give the
    earliest output the tensor itself and the later ones the copies: tf2onnx picks which at random."""
    for node in graph.node:
        for attribute in node.attribute:
            for body in [attribute.g] if attribute.HasField("g") else list(attribute.graphs):
                canonical_loop_outputs(body)
                copied_from = {inner.output[0]: inner.input[0] for inner in body.node if inner.op_type == "Identity"}

                def root_and_depth(name: str) -> tuple[str, int]:
                    depth = 0
                    while name in copied_from:
                        name, depth = copied_from[name], depth + 1
                    return name, depth

                groups: dict[str, list[int]] = {}
                for position, value in enumerate(body.output):
                    groups.setdefault(root_and_depth(value.name)[0], []).append(position)
                for positions in groups.values():
                    names = sorted((body.output[position].name for position in positions),
                                   key=lambda name: root_and_depth(name)[1])
                    for position, name in zip(positions, names):
                        body.output[position].name = name


def canonical_names(graph: Any) -> None:
    """Rename every tensor but the graph's own inputs and outputs t0, t1, ... and every node <op>_<index>, in the
    order the nodes (and the bodies of loops, with one naming for all) use them, and sort the initialisers: tf2onnx
    numbers the constants it folds in an order that changes from run to run."""
    keep = {value.name for value in [*graph.input, *graph.output]}
    names: dict[str, str] = {}

    def rename(name: str) -> str:
        return name if not name or name in keep else names.setdefault(name, f"t{len(names)}")

    def visit(subgraph: Any, prefix: str) -> None:
        subgraph.ClearField("doc_string")  # "converted from __inference___call___1542": a TensorFlow-wide counter
        for value in subgraph.input:
            value.name = rename(value.name)
        for index, node in enumerate(subgraph.node):
            node.input[:] = [rename(name) for name in node.input]
            for attribute in node.attribute:
                for body in [attribute.g, *attribute.graphs] if attribute.HasField("g") else attribute.graphs:
                    body.name = f"body_{prefix}{index}"  # tf2onnx's carry a process-wide counter
                    visit(body, f"{prefix}{index}_")
            node.output[:] = [rename(name) for name in node.output]
            node.name = f"{node.op_type}_{prefix}{index}"
            node.ClearField("doc_string")
            if not node.domain:
                node.ClearField("domain")  # an empty domain, set or not, is the default one: written only when set
        for value in [*subgraph.output, *subgraph.value_info]:
            value.name = rename(value.name)
        for initializer in subgraph.initializer:
            initializer.name = rename(initializer.name)
        ordered = sorted(subgraph.initializer, key=lambda initializer: int(initializer.name[1:]) if initializer.name[1:].isdigit() else -1)
        del subgraph.initializer[:]
        subgraph.initializer.extend(ordered)
        ordered_info = sorted(subgraph.value_info, key=lambda value: value.name)
        del subgraph.value_info[:]
        subgraph.value_info.extend(ordered_info)

    visit(graph, "")
    dimensions: dict[str, str] = {}

    def rename_dimensions(subgraph: Any) -> None:
        # Symbolic sizes (unk__523: a converter-wide counter) renamed d0, d1, ... in order of appearance.
        for value in [*subgraph.input, *subgraph.output, *subgraph.value_info]:
            for dimension in value.type.tensor_type.shape.dim:
                if dimension.HasField("dim_param"):
                    dimension.dim_param = dimensions.setdefault(dimension.dim_param, f"d{len(dimensions)}")
        for node in subgraph.node:
            for attribute in node.attribute:
                for body in [attribute.g] if attribute.HasField("g") else list(attribute.graphs):
                    rename_dimensions(body)

    rename_dimensions(graph)


def export_bundle(bundle_dir: Path, onnx_dir: Path) -> list[Path]:
    """Export every Keras archive and scikit-learn pickle of the bundle in ``bundle_dir`` to ``onnx_dir`` at the
    same relative path; return the ONNX files written."""
    written = []
    for saved_file, export in [*((path, export_network) for path in keras_archives(bundle_dir)),
                               *((path, export_pickle) for path in pickled_files(bundle_dir))]:
        onnx_file = Path(onnx_dir) / saved_file.relative_to(bundle_dir).with_suffix(ONNX_SUFFIX)
        export(saved_file, onnx_file)
        written.append(onnx_file)
    return sorted(written)


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
            f"models/{name}: its ONNX export disagrees with the original on the test actors (largest probability difference "
            f"{comparison['max_abs_difference']:.2e} in {worst}, tolerance {PROBABILITY_TOLERANCE:g}; same answer "
            f"everywhere: {comparison['same_argmax']})."
        )


def strict_onnx_loaders(bundle_dir: Path, onnx_dir: Path) -> tuple[Callable[[Path], Any], Callable[[Path], Any]]:
    """The network and pickle loaders (``load_bundle``'s) that read the ONNX file exported from each archive or pickle
    of ``bundle_dir``, never the original."""
    from soundmind.models.onnx_networks import OnnxNetwork, open_fitted_twin

    def twin(saved_file: Path) -> Path:
        return Path(onnx_dir) / Path(saved_file).relative_to(bundle_dir).with_suffix(ONNX_SUFFIX)

    # One thread per core (threads=0): the check scores every test clip at once, not one clip.
    return ((lambda keras_file: OnnxNetwork(twin(keras_file), threads=0)),
            (lambda pickle_file: open_fitted_twin(twin(pickle_file), threads=0)))
