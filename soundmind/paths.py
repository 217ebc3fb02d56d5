"""Where the pipeline reads and writes, relative to the project root: the one home of the paths that
dvc.yaml declares as each stage's deps and outs."""

from pathlib import Path

DATA = Path("data")
EXTERNAL = DATA / "external"  # a local copy of the corpus; DVC does not watch it
RAW = DATA / "raw"
SPLITS_CSV = DATA / "splits.csv"
AUGMENTED = DATA / "augmented"
SHIFTED = DATA / "shifted"  # one channel-shifted copy of every original clip (model selection, robustness figures)
CHANNEL_AUGMENTED = DATA / "channel_augmented"  # training clips through training-only channels (augment-channels)
FEATURES = Path("features")
SHIFTED_FEATURES = FEATURES / "shifted"
MODELS = Path("models")
REPORTS = Path("reports")
INGEST_REPORT = REPORTS / "ingest.json"
TRAINING_REPORTS = REPORTS / "training"
TRAINING_PLOTS = REPORTS / "plots" / "training"
# dvclive's per-epoch curves, one folder per model and seed: plot data only, for dvc.yaml's directory plot
TRAINING_CURVES = REPORTS / "curves"
METRICS = REPORTS / "metrics.json"
PREDICTIONS = REPORTS / "predictions"
EVALUATION_PLOTS = REPORTS / "plots" / "evaluation"
CV_REPORT = REPORTS / "cv.json"
CV_PLOT = REPORTS / "plots" / "cv_folds.png"
# Folds a stopped cross-validate finished, for its rerun to reuse; not an output (git-ignored, deleted when it completes)
CV_FINISHED_FOLDS = Path("tmp") / "cross-validate"
AUDIT_REPORT = REPORTS / "audit_seed_protocol.json"
ADAPTED_TRAINING_REPORT = TRAINING_REPORTS / "adapted.json"
ADAPTATION_REPORT = REPORTS / "adaptation.json"
ADAPTATION_CURVE = REPORTS / "adaptation_curve.csv"
EXPORT_REPORT = REPORTS / "export.json"
CALIBRATION_REPORT = REPORTS / "calibration.json"
RELIABILITY_TABLE = REPORTS / "calibration_reliability.csv"
CALIBRATION_PLOTS = REPORTS / "plots" / "calibration"
MANIFEST_NAME = "manifest.parquet"  # in data/raw/, data/augmented/, data/shifted/ and data/channel_augmented/
# Files the predictor reads beside the bundles, in whichever models folder it is given (models/ by default).
SERVING_FILE = "serving.json"
PRIOR_FILE = "speaker_prior.json"
ONNX_FOLDER = "onnx"


def cv_folds_table(protocol: str) -> Path:
    """Return the per-fold accuracy table of one cross-validation protocol."""
    return REPORTS / f"cv_folds_{protocol}.csv"
