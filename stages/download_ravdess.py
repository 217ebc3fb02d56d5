"""download-ravdess: fetch (or find) the corpus and ingest it into data/raw."""

from soundmind.data.corpus import locate_source, opened_source
from soundmind.data.ingest import ON_BAD_FILE, ingest_folder, ingest_report
from soundmind.files import write_json
from soundmind.params import load_params, require, require_choice, require_positive_int
from soundmind.paths import DATA, EXTERNAL, INGEST_REPORT, RAW
from soundmind.stage import run_stage


def main() -> None:
    params = load_params()
    source = locate_source(
        require(params, "data.source"), EXTERNAL, require(params, "data.url"), require(params, "data.md5"),
        require(params, "data.size_bytes"),
    )
    print(f"corpus source: {source}")
    with opened_source(source, DATA) as folder:
        manifest = ingest_folder(
            folder, RAW, require_positive_int(params, "audio.sample_rate"),
            expected_clips=require_positive_int(params, "data.expected_clips"),
            on_bad_file=require_choice(params, "data.on_bad_file", ON_BAD_FILE),
            n_jobs=params["data"].get("n_jobs", -1),
        )
        report = ingest_report(manifest, folder)
    write_json(INGEST_REPORT, report)
    print(f"ingested {report['clips']} clips of {report['actors']} actors; skipped {report['skipped_files']} files")


if __name__ == "__main__":
    run_stage(main)
