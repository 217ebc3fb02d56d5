"""Feature extraction speed: ours (one STFT per clip) against a straightforward librosa recipe.

    python benchmarks/features_speed.py [--clips 100] [--json]

The reference computes each of the eight features from the waveform with its own librosa call,
as common recipes do (tonnetz from a harmonic-percussive split and a constant-Q chroma). Both run
in this one process, one core, on the same clips of data/raw; the ratio is ours / reference in
clips per second. Values are compared block by block; tonnetz is defined differently (STFT chroma
here, CQT chroma there) and chroma differs by the tuning estimate the reference makes, so those two
get their own, looser check.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import librosa
import numpy as np
import pandas as pd

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.results import record  # noqa: E402
from soundmind.audio import load_audio  # noqa: E402
from soundmind.features.spectral import RICH_BLOCKS, FeatureSettings, rich_feature_vector  # noqa: E402


TARGET_SPEEDUP = 5.0
TOLERANCE = 1e-3  # largest difference / largest |reference value| per block
SAME_DEFINITION = ("mfcc", "mel", "contrast", "zcr", "centroid", "rolloff")


def reference_vector(waveform: np.ndarray, sample_rate: int) -> np.ndarray:
    """Each block from the waveform by its own librosa call; mean then std over time, in design order."""
    blocks = [
        librosa.feature.mfcc(y=waveform, sr=sample_rate, n_mfcc=40),
        librosa.feature.chroma_stft(y=waveform, sr=sample_rate),
        librosa.power_to_db(librosa.feature.melspectrogram(y=waveform, sr=sample_rate, n_mels=128)),
        librosa.feature.spectral_contrast(y=waveform, sr=sample_rate),
        librosa.feature.tonnetz(y=librosa.effects.harmonic(waveform), sr=sample_rate),
        librosa.feature.zero_crossing_rate(waveform),
        librosa.feature.spectral_centroid(y=waveform, sr=sample_rate),
        librosa.feature.spectral_rolloff(y=waveform, sr=sample_rate, roll_percent=0.85),
    ]
    return np.concatenate([part for block in blocks for part in (block.mean(axis=1), block.std(axis=1))])


def block_slices() -> dict[str, slice]:
    slices, start = {}, 0
    for block, rows in RICH_BLOCKS:
        slices[block] = slice(start, start + 2 * rows)
        start += 2 * rows
    return slices


def seconds_per_clip(function, waveforms: list[np.ndarray]) -> tuple[float, list[np.ndarray]]:
    function(waveforms[0])  # compile numba kernels and warm caches outside the timing
    started = time.perf_counter()
    vectors = [function(waveform) for waveform in waveforms]
    return (time.perf_counter() - started) / len(waveforms), vectors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", type=int, default=100, help="how many clips of data/raw to time")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--write", action="store_true", help="record the results in reports/benchmarks.json")
    arguments = parser.parse_args()
    manifest = pd.read_parquet(REPO_ROOT / "data/raw/manifest.parquet").sort_values("clip_id")
    rows = manifest.iloc[np.linspace(0, len(manifest) - 1, arguments.clips).astype(int)]
    settings = FeatureSettings()
    waveforms = [load_audio(REPO_ROOT / "data/raw" / path, settings.sample_rate) for path in rows["path"]]

    ours_seconds, ours = seconds_per_clip(lambda waveform: rich_feature_vector(waveform, settings), waveforms)
    reference_seconds, reference = seconds_per_clip(lambda waveform: reference_vector(waveform, settings.sample_rate), waveforms)
    ours, reference = np.vstack(ours), np.vstack(reference)
    agreement = {}
    for block, part in block_slices().items():
        scale = np.abs(reference[:, part]).max() or 1.0
        agreement[block] = round(float(np.abs(ours[:, part] - reference[:, part]).max() / scale), 6)
    report = {
        "clips": len(waveforms),
        "mean_clip_seconds": round(float(np.mean([len(w) for w in waveforms]) / settings.sample_rate), 3),
        "ours_seconds_per_clip_per_core": round(ours_seconds, 5),
        "reference_seconds_per_clip_per_core": round(reference_seconds, 5),
        "speedup": round(reference_seconds / ours_seconds, 2),
        "max_relative_difference_by_block": agreement,
        "tolerance": TOLERANCE,
        "same_definition_blocks_within_tolerance": all(agreement[block] <= TOLERANCE for block in SAME_DEFINITION),
        "target_speedup": TARGET_SPEEDUP,
    }
    report["meets_target"] = report["speedup"] >= TARGET_SPEEDUP and report["same_definition_blocks_within_tolerance"]
    if arguments.write:
        record("features", report)
    if arguments.json:
        print(json.dumps(report, indent=2))
        return
    print(f"{report['clips']} clips of {report['mean_clip_seconds']} s, one core")
    print(f"ours       {ours_seconds * 1000:8.1f} ms per clip")
    print(f"reference  {reference_seconds * 1000:8.1f} ms per clip")
    print(f"speedup    {report['speedup']:8.2f} x")
    print("max difference / max |reference| per block:", agreement)


if __name__ == "__main__":
    main()
