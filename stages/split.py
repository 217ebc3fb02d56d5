"""split: whole actors into train / val / test, written to data/splits.csv."""

from pathlib import Path

from soundmind.files import write_table
from soundmind.ingest import read_manifest
from soundmind.params import load_params, require, require_positive_int
from soundmind.split import assign_actors, split_manifest
from soundmind.stage import run_stage


def main() -> None:
    params = load_params()
    manifest = read_manifest(Path("data/raw"))
    assignment = assign_actors(
        manifest["actor"].unique().tolist(),
        list(require(params, "split.test_actors") or []),
        list(require(params, "split.val_actors") or []),
        require_positive_int(params, "split.n_test_actors"),
        require_positive_int(params, "split.n_val_actors"),
        require(params, "base.seed"),
    )
    table = split_manifest(manifest, assignment)
    write_table(table, Path("data/splits.csv"))
    for split in ("train", "val", "test"):
        actors = sorted(actor for actor, name in assignment.items() if name == split)
        print(f"{split}: {int((table['split'] == split).sum())} clips, actors {actors}")


if __name__ == "__main__":
    run_stage(main)
