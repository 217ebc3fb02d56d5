"""The full rebuild: every stage forced, in pipeline order, with its wall time and peak memory.

    python benchmarks/rebuild.py [--project .] [--write] [--json]
    python benchmarks/rebuild.py --stages train-enhanced train-optimized [--write]   # only these, forced

Each stage runs as `dvc repro --force --single-item STAGE`, so the times add up to one forced
`dvc repro` (plus about a second of DVC start-up per stage). Peak memory is the largest sum of
resident memory over the stage's whole process tree (its joblib workers included), sampled every
0.1 s: shared pages count once per process, so it errs high. Afterwards a plain `dvc repro` is
timed: with nothing changed it must answer in under 5 s. Targets: the rebuild from ingested
data/raw (every stage after download-ravdess) within 60 minutes (issue 22), no stage above 4 GiB.
With --stages, only the named stages are forced (a rebuild takes hours on 2 cores: a stage's time can be measured on
an idle machine on its own), and the stages after them are left to a plain `dvc repro`; --write records each in the
`rebuild_stages` section with its date, beside the others measured so, and leaves the full rebuild's record as it is.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.results import REPO_ROOT, record  # noqa: E402

# With three corpora and the frame model's cross-validation (issue 22; 45 min in issue 14, 30 before it).
REBUILD_TARGET_SECONDS = 60 * 60
MEMORY_TARGET_MIB = 4 * 1024
NOOP_TARGET_SECONDS = 5.0
FIRST_STAGE = "download-ravdess"  # fetching and ingesting: not part of the rebuild "from data/raw"


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", type=Path, default=REPO_ROOT, help="the DVC project to rebuild")
    parser.add_argument("--write", action="store_true", help="record the results in reports/benchmarks.json")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")
    parser.add_argument("--stages", nargs="+", metavar="STAGE", help="force only these stages (in pipeline order)")
    return parser.parse_args()


def dvc(*arguments: str) -> list[str]:
    return [sys.executable, "-m", "dvc", *arguments]


def stage_order(project: Path) -> list[str]:
    """Stages in the order `dvc repro --force` would run them."""
    dry_run = subprocess.run(dvc("repro", "--dry", "--force"), cwd=project, capture_output=True, text=True, check=True)
    return re.findall(r"Running stage '([^']+)'", dry_run.stdout)


def tree_rss(process: psutil.Process) -> int:
    """Resident bytes of ``process``'s descendants: the stage command and its workers, not DVC itself."""
    total = 0
    for child in process.children(recursive=True):
        try:
            total += child.memory_info().rss
        except psutil.NoSuchProcess:
            pass
    return total


def run_measured(command: list[str], project: Path, log) -> dict[str, float]:
    """Wall seconds and peak process-tree memory (MiB) of ``command``, which must succeed."""
    started = time.perf_counter()
    child = subprocess.Popen(command, cwd=project, stdout=log, stderr=subprocess.STDOUT)
    process, peak = psutil.Process(child.pid), 0
    while child.poll() is None:
        try:
            peak = max(peak, tree_rss(process))
        except psutil.NoSuchProcess:
            pass
        time.sleep(0.1)
    seconds = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed (exit {child.returncode}); see the log")
    return {"seconds": round(seconds, 1), "peak_rss_mib": round(peak / 2**20)}


def rebuild(project: Path, only: list[str] | None = None) -> dict:
    order = stage_order(project)
    unknown = sorted(set(only or ()) - set(order))
    if unknown:
        raise SystemExit(f"no stage named {', '.join(unknown)} in {project / 'dvc.yaml'}")
    stages = {}
    log_path = project / "logs" / "rebuild.log"
    log_path.parent.mkdir(exist_ok=True)
    with log_path.open("w") as log:
        for stage in [name for name in order if only is None or name in only]:
            print(f"{stage} ...", end=" ", flush=True)
            stages[stage] = run_measured(dvc("repro", "--force", "--single-item", stage), project, log)
            print(f"{stages[stage]['seconds']:.0f} s, {stages[stage]['peak_rss_mib']} MiB", flush=True)
        if only is not None:
            # The stages after them are a plain `dvc repro`'s to run: a forced stage may have changed its outputs.
            return {"stages": stages}
        started = time.perf_counter()
        noop = subprocess.run(dvc("repro"), cwd=project, capture_output=True, text=True, check=True)
        noop_seconds = time.perf_counter() - started
    if "Running stage" in noop.stdout:
        raise SystemExit("the no-op `dvc repro` ran a stage: the forced rebuild did not leave the pipeline up to date")
    total = sum(values["seconds"] for values in stages.values())
    from_raw = sum(values["seconds"] for name, values in stages.items() if name != FIRST_STAGE)
    peak = max(values["peak_rss_mib"] for values in stages.values())
    return {
        "stages": stages,
        "total_seconds": round(total, 1),
        "from_raw_seconds": round(from_raw, 1),
        "target_seconds": REBUILD_TARGET_SECONDS,
        "meets_time_target": from_raw <= REBUILD_TARGET_SECONDS,
        "max_peak_rss_mib": peak,
        "memory_target_mib": MEMORY_TARGET_MIB,
        "meets_memory_target": peak <= MEMORY_TARGET_MIB,
        "noop_repro_seconds": round(noop_seconds, 2),
        "noop_target_seconds": NOOP_TARGET_SECONDS,
        "meets_noop_target": noop_seconds < NOOP_TARGET_SECONDS,
    }


def main() -> None:
    arguments = parse_arguments()
    project = arguments.project.resolve()
    results = rebuild(project, arguments.stages)
    if arguments.stages:
        print(json.dumps(results, indent=2) if arguments.json else
              "\n".join(f"{name}: {values['seconds'] / 60:.1f} min, {values['peak_rss_mib']} MiB"
                        for name, values in results["stages"].items()))
        if arguments.write:
            path = project / "reports" / "benchmarks.json"
            measured = json.loads(path.read_text()).get("rebuild_stages", {}) if path.is_file() else {}
            measured = {name: values for name, values in measured.items() if name != "measured_on"}
            today = time.strftime("%Y-%m-%d")
            record("rebuild_stages", {**measured, **{name: {**values, "date": today}
                                                     for name, values in results["stages"].items()}}, path)
        return
    if arguments.json:
        print(json.dumps(results, indent=2))
    else:
        print(f"rebuild from data/raw: {results['from_raw_seconds'] / 60:.1f} min "
              f"(target {REBUILD_TARGET_SECONDS / 60:.0f}); with download-ravdess: {results['total_seconds'] / 60:.1f} min")
        print(f"largest stage peak: {results['max_peak_rss_mib']} MiB (target {MEMORY_TARGET_MIB})")
        print(f"no-op dvc repro: {results['noop_repro_seconds']:.2f} s (target {NOOP_TARGET_SECONDS:g})")
    if arguments.write:
        record("rebuild", results, arguments.project.resolve() / "reports" / "benchmarks.json")


if __name__ == "__main__":
    main()
