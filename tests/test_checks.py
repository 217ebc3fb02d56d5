"""params.yaml is checked whole before any stage works: each bad value is refused naming its key."""

from __future__ import annotations

import copy
import subprocess
import sys

import pytest
import yaml

from soundmind.models.architectures import KERAS_ARCHITECTURES, SKLEARN_ARCHITECTURES
from soundmind.checks import check_params
from soundmind.errors import ParamsError
from soundmind.params import load_params
from tests.conftest import REPO_ROOT, copy_project
from tests.test_crnn import STRIDED

PROJECT_PARAMS = load_params(REPO_ROOT / "params.yaml")


def changed(edit) -> dict:
    params = copy.deepcopy(PROJECT_PARAMS)
    edit(params)
    return params


def test_the_project_params_pass():
    check_params(PROJECT_PARAMS)


def test_a_strided_crnn_block_passes():
    check_params(changed(lambda p: p["train"]["crnn"].update(STRIDED)))


def test_optional_settings_may_be_left_out():
    params = changed(lambda p: p["train"].update(forest={"architecture": "extra_trees", "feature_set": "rich"}))
    check_params(params)  # no C: the forest has none; no n_estimators: the default


def test_known_architectures_are_the_ones_the_package_builds():
    from soundmind.models.sklearn_models import build_sklearn_member
    from soundmind.models.networks import FACTORIES

    assert list(FACTORIES) == list(KERAS_ARCHITECTURES)
    for architecture in SKLEARN_ARCHITECTURES:
        build_sklearn_member(architecture, {}, seed=0)


BAD_PARAMS = [
    ("unknown architecture", lambda p: p["train"]["baseline"].update(architecture="transformer"), "train.baseline.architecture"),
    ("zero seeds", lambda p: p["train"]["baseline"].update(seeds=0), "train.baseline.seeds"),
    ("seeds a list", lambda p: p["train"]["enhanced"].update(seeds=[1, 2]), "train.enhanced.seeds"),
    ("zero epochs", lambda p: p["train"]["optimized"].update(epochs=0), "train.optimized.epochs"),
    ("negative epochs", lambda p: p["train"]["enhanced"].update(epochs=-5), "train.enhanced.epochs"),
    ("fractional batch", lambda p: p["train"]["baseline"].update(batch_size=1.5), "train.baseline.batch_size"),
    ("missing feature set", lambda p: p["train"]["svm_rich"].update(feature_set="wav2vec"), "train.svm_rich.feature_set"),
    ("feature set key gone", lambda p: p["train"]["baseline"].pop("feature_set"), "train.baseline.feature_set"),
    ("empty C grid", lambda p: p["train"]["logistic_compare"].update(C=[]), "train.logistic_compare.C"),
    ("unknown ensemble member", lambda p: p["train"]["ensemble"].update(members=["baseline", "gpt"]), "train.ensemble.members"),
    ("overlapping splits", lambda p: p["split"].update(test_actors=[1, 2, 3], val_actors=[3, 4]), "split.test_actors"),
    ("actor outside RAVDESS", lambda p: p["split"].update(test_actors=[0, 25]), "split.test_actors"),
    ("unknown corpus", lambda p: p["corpora"].update(extra=["nemo", "crema_d"]), "corpora.extra"),
    ("corpus listed twice", lambda p: p["corpora"].update(extra=["emovo", "emovo"]), "corpora.extra"),
    ("listed corpus without its block", lambda p: (p["corpora"].update(extra=["emovo"]), p["corpora"].pop("emovo")),
     "corpora.emovo"),
    ("speaker in two splits", lambda p: p["corpora"]["nemo"].update(val_speakers=["EB0"]), "corpora.nemo.test_speakers"),
    ("no speaker drawn", lambda p: p["corpora"]["emovo"].update(n_val_speakers=0), "corpora.emovo.n_val_speakers"),
    ("corpus source not a path", lambda p: p["corpora"]["nemo"].update(source=3), "corpora.nemo.source"),
    ("empty drawn split", lambda p: p["split"].update(val_actors=[], n_val_actors=0), "split.n_val_actors"),
    ("unknown backend", lambda p: p["features"].update(backend="spark"), "features.backend"),
    ("zero n_jobs", lambda p: p["features"].update(n_jobs=0), "features.n_jobs"),
    ("odd n_mfcc", lambda p: p["features"].update(n_mfcc=13), "features"),
    ("unknown augmentation", lambda p: p["augment"].update(kinds=["reverb"]), "augment.kinds"),
    ("one CV fold", lambda p: p["cv"].update(folds=1), "cv.folds"),
    ("Keras model in CV", lambda p: p["cv"].update(models=["baseline"]), "cv.models"),
    ("audit shares", lambda p: p["audit"].update(fractions=[0.7, 0.2, 0.2]), "audit.fractions"),
    ("bad-file policy", lambda p: p["data"].update(on_bad_file="ignore"), "data.on_bad_file"),
    ("no seed", lambda p: p["base"].pop("seed"), "base.seed"),
    ("folds beyond the actors", lambda p: p["cv"].update(folds=30), "cv.folds"),
    ("MFCC model in CV", lambda p: p["train"]["svm_rich"].update(feature_set="mfcc40"), "cv.models"),
    ("CV models not a list", lambda p: p["cv"].update(models=None), "cv.models"),
    ("audit model not a block", lambda p: p["audit"].update(model="svm"), "audit.model"),
    ("members not a list", lambda p: p["train"]["ensemble"].update(members="baseline"), "train.ensemble.members"),
    ("member trees at zero", lambda p: p["train"]["ensemble"]["sklearn_members"]["extra_trees"].update(n_estimators=0),
     "train.ensemble.sklearn_members.extra_trees.n_estimators"),
    ("own member shadows a model", lambda p: p["train"]["ensemble"]["sklearn_members"].update(baseline={"architecture": "svm", "feature_set": "rich"}),
     "train.ensemble.sklearn_members.baseline"),
    ("CRNN with no GRU", lambda p: p["train"]["crnn"].update(gru_units=0), "train.crnn.gru_units"),
    ("CRNN pools every band away", lambda p: p["train"]["crnn"].update(pool_sizes=[[2, 4]] * 4), "train.crnn.pool_sizes"),
    ("CRNN pools per block", lambda p: p["train"]["crnn"].update(pool_sizes=[[2, 2]]), "train.crnn.pool_sizes"),
    ("CRNN label smoothing 1", lambda p: p["train"]["crnn"].update(label_smoothing=1.0), "train.crnn.label_smoothing"),
    ("CRNN on vectors", lambda p: p["train"]["crnn"].update(feature_set="rich"), "train.crnn.feature_set"),
    ("CRNN keeps no epoch", lambda p: p["train"]["crnn"].update(min_epochs=45), "train.crnn.min_epochs"),
    ("CRNN jit as a word", lambda p: p["train"]["crnn"].update(jit_compile="yes"), "train.crnn.jit_compile"),
    ("strided CRNN without its front", lambda p: p["train"]["crnn"].update(architecture="strided_crnn"),
     "train.crnn.front_filters"),
    ("strided CRNN pools per 1D block", lambda p: p["train"]["crnn"].update(STRIDED, conv1d_pools=[2]),
     "train.crnn.conv1d_pools"),
    ("strided CRNN front of zero filters", lambda p: p["train"]["crnn"].update(STRIDED, front_filters=[32, 0]),
     "train.crnn.front_filters"),
    ("strided CRNN kernel as a word", lambda p: p["train"]["crnn"].update(STRIDED, conv1d_kernel_size="3"),
     "train.crnn.conv1d_kernel_size"),
    ("frames for a vector model", lambda p: p["train"]["baseline"].update(feature_set="frames"), "train.baseline.feature_set"),
    ("no mel bands", lambda p: p["frames"].update(n_mels=0), "frames.n_mels"),
    ("hop beyond the window", lambda p: p["frames"].update(hop_seconds=0.05), "frames"),
    ("augmented frames as a word", lambda p: p["frames"].update(include_augmented="no"), "frames.include_augmented"),
    ("no CV seeds for the CRNN", lambda p: p["cv"].update(crnn_seeds=0), "cv.crnn_seeds"),
    ("no CV workers", lambda p: p["cv"].update(n_jobs=0), "cv.n_jobs"),
    ("CV workers as a word", lambda p: p["cv"].update(n_jobs="two"), "cv.n_jobs"),
    ("no seed workers", lambda p: p["training"].update(seed_workers=0), "training.seed_workers"),
    ("seed workers as a fraction", lambda p: p["training"].update(seed_workers=1.5), "training.seed_workers"),
    # The old word for a model's type is refused with the key that replaced it.
    ("audit model by its old key", lambda p: p["audit"].update(model={"kind": "svm", "C": 10.0}), "audit.model.architecture"),
    ("ensemble member by its old key",
     lambda p: p["train"]["ensemble"]["sklearn_members"].update(extra_trees={"kind": "extra_trees", "feature_set": "rich"}),
     "train.ensemble.sklearn_members.extra_trees.architecture"),
    ("calibrating an unknown model", lambda p: p["calibration"].update(models=["baseline", "gpt"]), "calibration.models"),
    ("calibrating an adapted bundle", lambda p: p["calibration"].update(models=["crnn_adapted"]), "calibration.models"),
    ("calibrating nothing", lambda p: p["calibration"].update(models=[]), "calibration.models"),
    ("calibrating a model twice", lambda p: p["calibration"].update(models=["crnn", "crnn"]), "calibration.models"),
    ("calibration models a word", lambda p: p["calibration"].update(models="crnn"), "calibration.models"),
    ("no calibration bins", lambda p: p["calibration"].update(bins=0), "calibration.bins"),
    ("uncertain accuracy of 1", lambda p: p["calibration"].update(uncertain_accuracy=1.0), "calibration.uncertain_accuracy"),
    ("uncertain accuracy a word", lambda p: p["calibration"].update(uncertain_accuracy="half"), "calibration.uncertain_accuracy"),
    ("no calibration block", lambda p: p.pop("calibration"), "calibration.models"),
    ("speech threshold above 1", lambda p: p["speech"].update(threshold=1.5), "speech.threshold"),
    ("speech threshold a word", lambda p: p["speech"].update(threshold="high"), "speech.threshold"),
    ("speech detection as a word", lambda p: p["speech"].update(detect="yes"), "speech.detect"),
    ("no speech needed", lambda p: p["speech"].update(min_speech_seconds=0), "speech.min_speech_seconds"),
    ("negative speech padding", lambda p: p["speech"].update(pad_seconds=-0.1), "speech.pad_seconds"),
    ("segments shorter than speech", lambda p: p["speech"].update(max_segment_seconds=0.3), "speech.max_segment_seconds"),
    ("unknown speech setting", lambda p: p["speech"].update(vad="webrtc"), "speech: unknown setting"),
    ("speech not a block", lambda p: p.update(speech=True), "speech"),
    ("no actor left to train", lambda p: p["split"].update(test_actors=[], val_actors=[], n_test_actors=12, n_val_actors=12),
     "split.n_test_actors"),
]


@pytest.mark.parametrize("edit, key", [case[1:] for case in BAD_PARAMS], ids=[case[0] for case in BAD_PARAMS])
def test_bad_params_are_refused_naming_the_key(edit, key):
    with pytest.raises(ParamsError, match=key.replace(".", r"\.")):
        check_params(changed(edit))


def test_dvc_repro_refuses_a_bad_train_param_before_the_first_stage_does_any_work(tmp_path):
    project = copy_project(tmp_path / "project")
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["train"]["optimized"]["epochs"] = 0
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    result = subprocess.run(
        [sys.executable, "-m", "dvc", "repro"], cwd=project, capture_output=True, text=True, timeout=300
    )
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "Running stage 'download-ravdess'" in output  # the first stage, long before train-optimized
    assert "'train.optimized.epochs' must be a positive integer, got 0" in output
    assert "Traceback" not in output
    assert not (project / "data/raw").exists() and not (project / "dvc.lock").exists()
