"""cross-validate: 6-fold actor cross-validation of the cv.models (the CRNN included), plain and speaker-normalised."""

from soundmind.evaluation.cv import cross_validate, cv_ensemble_members, cv_model_specs, fold_accuracy, fold_accuracy_by_model
from soundmind.evaluation.plots import save_cv_png
from soundmind.features.frame_store import frame_settings_dict, load_family_inputs, load_shifted_inputs
from soundmind.features.tables import family_table_path, table_settings
from soundmind.files import write_json, write_table
from soundmind.params import load_params, require, require_positive_int
from soundmind.paths import CV_FINISHED_FOLDS, CV_PLOT, CV_REPORT, cv_folds_table
from soundmind.stage import run_stage


def main() -> None:
    params = load_params()
    models = cv_model_specs(require(params, "cv.models"), require(params, "train"))
    protocols = list(require(params, "cv.protocols"))
    families = {spec["features"] for spec in models.values()}
    # Frames made with other settings than params.yaml's are refused (StaleFeaturesError). The CRNN trains with the
    # shipped recipe (train.crnn: epochs, crops, copies); only its seed count is cross-validation's own.
    expected_frames = frame_settings_dict(params) if "frames" in families else None
    tables = load_family_inputs(families, expected_frames=expected_frames)
    shifted = None
    if require(params, "cv.channel_shifted_val"):
        settings = {family: table_settings(family_table_path(family)) for family in families}
        shifted = load_shifted_inputs(families, settings)
    report = cross_validate(
        tables, models, shifted_tables=shifted,
        n_folds=require_positive_int(params, "cv.folds"), protocols=tuple(protocols),
        ensemble_rounds=require_positive_int(params, "cv.ensemble_rounds"), seed=require(params, "base.seed"),
        crnn_seeds=require_positive_int(params, "cv.crnn_seeds") if expected_frames else 1,
        n_jobs=require_positive_int(params, "cv.n_jobs"), resume_folder=CV_FINISHED_FOLDS,
        ensemble_members=cv_ensemble_members(list(models), require(params, "train")),
    )
    write_json(CV_REPORT, report)
    long_table = fold_accuracy(report, protocols)
    for protocol, table in fold_accuracy_by_model(long_table).items():
        write_table(table, cv_folds_table(protocol))
    save_cv_png(long_table, CV_PLOT)
    for protocol in protocols:
        for model, summary in report[protocol]["summary"].items():
            shifted_figure = (f", channel-shifted {summary['shifted_accuracy_mean']:.4f}"
                              if "shifted_accuracy_mean" in summary else "")
            print(f"{protocol:>18} {model:>18}: accuracy {summary['accuracy_mean']:.4f} ± {summary['accuracy_std']:.4f}"
                  f"{shifted_figure}")


if __name__ == "__main__":
    run_stage(main)
