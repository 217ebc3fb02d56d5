"""`python -m soundmind`: the command line over soundmind.predict."""

from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Sequence

from soundmind.data.ravdess import parse_clip_id
from soundmind.errors import SoundmindError, SoundmindWarning
from soundmind.paths import MODELS


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
            "files. Clips longer than 5 s are scored in overlapping 4 s windows and the result is their mean; "
            "--timeline instead cuts the speech into utterances and scores each (emotion over time, any length). "
            "Audio in which no speech is detected gets no emotion. Exit status 0 when every file was scored, "
            "1 when a file could not be, 3 when every file was read but one held no speech."
        ),
    )
    predict.add_argument("paths", nargs="+", metavar="FILE_OR_DIR", help="audio files or folders of them")
    add_model_arguments(predict)
    predict.add_argument("--json", action="store_true", help="print one JSON object per file (per segment with "
                                                             "--timeline) instead of a table (CSV with --timeline)")
    predict.add_argument("--timeline", action="store_true",
                         help="emotion over time: one row per utterance (start, end, emotion, confidence, uncertain, "
                              "probabilities); long files are read in blocks")
    adaptation = predict.add_mutually_exclusive_group()
    adaptation.add_argument("--speaker", type=Path, metavar="PROFILE.json",
                            help="a profile from `enroll`: score with the model's adapted bundle (models/<name>_adapted)")
    adaptation.add_argument("--adapt-per-folder", action="store_true",
                            help="each folder holds one speaker: each clip is scored adapted to a profile of its folder's "
                                 "OTHER clips (a folder of fewer than 3 clips is scored without adaptation, and says so)")
    enroll = commands.add_parser(
        "enroll", help="make a speaker profile from unlabelled clips of one speaker",
        description="Make a speaker profile (per-feature means and deviations over the clips) for `predict --speaker`.",
    )
    enroll.add_argument("paths", nargs="+", metavar="CLIP_OR_DIR", help="at least two clips of the speaker, or folders")
    enroll.add_argument("-o", "--output", type=Path, required=True, metavar="PROFILE.json", help="where to write the profile")
    add_model_arguments(enroll)
    evaluate = commands.add_parser(
        "evaluate", help="score a model on a labelled folder",
        description="Accuracy, unweighted average recall, macro-F1, per-class recall and the confusion matrix of a model "
                    "on a folder whose emotions a labels CSV gives or whose file names encode them (RAVDESS, EmoDB); "
                    "predictions are the argmax over the classes the labels hold. With speakers known and an adapted "
                    "bundle, also adapted: each clip with a profile of its speaker's other clips.",
    )
    evaluate.add_argument("folder", type=Path, metavar="DIR", help="the folder of audio files")
    evaluate.add_argument("--labels", type=Path, metavar="CSV",
                          help="columns path, emotion[, speaker]; paths relative to the CSV (default: read file names)")
    evaluate.add_argument("--label-map", default="", metavar="OLD=NEW,...",
                          help="rename the corpus's emotions to the model's (e.g. anger=angry,happiness=happy)")
    evaluate.add_argument("--output", type=Path, metavar="REPORT.json", help="also write the report as JSON")
    add_model_arguments(evaluate)
    export = commands.add_parser(
        "export", help="write a bundle's Keras networks and scikit-learn pickles as ONNX files beside them",
        description="Write each Keras network and scikit-learn scaler or pipeline of the bundle folders (an "
                    "ensemble's members included) as an ONNX file beside its .keras or .joblib file, so that predict "
                    "scores it with ONNX Runtime, without TensorFlow or scikit-learn. The pipeline's export stage "
                    "does this for its own bundles, into models/onnx/.",
    )
    export.add_argument("bundles", nargs="+", type=Path, metavar="BUNDLE_DIR", help="bundle folders (models/<name>)")
    return parser


def add_model_arguments(command: argparse.ArgumentParser) -> None:
    """The --model and --models-dir options every command shares."""
    command.add_argument(
        "--model", default=None, metavar="NAME_OR_PATH",
        help="a model name under --models-dir (ensemble, logistic_compare, baseline, ...) or a bundle folder; "
             "default: the ensemble, else the model with the best recorded val accuracy",
    )
    command.add_argument("--models-dir", default=MODELS, type=Path, help=f"where trained bundles live (default: {MODELS})")
    command.add_argument("--runtime", choices=("onnx", "keras"), default="onnx",
                         help="score the networks with ONNX Runtime (default; Keras where a network has no ONNX file) "
                              "or with Keras, which loads TensorFlow")


NO_SPEECH_TEXT = "no speech detected"
NO_SPEECH_STATUS = 3


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
        if "error" in result:
            continue
        if not result.get("speech", True):
            print(f"{result['file']:<{width}}  {NO_SPEECH_TEXT}")
            continue
        flag = "  (uncertain)" if result.get("uncertain") else ""
        print(f"{result['file']:<{width}}  {result['emotion']:<10}  {result['confidence']:.1%}{flag}")
    labelled = [(true_emotion(result["file"]), result["emotion"]) for result in results
                if "error" not in result and result.get("speech", True)]
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
    """Score the files of ``arguments`` (plain, with an enrolled speaker's profile, or adapted per folder);
    return 0 when every file was scored, 1 when one could not be, 3 when one held no speech."""
    with native_stderr_silenced():
        from soundmind.serving.adapt import predict_per_folder
        from soundmind.serving.predict import EmotionPredictor, audio_files
        from soundmind.serving.speaker import SpeakerProfile

    predictor = EmotionPredictor(arguments.model, arguments.models_dir, runtime=arguments.runtime)
    files = audio_files(arguments.paths)
    if not files:
        print("error: no audio files (wav, flac, mp3, ogg) found in the given folders.", file=sys.stderr)
        return 1
    model = f"{predictor.name} ({predictor.bundle_path})"
    if arguments.speaker is not None or arguments.adapt_per_folder:
        adapted = predictor.adapted_bundle()
        model = f"{adapted.name}, adapted ({predictor.bundle_path.parent / adapted.name})"
    if arguments.timeline:
        if arguments.adapt_per_folder:
            print("error: --timeline scores one recording at a time; use --speaker to adapt it.", file=sys.stderr)
            return 2
        speaker = SpeakerProfile.load(arguments.speaker) if arguments.speaker is not None else None
        return print_timelines(predictor, files, speaker, arguments.json)
    if arguments.adapt_per_folder:
        results = predict_per_folder(predictor, files)
    else:
        speaker = SpeakerProfile.load(arguments.speaker) if arguments.speaker is not None else None
        results = predictor.predict_many(files, speaker=speaker)
    if arguments.json:
        for result in results:
            print(json.dumps(result))
    else:
        print_table(results, model)
    for note in sorted({f"{result['speaker']}: {result['adaptation']}" for result in results if "adaptation" in result}):
        print(f"note: {note}", file=sys.stderr)
    failures = [result for result in results if "error" in result]
    for failure in failures:
        print(f"error: {failure['error']}", file=sys.stderr)
    silent = [result for result in results if "error" not in result and not result.get("speech", True)]
    print(f"{len(results) - len(failures)} scored, {len(failures)} failed"
          + (f", {len(silent)} without speech" if silent else ""), file=sys.stderr)
    return 1 if failures else NO_SPEECH_STATUS if silent else 0


def print_timelines(predictor, files: list[Path], speaker, as_json: bool) -> int:
    """Print each file's timeline as CSV (or JSON lines), one row per utterance, as it is scored."""
    from soundmind.errors import PredictionError

    labels = list(predictor.bundle.labels)
    table = csv.writer(sys.stdout, lineterminator="\n")
    if not as_json:
        table.writerow(["file", "start_seconds", "end_seconds", "emotion", "confidence", "uncertain", *labels])
    failed = silent = 0
    for path in files:
        try:
            rows = predictor.timeline(path, speaker=speaker)
        except PredictionError as error:
            print(f"error: {error}", file=sys.stderr)
            failed += 1
            continue
        if not rows:
            print(f"note: {path}: {NO_SPEECH_TEXT}", file=sys.stderr)
            silent += 1
        for row in rows:
            if as_json:
                print(json.dumps({"file": str(path), **row}))
            else:
                table.writerow([path, row["start_seconds"], row["end_seconds"], row["emotion"], f"{row['confidence']:.4f}",
                                str(row["uncertain"]).lower(), *(f"{row['probabilities'][label]:.4f}" for label in labels)])
        sys.stdout.flush()
    return 1 if failed else NO_SPEECH_STATUS if silent else 0



def run_enroll(arguments: argparse.Namespace) -> int:
    """Write the speaker profile of the clips of ``arguments``."""
    with native_stderr_silenced():
        from soundmind.serving.predict import EmotionPredictor, audio_files

    predictor = EmotionPredictor(arguments.model, arguments.models_dir, runtime=arguments.runtime)
    profile = predictor.enroll(audio_files(arguments.paths))
    profile.save(arguments.output)
    print(f"wrote {arguments.output}: the profile of {profile.clip_count} clips for model {predictor.name} "
          f"({', '.join(sorted(profile.families))} features)")
    return 0


def run_evaluate(arguments: argparse.Namespace) -> int:
    """Score a labelled folder, print the figures, and write them with --output."""
    with native_stderr_silenced():
        from soundmind.files import write_json
        from soundmind.serving.labelled import labels_from_names, parse_label_map, read_labels, usable_clips
        from soundmind.serving.predict import EmotionPredictor
        from soundmind.serving.scoring import evaluate_labelled

    try:
        label_map = parse_label_map(arguments.label_map)
    except ValueError as error:
        print(f"error: {error}.", file=sys.stderr)
        return 2
    predictor = EmotionPredictor(arguments.model, arguments.models_dir, runtime=arguments.runtime)
    labelled = read_labels(arguments.labels) if arguments.labels else labels_from_names(arguments.folder)
    clips, notes = usable_clips(labelled, label_map, predictor.bundle.labels)
    if not clips:
        print(f"error: {arguments.folder}: no clip is labelled with one of the model's classes "
              f"({', '.join(predictor.bundle.labels)}); map the labels with --label-map.", file=sys.stderr)
        return 1
    report = evaluate_labelled(predictor, clips, notes)
    print_report(report)
    if arguments.output is not None:
        write_json(arguments.output, report)
        print(f"wrote {arguments.output}")
    return 0


def print_report(report: dict) -> None:
    """Print the figures of ``evaluate_labelled``'s report for people."""
    print(f"model: {report['model']}; classes: {', '.join(report['classes'])}")
    for kind in ("one_clip", "adapted"):
        figures = report[kind]
        if "skipped" in figures:
            print(f"{kind}: not scored: {figures['skipped']}")
            continue
        print(f"{kind}: {figures['clips']} clips, accuracy {figures['accuracy']:.2%}, unweighted average recall "
              f"{figures['unweighted_average_recall']:.2%}, macro-F1 {figures['macro_f1']:.4f}")
        print("  recall: " + ", ".join(f"{label} {value:.0%}" for label, value in figures["per_class_recall"].items()))
        print("  confusion (rows actual, columns predicted, in the class order above):")
        for label, row in figures["confusion_matrix"].items():
            print(f"    {label:<10} " + " ".join(f"{count:>4}" for count in row.values()))
    for note in report["notes"]:
        print(f"note: {note}")


def run_export(arguments: argparse.Namespace) -> int:
    """Export the Keras networks and scikit-learn pickles of each bundle folder of ``arguments`` beside them."""
    with native_stderr_silenced():
        from soundmind.models.bundle import METADATA_FILE
        from soundmind.models.onnx_export import export_bundle

    for bundle_dir in arguments.bundles:
        if not (bundle_dir / METADATA_FILE).is_file():
            print(f"error: {bundle_dir}: not a model bundle (no {METADATA_FILE}).", file=sys.stderr)
            return 1
        written = export_bundle(bundle_dir, bundle_dir)
        print(f"{bundle_dir}: {len(written)} ONNX file{'s' if len(written) != 1 else ''} written")
    return 0


COMMANDS = {"predict": run_predict, "enroll": run_enroll, "evaluate": run_evaluate, "export": run_export}


def show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Our own warnings (a fallback, a skipped file) as one line for people; other libraries' as Python prints them."""
    if issubclass(category, SoundmindWarning):
        print(f"warning: {message}", file=sys.stderr if file is None else file)
    else:
        _python_show_warning(message, category, filename, lineno, file, line)


_python_show_warning = warnings.showwarning


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (1 with one sentence on stderr for input it cannot use)."""
    arguments = build_parser().parse_args(argv)
    warnings.showwarning = show_warning
    try:
        return COMMANDS[arguments.command](arguments)
    except SoundmindError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
