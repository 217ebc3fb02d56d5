"""extract-features: the rich (392) and MFCC (40) vectors of every clip, into features/*.parquet."""

from dataclasses import asdict

import pandas as pd

from soundmind.data.ingest import MANIFEST_NAME, read_manifest
from soundmind.features.channel_copies import CHANNEL_COPIES_ORIGIN, channel_copy_families, with_channel_copies
from soundmind.features.parallel import backend_from_params, joblib_backend
from soundmind.features.sets import feature_names, sets_of_family
from soundmind.features.spectral import feature_settings_from_params
from soundmind.features.tables import (
    METADATA_COLUMNS,
    clips_to_featurise,
    extract_rich_table,
    family_table_path,
    write_feature_table,
)
from soundmind.params import load_params
from soundmind.paths import AUGMENTED, CHANNEL_AUGMENTED, RAW, SPLITS_CSV
from soundmind.stage import run_stage


def main() -> None:
    params = load_params()
    settings = feature_settings_from_params(params)
    manifest, splits = read_manifest(RAW), pd.read_csv(SPLITS_CSV)
    clips = clips_to_featurise(manifest, splits, pd.read_parquet(AUGMENTED / MANIFEST_NAME))
    if "rich" in channel_copy_families(params):
        clips = with_channel_copies(clips, manifest, splits, pd.read_parquet(CHANNEL_AUGMENTED / MANIFEST_NAME))
    parallel = backend_from_params(params)
    # Absolute paths: Dask workers may run in another folder.
    roots = {"raw": RAW.resolve(), "augmented": AUGMENTED.resolve(), CHANNEL_COPIES_ORIGIN: CHANNEL_AUGMENTED.resolve()}
    with joblib_backend(**parallel):
        table = extract_rich_table(clips, roots, settings, n_jobs=parallel["n_jobs"])
    for feature_set in sets_of_family("rich"):
        columns = METADATA_COLUMNS + feature_names(feature_set)
        write_feature_table(table[columns], family_table_path(feature_set), asdict(settings))
    print(f"features for {len(table)} clips ({(table['augmentation'] != 'none').sum()} augmented)")


if __name__ == "__main__":
    run_stage(main)
