"""augment: seeded augmented copies of the training clips only, into data/augmented."""

import pandas as pd

from soundmind.data.augment import augment_settings_from_params, augment_training_clips
from soundmind.data.ingest import MANIFEST_NAME, read_manifest
from soundmind.files import write_table
from soundmind.params import load_params, require, require_positive_int
from soundmind.paths import AUGMENTED, RAW, SPLITS_CSV
from soundmind.stage import run_stage


def main() -> None:
    params = load_params()
    table = augment_training_clips(
        read_manifest(RAW), pd.read_csv(SPLITS_CSV), RAW, AUGMENTED,
        sample_rate=require_positive_int(params, "audio.sample_rate"),
        settings=augment_settings_from_params(params),
        seed=require(params, "base.seed"),
        n_jobs=params["augment"].get("n_jobs", -1),
    )
    # Written last: a manifest means every copy it lists is complete.
    write_table(table, AUGMENTED / MANIFEST_NAME)
    print(f"wrote {len(table)} augmented clips: {table['augmentation'].value_counts().to_dict()}")


if __name__ == "__main__":
    run_stage(main)
