"""augment: seeded augmented copies of the training clips only, into data/augmented."""

from pathlib import Path

import pandas as pd

from soundmind.augment import AugmentSettings, augment_training_clips
from soundmind.errors import ParamsError
from soundmind.ingest import read_manifest
from soundmind.params import load_params, require, require_positive_int, require_range
from soundmind.stage import run_stage

OUT_DIR = Path("data/augmented")


def main() -> None:
    params = load_params()
    try:
        settings = AugmentSettings(
            copies=int(require(params, "augment.copies")),
            kinds=tuple(require(params, "augment.kinds")),
            noise_snr_db=require_range(params, "augment.noise_snr_db"),
            stretch_rate=require_range(params, "augment.stretch_rate"),
            pitch_semitones=require_range(params, "augment.pitch_semitones"),
            shift_max_seconds=float(require(params, "augment.shift_max_seconds")),
        )
    except ValueError as error:
        raise ParamsError(f"params.yaml: {error}.") from error
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
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    table.to_parquet(OUT_DIR / "manifest.parquet", index=False)
    print(f"wrote {len(table)} augmented clips: {table['augmentation'].value_counts().to_dict()}")


if __name__ == "__main__":
    run_stage(main)
