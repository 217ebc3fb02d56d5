"""split: whole actors into train / val / test, written to data/splits.csv; each labelled corpus's speakers split by
its own corpora.<name> lists."""

from soundmind.data.corpus_names import RAVDESS
from soundmind.data.ingest import read_manifest
from soundmind.data.split import SPLITS, assign_actors, assign_corpus_speakers, split_manifest
from soundmind.files import write_table
from soundmind.params import load_params, require, require_positive_int
from soundmind.paths import RAW, SPLITS_CSV
from soundmind.stage import run_stage


def main() -> None:
    params = load_params()
    manifest = read_manifest(RAW)
    corpus = manifest["corpus"] if "corpus" in manifest else None
    ravdess = manifest if corpus is None else manifest[corpus == RAVDESS]
    assignment = assign_actors(
        ravdess["actor"].unique().tolist(),
        list(require(params, "split.test_actors") or []),
        list(require(params, "split.val_actors") or []),
        require_positive_int(params, "split.n_test_actors"),
        require_positive_int(params, "split.n_val_actors"),
        require(params, "base.seed"),
    )
    if corpus is not None:
        for name in sorted(set(corpus) - {RAVDESS}):
            assignment.update(assign_corpus_speakers(manifest[corpus == name], require(params, f"corpora.{name}"), name,
                                                     require(params, "base.seed")))
    table = split_manifest(manifest, assignment)
    write_table(table, SPLITS_CSV)
    for split in SPLITS:
        actors = sorted(actor for actor, name in assignment.items() if name == split)
        print(f"{split}: {int((table['split'] == split).sum())} clips, actors {actors}")


if __name__ == "__main__":
    run_stage(main)
