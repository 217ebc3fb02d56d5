"""split: whole actors into train / val / test, written to data/splits.csv."""

from soundmind.data.ingest import read_manifest
from soundmind.data.split import SPLITS, assign_actors, split_manifest
from soundmind.files import write_table
from soundmind.params import load_params, require, require_positive_int
from soundmind.paths import RAW, SPLITS_CSV
from soundmind.stage import run_stage


def main() -> None:
    params = load_params()
    manifest = read_manifest(RAW)
    assignment = assign_actors(
        manifest["actor"].unique().tolist(),
        list(require(params, "split.test_actors") or []),
        list(require(params, "split.val_actors") or []),
        require_positive_int(params, "split.n_test_actors"),
        require_positive_int(params, "split.n_val_actors"),
        require(params, "base.seed"),
    )
    table = split_manifest(manifest, assignment)
    write_table(table, SPLITS_CSV)
    for split in SPLITS:
        actors = sorted(actor for actor, name in assignment.items() if name == split)
        print(f"{split}: {int((table['split'] == split).sum())} clips, actors {actors}")


if __name__ == "__main__":
    run_stage(main)
