"""Two forced runs, same bytes? Rebuild every stage and compare dvc.lock and the metrics with before.

    python scripts/reproducibility.py [--project .] [--write]

Runs `dvc repro --force` in the project, then compares every output's hash in dvc.lock and every
value of the metric files (dvc.yaml's `metrics:`) with what they were before the run. With
--write the comparison goes to reports/reproducibility.json. Run it on an up-to-date project:
the "before" is then the previous full run. Exit status 0 only when every output and every metric
is identical.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from soundmind.files import write_json  # noqa: E402
from soundmind.lockfile import compare_outputs, metric_differences, read_lock, read_metrics  # noqa: E402


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--project", type=Path, default=REPO_ROOT, help="the DVC project to rebuild")
    parser.add_argument("--write", action="store_true", help="write reports/reproducibility.json in the project")
    return parser.parse_args()


def metric_files(project: Path) -> list[str]:
    return list(yaml.safe_load((project / "dvc.yaml").read_text()).get("metrics", []))


def forced_rerun_report(project: Path) -> dict:
    """Rebuild everything with `dvc repro --force` and say what changed."""
    files = metric_files(project)
    lock_before, metrics_before = read_lock(project / "dvc.lock"), read_metrics(project, files)
    if not lock_before:
        raise SystemExit(f"{project / 'dvc.lock'}: no earlier run to compare with; run `dvc repro` first.")
    result = subprocess.run([sys.executable, "-m", "dvc", "repro", "--force"], cwd=project, text=True)
    if result.returncode != 0:
        raise SystemExit(f"`dvc repro --force` failed in {project} (exit {result.returncode}).")
    outputs = compare_outputs(lock_before, read_lock(project / "dvc.lock"))
    metrics = metric_differences(metrics_before, read_metrics(project, files))
    return {
        "command": "dvc repro --force",
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
    report = forced_rerun_report(project)
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
