"""evaluate: every trained model on the held-out test actors, into reports/."""

import sys
from pathlib import Path

from soundmind.bundle import load_bundle
from soundmind.errors import ParamsError
from soundmind.evaluation import evaluate_bundle, predictions_table, save_confusion_png, save_per_class_png
from soundmind.features import family_matrices, load_family_tables
from soundmind.files import write_json, write_table
from soundmind.stage import run_stage


def main() -> None:
    model_names = sys.argv[1:]
    if not model_names:
        raise ParamsError("usage: python -m stages.evaluate MODEL_NAME [MODEL_NAME ...]")
    bundles = {name: load_bundle(Path("models") / name) for name in model_names}
    tables = load_family_tables({"rich"}.union(*(bundle.required_families() for bundle in bundles.values())))
    rich = tables["rich"]
    test_rows = rich[(rich["split"] == "test") & (rich["augmentation"] == "none")].sort_values("clip_id")
    if test_rows.empty:
        raise ParamsError("features/rich.parquet holds no test clips; check split.test_actors.")
    features = family_matrices(tables, test_rows["clip_id"].tolist())
    actual = test_rows["emotion"].tolist()
    test_actors = sorted(int(actor) for actor in test_rows["actor"].unique())
    metrics = {}
    for name, bundle in bundles.items():
        metrics[name], predicted = evaluate_bundle(bundle, features, actual)
        metrics[name]["test_actors"] = test_actors
        write_table(predictions_table(test_rows["clip_id"].tolist(), actual, predicted), f"reports/predictions/{name}.csv")
        title = f"{name} on test actors {test_actors}"
        save_confusion_png(metrics[name], bundle.labels, Path(f"reports/plots/evaluation/confusion_{name}.png"), title)
        save_per_class_png(metrics[name], bundle.labels, Path(f"reports/plots/evaluation/per_class_{name}.png"), title)
        seeds = metrics[name].get("seeds")
        over_seeds = (f"; {seeds['count']} seeds alone: {seeds['accuracy']['mean']:.4f} ± {seeds['accuracy']['std']:.4f}"
                      if seeds else "")
        print(f"{name}: accuracy {metrics[name]['accuracy']:.4f}, macro-F1 {metrics[name]['macro_f1']:.4f}{over_seeds}")
    write_json(Path("reports/metrics.json"), metrics)


if __name__ == "__main__":
    run_stage(main)
