"""extract-shifted: every feature family of the channel-shifted clips, into features/shifted/ (same code, same settings)."""

from dataclasses import asdict

import pandas as pd

from soundmind.data.ingest import read_manifest
from soundmind.features.frame_store import FRAMES_FAMILY, extract_frame_store, write_frame_store
from soundmind.features.frames import frame_settings_from_params
from soundmind.features.functionals import FUNCTIONAL_SETS, extract_functional_tables
from soundmind.features.parallel import backend_from_params, joblib_backend
from soundmind.features.sets import feature_names, sets_of_family
from soundmind.features.spectral import feature_settings_from_params
from soundmind.features.tables import (
    METADATA_COLUMNS,
    copies_to_featurise,
    extract_rich_table,
    family_settings_from_params,
    family_table_path,
    write_feature_table,
)
from soundmind.params import load_params
from soundmind.paths import MANIFEST_NAME, RAW, SHIFTED, SHIFTED_FEATURES, SPLITS_CSV
from soundmind.stage import run_stage


def main() -> None:
    params = load_params()
    clips = copies_to_featurise(read_manifest(RAW), pd.read_csv(SPLITS_CSV), pd.read_parquet(SHIFTED / MANIFEST_NAME),
                                "shifted")
    roots = {"shifted": SHIFTED.resolve()}
    parallel = backend_from_params(params)
    with joblib_backend(**parallel):
        rich = extract_rich_table(clips, roots, feature_settings_from_params(params), n_jobs=parallel["n_jobs"])
        functionals = extract_functional_tables(
            clips, roots, family_settings_from_params(params, "compare")["sample_rate"], tuple(FUNCTIONAL_SETS),
            n_jobs=parallel["n_jobs"],
        )
    for feature_set in sets_of_family("rich"):
        write_feature_table(rich[METADATA_COLUMNS + feature_names(feature_set)],
                            family_table_path(feature_set, SHIFTED_FEATURES), asdict(feature_settings_from_params(params)))
    for family, table in functionals.items():
        write_feature_table(table, family_table_path(family, SHIFTED_FEATURES), family_settings_from_params(params, family))
    frame_settings = frame_settings_from_params(params)
    store = extract_frame_store(clips, roots, frame_settings, n_jobs=params["frames"].get("n_jobs", -1))
    write_frame_store(store, family_table_path(FRAMES_FAMILY, SHIFTED_FEATURES).parent, frame_settings)
    print(f"features of {len(clips)} channel-shifted clips: {clips['augmentation'].value_counts().to_dict()}")


if __name__ == "__main__":
    run_stage(main)
