"""extract-frames: the log-mel frames of every original clip (and the augmented copies if asked, and the training
channel copies when channel_augment.families lists frames), into features/frames/."""

import pandas as pd

from soundmind.data.ingest import MANIFEST_NAME, read_manifest
from soundmind.features.channel_copies import CHANNEL_COPIES_ORIGIN, channel_copy_families, with_channel_copies
from soundmind.features.frame_store import FRAMES_FAMILY, extract_frame_store, write_frame_store
from soundmind.features.frames import frame_settings_from_params
from soundmind.features.tables import clips_to_featurise, family_table_path, original_clips
from soundmind.params import load_params, require
from soundmind.paths import AUGMENTED, CHANNEL_AUGMENTED, RAW, SPLITS_CSV
from soundmind.stage import run_stage


def main() -> None:
    params = load_params()
    settings = frame_settings_from_params(params)
    manifest, splits = read_manifest(RAW), pd.read_csv(SPLITS_CSV)
    if require(params, "frames.include_augmented"):
        clips = clips_to_featurise(manifest, splits, pd.read_parquet(AUGMENTED / MANIFEST_NAME))
    else:
        clips = original_clips(manifest, splits)
    if FRAMES_FAMILY in channel_copy_families(params):
        clips = with_channel_copies(clips, manifest, splits, pd.read_parquet(CHANNEL_AUGMENTED / MANIFEST_NAME))
    roots = {"raw": RAW.resolve(), "augmented": AUGMENTED.resolve(), CHANNEL_COPIES_ORIGIN: CHANNEL_AUGMENTED.resolve()}
    store = extract_frame_store(clips, roots, settings, n_jobs=require(params, "frames.n_jobs"))
    write_frame_store(store, family_table_path(FRAMES_FAMILY).parent, settings)
    print(f"frames of {len(store.index)} clips: {len(store.values)} frames x {settings.n_mels} mel bands")


if __name__ == "__main__":
    run_stage(main)
