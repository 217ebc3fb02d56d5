"""extract-functionals: openSMILE ComParE 2016 and eGeMAPS v02 functionals of every original clip (and of the training
channel copies for the families channel_augment.families lists)."""

import pandas as pd

from soundmind.data.ingest import read_manifest
from soundmind.features.channel_copies import CHANNEL_COPIES_ORIGIN, channel_copy_families, with_channel_copies
from soundmind.features.functionals import FUNCTIONAL_SETS, extract_functional_tables
from soundmind.features.parallel import backend_from_params, joblib_backend
from soundmind.features.tables import (
    METADATA_COLUMNS,
    family_settings_from_params,
    family_table_path,
    original_clips,
    write_feature_table,
)
from soundmind.params import load_params
from soundmind.paths import CHANNEL_AUGMENTED, MANIFEST_NAME, RAW, SPLITS_CSV
from soundmind.stage import run_stage


def main() -> None:
    params = load_params()
    families = tuple(FUNCTIONAL_SETS)
    settings = {family: family_settings_from_params(params, family) for family in families}
    manifest, splits = read_manifest(RAW), pd.read_csv(SPLITS_CSV)
    clips = original_clips(manifest, splits)
    with_copies = set(channel_copy_families(params)) & set(families)
    if with_copies:
        clips = with_channel_copies(clips, manifest, splits, pd.read_parquet(CHANNEL_AUGMENTED / MANIFEST_NAME))
    parallel = backend_from_params(params)
    with joblib_backend(**parallel):
        tables = extract_functional_tables(
            clips, {"raw": RAW.resolve(), CHANNEL_COPIES_ORIGIN: CHANNEL_AUGMENTED.resolve()},
            settings[families[0]]["sample_rate"], families, n_jobs=parallel["n_jobs"],
        )
    for family, table in tables.items():
        if family not in with_copies:
            table = table[table["augmentation"] == "none"].reset_index(drop=True)
        write_feature_table(table, family_table_path(family), settings[family])
        print(f"{family}: {table.shape[0]} clips x {table.shape[1] - len(METADATA_COLUMNS)} functionals")


if __name__ == "__main__":
    run_stage(main)
