"""Frame models on 2 CPU cores: seconds per training epoch of each candidate against the shipped CRNN, in one run.

    python benchmarks/frame_models.py [--clips 960] [--epochs 3] [--write]
    python benchmarks/frame_models.py --layouts [--write]   # 1 process x 2 threads against 2 processes x 1 thread
    python benchmarks/frame_models.py --seed-workers [--clips 2689] [--epochs 6] [--write]   # a train stage's seeds
    python benchmarks/frame_models.py --loop-options [--clips 2689] [--epochs 4] [--repeats 2] [--options ...] \\
        [--write]   # steps_per_execution, JAX, PyTorch, bfloat16
    python benchmarks/frame_models.py --cross-validate strided_crnn_40x2s [--protocols plain] [--write]
    python benchmarks/frame_models.py --step-cost [--write]   # a strided CRNN step's time, layer width by width

Every candidate trains with the project's own loop (``crnn_training.fit_crnn_seed``: train.crnn's recipe, random
crops, SpecAugment, mixup, AdamW, the val crops scored after each epoch), with the few keys it changes. The clips are
synthetic frames with the lengths of trimmed RAVDESS clips (1.4 to 3.2 s); an epoch's time does not depend on what
the frames hold. The first epoch (it traces the graphs) is reported apart; the figure is the mean of the others.
With --cross-validate, a candidate's 6-fold accuracy on the real frame store (features/frames and features/shifted,
from `dvc repro extract-frames extract-shifted`): the cross-validate stage's own folds and code
(`evaluation.cv.cross_validate`), the candidate alone, one seed a fold (cv.crnn_seeds), trained with the shipped recipe
(its train block's epochs, crops and channel copies), in cv.n_jobs worker processes, the test folds' channel-shifted
copies scored too (cv.channel_shifted_val); a stopped run, started again, reuses the folds it finished
(tmp/frame-models/<candidate>). The table of epoch times prints it beside each candidate once recorded for the
candidate's recipe and the corpora trained on now. With --seed-workers, the wall time of a train
stage's ``fit_crnn_seeds`` for two seeds (``train.<name>.seeds``), in turn in one process on both cores (the stages
until training.seed_workers) against side by side in two one-thread workers (worker start and data transfer included). The shipped CRNN's own figure is the
cross-validate stage's (reports/cv.json).
With --loop-options, the shipped loop (TensorFlow, one batch per call) against the same loop with
``steps_per_execution`` batches per call, against Keras on the JAX backend (XLA-compiled: without it JAX runs op
by op) and on the PyTorch backend (eager, as Keras runs it by default), each in a process of its own on both cores,
with whether each trains the shipped loop's model (same weights, same val curve), and against the shipped loop under
Keras' mixed_bfloat16 policy (bfloat16 arithmetic, float32 weights; its speed depends on the CPU's bfloat16
instructions, which the result lists). ``--options`` runs some of them only; with --write, options not rerun keep
their earlier figures, each with the shipped time it was measured against. The JAX and PyTorch rows need ``pip
install jax`` and ``pip install torch`` (neither in requirements.txt: the pipeline does not use them; a CPU build of
torch beside the project, e.g. ``pip install --no-deps --target tmp/torch-backend torch==2.13.0 sympy mpmath`` and
PYTHONPATH=tmp/torch-backend, keeps it out of the venv); each is reported as skipped without it.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.results import BENCHMARKS_FILE, record  # noqa: E402
from soundmind.params import load_params  # noqa: E402

SECTION = "frame_models"
REFERENCE = "crnn_64x2s"  # the CRNN as train.crnn ships it
LAYOUT_CANDIDATES = (REFERENCE, "strided_crnn_64x3s")  # the shipped CRNN, and cross-validation's frame model
# Inputs: mel bands x crop seconds, with the SpecAugment masks scaled to them (10 of 64 bands, 40 of 300 frames).
NARROW = {"n_mels": 40, "crop_seconds": 2.0, "freq_mask_bands": 6, "time_mask_frames": 27}
WIDE = {"n_mels": 64, "crop_seconds": 3.0, "freq_mask_bands": 10, "time_mask_frames": 40}
# name: (the train block it starts from, the keys it changes)
CANDIDATES: dict[str, tuple[str, dict[str, Any]]] = {
    "crnn_40x2s": ("crnn", NARROW),  # the CRNN as shipped before the strided CRNN
    REFERENCE: ("crnn", {"n_mels": 64, "crop_seconds": 2.0, "freq_mask_bands": 10, "time_mask_frames": 27}),
    "crnn_64x3s": ("crnn", WIDE),
    "strided_crnn_40x2s": ("strided_crnn", NARROW),
    "strided_crnn_64x3s": ("strided_crnn", WIDE),  # train.strided_crnn as shipped
    # Its recipe until 057496c, which went to 45 epochs: on three corpora its val accuracy was still rising at the 30th.
    "strided_crnn_64x3s_30_epochs": ("strided_crnn", {**WIDE, "epochs": 30}),
    # Half the first convolution's filters: it sees one channel's 3x3 patch (9 numbers, so 16 filters already span
    # them), yet its 32 output maps at half resolution were most of a training step's time (a step's cost by layer
    # width, docs/results.md); the second convolution and everything after it keep their widths.
    "strided_crnn_64x3s_front_16_32": ("strided_crnn", {**WIDE, "front_filters": [16, 32]}),
    # Both front convolutions at 16 filters: 0.56x of the shipped step, half the Conv1D's input width.
    "strided_crnn_64x3s_front_16_16": ("strided_crnn", {**WIDE, "front_filters": [16, 16]}),
}


def candidate_recipe(name: str, params: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """The candidate's train block with its keys changed, and the number of mel bands it reads."""
    block, changes = CANDIDATES[name]
    changes = dict(changes)
    n_mels = changes.pop("n_mels")
    return {**params["train"][block], **changes}, n_mels


def synthetic_clips(count: int, n_mels: int, seed: int) -> tuple[list[np.ndarray], np.ndarray]:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(140, 321, size=count)
    return [rng.standard_normal((length, n_mels)).astype(np.float32) for length in lengths], rng.integers(0, 8, count)


# --loop-options: name -> (Keras backend, steps_per_execution, Keras dtype policy); the first is the shipped loop.
# mixed_bfloat16 computes in bfloat16 with float32 weights: oneDNN runs it on the AMX tiles of CPUs that have them.
LOOP_OPTIONS: dict[str, tuple[str, int, str]] = {
    "shipped": ("tensorflow", 1, "float32"),
    "steps_per_execution_8": ("tensorflow", 8, "float32"),
    "steps_per_execution_32": ("tensorflow", 32, "float32"),
    "jax_backend": ("jax", 1, "float32"),
    "torch_backend": ("torch", 1, "float32"),
    "mixed_bfloat16": ("tensorflow", 1, "mixed_bfloat16"),
}


def cpu_matrix_units() -> list[str]:
    """The bfloat16 matrix instructions this CPU announces (Linux): what mixed_bfloat16's speed depends on."""
    cpuinfo = Path("/proc/cpuinfo")
    flags = next((line.split(":", 1)[1].split() for line in cpuinfo.read_text().splitlines()
                  if line.startswith("flags")), []) if cpuinfo.is_file() else []
    return sorted(flag for flag in flags if flag in {"amx_bf16", "amx_tile", "avx512_bf16"})


def weights_digest(model) -> str:
    digest = hashlib.sha256()
    for weights in model.get_weights():
        digest.update(np.ascontiguousarray(weights).tobytes())
    return digest.hexdigest()


def time_epochs(name: str, clips: int, epochs: int, threads: int | None = None,
                steps_per_execution: int = 1, dtype_policy: str = "float32") -> dict[str, Any]:
    """Train candidate ``name`` for ``epochs`` epochs on ``clips`` synthetic clips (a fifth as many val clips), on the
    Keras backend that KERAS_BACKEND names (TensorFlow unless it says otherwise), under Keras dtype policy
    ``dtype_policy`` (set before the model is built)."""
    from soundmind.models.keras_backend import keras, tensorflow

    keras.mixed_precision.set_global_policy(dtype_policy)

    if threads:
        tensorflow.config.threading.set_intra_op_parallelism_threads(threads)
        tensorflow.config.threading.set_inter_op_parallelism_threads(threads)
    from soundmind.features.frames import FrameSettings
    from soundmind.models.crnn_training import fit_crnn_seed

    params = load_params(REPO_ROOT / "params.yaml")
    recipe, n_mels = candidate_recipe(name, params)
    recipe.update(epochs=epochs, min_epochs=0, warmup_epochs=min(recipe["warmup_epochs"], epochs - 1))
    if keras.backend.backend() == "jax":
        recipe["jit_compile"] = True  # JAX without XLA runs op by op: no one would train that way
    train_clips, train_y = synthetic_clips(clips, n_mels, seed=1)
    val_clips, val_y = synthetic_clips(max(1, clips // 5), n_mels, seed=2)

    class EpochTimes(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds: list[float] = []

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.seconds.append(time.perf_counter() - self.started)

    timing = EpochTimes()
    model, history, _ = fit_crnn_seed(recipe, 42, train_clips=train_clips, train_y=train_y, val_clips=val_clips,
                                      val_y=val_y, crop_frames=FrameSettings().frames_in(recipe["crop_seconds"]),
                                      timing=timing, steps_per_execution=steps_per_execution)
    return {"parameters": int(model.count_params()), "n_mels": n_mels, "crop_seconds": recipe["crop_seconds"],
            "first_epoch_seconds": round(timing.seconds[0], 2),
            "seconds_per_epoch": round(float(np.mean(timing.seconds[1:])), 2), "clips": clips,
            "backend": keras.backend.backend(), "steps_per_execution": steps_per_execution,
            "dtype_policy": dtype_policy,
            "weights_sha256": weights_digest(model), "val_accuracy": [round(float(value), 6)
                                                                      for value in history["val_accuracy"]]}


# --step-cost: the shipped strided CRNN with one of its layer widths changed -> the keys changed.
STEP_COST_VARIANTS: dict[str, dict[str, Any]] = {
    "shipped": {},
    "front_16_32": {"front_filters": [16, 32]},
    "front_32_16": {"front_filters": [32, 16]},
    "front_16_16": {"front_filters": [16, 16]},
    "conv1d_64_64": {"conv1d_filters": [64, 64]},
    "gru_8": {"gru_units": 8},
}


def step_costs(batch_size: int = 32, frames: int = 300, steps: int = 15) -> dict[str, Any]:
    """Milliseconds per training step (train_on_batch, one fixed batch of ``frames`` frames) of the shipped strided
    CRNN and of each STEP_COST_VARIANTS, one after the other in this process: which layer a step's time goes to."""
    from soundmind.models.crnn import build_crnn_from_params
    from soundmind.models.keras_backend import keras

    params = load_params(REPO_ROOT / "params.yaml")
    recipe, n_mels = candidate_recipe("strided_crnn_64x3s", params)
    rng = np.random.default_rng(0)
    inputs = rng.standard_normal((batch_size, frames, n_mels)).astype(np.float32)
    targets = keras.utils.to_categorical(rng.integers(0, 8, batch_size), 8)
    costs = {}
    for variant, changes in STEP_COST_VARIANTS.items():
        model = build_crnn_from_params({**recipe, **changes}, n_mels, 8)
        model.compile(optimizer=keras.optimizers.AdamW(1e-3), loss="categorical_crossentropy")
        for _ in range(3):  # tracing and warm-up
            model.train_on_batch(inputs, targets)
        seconds = []
        for _ in range(steps):
            started = time.perf_counter()
            model.train_on_batch(inputs, targets)
            seconds.append(time.perf_counter() - started)
        costs[variant] = {"changes": changes, "parameters": int(model.count_params()),
                          "milliseconds_per_step": round(1000 * float(np.median(seconds)), 1)}
    for cost in costs.values():
        cost["against_shipped"] = round(cost["milliseconds_per_step"] / costs["shipped"]["milliseconds_per_step"], 2)
    return {"batch_size": batch_size, "frames": frames, "n_mels": n_mels, "steps": steps, "variants": costs}


def cross_validate_candidate(name: str, protocols: list[str]) -> dict[str, Any]:
    """The candidate's accuracy in the cross-validate stage's folds, per protocol, and the time it took."""
    from soundmind.evaluation.cv import cross_validate, cv_model_specs
    from soundmind.features.frame_store import frame_settings_dict, load_family_inputs, load_shifted_inputs
    from soundmind.features.tables import family_table_path, table_settings

    params = load_params(REPO_ROOT / "params.yaml")
    recipe, n_mels = candidate_recipe(name, params)
    if n_mels != params["frames"]["n_mels"]:
        raise SystemExit(f"{name} reads {n_mels} mel bands and features/frames holds frames.n_mels "
                         f"({params['frames']['n_mels']}): rebuild it with that setting first.")
    tables = load_family_inputs({"frames"}, REPO_ROOT / "features", expected_frames=frame_settings_dict(params))
    # As the stage: the test folds' channel-shifted copies scored too (the choice stays on the clean val clips).
    shifted = (load_shifted_inputs({"frames"}, {"frames": table_settings(family_table_path("frames", REPO_ROOT /
                                                                                           "features"))})
               if params["cv"]["channel_shifted_val"] else None)
    started = time.perf_counter()
    report = cross_validate(tables, cv_model_specs([name], {name: recipe}), shifted_tables=shifted,
                            n_folds=params["cv"]["folds"],
                            protocols=tuple(protocols), ensemble_rounds=params["cv"]["ensemble_rounds"],
                            seed=params["base"]["seed"], crnn_seeds=params["cv"]["crnn_seeds"],
                            # the stage's worker processes, and its resumption: a stopped run picks up its finished folds
                            n_jobs=params["cv"]["n_jobs"], resume_folder=REPO_ROOT / "tmp" / "frame-models" / name)
    seconds = time.perf_counter() - started
    return {protocol: {**{key: report[protocol]["summary"][name][key] for key in ("accuracy_mean", "accuracy_std")},
                       "per_fold": [fold[name]["accuracy"] for fold in report[protocol]["per_fold"]],
                       # what a choice between candidates may look at: each fold's val actors, never its test ones
                       "val_accuracy_mean": round(float(np.mean([fold[name]["val_accuracy"]
                                                                 for fold in report[protocol]["per_fold"]])), 4),
                       "val_per_fold": [fold[name]["val_accuracy"] for fold in report[protocol]["per_fold"]],
                       # the test folds' channel-shifted copies (cv.channel_shifted_val), beside the clean figure
                       **({"shifted_accuracy_mean": report[protocol]["summary"][name]["shifted_accuracy_mean"],
                           "shifted_per_fold": [fold[name]["shifted_accuracy"]
                                                for fold in report[protocol]["per_fold"]]}
                          if "shifted_accuracy_mean" in report[protocol]["summary"][name] else {}),
                       "epochs": recipe["epochs"], "seeds_per_fold": params["cv"]["crnn_seeds"],
                       "corpora": ["ravdess", *params["corpora"]["extra"]],
                       "minutes_all_protocols": round(seconds / 60, 1)}
            for protocol in protocols}


def recorded_accuracy(figure: dict[str, Any] | None, name: str, params: dict[str, Any]) -> dict[str, Any] | None:
    """A recorded cross-validation of candidate ``name``, if it trained the candidate's recipe as it is now (its epochs)
    on the corpora params.yaml trains on now; None otherwise (a figure of another recipe is not this candidate's)."""
    if not figure or "val_accuracy_mean" not in figure:
        return None
    recipe, _ = candidate_recipe(name, params)
    if figure.get("epochs") != recipe["epochs"] or figure.get("corpora") != ["ravdess", *params["corpora"]["extra"]]:
        return None
    return figure


def in_a_process(name: str, clips: int, epochs: int, threads: int | None, backend: str = "tensorflow",
                 steps_per_execution: int = 1, dtype_policy: str = "float32") -> subprocess.Popen:
    command = [sys.executable, __file__, "--worker", name, "--clips", str(clips), "--epochs", str(epochs),
               "--steps-per-execution", str(steps_per_execution), "--dtype-policy", dtype_policy] + (
                   ["--threads", str(threads)] if threads else [])
    return subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT,
                            env={**os.environ, "KERAS_BACKEND": backend})


def compare_loop_options(name: str, clips: int, epochs: int, repeats: int,
                         options: list[str] | None = None) -> dict[str, Any]:
    """Seconds per epoch of each of LOOP_OPTIONS (or of ``options``, with the shipped loop) against the shipped loop,
    one process after another on both cores, the options taken in turn ``repeats`` times (this host halves its speed
    for minutes at a time: the median of the rounds), and whether each trains the shipped loop's model."""
    chosen = ["shipped", *[option for option in (options or LOOP_OPTIONS) if option != "shipped"]]
    rounds: dict[str, list[dict[str, Any]]] = {}
    skipped: dict[str, Any] = {}
    for _ in range(repeats):
        for option in chosen:
            backend, steps_per_execution, dtype_policy = LOOP_OPTIONS[option]
            if backend != "tensorflow" and importlib.util.find_spec(backend) is None:
                skipped[option] = {"skipped": f"{backend} is not installed (pip install {backend})"}
                continue
            rounds.setdefault(option, []).append(worker_result(in_a_process(
                name, clips, epochs, threads=None, backend=backend, steps_per_execution=steps_per_execution,
                dtype_policy=dtype_policy)))
    results: dict[str, Any] = {**skipped}
    for option, runs in rounds.items():
        results[option] = {**runs[0], "seconds_per_epoch": round(float(np.median([run["seconds_per_epoch"]
                                                                                  for run in runs])), 2),
                           "seconds_per_epoch_by_round": [run["seconds_per_epoch"] for run in runs],
                           "same_model_every_round": len({run["weights_sha256"] for run in runs}) == 1}
    shipped = results["shipped"]
    for result in results.values():
        if "skipped" not in result:
            result["speed_vs_shipped"] = round(shipped["seconds_per_epoch"] / result["seconds_per_epoch"], 2)
            result["shipped_seconds_per_epoch"] = shipped["seconds_per_epoch"]  # the ratio's reference, this run
            result["same_model_as_shipped"] = (result["weights_sha256"] == shipped["weights_sha256"]
                                               and result["val_accuracy"] == shipped["val_accuracy"])
    return {"candidate": name, "clips": clips, "epochs": epochs, "repeats": repeats,
            "cpu_bfloat16_instructions": cpu_matrix_units(), "options": results}


def worker_result(process: subprocess.Popen) -> dict[str, Any]:
    stdout, _ = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"a benchmark worker exited with {process.returncode}")
    return json.loads(stdout.strip().splitlines()[-1])


def compare_layouts(name: str, clips: int, epochs: int) -> dict[str, Any]:
    """Clips per second of one training on 2 threads against two trainings at once on 1 thread each (what
    cross-validation could run: two folds or seeds side by side)."""
    started = time.perf_counter()
    one = worker_result(in_a_process(name, clips, epochs, threads=2))
    one_wall = time.perf_counter() - started
    started = time.perf_counter()
    pair = [worker_result(process) for process in [in_a_process(name, clips, epochs, threads=1) for _ in range(2)]]
    pair_wall = time.perf_counter() - started
    one_rate = clips / one["seconds_per_epoch"]
    pair_rate = sum(clips / result["seconds_per_epoch"] for result in pair)
    return {
        "candidate": name,
        "one_process_two_threads": {"seconds_per_epoch": one["seconds_per_epoch"], "clips_per_second": round(one_rate, 1),
                                    "wall_seconds": round(one_wall, 1)},
        "two_processes_one_thread": {"seconds_per_epoch": [result["seconds_per_epoch"] for result in pair],
                                     "clips_per_second": round(pair_rate, 1), "wall_seconds": round(pair_wall, 1)},
        "ratio": round(pair_rate / one_rate, 2),
    }


def fit_two_seeds(name: str, clips: int, epochs: int, seed_workers: int | None) -> dict[str, Any]:
    """Wall seconds of ``fit_crnn_seeds`` over seeds 42 and 43 of candidate ``name`` on synthetic clips, in this process
    (``seed_workers`` None, on TensorFlow's default threads: both cores) or in that many one-thread workers."""
    from soundmind.features.frames import FrameSettings
    from soundmind.models.crnn_training import fit_crnn_seeds

    params = load_params(REPO_ROOT / "params.yaml")
    recipe, n_mels = candidate_recipe(name, params)
    recipe.update(epochs=epochs, min_epochs=0, warmup_epochs=min(recipe["warmup_epochs"], epochs - 1))
    train_clips, train_y = synthetic_clips(clips, n_mels, seed=1)
    val_clips, val_y = synthetic_clips(max(1, clips // 5), n_mels, seed=2)
    started = time.perf_counter()
    fit_crnn_seeds(recipe, [42, 43], train_clips=train_clips, train_y=train_y, val_clips=val_clips, val_y=val_y,
                   crop_frames=FrameSettings().frames_in(recipe["crop_seconds"]), seed_workers=seed_workers)
    return {"wall_seconds": round(time.perf_counter() - started, 1)}


def compare_seed_workers(name: str, clips: int, epochs: int) -> dict[str, Any]:
    """Two seeds of a train stage, in turn on two threads against side by side in two one-thread workers."""
    def run(seed_workers: int) -> dict[str, Any]:
        process = subprocess.Popen([sys.executable, __file__, "--fit-two-seeds", name, "--clips", str(clips),
                                    "--epochs", str(epochs), "--seed-workers-count", str(seed_workers)],
                                   stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT)
        return worker_result(process)

    in_turn, side_by_side = run(0), run(2)
    return {"candidate": name, "clips": clips, "epochs": epochs,
            "in_turn_two_threads_seconds": in_turn["wall_seconds"],
            "two_one_thread_workers_seconds": side_by_side["wall_seconds"],
            "ratio": round(in_turn["wall_seconds"] / side_by_side["wall_seconds"], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=960, help="training clips per epoch (RAVDESS's fixed split: 960)")
    parser.add_argument("--epochs", type=int, default=3, help="epochs per candidate; the first is reported apart")
    parser.add_argument("--candidates", nargs="+", default=list(CANDIDATES), choices=list(CANDIDATES))
    parser.add_argument("--layouts", action="store_true", help="compare 1 process x 2 threads with 2 x 1 instead")
    parser.add_argument("--cross-validate", choices=list(CANDIDATES), metavar="CANDIDATE",
                        help="the candidate's accuracy in the cross-validate stage's folds instead")
    parser.add_argument("--protocols", nargs="+", default=["plain"], choices=["plain", "speaker_normalised"])
    parser.add_argument("--write", action="store_true", help=f"record the results in {BENCHMARKS_FILE.name}")
    parser.add_argument("--seed-workers", action="store_true",
                        help="time a train stage's two seeds in turn against side by side in two one-thread workers")
    parser.add_argument("--loop-options", action="store_true",
                        help="the shipped loop against steps_per_execution, the JAX and PyTorch backends and "
                             "bfloat16 instead")
    parser.add_argument("--options", nargs="+", choices=list(LOOP_OPTIONS), metavar="OPTION",
                        help=f"--loop-options: only these (the shipped loop always runs); of {', '.join(LOOP_OPTIONS)}")
    parser.add_argument("--step-cost", action="store_true",
                        help="a strided CRNN training step's milliseconds with each layer's width changed instead")
    parser.add_argument("--worker", choices=list(CANDIDATES), help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=1, help="--loop-options: rounds over the options (median)")
    parser.add_argument("--steps-per-execution", type=int, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--dtype-policy", default="float32", help=argparse.SUPPRESS)
    parser.add_argument("--fit-two-seeds", choices=list(CANDIDATES), help=argparse.SUPPRESS)
    parser.add_argument("--seed-workers-count", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.epochs < 2:
        parser.error("--epochs must be at least 2: the first one traces the graphs and is not counted")
    if arguments.repeats < 1:
        parser.error("--repeats must be at least 1")
    if arguments.worker:
        print(json.dumps(time_epochs(arguments.worker, arguments.clips, arguments.epochs, arguments.threads,
                                     arguments.steps_per_execution, arguments.dtype_policy)))
        return
    if arguments.fit_two_seeds:
        print(json.dumps(fit_two_seeds(arguments.fit_two_seeds, arguments.clips, arguments.epochs,
                                       arguments.seed_workers_count or None)))
        return
    existing = json.loads(BENCHMARKS_FILE.read_text()).get(SECTION, {}) if BENCHMARKS_FILE.is_file() else {}
    if arguments.cross_validate:
        figures = cross_validate_candidate(arguments.cross_validate, arguments.protocols)
        print(json.dumps(figures, indent=2))
        if arguments.write:
            for protocol, figure in figures.items():
                existing.setdefault(f"cv_{protocol}", {})[arguments.cross_validate] = figure
            record(SECTION, existing)
        return
    if arguments.seed_workers:
        # The shipped CRNN and strided CRNN, whose train stages (and train-adapted's CRNN) train two seeds each.
        timings = {name: compare_seed_workers(name, arguments.clips, arguments.epochs) for name in LAYOUT_CANDIDATES}
        for name, timing in timings.items():
            print(f"{name}: two seeds, {timing['epochs']} epochs of {timing['clips']} clips: in turn on two threads "
                  f"{timing['in_turn_two_threads_seconds']:.0f} s, side by side in two one-thread workers "
                  f"{timing['two_one_thread_workers_seconds']:.0f} s ({timing['ratio']:.2f}x)")
        if arguments.write:
            record(SECTION, {**existing, "seed_workers": timings})
        return
    if arguments.loop_options:
        comparisons = {name: compare_loop_options(name, arguments.clips, arguments.epochs, arguments.repeats,
                                                  arguments.options)
                       for name in LAYOUT_CANDIDATES if name in arguments.candidates}
        for name, comparison in comparisons.items():
            print(f"{name}: {comparison['epochs']} epochs of {comparison['clips']} clips, both cores")
            for option, result in comparison["options"].items():
                if "skipped" in result:
                    print(f"  {option:<24} skipped: {result['skipped']}")
                    continue
                rounds = ", ".join(f"{seconds:.1f}" for seconds in result["seconds_per_epoch_by_round"])
                print(f"  {option:<24} {result['seconds_per_epoch']:>7.2f} s/epoch ({rounds})  "
                      f"{result['speed_vs_shipped']:.2f}x  "
                      f"first epoch {result['first_epoch_seconds']:.1f} s  "
                      f"{'the shipped model' if result['same_model_as_shipped'] else 'another model'}")
        if arguments.write:
            # Options measured before and not rerun stay; each rerun one takes its new figures.
            previous = existing.get("loop_options", {})
            for name, comparison in comparisons.items():
                kept = previous.get(name, {}).get("options", {})
                for result in kept.values():  # figures recorded before each option named its reference
                    result.setdefault("shipped_seconds_per_epoch", kept.get("shipped", {}).get("seconds_per_epoch"))
                comparison["options"] = {**kept, **comparison["options"]}
            record(SECTION, {**existing, "loop_options": {**previous, **comparisons}})
        return
    if arguments.step_cost:
        costs = step_costs()
        print(f"strided CRNN, one training step of {costs['batch_size']} crops of {costs['frames']} frames x "
              f"{costs['n_mels']} bands (median of {costs['steps']}), both cores:")
        for variant, cost in costs["variants"].items():
            print(f"  {variant:<14} {cost['parameters']:>8,} parameters  {cost['milliseconds_per_step']:>6.1f} ms  "
                  f"{cost['against_shipped']:.2f}x")
        if arguments.write:
            record(SECTION, {**existing, "step_cost": costs})
        return
    if arguments.layouts:
        # The shipped CRNN and cross-validation's frame model (params.yaml's cv.models).
        layouts = {name: compare_layouts(name, arguments.clips, arguments.epochs) for name in LAYOUT_CANDIDATES}
        print(json.dumps(layouts, indent=2))
        if arguments.write:
            record(SECTION, {**existing, "layouts": layouts})
        return
    # Each candidate in a process of its own, one after the other, all on both cores: the same conditions for all.
    results = {name: worker_result(in_a_process(name, arguments.clips, arguments.epochs, threads=2))
               for name in arguments.candidates}
    reference = results.get(REFERENCE)
    params = load_params(REPO_ROOT / "params.yaml")
    width = max(len(name) for name in results)
    print(f"{'candidate':<{width}} {'params':>8} {'s/epoch':>8} {'vs shipped':>10} {'first epoch':>11}  "
          f"6-fold plain: val folds (the choice) / test folds")
    for name, result in results.items():
        ratio = f"{result['seconds_per_epoch'] / reference['seconds_per_epoch']:.2f}x" if reference else "-"
        cv = recorded_accuracy(existing.get("cv_plain", {}).get(name), name, params)
        cv_text = (f"{cv['val_accuracy_mean']:.1%} / {cv['accuracy_mean']:.1%} ± {cv['accuracy_std']:.1%}" if cv
                   else "not measured with its recipe and corpora")
        print(f"{name:<{width}} {result['parameters']:>8,} {result['seconds_per_epoch']:>8.2f} {ratio:>10} "
              f"{result['first_epoch_seconds']:>10.1f}s  {cv_text}")
    if arguments.write:
        record(SECTION, {**existing, "epochs": results, "reference": REFERENCE})


if __name__ == "__main__":
    main()
