"""train-adapted: the train_adapted.models recipes and their ensemble trained on speaker-normalised features, written
to models/<name>_adapted, the bundles predict(..., speaker=) scores a profile-normalised clip with."""

from soundmind.files import write_json
from soundmind.models.adapted import adapted_model_names, train_adapted_ensemble, train_adapted_model
from soundmind.models.bundle import save_bundle
from soundmind.params import load_params
from soundmind.paths import ADAPTED_TRAINING_REPORT, MODELS
from soundmind.stage import run_stage


def main() -> None:
    params = load_params()
    trained = {}
    for name in adapted_model_names(params):
        result = train_adapted_model(name, params)
        save_bundle(result.bundle, MODELS / result.bundle.name)
        trained[result.bundle.name] = result
        print(f"{result.bundle.name}: {result.summary}")
    ensemble = train_adapted_ensemble({name: result.bundle for name, result in trained.items()}, params)
    save_bundle(ensemble.bundle, MODELS / ensemble.bundle.name)
    print(f"{ensemble.bundle.name}: {ensemble.summary}")
    write_json(ADAPTED_TRAINING_REPORT, {name: result.summary for name, result in {**trained, ensemble.bundle.name: ensemble}.items()})


if __name__ == "__main__":
    run_stage(main)
