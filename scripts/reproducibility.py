"""Two forced runs, same bytes? Rebuild every stage and compare dvc.lock and the metrics with before.

    python scripts/reproducibility.py [--project .] [--write]
    python scripts/reproducibility.py --against-commit [REV] [--project .] [--write]

The first form runs `dvc repro --force` in the project, then compares every output's hash in
dvc.lock and every value of the metric files (dvc.yaml's `metrics:`) with what they were before the
run. With --write the comparison goes to reports/reproducibility.json. Run it on an up-to-date
project: the "before" is then the previous full run. Exit status 0 only when every output and
every metric is identical.

The second form runs nothing: after a rebuild (say `dvc repro` in a fresh clone on another
machine) it compares the workspace's dvc.lock and metric files with those committed at REV
(default HEAD): which outputs have the same bytes, and each headline figure's difference against
its tolerance (soundmind.evaluation.lockfile.metric_tolerance). With --write it goes to
reports/reproducibility_across_machines.json. Exit status 0 when every headline figure is within
its tolerance.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))
import stages  # noqa: E402,F401  (the code paths every stage pins, so the machine description states them)

from soundmind.files import write_json  # noqa: E402
from soundmind.machine import machine_description  # noqa: E402
from soundmind.evaluation.lockfile import (  # noqa: E402
    compare_outputs,
    compare_with_tolerance,
    flatten,
    metric_differences,
    read_lock,
    read_metrics,
)


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", type=Path, default=REPO_ROOT, help="the DVC project to rebuild")
    parser.add_argument("--write", action="store_true", help="write the report into the project's reports/")
    parser.add_argument("stages", nargs="*", help="force only these stages and the stages they depend on (default: all)")
    parser.add_argument("--against-commit", nargs="?", const="HEAD", metavar="REV",
                        help="rebuild nothing; compare the workspace's outputs and metrics with those committed at REV")
    return parser.parse_args()


def committed_file(project: Path, revision: str, path: str) -> str | None:
    result = subprocess.run(["git", "show", f"{revision}:{path}"], cwd=project, capture_output=True, text=True)
    return result.stdout if result.returncode == 0 else None


def cross_machine_report(project: Path, revision: str) -> dict:
    """The workspace (a rebuild) against what is committed at ``revision``."""
    committed_lock_text = committed_file(project, revision, "dvc.lock")
    if committed_lock_text is None:
        raise SystemExit(f"{project}: no dvc.lock committed at {revision} to compare with.")
    files = metric_files(project)
    committed_metrics = {}
    for name in files:
        text = committed_file(project, revision, name)
        if text is not None:
            committed_metrics.update({f"{name}:{key}": value for key, value in flatten(json.loads(text)).items()})
    outputs = compare_outputs(yaml.safe_load(committed_lock_text), read_lock(project / "dvc.lock"))
    commit = subprocess.run(["git", "rev-parse", "--short", revision], cwd=project, capture_output=True, text=True)
    return {
        "against_commit": commit.stdout.strip(),
        "rebuilt_on": machine_description(),
        "outputs_identical": outputs["identical"],
        "outputs_different": outputs["different"],
        "outputs_missing": outputs["missing"],
        **compare_with_tolerance(committed_metrics, read_metrics(project, files)),
    }


def print_cross_machine(report: dict) -> None:
    print(f"against {report['against_commit']}, rebuilt on {report['rebuilt_on']['cpu']}:")
    print(f"{len(report['outputs_identical'])} outputs identical, {len(report['outputs_different'])} different: "
          f"{', '.join(report['outputs_different']) or 'none'}")
    for row in report["headline"]:
        if row["difference"]:
            verdict = "within" if row["within"] else "OUTSIDE"
            print(f"  {row['metric']}: {row['committed']} -> {row['rebuilt']} ({row['difference']:+.4f}, "
                  f"{verdict} ±{row['tolerance']})")
    print(f"{len(report['headline'])} headline figures compared, {len(report['headline_outside_tolerance'])} outside "
          f"tolerance; {report['other_values_different']} of {report['other_values_compared']} other values differ")


def metric_files(project: Path) -> list[str]:
    return list(yaml.safe_load((project / "dvc.yaml").read_text()).get("metrics", []))


def forced_rerun_report(project: Path, stages: list[str] | None = None) -> dict:
    """Rebuild ``stages`` and everything they depend on (all by default) with `dvc repro --force`; say what changed."""
    files = metric_files(project)
    lock_before, metrics_before = read_lock(project / "dvc.lock"), read_metrics(project, files)
    if not lock_before:
        raise SystemExit(f"{project / 'dvc.lock'}: no earlier run to compare with; run `dvc repro` first.")
    command = ["dvc", "repro", "--force", *(stages or [])]
    result = subprocess.run([sys.executable, "-m", *command], cwd=project, text=True)
    if result.returncode != 0:
        raise SystemExit(f"`{' '.join(command)}` failed in {project} (exit {result.returncode}).")
    outputs = compare_outputs(lock_before, read_lock(project / "dvc.lock"))
    metrics = metric_differences(metrics_before, read_metrics(project, files))
    return {
        "command": " ".join(command),
        "outputs_identical": outputs["identical"],
        "outputs_different": outputs["different"],
        "outputs_missing": outputs["missing"],
        "metrics_compared": len(metrics_before),
        "metrics_different": metrics,
        "byte_identical": not outputs["different"] and not outputs["missing"],
        "metrics_identical": not metrics,
    }


def main() -> None:
    arguments = parse_arguments()
    project = arguments.project.resolve()
    if arguments.against_commit:
        report = cross_machine_report(project, arguments.against_commit)
        print_cross_machine(report)
        if arguments.write:
            write_json(project / "reports" / "reproducibility_across_machines.json", report)
        sys.exit(0 if not report["headline_outside_tolerance"] and not report["outputs_missing"] else 1)
    report = forced_rerun_report(project, arguments.stages)
    print(f"{len(report['outputs_identical'])} outputs identical, {len(report['outputs_different'])} different: "
          f"{', '.join(report['outputs_different']) or 'none'}")
    print(f"{report['metrics_compared']} metric values compared, {len(report['metrics_different'])} different")
    for key, (before, after) in report["metrics_different"].items():
        print(f"  {key}: {before} -> {after}")
    if arguments.write:
        write_json(project / "reports" / "reproducibility.json", report)
    sys.exit(0 if report["byte_identical"] and report["metrics_identical"] else 1)


if __name__ == "__main__":
    main()
