"""audit-seed-protocol: how much the seed's augment-then-split protocol inflates accuracy."""

from soundmind.evaluation.audit import run_audit
from soundmind.files import write_json
from soundmind.params import load_params
from soundmind.paths import AUDIT_REPORT
from soundmind.stage import run_stage


def main() -> None:
    report = run_audit(load_params())
    write_json(AUDIT_REPORT, report)
    print(report)


if __name__ == "__main__":
    run_stage(main)
