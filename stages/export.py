"""export: every bundle's Keras networks and scikit-learn pickles as ONNX under models/onnx/, checked against the
originals on the test actors."""

from soundmind.features.frame_store import load_family_inputs
from soundmind.features.tables import family_matrices, held_out_rows
from soundmind.files import write_json
from soundmind.models.bundle import load_bundle
from soundmind.models.onnx_export import (
    check_agreement, compare_runtimes, export_bundle, exported_models, strict_onnx_loaders,
)
from soundmind.params import load_params
from soundmind.paths import EXPORT_REPORT, MODELS, ONNX_FOLDER
from soundmind.stage import run_stage


def main() -> None:
    model_names = exported_models(load_params())
    bundles = {name: load_bundle(MODELS / name) for name in model_names}
    tables = load_family_inputs({"rich"}.union(*(bundle.required_families() for bundle in bundles.values())))
    features = family_matrices(tables, held_out_rows(tables["rich"])["clip_id"].tolist())
    report = {}
    for name, keras_bundle in bundles.items():
        onnx_dir = MODELS / ONNX_FOLDER / name
        written = export_bundle(MODELS / name, onnx_dir)
        onnx_bundle = load_bundle(MODELS / name, *strict_onnx_loaders(MODELS / name, onnx_dir))
        report[name] = {"onnx_files": [str(path) for path in written], **compare_runtimes(keras_bundle, onnx_bundle, features)}
        check_agreement(name, report[name])
        print(f"{name}: {len(written)} ONNX files, largest probability difference from the original "
              f"{report[name]['max_abs_difference']:.1e} on {report[name]['clips']} test clips, same answers")
    write_json(EXPORT_REPORT, report)


if __name__ == "__main__":
    run_stage(main)
