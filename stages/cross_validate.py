"""cross-validate: 6-fold actor cross-validation of the cv.models, plain and speaker-normalised."""

from pathlib import Path

import pandas as pd

from soundmind.cv import cross_validate, cv_model_specs
from soundmind.evaluation import save_cv_png
from soundmind.features import METADATA_COLUMNS, load_family_tables
from soundmind.files import write_json, write_table
from soundmind.params import load_params, require, require_positive_int
from soundmind.stage import run_stage


def main() -> None:
    params = load_params()
    models = cv_model_specs(require(params, "cv.models"), require(params, "train"))
    tables = load_family_tables({spec["features"] for spec in models.values()})
    report = cross_validate(
        tables, METADATA_COLUMNS, models, require_positive_int(params, "cv.folds"),
        tuple(require(params, "cv.protocols")), require_positive_int(params, "cv.ensemble_rounds"),
        require(params, "base.seed"),
    )
    write_json(Path("reports/cv.json"), report)
    rows = [
        {"protocol": protocol, "model": model, "fold": index, "accuracy": fold[model]["accuracy"]}
        for protocol in params["cv"]["protocols"] for index, fold in enumerate(report[protocol]["per_fold"])
        for model in fold
    ]
    long_table = pd.DataFrame(rows)
    for protocol, table in long_table.groupby("protocol"):
        # One column per model, so `dvc plots` draws one line per model.
        wide = table.pivot(index="fold", columns="model", values="accuracy").reset_index()
        write_table(wide.assign(fold=wide["fold"] + 1), f"reports/cv_folds_{protocol}.csv")
    save_cv_png(long_table, Path("reports/plots/cv_folds.png"))
    for protocol in params["cv"]["protocols"]:
        for model, summary in report[protocol]["summary"].items():
            print(f"{protocol:>18} {model:>18}: accuracy {summary['accuracy_mean']:.4f} ± {summary['accuracy_std']:.4f}")


if __name__ == "__main__":
    run_stage(main)
