"""evaluate: every trained model on the held-out test actors, into reports/."""

from soundmind.evaluation.metrics import describe, evaluate_models
from soundmind.evaluation.plots import save_confusion_png, save_per_class_png
from soundmind.features.frame_store import load_family_inputs, load_shifted_inputs
from soundmind.features.tables import family_table_path, table_settings
from soundmind.files import write_json, write_table
from soundmind.models.bundle import load_bundle
from soundmind.params import load_params, model_names
from soundmind.paths import EVALUATION_PLOTS, METRICS, MODELS, PREDICTIONS
from soundmind.stage import run_stage


def main() -> None:
    bundles = {name: load_bundle(MODELS / name) for name in model_names(load_params())}
    families = {"rich"}.union(*(bundle.required_families() for bundle in bundles.values()))
    settings = {family: table_settings(family_table_path(family)) for family in families}
    evaluation = evaluate_models(bundles, load_family_inputs(families), load_shifted_inputs(families, settings))
    for name, metrics in evaluation.metrics.items():
        write_table(evaluation.predictions[name], PREDICTIONS / f"{name}.csv")
        title = f"{name} on test actors {evaluation.test_actors}"
        save_confusion_png(metrics, bundles[name].labels, EVALUATION_PLOTS / f"confusion_{name}.png", title)
        save_per_class_png(metrics, bundles[name].labels, EVALUATION_PLOTS / f"per_class_{name}.png", title)
        print(describe(name, metrics))
    write_json(METRICS, evaluation.metrics)


if __name__ == "__main__":
    run_stage(main)
