"""extract-functionals: openSMILE ComParE 2016 and eGeMAPS v02 functionals of every original clip."""

from pathlib import Path

import pandas as pd

from soundmind.features import METADATA_COLUMNS, clips_to_featurise
from soundmind.files import write_table
from soundmind.functionals import extract_functional_tables
from soundmind.ingest import read_manifest
from soundmind.parallel import backend_from_params, joblib_backend
from soundmind.params import load_params, require_positive_int
from soundmind.stage import run_stage


def main() -> None:
    params = load_params()
    manifest = read_manifest(Path("data/raw"))
    no_copies = pd.DataFrame(columns=["clip_id", "source_clip", "path", "actor", "emotion", "augmentation"])
    clips = clips_to_featurise(manifest, pd.read_csv("data/splits.csv"), no_copies)
    parallel = backend_from_params(params)
    with joblib_backend(**parallel):
        tables = extract_functional_tables(
            clips, Path("data/raw").resolve(), require_positive_int(params, "audio.sample_rate"), ("compare", "egemaps"),
            METADATA_COLUMNS, parallel["n_jobs"],
        )
    for feature_set, table in tables.items():
        write_table(table, f"features/{feature_set}.parquet")
        print(f"{feature_set}: {table.shape[0]} clips x {table.shape[1] - len(METADATA_COLUMNS)} functionals")


if __name__ == "__main__":
    run_stage(main)
