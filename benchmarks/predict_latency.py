"""How long one prediction takes, with ONNX Runtime (serving's default) against Keras (the path before it), in one run:
warm (decoding, features, model) and cold (`python -m soundmind predict`, a fresh process).

    python benchmarks/predict_latency.py [--model NAME_OR_PATH | --all] [--models-dir DIR] [--clip FILE] [--json] [--write]

Warm numbers are medians over --runs calls after --warmup calls on one loaded EmotionPredictor;
the cold start is the wall time of the whole CLI subprocess (interpreter, imports, bundle load, one
file). The clip is a test actor's (data/raw/Actor_21) cut to 3 s when the corpus is ingested, else a
synthetic one. --all times every trained model warm. Targets: cold start under 3 s, a warm prediction of the
default model under 50 ms. Timings on shared machines are noisy: the two runtimes are timed side by
side and their ratio is what to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import soundfile

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # for benchmarks.results and soundmind when run as a script

from benchmarks.results import record
from soundmind.serving.predict import EmotionPredictor, PredictionError, available_bundles, split_into_windows
from soundmind.data.synthetic import synthetic_clip

CLIP_SECONDS = 3.0
WARM_TARGET_MS = 50.0
COLD_TARGET_S = 3.0
# ONNX Runtime, serving's default, and Keras (TensorFlow): the path it replaces.
RUNTIMES = ("onnx", "keras")
TEST_ACTOR_CLIP = REPO_ROOT / "data" / "raw" / "Actor_21" / "03-01-05-01-01-01-21.flac"


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=None, help="model name or bundle folder (default: the best available)")
    parser.add_argument("--models-dir", type=Path, default=REPO_ROOT / "models", help="where trained bundles live")
    parser.add_argument(
        "--clip", type=Path, default=None, help=f"audio file to time (default: a {CLIP_SECONDS:g} s synthetic clip)"
    )
    parser.add_argument("--runs", type=int, default=20, help="timed warm runs (median reported)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed warm runs first")
    parser.add_argument("--cold-runs", type=int, default=3, help="CLI subprocesses to time (median reported)")
    parser.add_argument("--all", action="store_true", help="time every trained model (cold start: the default one)")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")
    parser.add_argument("--write", action="store_true", help="record the results in reports/benchmarks.json")
    return parser.parse_args()


def timed(step: Callable[[], object]) -> tuple[object, float]:
    started = time.perf_counter()
    value = step()
    return value, time.perf_counter() - started


def one_prediction(predictor: EmotionPredictor, clip: Path) -> dict[str, float]:
    """Seconds per step of one prediction, run in the order predict() runs them.

    Timing the steps in turn rather than each in its own loop matters: Keras' predict() is
    markedly slower right after librosa has run than when called back to back.
    """
    waveform, decode_s = timed(lambda: predictor.waveform(clip, None, None))
    _, speech_s = timed(lambda: predictor.speech_seconds(waveform))
    windows = split_into_windows(waveform, predictor.sample_rate)
    features, features_s = timed(lambda: predictor.window_features(windows))
    _, model_s = timed(lambda: predictor.bundle.probabilities(features))
    # A clip that arrives on its own: the workers have readied openSMILE's engines after the last answer.
    predictor.wait_until_idle()
    _, predict_s = timed(lambda: predictor.predict(clip))
    return {"decode_s": decode_s, "speech_s": speech_s, "features_s": features_s, "model_s": model_s,
            "predict_s": predict_s}


def warm_latency(predictor: EmotionPredictor, clip: Path, runs: int, warmup: int) -> dict[str, float]:
    """Median seconds of decoding, feature extraction, the model, and predict() on the file end to end (the clip
    arriving on its own), and of predict() called back to back (a batch: each call also waits for the previous
    one's after-work)."""
    for _ in range(warmup):
        one_prediction(predictor, clip)
    timings = [one_prediction(predictor, clip) for _ in range(runs)]
    medians = {step: statistics.median(timing[step] for timing in timings) for step in timings[0]}
    predictor.wait_until_idle()
    medians["predict_back_to_back_s"] = statistics.median(timed(lambda: predictor.predict(clip))[1] for _ in range(runs))
    return medians


def cold_start(bundle: Path, clip: Path, runs: int, runtime: str, models_dir: Path) -> float:
    """Median wall seconds of `python -m soundmind predict CLIP --model BUNDLE`, a fresh process each time."""
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "soundmind", "predict", str(clip), "--model", str(bundle), "--json",
             "--runtime", runtime, "--models-dir", str(models_dir)],
            check=False,
            cwd=REPO_ROOT,
            capture_output=True,
            text=True,
        )
        timings.append(time.perf_counter() - started)
        if result.returncode != 0:
            raise SystemExit(f"the CLI failed on {clip}:\n{result.stderr.strip()}")
    return statistics.median(timings)


def functionals_latency(clip: Path, sample_rate: int, runs: int) -> dict[str, dict[str, float]]:
    """Median ms of each openSMILE set on the clip: our kept engine against a new extractor per call (openSMILE's
    own ``process_signal``, the path before), timed in turns."""
    import opensmile
    import numpy as np

    from soundmind.audio import load_audio
    from soundmind.features.functionals import FUNCTIONAL_SETS, functional_vector

    waveform = load_audio(clip, sample_rate)
    timings: dict[str, dict[str, list[float]]] = {}
    for feature_set, name in FUNCTIONAL_SETS.items():
        fresh = opensmile.Smile(feature_set=getattr(opensmile.FeatureSet, name),
                                feature_level=opensmile.FeatureLevel.Functionals)
        functional_vector(waveform, sample_rate, feature_set)  # the engine is built once, before timing
        for _ in range(runs):
            _, kept_s = timed(lambda: functional_vector(waveform, sample_rate, feature_set))
            _, fresh_s = timed(lambda: fresh.process_signal(np.asarray(waveform, dtype=np.float32), sample_rate))
            timings.setdefault(feature_set, {}).setdefault("kept_engine", []).append(kept_s)
            timings[feature_set].setdefault("new_extractor_per_call", []).append(fresh_s)
    return {feature_set: {kind: round(statistics.median(values) * 1000, 1) for kind, values in kinds.items()}
            for feature_set, kinds in timings.items()}


def write_synthetic_clip(folder: Path, sample_rate: int) -> Path:
    path = folder / "clip.wav"
    soundfile.write(str(path), synthetic_clip("happy", 1, 1, sample_rate, CLIP_SECONDS), sample_rate, subtype="PCM_16")
    return path


def write_cut_clip(source: Path, folder: Path) -> Path:
    """The first CLIP_SECONDS of ``source``, as a file of its own (what the warm target is stated for)."""
    waveform, sample_rate = soundfile.read(str(source), dtype="float32")
    path = folder / f"{source.stem}_{CLIP_SECONDS:g}s.flac"
    soundfile.write(str(path), waveform[:int(CLIP_SECONDS * sample_rate)], sample_rate, subtype="PCM_16")
    return path


def print_table(report: dict) -> None:
    print(f"model: {report['model']} ({report['bundle']})")
    print(
        f"clip: {report['clip']} ({report['clip_seconds']:.2f} s); warm: median of {report['runs']} runs after {report['warmup']} warm-up"
    )
    rows = [
        ("decoding (warm)", report["decode_s"] * 1000, "ms"),
        ("speech detection (warm; beside the features in predict())", report["speech_s"] * 1000, "ms"),
        ("feature extraction (warm)", report["features_s"] * 1000, "ms"),
        ("model (warm)", report["model_s"] * 1000, "ms"),
        ("predict() end to end (warm, the clip on its own)", report["predict_s"] * 1000, "ms"),
        ("predict() end to end (warm, back to back)", report["predict_back_to_back_s"] * 1000, "ms"),
        (
            f"cold start: python -m soundmind predict, 1 file (median of {report['cold_runs']})",
            report["cold_start_s"],
            "s",
        ),
    ]
    width = max(len(name) for name, _, _ in rows)
    for name, value, unit in rows:
        print(f"{name:<{width}}  {value:9.1f} {unit}")


def load_predictor(model: str | None, models_dir: Path, runtime: str = "onnx") -> EmotionPredictor:
    try:
        return EmotionPredictor(model, models_dir, runtime=runtime)
    except PredictionError as error:
        raise SystemExit(f"error: {error}")


def time_model(predictor: EmotionPredictor, clip: Path, arguments: argparse.Namespace, cold: bool,
               runtime: str = "onnx") -> dict:
    report = {
        "model": predictor.name,
        "runtime": runtime,
        "bundle": os.path.relpath(predictor.bundle_path.resolve(), REPO_ROOT),
        "clip": arguments.clip_label,
        "clip_seconds": len(predictor.waveform(clip, None, None)) / predictor.sample_rate,
        "runs": arguments.runs,
        "warmup": arguments.warmup,
        **warm_latency(predictor, clip, arguments.runs, arguments.warmup),
    }
    report["meets_warm_target"] = report["predict_s"] * 1000 < WARM_TARGET_MS
    if cold:
        report["cold_runs"] = arguments.cold_runs
        report["cold_start_s"] = cold_start(predictor.bundle_path.resolve(), clip, arguments.cold_runs, runtime,
                                            arguments.models_dir)
    return report


def summary_row(report: dict) -> str:
    verdict = "meets" if report["meets_warm_target"] else "misses"
    return (f"{report['model']:<18} {report['runtime']:<5} {report['predict_s'] * 1000:7.1f} ms warm "
            f"({report['features_s'] * 1000:.1f} features + {report['model_s'] * 1000:.1f} model; "
            f"{report['predict_back_to_back_s'] * 1000:.1f} back to back): "
            f"{verdict} the {WARM_TARGET_MS:g} ms target")


def main() -> None:
    arguments = parse_arguments()
    default = load_predictor(arguments.model, arguments.models_dir)
    names = [name for name in available_bundles(arguments.models_dir) if name != default.name] if arguments.all else []
    with tempfile.TemporaryDirectory() as folder:
        arguments.clip_label = str(arguments.clip) if arguments.clip else f"synthetic {CLIP_SECONDS:g} s"
        if arguments.clip is None and TEST_ACTOR_CLIP.is_file():
            arguments.clip = write_cut_clip(TEST_ACTOR_CLIP, Path(folder))
            arguments.clip_label = f"{TEST_ACTOR_CLIP.relative_to(REPO_ROOT)}, its first {CLIP_SECONDS:g} s"
        clip = arguments.clip or write_synthetic_clip(Path(folder), default.sample_rate)
        # Keras first, then ONNX Runtime: each runtime timed in its own processes, side by side.
        reports = {runtime: time_model(load_predictor(arguments.model, arguments.models_dir, runtime), clip, arguments,
                                       cold=True, runtime=runtime) for runtime in reversed(RUNTIMES)}
        others = [time_model(load_predictor(name, arguments.models_dir), clip, arguments, cold=False) for name in names]
        functionals = functionals_latency(clip, default.sample_rate, arguments.runs)
    ours, before = reports["onnx"], reports["keras"]
    comparison = {
        "cold_start_s": {runtime: round(report["cold_start_s"], 3) for runtime, report in reports.items()},
        "warm_predict_ms": {runtime: round(report["predict_s"] * 1000, 1) for runtime, report in reports.items()},
        "cold_start_speedup": round(before["cold_start_s"] / ours["cold_start_s"], 2),
        "warm_speedup": round(before["predict_s"] / ours["predict_s"], 2),
        "cold_target_s": COLD_TARGET_S,
        "meets_cold_target": ours["cold_start_s"] < COLD_TARGET_S,
        "warm_target_ms": WARM_TARGET_MS,
        "meets_warm_target": ours["meets_warm_target"],
        "functionals_ms": functionals,
    }
    if arguments.write:
        record("inference", {
            "default": ours, "before_onnx": before, "onnx_against_keras": comparison,
            "warm_target_ms": WARM_TARGET_MS,
            "warm_predict_ms": {item["model"]: round(item["predict_s"] * 1000, 1) for item in [ours, *others]},
        })
    if arguments.json:
        print(json.dumps({"default": ours, "before_onnx": before, "onnx_against_keras": comparison, "others": others},
                         indent=2))
        return
    for runtime in RUNTIMES:
        print(f"--- {runtime}")
        print_table(reports[runtime])
    print(f"cold start: {ours['cold_start_s']:.2f} s with ONNX Runtime against {before['cold_start_s']:.2f} s with Keras "
          f"(x{comparison['cold_start_speedup']:.1f}; target < {COLD_TARGET_S:g} s: "
          f"{'met' if comparison['meets_cold_target'] else 'missed'})")
    for feature_set, kinds in functionals.items():
        print(f"openSMILE {feature_set}: {kinds['kept_engine']:.1f} ms with the kept engine against "
              f"{kinds['new_extractor_per_call']:.1f} ms with a new extractor per call")
    for item in [before, ours, *others]:
        print(summary_row(item))


if __name__ == "__main__":
    main()
