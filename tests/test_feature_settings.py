"""Feature settings travel with the features: recorded in each table, copied into every bundle, used by the
predictor; a table made with other settings than params.yaml's is refused rather than trained on."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from soundmind.errors import StaleFeaturesError
from soundmind.features.tables import require_current_table, table_settings, write_feature_table
from soundmind.models.bundle import common_sample_rate, merged_feature_settings
from soundmind.serving.predict import EmotionPredictor
from tests.conftest import copy_built_project

RICH_SETTINGS = {"sample_rate": 16000, "n_fft": 2048, "hop_length": 512, "n_mfcc": 40, "n_mels": 128}


def folder_digest(folder: Path) -> str:
    digest = hashlib.md5()
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest.update(path.relative_to(folder).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


def test_every_feature_table_records_the_settings_it_was_extracted_with(tiny_project):
    for name in ("rich", "mfcc40"):
        assert table_settings(tiny_project / "features" / f"{name}.parquet") == RICH_SETTINGS
    for name in ("compare", "egemaps"):
        assert table_settings(tiny_project / "features" / f"{name}.parquet") == {"sample_rate": 16000}


def test_bundles_copy_their_tables_settings_and_the_ensemble_holds_its_members_families(tiny_project):
    def settings_of(model: str) -> dict:
        return json.loads((tiny_project / "models" / model / "bundle.json").read_text())["feature_settings"]

    assert settings_of("baseline") == {"rich": RICH_SETTINGS}
    assert settings_of("svm_rich") == {"rich": RICH_SETTINGS}
    assert settings_of("logistic_compare") == {"compare": {"sample_rate": 16000}}
    ensemble = settings_of("ensemble")
    assert ensemble["rich"] == RICH_SETTINGS and ensemble["compare"] == {"sample_rate": 16000}
    # No member it may vote over reads eGeMAPS (train.ensemble.members): serving never extracts it for the ensemble.
    assert set(ensemble) == {"rich", "compare", "frames"}


def test_the_predictor_extracts_features_with_the_bundles_settings(tiny_project, tmp_path):
    bundle = tmp_path / "baseline"
    bundle.mkdir()
    for path in (tiny_project / "models" / "baseline").iterdir():
        (bundle / path.name).write_bytes(path.read_bytes())
    metadata = json.loads((bundle / "bundle.json").read_text())
    metadata["feature_settings"]["rich"]["n_fft"] = 1024
    (bundle / "bundle.json").write_text(json.dumps(metadata))
    clip = pd.read_parquet(tiny_project / "data/raw/manifest.parquet")["path"].iloc[0]
    audio = tiny_project / "data/raw" / clip
    as_recorded = EmotionPredictor(tiny_project / "models" / "baseline").predict(audio)
    as_edited = EmotionPredictor(bundle).predict(audio)
    # Same weights, other STFT: the probabilities can only differ through the settings the bundle names.
    assert as_recorded["probabilities"] != as_edited["probabilities"]


def test_a_table_made_with_other_settings_is_refused_naming_the_setting(tmp_path):
    path = tmp_path / "rich.parquet"
    write_feature_table(pd.DataFrame({"clip_id": ["a"], "mfcc_mean_00": [1.0]}), path, RICH_SETTINGS)
    assert require_current_table(path, RICH_SETTINGS) == RICH_SETTINGS
    with pytest.raises(StaleFeaturesError, match=r"n_fft 2048 \(params.yaml now: 1024\)"):
        require_current_table(path, {**RICH_SETTINGS, "n_fft": 1024})
    pd.DataFrame({"clip_id": ["a"]}).to_parquet(tmp_path / "unrecorded.parquet")
    with pytest.raises(StaleFeaturesError, match="does not record"):
        table_settings(tmp_path / "unrecorded.parquet")


def test_an_ensemble_refuses_members_trained_on_features_made_differently():
    compare = {"sample_rate": 16000}
    merged = merged_feature_settings({"a": {"rich": RICH_SETTINGS}, "b": {"rich": RICH_SETTINGS, "compare": compare}})
    assert merged == {"rich": RICH_SETTINGS, "compare": compare}
    with pytest.raises(StaleFeaturesError, match="a and b disagree about how the rich features were made"):
        merged_feature_settings({"a": {"rich": RICH_SETTINGS}, "b": {"rich": {**RICH_SETTINGS, "hop_length": 256}}})
    with pytest.raises(ValueError, match="different sample rates"):
        common_sample_rate({"rich": RICH_SETTINGS, "compare": {"sample_rate": 8000}})


@pytest.mark.parametrize("model", ["baseline", "svm_rich"])
def test_training_refuses_a_table_extracted_with_other_settings_instead_of_writing_a_bundle_that_lies(
    tiny_project, tmp_path, model
):
    project = copy_built_project(tiny_project, tmp_path / "project")
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["features"]["n_fft"] = 1024  # changed without extracting the features again
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    bundle_before = folder_digest(project / "models" / model)

    result = subprocess.run(
        [sys.executable, "-m", "stages.train", model], cwd=project, capture_output=True, text=True, timeout=300
    )

    assert result.returncode == 1
    assert "features/" in result.stderr and "n_fft 2048 (params.yaml now: 1024)" in result.stderr
    assert "Traceback" not in result.stderr
    assert folder_digest(project / "models" / model) == bundle_before
