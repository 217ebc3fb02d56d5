"""Seconds per training epoch of the nets on the 392 vector (enhanced, optimized) at other batch sizes, in one run.

    python benchmarks/dense_net_batches.py [--models enhanced optimized] [--batch-sizes 32 64 128] [--epochs 1] [--write]

Issue 22 lets these two nets train with another batch size or patience if their val accuracy holds; they cost a third
of the three-corpus rebuild (train-optimized 75 min, train-enhanced 18) for 0.05 of the ensemble's vote. This measures
the first half of that question: each net as params.yaml builds it, on the rich table's train split as train-<name>
feeds it (scaled, class-weighted), one untimed epoch (tracing) and then --epochs timed ones per batch size, every
configuration in this one process one after another, and the ratio against params.yaml's own batch size. Whether the
val accuracy holds needs whole trainings over seeds, which this does not run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # for benchmarks.* and soundmind when run as a script

import numpy as np
import pandas as pd
from sklearn.preprocessing import StandardScaler

from benchmarks.results import record
from soundmind.features.sets import feature_family
from soundmind.features.tables import encode_labels, family_table_path, load_feature_matrix, split_rows
from soundmind.params import load_params, require


def parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", default=["enhanced", "optimized"], help="train entries to time")
    parser.add_argument("--batch-sizes", nargs="+", type=int, default=[32, 64, 128])
    parser.add_argument("--epochs", type=int, default=1, help="timed epochs per configuration (after one untimed)")
    parser.add_argument("--write", action="store_true", help="record the results in reports/benchmarks.json")
    return parser.parse_args()


def seconds_per_epoch(params: dict, train_x: np.ndarray, train_y: np.ndarray, batch_size: int, epochs: int, seed: int) -> float:
    """Median seconds of ``epochs`` epochs of a freshly built net, after one untimed epoch."""
    import keras

    from soundmind.models.keras_training import balanced_class_weights, make_deterministic
    from soundmind.models.networks import build_model

    make_deterministic(seed)
    model = build_model(params["architecture"], train_x.shape[1], 8, params)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=params["learning_rate"]),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    weights = balanced_class_weights(train_y)
    model.fit(train_x, train_y, epochs=1, batch_size=batch_size, class_weight=weights, verbose=0)
    timings = []
    for _ in range(epochs):
        started = time.perf_counter()
        model.fit(train_x, train_y, epochs=1, batch_size=batch_size, class_weight=weights, verbose=0)
        timings.append(time.perf_counter() - started)
    return float(np.median(timings))


def main() -> None:
    arguments = parse_arguments()
    params = load_params()
    seed = require(params, "base.seed")
    results = {}
    for name in arguments.models:
        model_params = require(params, f"train.{name}")
        feature_set = model_params["feature_set"]
        train_rows, _ = split_rows(pd.read_parquet(family_table_path(feature_family(feature_set))))
        matrix = load_feature_matrix(train_rows, feature_set)
        train_x = StandardScaler().fit(matrix).transform(matrix).astype(np.float32)
        train_y = encode_labels(train_rows["emotion"])
        shipped = model_params["batch_size"]
        timed = {size: seconds_per_epoch(model_params, train_x, train_y, size, arguments.epochs, seed)
                 for size in sorted(set(arguments.batch_sizes) | {shipped})}
        results[name] = {"train_rows": int(len(train_rows)), "shipped_batch_size": shipped,
                         "seconds_per_epoch": {str(size): round(seconds, 2) for size, seconds in timed.items()},
                         "speedup_against_shipped": {str(size): round(timed[shipped] / seconds, 2)
                                                     for size, seconds in timed.items()}}
        for size, seconds in timed.items():
            print(f"{name:<10} batch {size:>4}: {seconds:7.2f} s per epoch of {len(train_rows)} rows "
                  f"(x{timed[shipped] / seconds:.2f} against batch {shipped})", flush=True)
    if arguments.write:
        record("dense_net_batches", {"epochs_timed": arguments.epochs, "models": results})


if __name__ == "__main__":
    main()
