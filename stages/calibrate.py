"""calibrate: a temperature and an "uncertain" threshold per model from the val actors, into models/serving.json
with the speech detector's settings; ECE and reliability of the test actors into reports/."""

from soundmind.evaluation.calibration import calibrate_models, describe_calibration, save_reliability_png
from soundmind.features.frame_store import load_family_inputs
from soundmind.files import write_json, write_table
from soundmind.models.bundle import load_bundle
from soundmind.params import calibrated_models, load_params, require, require_positive_int
from soundmind.paths import CALIBRATION_PLOTS, CALIBRATION_REPORT, MODELS, RELIABILITY_TABLE, SERVING_FILE
from soundmind.serving.settings import ModelCalibration, ServingSettings, SpeechSettings
from soundmind.stage import run_stage


def main() -> None:
    params = load_params()
    bundles = {name: load_bundle(MODELS / name) for name in calibrated_models(params)}
    tables = load_family_inputs({"rich"}.union(*(bundle.required_families() for bundle in bundles.values())))
    calibration = calibrate_models(bundles, tables, require_positive_int(params, "calibration.bins"),
                                   require(params, "calibration.uncertain_accuracy"))
    for name, report in calibration.reports.items():
        title = (f"{name}: fitted on val actors {calibration.val_actors}, shown on test actors {calibration.test_actors}\n"
                 f"ECE {report['ece_before']:.3f} as it says, {report['ece_after']:.3f} calibrated")
        save_reliability_png(calibration.reliability[calibration.reliability["model"] == name],
                             CALIBRATION_PLOTS / f"reliability_{name}.png", title)
        print(describe_calibration(name, report))
    reports = {name: {**report, "val_actors": calibration.val_actors, "test_actors": calibration.test_actors}
               for name, report in calibration.reports.items()}
    write_table(calibration.reliability, RELIABILITY_TABLE)
    write_json(CALIBRATION_REPORT, reports)
    models = {name: ModelCalibration(report["temperature"], report["uncertain_below"])
              for name, report in calibration.reports.items()}
    # Last: the predictor's file appears only once every report is written.
    write_json(MODELS / SERVING_FILE, ServingSettings(SpeechSettings.from_params(require(params, "speech")), models).to_json())


if __name__ == "__main__":
    run_stage(main)
