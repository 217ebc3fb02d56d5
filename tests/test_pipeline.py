"""The real `dvc repro` on a tiny corpus: every stage's outputs, and the honesty rules of the design."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import soundfile
import yaml

from soundmind.features.spectral import RICH_FEATURE_NAMES
from soundmind.data.ravdess import EMOTIONS
from tests.conftest import TINY_ACTORS, TINY_CRNN, TINY_TEST_ACTORS, TINY_VAL_ACTORS, run_dvc
from tests.tiny_corpus import TINY_NEMO_SPEAKERS


def test_ingest_writes_mono_flac_at_the_configured_rate(tiny_project):
    manifest = pd.read_parquet(tiny_project / "data/raw/manifest.parquet")
    # RAVDESS and the tiny nEMO beside it, one manifest: each clip's corpus and speaker, speakers numbered apart.
    assert manifest.groupby("corpus").size().to_dict() == {"nemo": len(TINY_NEMO_SPEAKERS) * 6,
                                                            "ravdess": len(TINY_ACTORS) * 16}
    assert manifest["clip_id"].is_unique
    assert sorted(manifest.loc[manifest["corpus"] == "ravdess", "actor"].unique()) == list(TINY_ACTORS)
    assert manifest.loc[manifest["corpus"] == "nemo"].groupby("speaker")["actor"].first().tolist() == [101, 102, 103]
    for relative_path in manifest["path"]:
        info = soundfile.info(str(tiny_project / "data/raw" / relative_path))
        assert (info.channels, info.samplerate, info.format) == (1, 16000, "FLAC")
    assert set(manifest.columns) >= {
        "clip_id", "path", "actor", "gender", "emotion", "intensity", "statement", "repetition", "duration_seconds"
    }


def test_whole_actors_are_split_and_held_out_actors_never_reach_training(tiny_project):
    splits = pd.read_csv(tiny_project / "data/splits.csv")
    assert splits.groupby("actor")["split"].nunique().max() == 1
    # RAVDESS's actors by split.*, nEMO's speakers (AB0, CD0, EF0: 101-103) by corpora.nemo.*.
    assert sorted(splits.loc[splits["split"] == "test", "actor"].unique()) == TINY_TEST_ACTORS + [103]
    assert sorted(splits.loc[splits["split"] == "val", "actor"].unique()) == TINY_VAL_ACTORS + [102]
    assert 101 in set(splits.loc[splits["split"] == "train", "actor"])

    features = pd.read_parquet(tiny_project / "features/rich.parquet")
    training_actors = set(features.loc[features["split"] == "train", "actor"])
    assert training_actors.isdisjoint(TINY_TEST_ACTORS + TINY_VAL_ACTORS + [102, 103])
    # What the model actually trained on: the train actors' originals and their copies, nothing more.
    bundle = json.loads((tiny_project / "models/baseline/bundle.json").read_text())
    train_originals = int((splits["split"] == "train").sum())
    copies = len(pd.read_parquet(tiny_project / "data/augmented/manifest.parquet"))
    assert bundle["n_train_clips"] == train_originals + copies
    assert bundle["n_val_clips"] == int((splits["split"] == "val").sum())


def test_only_training_clips_are_augmented(tiny_project):
    augmented = pd.read_parquet(tiny_project / "data/augmented/manifest.parquet")
    splits = pd.read_csv(tiny_project / "data/splits.csv")
    train_ids = set(splits.loc[splits["split"] == "train", "clip_id"])
    written = {path.name.split("_aug")[0] for path in (tiny_project / "data/augmented").rglob("*.flac")}
    assert written == train_ids  # no val or test clip was ever augmented on disk
    assert len(augmented) == len(train_ids)  # one copy each with the tiny params
    assert set(augmented["source_clip"]) == train_ids

    features = pd.read_parquet(tiny_project / "features/rich.parquet")
    augmented_rows = features[features["augmentation"] != "none"]
    assert set(augmented_rows["split"]) == {"train"}
    assert set(augmented_rows["augmentation"]) <= {"noise", "stretch", "pitch", "shift"}


def test_feature_tables_hold_every_clip_with_finite_values(tiny_project):
    rich = pd.read_parquet(tiny_project / "features/rich.parquet")
    mfcc = pd.read_parquet(tiny_project / "features/mfcc40.parquet")
    manifest = pd.read_parquet(tiny_project / "data/raw/manifest.parquet")
    augmented = pd.read_parquet(tiny_project / "data/augmented/manifest.parquet")
    assert len(rich) == len(mfcc) == len(manifest) + len(augmented)
    assert len(RICH_FEATURE_NAMES) == 392
    values = rich[RICH_FEATURE_NAMES].to_numpy()
    assert np.isfinite(values).all()
    np.testing.assert_array_equal(mfcc[RICH_FEATURE_NAMES[:40]].to_numpy(), values[:, :40])
    for column in ("clip_id", "source_clip", "actor", "split", "emotion", "augmentation"):
        assert column in rich.columns and column in mfcc.columns


def test_baseline_bundle_and_metrics(tiny_project):
    bundle_dir = tiny_project / "models/baseline"
    for name in ("model_seed42.keras", "model_seed43.keras", "scaler.joblib", "labels.json", "bundle.json"):
        assert (bundle_dir / name).is_file()
    metadata = json.loads((bundle_dir / "bundle.json").read_text())
    assert metadata["seeds"] == [42, 43]
    assert (metadata["feature_set"], metadata["sample_rate"], metadata["n_features"]) == ("mfcc40", 16000, 40)
    assert json.loads((bundle_dir / "labels.json").read_text()) == list(EMOTIONS)

    metrics = json.loads((tiny_project / "reports/metrics.json").read_text())["baseline"]
    # 32 test clips of 8 classes: chance is 12.5 %, and 10 or more hits by luck is very unlikely.
    assert metrics["accuracy"] > 0.3
    assert metrics["test_actors"] == TINY_TEST_ACTORS
    assert set(metrics["per_class"]) == set(EMOTIONS)
    assert sum(sum(row.values()) for row in metrics["confusion_matrix"].values()) == metrics["n_test_clips"] == 32
    assert (tiny_project / "reports/plots/evaluation/confusion_baseline.png").stat().st_size > 0
    # Two seeds: the bundle's figure is their average; each seed's own figure and the spread are reported.
    seeds = metrics["seeds"]
    assert seeds["count"] == 2 and set(seeds["per_seed"]) == {"42", "43"}
    alone = [seeds["per_seed"][seed]["accuracy"] for seed in ("42", "43")]
    assert seeds["accuracy"]["mean"] == pytest.approx(np.mean(alone), abs=1e-4)
    assert seeds["accuracy"]["std"] == pytest.approx(np.std(alone, ddof=1), abs=1e-4)
    summary = json.loads((tiny_project / "reports/training/baseline.json").read_text())
    for seed in ("42", "43"):
        curve = pd.read_csv(tiny_project / f"reports/curves/baseline/seed{seed}/plots/metrics/eval/accuracy.tsv", sep="\t")
        assert len(curve) == summary["per_seed"][seed]["epochs_run"]


TRAINED = {"baseline", "enhanced", "optimized", "svm_rich", "logistic_egemaps", "logistic_compare", "crnn", "strided_crnn"}
# The frame model that cross-validation trains (params.yaml's cv.models: the one best on the val actors).
CV_FRAME_MODEL = "strided_crnn"


def test_every_model_is_trained_and_evaluated_and_the_ensemble_keeps_the_members_that_vote(tiny_project):
    metrics = json.loads((tiny_project / "reports/metrics.json").read_text())
    assert set(metrics) == TRAINED | {"ensemble"}
    weights = json.loads((tiny_project / "reports/training/ensemble.json").read_text())["weights"]
    # Every trained model that train.ensemble.members names (all but logistic_egemaps) and its own extra trees.
    assert set(weights) == TRAINED - {"logistic_egemaps"} | {"extra_trees"}
    members = metrics["ensemble"]["members"]
    assert set(members) == {name for name, weight in weights.items() if weight > 0}
    assert all(member["weight"] > 0 for member in members.values())
    assert sum(member["weight"] for member in members.values()) == pytest.approx(1.0)
    bundled = {path.name for path in (tiny_project / "models/ensemble/members").iterdir()}
    assert bundled == set(members)
    for name in ("baseline", "enhanced", "optimized", "crnn", "strided_crnn"):
        summary = json.loads((tiny_project / f"reports/training/{name}.json").read_text())
        assert all(seed["epochs_run"] >= 1 for seed in summary["per_seed"].values()) and summary["parameters"] > 0
        assert (tiny_project / f"reports/plots/training/{name}.png").stat().st_size > 0


def test_every_model_trains_on_both_corpora_and_is_scored_on_each_corpus_apart(tiny_project):
    nemo_clips = json.loads((tiny_project / "reports/ingest.json").read_text())["corpora"]["nemo"]["clips"]
    assert nemo_clips == len(TINY_NEMO_SPEAKERS) * 6
    metrics = json.loads((tiny_project / "reports/metrics.json").read_text())
    for name, figures in metrics.items():
        # The headline stays RAVDESS's test actors' (comparable with RAVDESS-only runs); nEMO's test speaker apart.
        assert figures["test_actors"] == TINY_TEST_ACTORS and figures["n_test_clips"] == len(TINY_TEST_ACTORS) * 16
        assert figures["by_corpus"]["nemo"]["clips"] == 6 and figures["by_corpus"]["nemo"]["test_speakers"] == [103]
    # The scikit-learn models saw nEMO's training speaker, and selected C on both corpora's val speakers.
    splits = pd.read_csv(tiny_project / "data/splits.csv")
    copies = len(pd.read_parquet(tiny_project / "data/augmented/manifest.parquet"))
    summary = json.loads((tiny_project / "reports/training/svm_rich.json").read_text())
    assert summary["n_train_clips"] == int((splits["split"] == "train").sum()) + copies
    assert (splits.loc[splits["split"] == "train", "actor"] > 100).sum() == 6


def test_dvc_sees_metrics_and_plots(tiny_project):
    shown = run_dvc(tiny_project, "metrics", "show", "--json")
    assert "baseline" in shown.stdout and "accuracy" in shown.stdout
    plots = json.loads(run_dvc(tiny_project, "plots", "show", "--json").stdout)["data"]
    # The directory plots: one confusion per evaluated model, one curve per model, seed, side and figure.
    confusion_rows = plots["reports/predictions/baseline.csv"][0]["content"]["data"]["values"]
    assert len(confusion_rows) == 32 and {"actual", "predicted"} <= set(confusion_rows[0])
    models = yaml.safe_load((tiny_project / "params.yaml").read_text())["train"]
    assert {f"reports/predictions/{name}.csv" for name in models} <= set(plots)
    curve_rows = plots["reports/curves/baseline/seed43/plots/metrics/eval/accuracy.tsv"][0]["content"]["data"]["values"]
    assert len(curve_rows) > 0 and {"step", "accuracy"} <= set(curve_rows[0])
    assert not any(name.endswith(".json") for name in plots), "a summary among the curves"
    assert "reports/plots/evaluation/confusion_baseline.png" in plots


def test_second_repro_has_nothing_to_do(tiny_project):
    lock_before = (tiny_project / "dvc.lock").read_text()
    result = run_dvc(tiny_project, "repro")
    assert "Running stage" not in result.stdout
    assert (tiny_project / "dvc.lock").read_text() == lock_before
    assert "up to date" in run_dvc(tiny_project, "status").stdout


def test_cross_validation_reports_both_protocols_over_folds_of_whole_actors(tiny_project):
    report = json.loads((tiny_project / "reports/cv.json").read_text())
    tested = sorted(actor for fold in report["folds"] for actor in fold["test_actors"])
    assert tested == list(TINY_ACTORS)
    for protocol in ("plain", "speaker_normalised"):
        summary = report[protocol]["summary"]
        assert set(summary) == {"svm_rich", "logistic_egemaps", "logistic_compare", CV_FRAME_MODEL, "ensemble"}
        per_fold = report[protocol]["per_fold"]
        assert len(per_fold) == 3
        folds_table = pd.read_csv(tiny_project / f"reports/cv_folds_{protocol}.csv")
        assert folds_table["fold"].tolist() == [1, 2, 3]
        for name, model in summary.items():
            accuracies = [fold[name]["accuracy"] for fold in per_fold]
            assert model["accuracy_mean"] == pytest.approx(np.mean(accuracies), abs=1e-4)
            assert folds_table[name].tolist() == pytest.approx(accuracies)
        # The frame model of every fold is the shipped recipe (its train block's epochs), not a shortened one.
        shipped = yaml.safe_load((tiny_project / "params.yaml").read_text())["train"][CV_FRAME_MODEL]["epochs"]
        assert {fold[CV_FRAME_MODEL]["epochs"] for fold in per_fold} == {shipped}
    # The plain ensemble votes as the shipped one may (train.ensemble.members, without logistic_egemaps); the
    # speaker-normalised one over every cross-validated model.
    params = yaml.safe_load((tiny_project / "params.yaml").read_text())
    members = params["train"]["ensemble"]["members"]
    plain_voters = report["plain"]["ensemble_members"]
    assert "logistic_egemaps" not in members
    assert plain_voters == [name for name in params["cv"]["models"] if name in members]
    assert all(set(fold["ensemble"]["weights"]) == set(plain_voters) for fold in report["plain"]["per_fold"])
    assert "logistic_egemaps" in report["speaker_normalised"]["ensemble_members"]
    assert (tiny_project / "reports/plots/cv_folds.png").stat().st_size > 0


def test_cross_validation_gives_the_same_figures_on_one_worker_as_on_two(tiny_project, tmp_path):
    import subprocess
    import sys

    from tests.conftest import copy_built_project

    # The build cross-validated on one worker process (tiny_params). The same stage, inputs and recipe on two workers,
    # on the plain protocol's three folds: one worker runs two of them, and the build's second and third fold (which
    # followed others in its one worker) each meet a fresh worker or another history. One pool start, not three.
    project = copy_built_project(tiny_project, tmp_path / "project")
    params = yaml.safe_load((project / "params.yaml").read_text())
    assert params["cv"]["n_jobs"] == 1 and CV_FRAME_MODEL in params["cv"]["models"]
    params["cv"].update(n_jobs=2, protocols=["plain"])
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    stage = subprocess.run([sys.executable, "-m", "stages.cross_validate"], cwd=project, capture_output=True,
                           text=True, timeout=600)
    assert stage.returncode == 0, stage.stderr
    one, two = (json.loads((folder / "reports/cv.json").read_text()) for folder in (tiny_project, project))
    assert set(two) == {"folds", "plain"}
    # Every fold, the frame model's trainings (the shipped recipe) included, to the last digit.
    assert two["folds"] == one["folds"] and two["plain"] == one["plain"]
    assert all(CV_FRAME_MODEL in fold for fold in two["plain"]["per_fold"])
    table = "reports/cv_folds_plain.csv"
    assert (project / table).read_text() == (tiny_project / table).read_text()


def test_the_frame_store_holds_every_original_clip_and_its_channel_copies_with_their_settings(tiny_project):
    index = pd.read_parquet(tiny_project / "features/frames/index.parquet")
    frames = np.load(tiny_project / "features/frames/frames.npy")
    manifest = pd.read_parquet(tiny_project / "data/raw/manifest.parquet")
    copies = pd.read_parquet(tiny_project / "data/channel_augmented/manifest.parquet")
    originals = index[index["augmentation"] == "none"]
    assert sorted(originals["clip_id"]) == sorted(manifest["clip_id"])
    assert sorted(index.loc[index["augmentation"] != "none", "clip_id"]) == sorted(copies["clip_id"])
    n_mels = yaml.safe_load((tiny_project / "params.yaml").read_text())["frames"]["n_mels"]
    assert frames.dtype == np.float16 and frames.shape == (index["length"].sum(), n_mels)
    assert (index["offset"] + index["length"]).iloc[-1] == len(frames) and np.isfinite(frames).all()
    # 1 s clips, trimmed to the speech and 100 ms around it: never longer than the clip
    assert index["length"].between(50, 101).all()


def test_a_tiny_crnn_learns_the_tiny_corpus_and_reports_its_seeds(tiny_project):
    metrics = json.loads((tiny_project / "reports/metrics.json").read_text())["crnn"]
    # 32 test clips of 8 classes: chance is 12.5 %; 10 or more hits by luck is very unlikely.
    assert metrics["accuracy"] > 0.3
    assert metrics["seeds"]["count"] == 2 and set(metrics["seeds"]["per_seed"]) == {"42", "43"}
    bundle = json.loads((tiny_project / "models/crnn/bundle.json").read_text())
    assert (bundle["framework"], bundle["feature_set"], bundle["crop_frames"]) == ("crnn", "frames", 100)
    assert bundle["feature_settings"]["frames"]["n_mels"] == yaml.safe_load((tiny_project / "params.yaml").read_text())["frames"]["n_mels"]
    for seed in ("42", "43"):
        curve = pd.read_csv(tiny_project / f"reports/curves/crnn/seed{seed}/plots/metrics/eval/accuracy.tsv", sep="\t")
        assert len(curve) == TINY_CRNN["epochs"]
    report = json.loads((tiny_project / "reports/cv.json").read_text())
    for protocol in ("plain", "speaker_normalised"):
        assert all(fold[CV_FRAME_MODEL]["seeds"] == [42] for fold in report[protocol]["per_fold"])
        assert CV_FRAME_MODEL in report[protocol]["per_fold"][0]["ensemble"]["weights"]


def test_calibrate_writes_serving_settings_and_reliability_for_every_calibrated_model(tiny_project):
    params = yaml.safe_load((tiny_project / "params.yaml").read_text())
    # calibration.models: all, every train entry
    assert params["calibration"]["models"] == "all"
    names = list(params["train"])
    serving = json.loads((tiny_project / "models/serving.json").read_text())
    assert serving["speech"]["detect"] is False and set(serving["models"]) == set(names)
    for calibration in serving["models"].values():
        assert calibration["temperature"] > 0 and 0 <= calibration["uncertain_below"] <= 1
    report = json.loads((tiny_project / "reports/calibration.json").read_text())
    assert set(report) == set(names)
    for name, figures in report.items():
        # Fitted on every training corpus's val speakers (nEMO's 102 too), checked on every test speaker.
        assert figures["val_actors"] == TINY_VAL_ACTORS + [102] and figures["test_actors"] == TINY_TEST_ACTORS + [103]
        numbers = [value for value in figures.values() if isinstance(value, (int, float))]
        assert numbers and np.isfinite(numbers).all(), name
        assert 0 <= figures["ece_before"] <= 1 and 0 <= figures["ece_after"] <= 1
        assert figures["temperature"] == serving["models"][name]["temperature"]
        assert (tiny_project / f"reports/plots/calibration/reliability_{name}.png").stat().st_size > 0
    reliability = pd.read_csv(tiny_project / "reports/calibration_reliability.csv")
    assert set(reliability["model"]) == set(names)
    assert reliability.groupby(["model", "calibrated"])["clips"].sum().eq(report[names[0]]["test_clips"]).all()


def test_the_seed_protocol_audit_measures_its_leak(tiny_project):
    audit = json.loads((tiny_project / "reports/audit_seed_protocol.json").read_text())
    # One copy per clip with the tiny params: most test rows still have their sibling in training.
    assert audit["seed_protocol"]["test_rows_with_a_sibling_in_training"] > 0.5
    assert audit["speaker_independent"]["test_actors"] == TINY_TEST_ACTORS
    # Whether the leak inflates accuracy is tested on data built for it (test_cv); the tiny corpus is
    # too easy for the honest arm to fall behind.


def test_adapted_bundles_twin_the_plain_ones_and_predict_with_a_speaker_uses_them(tiny_project):
    from soundmind.models.bundle import load_bundle
    from soundmind.serving.predict import EmotionPredictor

    for name in ("svm_rich", "logistic_egemaps", "logistic_compare", "crnn", "ensemble"):
        plain, adapted = load_bundle(tiny_project / "models" / name), load_bundle(tiny_project / "models" / f"{name}_adapted")
        assert adapted.speaker_normalised and not plain.speaker_normalised
        assert all(adapted.feature_settings[family] == plain.feature_settings[family]
                   for family in adapted.required_families() & set(plain.feature_settings))
    adapted_ensemble = load_bundle(tiny_project / "models/ensemble_adapted")
    assert set(adapted_ensemble.members) <= {"svm_rich_adapted", "logistic_egemaps_adapted", "logistic_compare_adapted",
                                             "crnn_adapted", "extra_trees"}
    summary = json.loads((tiny_project / "reports/training/adapted.json").read_text())
    assert set(summary) == {"svm_rich_adapted", "logistic_egemaps_adapted", "logistic_compare_adapted", "crnn_adapted",
                            "ensemble_adapted"}
    predictor = EmotionPredictor(models_dir=tiny_project / "models")
    clips = sorted((tiny_project / "data/raw/Actor_05").glob("*.flac"))
    profile = predictor.enroll(clips[1:6])
    result = predictor.predict(clips[0], speaker=profile)
    assert result["model"] == "ensemble_adapted" and result["speaker_profile_clips"] == 5


def test_the_enrollment_curve_is_reported_and_plotted_and_external_scoring_is_skipped_by_default(tiny_project):
    from soundmind.serving.adaptation_report import SKIPPED_EXTERNAL

    report = json.loads((tiny_project / "reports/adaptation.json").read_text())
    assert report["external_emodb"] == {"skipped": SKIPPED_EXTERNAL} and report["adapted_model"] == "ensemble_adapted"
    assert report["enrollment"]["test_actors"] == TINY_TEST_ACTORS and report["enrollment"]["clips"] == 32
    # nEMO's test speaker apart: one clip at a time, and adapted with every other clip of theirs.
    nemo = report["test_speakers_by_corpus"]["nemo"]
    assert nemo["test_speakers"] == [103] and nemo["clips"] == 6
    assert 0 <= nemo["one_clip_accuracy"] <= 1 and 0 <= nemo["adapted_accuracy"] <= 1
    curve = pd.read_csv(tiny_project / "reports/adaptation_curve.csv")
    assert curve["k"].astype(str).tolist() == ["1", "2", "4", "8", "16", "all"]
    assert curve["clips"].tolist() == [1, 2, 4, 8, 15, 15] and curve["draws"].tolist() == [2, 2, 2, 2, 2, 1]
    assert curve["adapted_accuracy"].between(0, 1).all()
    plots = json.loads(run_dvc(tiny_project, "plots", "show", "--json").stdout)["data"]
    (curve_plot,) = [title for title in plots if title.startswith("Adapted accuracy on the test actors")]
    assert len(plots[curve_plot][0]["content"]["data"]["values"]) > 0


def test_evaluate_external_scores_an_emodb_folder_and_refuses_a_missing_one(tiny_project, tmp_path):
    import shutil
    import subprocess
    import sys

    from tests.conftest import copy_built_project

    project = copy_built_project(tiny_project, tmp_path / "project")
    params = yaml.safe_load((project / "params.yaml").read_text())

    def run_with(folder: str) -> subprocess.CompletedProcess:
        params["external"]["emodb"] = folder
        (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        return subprocess.run([sys.executable, "-m", "stages.evaluate_external"], cwd=project, capture_output=True,
                              text=True, timeout=600)

    missing = run_with("no/such/emodb")
    assert missing.returncode != 0
    assert missing.stderr.strip().splitlines()[-1] == ("error: params.yaml: 'external.emodb' names no/such/emodb, "
                                                       "which is not a folder.")
    emodb = tmp_path / "emodb"
    emodb.mkdir()
    # Actor 5's clips under EmoDB names: anger, sadness and (left out) boredom for calm.
    for initial, code in (("W", "05"), ("T", "04"), ("L", "02")):
        for index, path in enumerate(sorted((project / "data/raw/Actor_05").glob(f"03-01-{code}-*.flac"))):
            shutil.copy(path, emodb / f"03a0{index + 1}{initial}a.flac")
    scored = run_with(str(emodb))
    assert scored.returncode == 0, scored.stderr
    external = json.loads((project / "reports/adaptation.json").read_text())["external_emodb"]
    assert external["classes"] == ["sad", "angry"] and external["one_clip"]["clips"] == 4
    assert external["adapted"]["adapted_clips"] == 4 and any("'boredom'" in note for note in external["notes"])
    # The other models' figures come from the same scoring, each with its adapted twin where it has one.
    assert sorted(external["other_models"]) == sorted(params["external"]["other_models"])
    for name, figures in external["other_models"].items():
        assert set(figures) == {"one_clip", "adapted"}
        scored_parts = [figures["one_clip"]] + ([figures["adapted"]] if name in params["train_adapted"]["models"] else [])
        assert all(0 <= part["accuracy"] <= 1 and "unweighted_average_recall" in part for part in scored_parts)
        if name not in params["train_adapted"]["models"]:
            assert "no adapted bundle" in figures["adapted"]["skipped"], figures["adapted"]
            assert f"EmoDB, {name}: one clip" in scored.stdout and "adapted skipped (" in scored.stdout
    assert f"EmoDB, {params['external']['other_models'][0]}: one clip" in scored.stdout


def test_the_speaker_prior_holds_every_adapted_family_from_the_training_actors(tiny_project):
    prior = json.loads((tiny_project / "models/speaker_prior.json").read_text())
    adaptation = yaml.safe_load((tiny_project / "params.yaml").read_text())["adaptation"]
    assert (prior["clips"], prior["blend_clips"]) == (adaptation["prior_clips"], adaptation["blend_clips"])
    n_mels = yaml.safe_load((tiny_project / "params.yaml").read_text())["frames"]["n_mels"]
    widths = {family: len(values) for family, values in prior["deviations"].items()}
    assert widths["frames"] == n_mels and widths["rich"] == 392 and widths["egemaps"] == 88 and widths["compare"] > 6000
    # The settings each family was extracted with, which an adapted bundle's must equal.
    assert set(prior["settings"]) == set(widths) and prior["settings"]["frames"]["n_mels"] == n_mels
    assert all(value >= 0 and np.isfinite(value) for values in prior["deviations"].values() for value in values)


def test_every_original_clip_has_one_channel_shifted_copy_seen_by_selection_and_scored_on_test(tiny_project):
    manifest = pd.read_parquet(tiny_project / "data/raw/manifest.parquet")
    shifted = pd.read_parquet(tiny_project / "data/shifted/manifest.parquet")
    assert sorted(shifted["source_clip"]) == sorted(manifest["clip_id"])
    for family in ("rich", "mfcc40", "compare", "egemaps", "frames/index"):
        table = pd.read_parquet(tiny_project / f"features/shifted/{family}.parquet")
        assert table["clip_id"].tolist() == sorted(shifted["clip_id"])
        assert (table["augmentation"] != "none").all()
    clean = pd.read_parquet(tiny_project / "features/rich.parquet").set_index("clip_id")
    copies = pd.read_parquet(tiny_project / "features/shifted/rich.parquet")
    # A copy keeps its clip's split: a test actor's copy never enters a choice.
    assert (copies["split"].to_numpy() == clean.loc[copies["source_clip"], "split"].to_numpy()).all()
    summary = json.loads((tiny_project / "reports/training/ensemble.json").read_text())
    assert 0.0 <= summary["shifted_val_accuracy"] <= 1.0
    assert set(summary["member_shifted_val_accuracy"]) == set(summary["member_val_accuracy"])
    metrics = json.loads((tiny_project / "reports/metrics.json").read_text())
    assert all(0.0 <= figures["channel_shifted"]["accuracy"] <= 1.0 for figures in metrics.values())
    conditions = set(copies.loc[copies["split"] == "test", "augmentation"])
    assert all(set(figures["channel_shifted"]["by_condition"]) == conditions for figures in metrics.values())
    cv = json.loads((tiny_project / "reports/cv.json").read_text())
    assert "shifted_accuracy_mean" in cv["plain"]["summary"]["ensemble"]


def test_the_listed_families_train_on_channel_copies_of_the_training_actors_only(tiny_project):
    params = yaml.safe_load((tiny_project / "params.yaml").read_text())
    families = set(params["channel_augment"]["families"])
    copies = pd.read_parquet(tiny_project / "data/channel_augmented/manifest.parquet")
    manifest = pd.read_parquet(tiny_project / "data/raw/manifest.parquet")
    assert sorted(copies["source_clip"]) == sorted(manifest["clip_id"].repeat(params["channel_augment"]["copies"]))
    assert set(copies["augmentation"]) <= set(params["channel_augment"]["conditions"])
    assert families == {"compare", "egemaps", "frames"}  # the shipped default; the rich table stays clean
    for family in ("rich", "compare", "egemaps", "frames/index"):
        table = pd.read_parquet(tiny_project / f"features/{family}.parquet")
        channel = table[table["augmentation"].isin(copies["augmentation"].unique())]
        expected = family.split("/")[0] in families
        assert (len(channel) == len(copies)) == expected and (len(channel) == 0) != expected
    # The CRNN draws a version of each training clip per epoch: its clips are the originals, its copies counted apart;
    # the adapted twin, whose statistics are its speakers', never sees one.
    plain = json.loads((tiny_project / "models/crnn/bundle.json").read_text())
    adapted = json.loads((tiny_project / "models/crnn_adapted/bundle.json").read_text())
    splits = pd.read_csv(tiny_project / "data/splits.csv")
    n_train = int((splits["split"] == "train").sum())
    assert plain["n_train_clips"] == n_train and plain["n_train_channel_copies"] == n_train * params["channel_augment"]["copies"]
    assert adapted["n_train_clips"] == n_train and adapted["n_train_channel_copies"] == 0
