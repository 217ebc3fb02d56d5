"""train-<name>: fit one model of params.yaml's ``train`` block and write its bundle to models/<name>."""

import sys
from pathlib import Path

import pandas as pd

from soundmind.bundle import save_bundle
from soundmind.files import write_json
from soundmind.errors import ParamsError
from soundmind.evaluation import save_training_curves_png
from soundmind.features import feature_settings_from_params
from soundmind.params import load_params, require
from soundmind.stage import run_stage
from soundmind.training import train_model, validate_model_params


def main() -> None:
    if len(sys.argv) != 2:
        raise ParamsError("usage: python -m stages.train MODEL_NAME (a key of params.yaml's train block).")
    name = sys.argv[1]
    params = load_params()
    models = require(params, "train")
    if name not in models:
        raise ParamsError(f"params.yaml: unknown model 'train.{name}'; known: {', '.join(models)}.")
    model_params = models[name]
    validate_model_params(name, model_params)
    features = pd.read_parquet(f"features/{model_params['feature_set']}.parquet")
    log_csv = Path(f"reports/training/{name}.csv")
    result = train_model(
        name,
        model_params,
        features,
        seed=require(params, "base.seed"),
        feature_settings=feature_settings_from_params(params),
        log_csv=log_csv,
    )
    save_bundle(result.bundle, Path("models") / name)
    write_json(Path(f"reports/training/{name}.json"), result.summary)
    save_training_curves_png(pd.read_csv(log_csv), Path(f"reports/plots/training/{name}.png"), f"{name}: training curves")
    print(f"{name}: {result.summary}")


if __name__ == "__main__":
    run_stage(main)
