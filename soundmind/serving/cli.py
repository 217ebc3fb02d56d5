"""`python -m soundmind`: the command line over soundmind.predict."""

from __future__ import annotations

import argparse
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

from soundmind.data.ravdess import parse_clip_id


def build_parser() -> argparse.ArgumentParser:
    """Return the parser of `python -m soundmind`."""
    parser = argparse.ArgumentParser(
        prog="python -m soundmind",
        description="Speech emotion recognition on your own audio, with the models the DVC pipeline trained.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    predict = commands.add_parser(
        "predict",
        help="predict the emotion of audio files",
        description=(
            "Predict the emotion of each audio file (wav, flac, mp3, ogg); folders are searched for audio "
            "files. Clips longer than 5 s are scored in overlapping 4 s windows and the result is their mean. "
            "Exit status 0 only when every file was scored."
        ),
    )
    predict.add_argument("paths", nargs="+", metavar="FILE_OR_DIR", help="audio files or folders of them")
    predict.add_argument(
        "--model", default=None, metavar="NAME_OR_PATH",
        help="a model name under --models-dir (ensemble, logistic_compare, baseline, ...) or a bundle folder; "
             "default: the ensemble, else the model with the best recorded val accuracy",
    )
    predict.add_argument("--models-dir", default="models", type=Path, help="where trained bundles live (default: models)")
    predict.add_argument("--json", action="store_true", help="print one JSON object per file instead of a table")
    return parser


def true_emotion(path: str) -> str | None:
    """The emotion a RAVDESS file name encodes, if the file has such a name."""
    try:
        return parse_clip_id(Path(path).stem).emotion
    except ValueError:
        return None


def print_table(results: list[dict], model: str) -> None:
    """Print one line per scored file, and the accuracy against RAVDESS file names where there are any."""
    print(f"model: {model}")
    width = max([len("file")] + [len(result["file"]) for result in results])
    print(f"{'file':<{width}}  {'emotion':<10}  confidence")
    for result in results:
        if "error" not in result:
            print(f"{result['file']:<{width}}  {result['emotion']:<10}  {result['confidence']:.1%}")
    labelled = [(true_emotion(result["file"]), result["emotion"]) for result in results if "error" not in result]
    labelled = [(actual, predicted) for actual, predicted in labelled if actual is not None]
    if labelled:
        correct = sum(actual == predicted for actual, predicted in labelled)
        print(
            f"accuracy against the emotions in the RAVDESS file names: {correct}/{len(labelled)} = "
            f"{correct / len(labelled):.2%}"
        )


@contextmanager
def native_stderr_silenced() -> Iterator[None]:
    """Hide what TensorFlow's C++ start-up writes straight to file descriptor 2 (oneDNN notices that
    no environment variable turns off); Python-level errors still reach stderr once it is restored."""
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def run_predict(arguments: argparse.Namespace) -> int:
    """Score the files of ``arguments``; return 0 only when every file was scored."""
    with native_stderr_silenced():
        from soundmind.serving.predict import EmotionPredictor, PredictionError, audio_files

    try:
        predictor = EmotionPredictor(arguments.model, arguments.models_dir)
    except PredictionError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    files = audio_files(arguments.paths)
    if not files:
        print("error: no audio files (wav, flac, mp3, ogg) found in the given folders.", file=sys.stderr)
        return 1
    results = predictor.predict_many(files)
    if arguments.json:
        for result in results:
            print(json.dumps(result))
    else:
        print_table(results, f"{predictor.name} ({predictor.bundle_path})")
    failures = [result for result in results if "error" in result]
    for failure in failures:
        print(f"error: {failure['error']}", file=sys.stderr)
    print(f"{len(results) - len(failures)} scored, {len(failures)} failed", file=sys.stderr)
    return 1 if failures else 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    arguments = build_parser().parse_args(argv)
    if arguments.command == "predict":
        return run_predict(arguments)
    return 2
