"""augment: seeded augmented copies of the training clips only, into data/augmented."""

from pathlib import Path

import pandas as pd

from soundmind.augment import augment_settings_from_params, augment_training_clips
from soundmind.files import write_table
from soundmind.ingest import read_manifest
from soundmind.params import load_params, require, require_positive_int
from soundmind.stage import run_stage

OUT_DIR = Path("data/augmented")


def main() -> None:
    params = load_params()
    settings = augment_settings_from_params(params)
    table = augment_training_clips(
        read_manifest(Path("data/raw")),
        pd.read_csv("data/splits.csv"),
        Path("data/raw"),
        OUT_DIR,
        require_positive_int(params, "audio.sample_rate"),
        settings,
        require(params, "base.seed"),
        params["augment"].get("n_jobs", -1),
    )
    # Written last: a manifest means every copy it lists is complete.
    write_table(table, OUT_DIR / "manifest.parquet")
    print(f"wrote {len(table)} augmented clips: {table['augmentation'].value_counts().to_dict()}")


if __name__ == "__main__":
    run_stage(main)
