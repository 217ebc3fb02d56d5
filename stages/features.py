"""extract-features: the rich (392) and MFCC (40) vectors of every clip, into features/*.parquet."""

from pathlib import Path

import pandas as pd

from soundmind.features import (
    METADATA_COLUMNS,
    clips_to_featurise,
    extract_feature_table,
    feature_names,
    feature_settings_from_params,
)
from soundmind.ingest import read_manifest
from soundmind.params import load_params
from soundmind.stage import run_stage


def main() -> None:
    params = load_params()
    settings = feature_settings_from_params(params)
    clips = clips_to_featurise(
        read_manifest(Path("data/raw")),
        pd.read_csv("data/splits.csv"),
        pd.read_parquet("data/augmented/manifest.parquet"),
    )
    table = extract_feature_table(
        clips, {"raw": Path("data/raw"), "augmented": Path("data/augmented")}, settings, params["features"].get("n_jobs", -1)
    )
    Path("features").mkdir(exist_ok=True)
    for feature_set in ("rich", "mfcc40"):
        table[METADATA_COLUMNS + feature_names(feature_set)].to_parquet(f"features/{feature_set}.parquet", index=False)
    print(f"features for {len(table)} clips ({(table['augmentation'] != 'none').sum()} augmented)")


if __name__ == "__main__":
    run_stage(main)
