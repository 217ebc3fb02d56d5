"""evaluate: every trained model on the held-out test actors, into reports/."""

import sys
from pathlib import Path

from soundmind.bundle import EnsembleBundle, load_bundle, weighted_vote
from soundmind.errors import ParamsError
from soundmind.evaluation import classification_metrics, predictions_table, save_confusion_png, save_per_class_png
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
    metrics = {}
    for name, bundle in bundles.items():
        if isinstance(bundle, EnsembleBundle):
            member_probabilities = bundle.member_probabilities(features)
            probabilities = weighted_vote(member_probabilities, bundle.weights)
        else:
            probabilities = bundle.probabilities(features)
        predicted = [bundle.labels[index] for index in probabilities.argmax(axis=1)]
        metrics[name] = classification_metrics(actual, predicted, bundle.labels)
        metrics[name]["test_actors"] = sorted(int(actor) for actor in test_rows["actor"].unique())
        if isinstance(bundle, EnsembleBundle):
            metrics[name]["members"] = {}
            for member, values in member_probabilities.items():
                member_predicted = [bundle.labels[index] for index in values.argmax(axis=1)]
                member_metrics = classification_metrics(actual, member_predicted, bundle.labels)
                metrics[name]["members"][member] = {
                    "weight": bundle.weights[member],
                    "accuracy": member_metrics["accuracy"],
                    "macro_f1": member_metrics["macro_f1"],
                }
        write_table(predictions_table(test_rows["clip_id"].tolist(), actual, predicted), f"reports/predictions/{name}.csv")
        title = f"{name} on test actors {metrics[name]['test_actors']}"
        save_confusion_png(metrics[name], bundle.labels, Path(f"reports/plots/evaluation/confusion_{name}.png"), title)
        save_per_class_png(metrics[name], bundle.labels, Path(f"reports/plots/evaluation/per_class_{name}.png"), title)
        print(f"{name}: accuracy {metrics[name]['accuracy']:.4f}, macro-F1 {metrics[name]['macro_f1']:.4f}")
    write_json(Path("reports/metrics.json"), metrics)


if __name__ == "__main__":
    run_stage(main)
