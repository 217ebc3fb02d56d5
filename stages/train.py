"""train-<name>: fit one model of params.yaml's ``train`` block and write its bundle to models/<name>."""

import sys

from soundmind.errors import ParamsError
from soundmind.evaluation.plots import save_training_curves_png
from soundmind.files import write_json
from soundmind.models.bundle import save_bundle
from soundmind.models.recipes import train_named_model
from soundmind.params import load_params, require
from soundmind.paths import MODELS, TRAINING_PLOTS, TRAINING_REPORTS
from soundmind.stage import run_stage


def main() -> None:
    if len(sys.argv) != 2:
        raise ParamsError("usage: python -m stages.train MODEL_NAME (a key of params.yaml's train block).")
    name = sys.argv[1]
    params = load_params()
    models = require(params, "train")
    if name not in models:
        raise ParamsError(f"params.yaml: unknown model 'train.{name}'; known: {', '.join(models)}.")
    result = train_named_model(name, params)
    save_bundle(result.bundle, MODELS / name)
    write_json(TRAINING_REPORTS / f"{name}.json", result.summary)
    if result.histories:
        save_training_curves_png(result.histories, TRAINING_PLOTS / f"{name}.png", f"{name}: training curves")
    print(f"{name}: {result.summary}")


if __name__ == "__main__":
    run_stage(main)
