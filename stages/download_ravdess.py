"""download-ravdess: fetch (or find) the corpus and ingest it into data/raw, with the labelled training corpora that
corpora.extra lists (data/raw/<name>/)."""

from soundmind.data.corpora import combined_manifest, corpus_folder, ingest_labelled_corpus
from soundmind.data.corpus_names import extra_corpora
from soundmind.data.corpus import locate_source, opened_source
from soundmind.data.ingest import ON_BAD_FILE, ingest_folder, ingest_report
from soundmind.files import write_json
from soundmind.params import load_params, require, require_choice, require_positive_int
from soundmind.paths import DATA, EXTERNAL, INGEST_REPORT, MANIFEST_NAME, RAW
from soundmind.stage import run_stage


def main() -> None:
    params = load_params()
    sample_rate = require_positive_int(params, "audio.sample_rate")
    on_bad_file = require_choice(params, "data.on_bad_file", ON_BAD_FILE)
    n_jobs = params["data"].get("n_jobs", -1)
    # Every corpus folder is found before anything is decoded: a missing one stops the stage at once.
    folders = {name: corpus_folder(name, require(params, f"corpora.{name}.source"), EXTERNAL)
               for name in extra_corpora(params)}
    source = locate_source(
        require(params, "data.source"), EXTERNAL, require(params, "data.url"), require(params, "data.md5"),
        require(params, "data.size_bytes"),
    )
    print(f"corpus source: {source}")
    with opened_source(source, DATA) as folder:
        manifest = ingest_folder(
            folder, RAW, sample_rate, expected_clips=require_positive_int(params, "data.expected_clips"),
            on_bad_file=on_bad_file, n_jobs=n_jobs,
        )
        report = ingest_report(manifest, folder)
    print(f"ingested {report['clips']} clips of {report['actors']} actors; skipped {report['skipped_files']} files")
    others = []
    for name, folder in folders.items():
        rows = ingest_labelled_corpus(name, folder, RAW, sample_rate, on_bad_file=on_bad_file, n_jobs=n_jobs)
        report.setdefault("corpora", {})[name] = {
            "clips": len(rows), "speakers": int(rows["speaker"].nunique()), "skipped_files": len(rows.attrs["skipped"]),
            "skipped": {str(path): reason for path, reason in rows.attrs["skipped"].items()},
            "emotions": {emotion: int(count) for emotion, count in rows["emotion"].value_counts().sort_index().items()},
        }
        others.append(rows)
        print(f"{name}: ingested {len(rows)} clips of {rows['speaker'].nunique()} speakers from {folder}; "
              f"skipped {len(rows.attrs['skipped'])} files")
    if others:
        combined_manifest(manifest, others).to_parquet(RAW / MANIFEST_NAME, index=False)
    write_json(INGEST_REPORT, report)


if __name__ == "__main__":
    run_stage(main)
