"""What each feature set costs the ensemble: its accuracy on the val actors against its warm answer time, in one run.

    python benchmarks/ensemble_cost.py [--runs 20] [--warmup 3] [--write]

Each candidate leaves some feature sets out of the pool (every non-ensemble entry of params.yaml's train block, and the
ensemble's own scikit-learn members) and chooses the weights of the rest as train-ensemble does: on the val actors'
clean clips and their channel-shifted copies (train.ensemble.channel_shifted_val). Its bundle is written to a temporary
models folder with the members' ONNX files from models/onnx (the whole bundle exported afresh where a voting member has
none there, as the ensemble's own extra-trees forest) and timed warm with ONNX Runtime on the clip that
benchmarks/predict_latency.py times (the first 3 s of a test actor's clip), one candidate after another in one process.
The choice this prints (the most accurate on val, clean and shifted together, among those under the 50 ms target; the
cheaper of two equals) is a val-actor choice: no test or out-of-corpus figure takes part. train.ensemble.members
records it. Needs the trained bundles, models/onnx and the feature tables (dvc repro up to export).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # for benchmarks.* and soundmind when run as a script

from benchmarks.predict_latency import CLIP_SECONDS, TEST_ACTOR_CLIP, WARM_TARGET_MS, warm_latency, write_cut_clip
from benchmarks.results import record
from soundmind.features.frame_store import load_family_inputs, load_shifted_inputs
from soundmind.features.sets import feature_family
from soundmind.features.tables import family_table_path, table_settings
from soundmind.models.bundle import load_bundle, save_bundle
from soundmind.models.ensemble import ensemble_families, train_ensemble
from soundmind.models.onnx_export import export_bundle
from soundmind.params import ALL_MODELS, ensemble_members, load_params, require
from soundmind.paths import MODELS, ONNX_FOLDER
from soundmind.serving.predict import EmotionPredictor
from soundmind.serving.settings import SERVING_FILE

ENSEMBLE = "ensemble"
# Feature sets a candidate leaves out: the frames (4 ms of a clip's ~104 ms of CPU) carry the two best members and
# stay in every candidate; speech detection runs whatever the members.
LEFT_OUT = ((), ("egemaps",), ("compare",), ("rich",), ("rich", "egemaps"), ("rich", "compare"), ("egemaps", "compare"))


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="timed warm runs per candidate (median reported)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed warm runs first")
    parser.add_argument("--write", action="store_true", help="record the results in reports/benchmarks.json")
    return parser.parse_args()


def candidate_name(left_out: tuple[str, ...]) -> str:
    return "without_" + "_".join(left_out) if left_out else "every_feature_set"


def candidate_recipe(recipe: dict[str, Any], pool: dict[str, Any], left_out: tuple[str, ...]) -> dict[str, Any]:
    """The ensemble recipe over the pool's entries, and its own scikit-learn members, that read none of ``left_out``."""
    return {**recipe,
            "members": [name for name, bundle in pool.items() if not bundle.required_families() & set(left_out)],
            "sklearn_members": {name: spec for name, spec in recipe["sklearn_members"].items()
                                if feature_family(spec.get("feature_set", "rich")) not in left_out}}


def with_onnx_files(bundle_dir: Path, onnx_dir: Path, voting: list[str]) -> None:
    """The ONNX files of a candidate's members: the export stage's copies where every member has them, else exported."""
    exported = [MODELS / ONNX_FOLDER / member for member in voting]
    if all(folder.is_dir() for folder in exported):
        for member, folder in zip(voting, exported):
            shutil.copytree(folder, onnx_dir / "members" / member)
    else:
        export_bundle(bundle_dir, onnx_dir)


def main() -> None:
    arguments = parse_arguments()
    params = load_params()
    train = require(params, "train")
    recipe = require(params, f"train.{ENSEMBLE}")
    # The pool is what `members: all` would vote over, whatever params.yaml's list chose from it.
    everything = ensemble_members({**train, ENSEMBLE: {**recipe, "members": ALL_MODELS}}, ENSEMBLE)
    pool = {name: load_bundle(MODELS / name) for name in everything}
    families = ensemble_families({**recipe, "members": everything}, pool)
    settings = {family: table_settings(family_table_path(family)) for family in families}
    tables = load_family_inputs(families)
    shifted = load_shifted_inputs(families, settings) if recipe.get("channel_shifted_val") else None
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        models_dir = Path(folder) / "models"
        (models_dir / ONNX_FOLDER).mkdir(parents=True)
        shutil.copy(MODELS / SERVING_FILE, models_dir / SERVING_FILE)
        clip = write_cut_clip(TEST_ACTOR_CLIP, Path(folder))
        for left_out in LEFT_OUT:
            name = candidate_name(left_out)
            chosen = candidate_recipe(recipe, pool, left_out)
            bundle, summary = train_ensemble(name, chosen, {member: pool[member] for member in chosen["members"]}, tables,
                                             table_settings=settings, seed=require(params, "base.seed"),
                                             shifted_tables=shifted)
            save_bundle(bundle, models_dir / name)
            with_onnx_files(models_dir / name, models_dir / ONNX_FOLDER / name, list(bundle.members))
            predictor = EmotionPredictor(name, models_dir)
            timings = warm_latency(predictor, clip, arguments.runs, arguments.warmup)
            # Its engines' after-work must not run into the next candidate's timing.
            predictor.wait_until_idle()
            selection = (summary["val_accuracy"] + summary.get("shifted_val_accuracy", summary["val_accuracy"])) / 2
            rows.append({
                "candidate": name, "left_out": list(left_out),
                "weights": {member: weight for member, weight in summary["weights"].items() if weight > 0},
                "val_accuracy": summary["val_accuracy"], "shifted_val_accuracy": summary.get("shifted_val_accuracy"),
                # Rounded to 4 places (1,216 val answers): two candidates right as often are equal here.
                "val_clean_and_shifted": round(selection, 4),
                "warm_ms": round(timings["predict_s"] * 1000, 1),
                "warm_back_to_back_ms": round(timings["predict_back_to_back_s"] * 1000, 1),
            })
            print(f"{name:<28} val {rows[-1]['val_accuracy']:.4f} clean, {rows[-1]['shifted_val_accuracy'] or 0:.4f} shifted "
                  f"({rows[-1]['val_clean_and_shifted']:.4f} together); warm {rows[-1]['warm_ms']:.1f} ms "
                  f"({rows[-1]['warm_back_to_back_ms']:.1f} back to back); {rows[-1]['weights']}", flush=True)
    fast = [row for row in rows if row["warm_ms"] < WARM_TARGET_MS]
    best = min(fast, key=lambda row: (-row["val_clean_and_shifted"], row["warm_ms"])) if fast else None
    shipped = sorted(ensemble_members(train, ENSEMBLE))
    every = rows[0]
    print(f"clip: {TEST_ACTOR_CLIP.relative_to(REPO_ROOT)}, its first {CLIP_SECONDS:g} s; median of {arguments.runs} warm runs")
    if best is None:
        print(f"no candidate answers under {WARM_TARGET_MS:g} ms on this machine")
    else:
        print(f"chosen on val under {WARM_TARGET_MS:g} ms: {best['candidate']} ({best['val_clean_and_shifted']:.4f} on val, "
              f"{best['warm_ms']:.1f} ms) against {every['candidate']} ({every['val_clean_and_shifted']:.4f}, "
              f"{every['warm_ms']:.1f} ms): x{every['warm_ms'] / best['warm_ms']:.2f} faster")
        chosen_members = sorted(candidate_recipe(recipe, pool, tuple(best["left_out"]))["members"])
        print(f"train.{ENSEMBLE}.members {'names' if chosen_members == shipped else 'does not name'} that candidate's pool")
    if arguments.write:
        record("ensemble_cost", {"clip": f"{TEST_ACTOR_CLIP.relative_to(REPO_ROOT)}, first {CLIP_SECONDS:g} s",
                                 "runs": arguments.runs, "warm_target_ms": WARM_TARGET_MS, "candidates": rows,
                                 "chosen": best["candidate"] if best else None, "shipped_members": shipped})


if __name__ == "__main__":
    main()
