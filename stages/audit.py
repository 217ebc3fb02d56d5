"""audit-seed-protocol: how much the seed's augment-then-split protocol inflates accuracy."""

from pathlib import Path

import pandas as pd

from soundmind.audit import audit_seed_protocol, augmented_rich_vectors
from soundmind.augment import augment_settings_from_params
from soundmind.features import feature_settings_from_params
from soundmind.files import write_json
from soundmind.ingest import read_manifest
from soundmind.params import load_params, require
from soundmind.stage import run_stage


def main() -> None:
    params = load_params()
    augment = augment_settings_from_params(params)
    seed = require(params, "base.seed")
    copies = augmented_rich_vectors(
        read_manifest(Path("data/raw")), Path("data/raw"), feature_settings_from_params(params), augment, seed,
        params["features"].get("n_jobs", -1),
    )
    rich = pd.read_parquet("features/rich.parquet")
    originals = rich[rich["augmentation"] == "none"]
    splits = pd.read_csv("data/splits.csv")
    report = audit_seed_protocol(
        originals, copies,
        sorted(splits.loc[splits["split"] == "train", "actor"].unique().tolist()),
        sorted(splits.loc[splits["split"] == "test", "actor"].unique().tolist()),
        dict(require(params, "audit.model")), tuple(require(params, "audit.fractions")), seed,
    )
    write_json(Path("reports/audit_seed_protocol.json"), report)
    print(report)


if __name__ == "__main__":
    run_stage(main)
