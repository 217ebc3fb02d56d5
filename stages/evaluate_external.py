"""evaluate-external: a plain bundle and its adapted twin on EmoDB (external.emodb; skipped when empty) and the
enrollment curve on the test actors, into reports/adaptation.json and reports/adaptation_curve.csv."""

from soundmind.serving.adaptation_report import adaptation_report
from soundmind.files import write_json, write_table
from soundmind.params import load_params
from soundmind.paths import ADAPTATION_CURVE, ADAPTATION_REPORT, MODELS
from soundmind.stage import run_stage


def main() -> None:
    report, curve = adaptation_report(load_params(), MODELS)
    write_json(ADAPTATION_REPORT, report)
    write_table(curve, ADAPTATION_CURVE)
    external = report["external_emodb"]
    print(external["skipped"] if "skipped" in external else
          f"EmoDB: one clip {external['one_clip']['accuracy']:.2%}, adapted {adapted_figure(external['adapted'])}")
    for name, figures in external.get("other_models", {}).items():
        print(f"EmoDB, {name}: one clip {figures['one_clip']['accuracy']:.2%}, adapted {adapted_figure(figures['adapted'])}")
    for row in curve.itertuples():
        print(f"k={row.k:>4}: adapted {row.adapted_accuracy:.2%} ± {row.adapted_accuracy_std:.2%} "
              f"(plain {row.plain_accuracy:.2%})")


def adapted_figure(adapted: dict) -> str:
    return f"{adapted['accuracy']:.2%}" if "accuracy" in adapted else f"skipped ({adapted.get('skipped', 'no figures')})"


if __name__ == "__main__":
    run_stage(main)
