"""The timeline on long real audio: a test actor's 60 clips joined with 1 s pauses, checked clip by clip, then the
same recording repeated to an hour, timed: ours (`predict --timeline`: speech detection, utterances) against scoring
the same audio as fixed 4 s windows every 2 s (`predict` on the whole file).

    python benchmarks/timeline.py [--actor 21] [--hours 1.0] [--model NAME] [--json] [--write]

Each timed run is its own `python -m soundmind` subprocess, so its peak memory (the child's maximum RSS) is its
own. Needs the real corpus under data/raw and trained models; timings on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
import soundfile

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.rebuild import tree_rss
from benchmarks.results import record
from soundmind.audio import load_audio
from soundmind.data.ravdess import parse_clip_id
from soundmind.evaluation.timeline import join_with_pauses, timeline_against_clips
from soundmind.serving.predict import EmotionPredictor

PAUSE_SECONDS = 1.0


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--actor", type=int, default=21, help="a test actor whose clips are joined (default 21)")
    parser.add_argument("--hours", type=float, default=1.0, help="length of the timed recording")
    parser.add_argument("--model", default=None, help="model name (default: the predictor's default)")
    parser.add_argument("--models-dir", type=Path, default=REPO_ROOT / "models")
    parser.add_argument("--raw", type=Path, default=REPO_ROOT / "data" / "raw", help="the corpus (data/raw)")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")
    parser.add_argument("--write", action="store_true", help="record the results in reports/benchmarks.json")
    return parser.parse_args()


def actor_clips(raw: Path, actor: int) -> list[Path]:
    clips = sorted((raw / f"Actor_{actor:02d}").glob("*.*"))
    clips = [path for path in clips if path.suffix in (".wav", ".flac")]
    if not clips:
        raise SystemExit(f"{raw / f'Actor_{actor:02d}'}: no clips; run `dvc repro download-ravdess` first.")
    return clips


def check_joined(predictor: EmotionPredictor, clips: list[Path], folder: Path) -> tuple[dict, Path]:
    """The timeline of the joined clips against their spans and labels, beside the clips scored one by one."""
    rate = predictor.sample_rate
    waveforms = [load_audio(path, rate) for path in clips]
    emotions = [parse_clip_id(path.stem).emotion for path in clips]
    joined, spans = join_with_pauses(waveforms, rate, PAUSE_SECONDS)
    path = folder / "joined.flac"
    soundfile.write(str(path), joined, rate, subtype="PCM_16")
    rows = predictor.timeline(path)
    check = timeline_against_clips(rows, spans, emotions)
    one_by_one = [predictor.predict(waveform, sample_rate=rate)["emotion"] for waveform in waveforms]
    check["one_by_one_accuracy"] = round(float(np.mean([answer == emotion for answer, emotion in zip(one_by_one, emotions)])), 4)
    check["recording_seconds"] = round(len(joined) / rate, 2)
    return check, path


def repeated_to(path: Path, hours: float, folder: Path) -> tuple[Path, float]:
    """The recording at ``path`` repeated (with a pause between copies) until it lasts ``hours``, written as FLAC
    block by block."""
    waveform, rate = soundfile.read(str(path), dtype="float32")
    pause = np.zeros(int(PAUSE_SECONDS * rate), dtype=np.float32)
    target = int(hours * 3600 * rate)
    long_path, written = folder / "hour.flac", 0
    with soundfile.SoundFile(str(long_path), "w", samplerate=rate, channels=1, subtype="PCM_16") as output:
        while written < target:
            piece = np.concatenate([waveform, pause])[: target - written]
            output.write(piece)
            written += len(piece)
    return long_path, written / rate


def timed_cli(arguments: list[str], output: Path) -> dict[str, float]:
    """Wall time and peak memory (the process's resident set, sampled every 0.1 s) of one `python -m soundmind`
    subprocess, its output written to ``output``."""
    started = time.perf_counter()
    with output.open("w") as sink:
        child = subprocess.Popen([sys.executable, "-m", "soundmind", *arguments], cwd=REPO_ROOT, stdout=sink,
                                 stderr=subprocess.STDOUT)
        process, peak = psutil.Process(child.pid), 0
        while child.poll() is None:
            try:
                peak = max(peak, process.memory_info().rss + tree_rss(process))
            except psutil.NoSuchProcess:
                pass
            time.sleep(0.1)
    seconds = time.perf_counter() - started
    if child.returncode != 0:
        raise SystemExit(f"`python -m soundmind {' '.join(arguments)}` failed (exit {child.returncode}): "
                         f"{output.read_text()[-2000:]}")
    return {"seconds": round(seconds, 1), "peak_rss_mib": round(peak / 2**20)}


def main() -> None:
    arguments = parse_arguments()
    predictor = EmotionPredictor(arguments.model, arguments.models_dir)
    model = ["--model", predictor.name, "--models-dir", str(arguments.models_dir)]
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary)
        check, joined = check_joined(predictor, actor_clips(arguments.raw, arguments.actor), folder)
        long_path, seconds = repeated_to(joined, arguments.hours, folder)
        ours = timed_cli(["predict", str(long_path), "--timeline", *model], folder / "timeline.csv")
        ours["segments"] = max(0, len((folder / "timeline.csv").read_text().splitlines()) - 1)
        windows = timed_cli(["predict", str(long_path), "--json", *model], folder / "windows.json")
    report = {
        "model": predictor.name, "actor": arguments.actor, "joined_check": check,
        "long_recording_seconds": round(seconds, 1),
        "timeline": {**ours, "real_time_factor": round(ours["seconds"] / seconds, 4)},
        "fixed_windows": {**windows, "real_time_factor": round(windows["seconds"] / seconds, 4)},
    }
    report["speedup_over_fixed_windows"] = round(windows["seconds"] / ours["seconds"], 2)
    if arguments.json:
        print(json.dumps(report, indent=2))
    else:
        print(json.dumps(check, indent=2))
        print(f"{seconds / 3600:.2f} h: timeline {ours['seconds']} s (RTF {report['timeline']['real_time_factor']}, "
              f"peak {ours['peak_rss_mib']} MiB); fixed windows {windows['seconds']} s "
              f"(RTF {report['fixed_windows']['real_time_factor']}, peak {windows['peak_rss_mib']} MiB)")
    if arguments.write:
        record("timeline", report)


if __name__ == "__main__":
    main()
