"""train-<name>: fit one model of params.yaml's ``train`` block and write its bundle to models/<name>."""

import sys
from dataclasses import asdict
from pathlib import Path

import pandas as pd

from soundmind.bundle import load_bundle, save_bundle
from soundmind.architectures import SKLEARN_KINDS
from soundmind.checks import validate_ensemble_params, validate_model_params
from soundmind.ensemble import ensemble_families, train_ensemble, train_sklearn_bundle
from soundmind.errors import ParamsError
from soundmind.evaluation import save_training_curves_png
from soundmind.features import feature_family, feature_settings_from_params, load_family_tables
from soundmind.files import write_json
from soundmind.params import load_params, require
from soundmind.stage import run_stage
from soundmind.training import train_model


def main() -> None:
    if len(sys.argv) != 2:
        raise ParamsError("usage: python -m stages.train MODEL_NAME (a key of params.yaml's train block).")
    name = sys.argv[1]
    params = load_params()
    models = require(params, "train")
    if name not in models:
        raise ParamsError(f"params.yaml: unknown model 'train.{name}'; known: {', '.join(models)}.")
    model_params, seed = models[name], require(params, "base.seed")
    settings = feature_settings_from_params(params)
    architecture = model_params.get("architecture")
    if architecture == "ensemble":
        validate_ensemble_params(name, model_params, models)
        members = {member: load_bundle(Path("models") / member) for member in model_params["members"]}
        tables = load_family_tables(ensemble_families(model_params, members))
        bundle, summary = train_ensemble(name, model_params, members, tables, seed)
    elif architecture in SKLEARN_KINDS:
        table = pd.read_parquet(f"features/{feature_family(model_params['feature_set'])}.parquet")
        bundle, summary = train_sklearn_bundle(
            name, {**model_params, "kind": architecture}, table, seed, settings.sample_rate, asdict(settings)
        )
    else:
        validate_model_params(name, model_params)
        features = pd.read_parquet(f"features/{model_params['feature_set']}.parquet")
        result = train_model(name, model_params, features, seed, settings, Path(f"reports/training/{name}"))
        bundle, summary = result.bundle, result.summary
        save_training_curves_png(result.histories, Path(f"reports/plots/training/{name}.png"), f"{name}: training curves")
    save_bundle(bundle, Path("models") / name)
    write_json(Path(f"reports/training/{name}.json"), summary)
    print(f"{name}: {summary}")


if __name__ == "__main__":
    run_stage(main)
