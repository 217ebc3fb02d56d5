"""extract-functionals: openSMILE ComParE 2016 and eGeMAPS v02 functionals of every original clip."""

from pathlib import Path

import pandas as pd

from soundmind.features import METADATA_COLUMNS, clips_to_featurise
from soundmind.functionals import extract_functional_tables
from soundmind.ingest import read_manifest
from soundmind.params import load_params, require_positive_int
from soundmind.stage import run_stage


def main() -> None:
    params = load_params()
    manifest = read_manifest(Path("data/raw"))
    no_copies = pd.DataFrame(columns=["clip_id", "source_clip", "path", "actor", "emotion", "augmentation"])
    clips = clips_to_featurise(manifest, pd.read_csv("data/splits.csv"), no_copies)
    tables = extract_functional_tables(
        clips, Path("data/raw"), require_positive_int(params, "audio.sample_rate"), ("compare", "egemaps"),
        METADATA_COLUMNS, params["features"].get("n_jobs", -1),
    )
    Path("features").mkdir(exist_ok=True)
    for feature_set, table in tables.items():
        table.to_parquet(f"features/{feature_set}.parquet", index=False)
        print(f"{feature_set}: {table.shape[0]} clips x {table.shape[1] - len(METADATA_COLUMNS)} functionals")


if __name__ == "__main__":
    run_stage(main)
