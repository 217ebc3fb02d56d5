"""download-ravdess: fetch (or find) the corpus and ingest it into data/raw."""

from pathlib import Path

from soundmind.corpus import locate_source, opened_source
from soundmind.files import write_json
from soundmind.ingest import ingest_folder
from soundmind.params import load_params, require, require_choice, require_positive_int
from soundmind.stage import run_stage


def main() -> None:
    params = load_params()
    sample_rate = require_positive_int(params, "audio.sample_rate")
    expected_clips = require_positive_int(params, "data.expected_clips")
    on_bad_file = require_choice(params, "data.on_bad_file", ("error", "skip"))
    source = locate_source(
        require(params, "data.source"),
        Path("data/external"),
        require(params, "data.url"),
        require(params, "data.md5"),
        require(params, "data.size_bytes"),
    )
    print(f"corpus source: {source}")
    with opened_source(source, Path("data")) as folder:
        manifest = ingest_folder(
            folder, Path("data/raw"), sample_rate, expected_clips, on_bad_file, params["data"].get("n_jobs", -1)
        )
        # Paths inside the source: two duplicates share a file name.
        skipped = {str(Path(path).relative_to(folder)): reason for path, reason in manifest.attrs["skipped"].items()}
    write_json(
        Path("reports/ingest.json"),
        {"clips": len(manifest), "actors": int(manifest["actor"].nunique()), "skipped_files": len(skipped),
         "skipped": skipped},
    )
    print(f"ingested {len(manifest)} clips of {manifest['actor'].nunique()} actors; skipped {len(skipped)} files")


if __name__ == "__main__":
    run_stage(main)
