"""evaluate: every trained model on the held-out test actors, into reports/."""

import sys
from pathlib import Path

import pandas as pd

from soundmind.bundle import load_bundle
from soundmind.files import write_json
from soundmind.errors import ParamsError
from soundmind.evaluation import classification_metrics, predictions_table, save_confusion_png, save_per_class_png
from soundmind.features import RICH_FEATURE_NAMES
from soundmind.stage import run_stage


def main() -> None:
    model_names = sys.argv[1:]
    if not model_names:
        raise ParamsError("usage: python -m stages.evaluate MODEL_NAME [MODEL_NAME ...]")
    features = pd.read_parquet("features/rich.parquet")
    test_rows = features[(features["split"] == "test") & (features["augmentation"] == "none")]
    if test_rows.empty:
        raise ParamsError("features/rich.parquet holds no test clips; check split.test_actors.")
    metrics = {}
    for name in model_names:
        bundle = load_bundle(Path("models") / name)
        probabilities = bundle.probabilities(test_rows[RICH_FEATURE_NAMES].to_numpy())
        predicted = [bundle.labels[index] for index in probabilities.argmax(axis=1)]
        metrics[name] = classification_metrics(test_rows["emotion"].tolist(), predicted, bundle.labels)
        metrics[name]["test_actors"] = sorted(int(actor) for actor in test_rows["actor"].unique())
        table = predictions_table(test_rows["clip_id"].tolist(), test_rows["emotion"].tolist(), predicted)
        Path("reports/predictions").mkdir(parents=True, exist_ok=True)
        table.to_csv(f"reports/predictions/{name}.csv", index=False)
        title = f"{name} on test actors {metrics[name]['test_actors']}"
        save_confusion_png(metrics[name], bundle.labels, Path(f"reports/plots/evaluation/confusion_{name}.png"), title)
        save_per_class_png(metrics[name], bundle.labels, Path(f"reports/plots/evaluation/per_class_{name}.png"), title)
        print(f"{name}: accuracy {metrics[name]['accuracy']:.4f}, macro-F1 {metrics[name]['macro_f1']:.4f}")
    write_json(Path("reports/metrics.json"), metrics)


if __name__ == "__main__":
    run_stage(main)
