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
from soundmind.files import write_table
from soundmind.ingest import read_manifest
from soundmind.parallel import backend_from_params, joblib_backend
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
    parallel = backend_from_params(params)
    with joblib_backend(**parallel):
        table = extract_feature_table(
            # Absolute paths: Dask workers may run in another folder.
            clips, {"raw": Path("data/raw").resolve(), "augmented": Path("data/augmented").resolve()}, settings,
            parallel["n_jobs"],
        )
    for feature_set in ("rich", "mfcc40"):
        write_table(table[METADATA_COLUMNS + feature_names(feature_set)], f"features/{feature_set}.parquet")
    print(f"features for {len(table)} clips ({(table['augmentation'] != 'none').sum()} augmented)")


if __name__ == "__main__":
    run_stage(main)
