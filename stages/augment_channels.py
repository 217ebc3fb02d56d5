"""augment-channels: copies of every clip through training-only recording channels, into data/channel_augmented
(trained on only where the clip's actor trains)."""

from soundmind.data.channel import training_channel_copies, channel_settings_from_params
from soundmind.data.ingest import read_manifest
from soundmind.files import write_table
from soundmind.params import load_params, require, require_positive_int
from soundmind.paths import CHANNEL_AUGMENTED, MANIFEST_NAME, RAW
from soundmind.stage import run_stage


def main() -> None:
    params = load_params()
    table = training_channel_copies(
        read_manifest(RAW), RAW, CHANNEL_AUGMENTED,
        sample_rate=require_positive_int(params, "audio.sample_rate"),
        settings=channel_settings_from_params(params, "channel_augment"),
        copies=require_positive_int(params, "channel_augment.copies"),
        seed=require(params, "base.seed"),
        n_jobs=params["channel_augment"].get("n_jobs", -1),
    )
    # Written last: a manifest means every copy it lists is complete.
    write_table(table, CHANNEL_AUGMENTED / MANIFEST_NAME)
    print(f"wrote {len(table)} training channel copies: {table['augmentation'].value_counts().to_dict()}")


if __name__ == "__main__":
    run_stage(main)
