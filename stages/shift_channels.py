"""shift-channels: one copy of every original clip through a held-out recording channel, into data/shifted."""

from soundmind.data.channel import channel_settings_from_params, shift_every_clip
from soundmind.data.ingest import read_manifest
from soundmind.files import write_table
from soundmind.params import load_params, require, require_positive_int
from soundmind.paths import MANIFEST_NAME, RAW, SHIFTED
from soundmind.stage import run_stage


def main() -> None:
    params = load_params()
    table = shift_every_clip(
        read_manifest(RAW), RAW, SHIFTED,
        sample_rate=require_positive_int(params, "audio.sample_rate"),
        settings=channel_settings_from_params(params),
        seed=require(params, "base.seed"),
        n_jobs=params["channel_shift"].get("n_jobs", -1),
    )
    # Written last: a manifest means every copy it lists is complete.
    write_table(table, SHIFTED / MANIFEST_NAME)
    print(f"wrote {len(table)} channel-shifted clips: {table['augmentation'].value_counts().to_dict()}")


if __name__ == "__main__":
    run_stage(main)
