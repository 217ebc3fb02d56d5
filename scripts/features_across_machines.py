"""Do two machines compute the same features? Compute them on each, then compare.

    python scripts/features_across_machines.py compute CLIPS_DIR OUT.npz [--native]
    python scripts/features_across_machines.py compare A.npz B.npz --label NAME [--write [REPORT]]

`compute` writes the 392-value rich vector (soundmind.features.spectral.rich_feature_vector, as the
extract-features stage computes it: one BLAS thread per worker) of every .flac/.wav under CLIPS_DIR,
in sorted order, with a description of the machine. By default the CPU code paths are pinned as in
every pipeline stage (stages/__init__.py); --native leaves each library to pick its fastest paths.
`compare` counts the values that differ, overall and per feature block, and with --write records
the result under NAME in REPORT (default reports/features_across_machines.json). Exit status 1 when any value differs.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]


def compute(clips_dir: Path, output: Path, native: bool) -> None:
    # Before numpy loads: the settings of a pipeline stage (one thread per joblib worker, pinned paths).
    os.environ["OPENBLAS_NUM_THREADS"] = os.environ["OMP_NUM_THREADS"] = "1"
    if native:
        os.environ["SOUNDMIND_NATIVE_MATH"] = "1"
    sys.path.insert(0, str(REPO_ROOT))
    import stages  # noqa: F401  (pins the code paths unless SOUNDMIND_NATIVE_MATH=1)

    import numpy as np

    from soundmind.audio import load_audio
    from soundmind.features.spectral import FeatureSettings, rich_feature_vector
    from soundmind.machine import machine_description

    paths = sorted(path for path in clips_dir.rglob("*") if path.suffix.lower() in (".flac", ".wav"))
    if not paths:
        raise SystemExit(f"{clips_dir}: no .flac or .wav files.")
    settings = FeatureSettings()
    vectors = np.vstack([rich_feature_vector(load_audio(path, settings.sample_rate), settings) for path in paths])
    names = np.array([str(path.relative_to(clips_dir)) for path in paths])
    np.savez(output, features=vectors, clips=names, machine=np.array(repr(machine_description())))
    print(f"{output}: {len(paths)} clips")


def compare(first_path: Path, second_path: Path, label: str, report_path: Path | None) -> bool:
    import ast

    import numpy as np

    sys.path.insert(0, str(REPO_ROOT))
    from soundmind.features.spectral import RICH_BLOCKS, block_names
    from soundmind.files import write_json

    first, second = np.load(first_path), np.load(second_path)
    if list(first["clips"]) != list(second["clips"]):
        raise SystemExit(f"{first_path} and {second_path} hold different clips.")
    a, b = first["features"], second["features"]
    different = a != b
    blocks, start = {}, 0
    for block, rows in RICH_BLOCKS:
        width = len(block_names(block, rows))
        part = slice(start, start + width)
        blocks[block] = {"values": int(a[:, part].size), "different": int(different[:, part].sum()),
                         "max_abs_difference": float(np.abs(a[:, part] - b[:, part]).max())}
        start += width
    result = {
        "clips": int(len(a)),
        "values": int(a.size),
        "different": int(different.sum()),
        "max_abs_difference": float(np.abs(a - b).max()),
        "per_block": blocks,
        "machines": [ast.literal_eval(str(first["machine"])), ast.literal_eval(str(second["machine"]))],
    }
    print(f"{label}: {result['different']} of {result['values']} values differ "
          f"(largest difference {result['max_abs_difference']:.3g})")
    for block, counts in blocks.items():
        print(f"  {block}: {counts['different']} of {counts['values']}")
    if report_path is not None:
        import json

        report = json.loads(report_path.read_text()) if report_path.is_file() else {}
        report[label] = result
        write_json(report_path, report)
    return result["different"] == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    computing = commands.add_parser("compute")
    computing.add_argument("clips_dir", type=Path)
    computing.add_argument("output", type=Path)
    computing.add_argument("--native", action="store_true", help="let the libraries pick their fastest CPU paths")
    comparing = commands.add_parser("compare")
    comparing.add_argument("first", type=Path)
    comparing.add_argument("second", type=Path)
    comparing.add_argument("--label", required=True)
    comparing.add_argument("--write", nargs="?", type=Path, const=REPO_ROOT / "reports" / "features_across_machines.json",
                           metavar="REPORT", help="record the result in REPORT")
    arguments = parser.parse_args()
    if arguments.command == "compute":
        compute(arguments.clips_dir, arguments.output, arguments.native)
    elif not compare(arguments.first, arguments.second, arguments.label, arguments.write):
        sys.exit(1)


if __name__ == "__main__":
    main()
