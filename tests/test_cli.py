"""`python -m soundmind` as a user runs it: a real subprocess in the tiny project."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile

from soundmind.data.ravdess import EMOTIONS, clip_id_for
from tests.tiny_corpus import synthetic_clip

RATE = 16000
ACCURACY_LINE = re.compile(
    r"^accuracy against the emotions in the RAVDESS file names: (\d+)/(\d+) = ([\d.]+)%$", re.MULTILINE
)


def soundmind(project: Path, *arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "soundmind", *map(str, arguments)],
        check=False,
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )


def ravdess_clips(folder: Path, actor: int = 7) -> list[Path]:
    """One 2-second synthetic clip per emotion, named as RAVDESS names them."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for emotion in EMOTIONS:
        path = folder / f"{clip_id_for(emotion, 'normal', 1, 1, actor)}.wav"
        soundfile.write(str(path), synthetic_clip(emotion, actor, 1, RATE, 2.0), RATE, subtype="PCM_16")
        paths.append(path)
    return paths


def table_rows(stdout: str) -> dict[str, str]:
    """file -> predicted emotion, from the table's rows."""
    rows = {}
    for line in stdout.splitlines():
        parts = line.split()
        # file, emotion, confidence and, below the calibrated threshold, "(uncertain)"
        if len(parts) in (3, 4) and parts[1] in EMOTIONS and parts[2].endswith("%") and parts[3:] in ([], ["(uncertain)"]):
            rows[parts[0]] = parts[1]
    return rows


def test_help_explains_the_commands(tiny_project):
    top = soundmind(tiny_project, "--help")
    predict = soundmind(tiny_project, "predict", "--help")

    assert top.returncode == 0 and "predict" in top.stdout and "emotion" in top.stdout
    assert predict.returncode == 0
    for option in ("FILE_OR_DIR", "--model", "--models-dir", "--json", "--timeline", "Exit status 0 when every file was scored",
                   "3 when every file was read but one held no speech"):
        assert option in " ".join(predict.stdout.split()), option


def test_normal_use_prints_only_the_clis_own_lines(tiny_project, tmp_path):
    # Clips of six lengths: Keras builds a new predict function for each new input shape, and TensorFlow warns
    # about such retracing on the terminal; nor may any library's start-up notes or warnings reach the user.
    folder = tmp_path / "clips"
    folder.mkdir()
    for emotion, seconds in zip(EMOTIONS, (1.0, 1.3, 1.7, 2.2, 2.8, 3.5)):
        path = folder / f"{clip_id_for(emotion, 'normal', 1, 1, 7)}.wav"
        soundfile.write(str(path), synthetic_clip(emotion, 7, 1, RATE, seconds), RATE, subtype="PCM_16")

    # Keras, where TensorFlow's warnings come from (the default, ONNX Runtime, is checked by the table test below).
    result = soundmind(tiny_project, "predict", folder, "--model", "crnn", "--runtime", "keras")

    assert result.returncode == 0, result.stderr
    assert result.stderr == "6 scored, 0 failed\n"


def test_a_folder_of_ravdess_clips_prints_a_table_and_accuracy(tiny_project, tmp_path):
    clips = ravdess_clips(tmp_path / "clips")

    result = soundmind(tiny_project, "predict", tmp_path / "clips")

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("model: ensemble (models/ensemble)")
    assert set(table_rows(result.stdout)) == {str(path) for path in clips}
    correct, total, percent = ACCURACY_LINE.search(result.stdout).groups()
    assert int(total) == len(clips)
    assert float(percent) == pytest.approx(100 * int(correct) / len(clips), abs=0.01)
    assert result.stderr == f"{len(clips)} scored, 0 failed\n"
    assert "error:" not in result.stderr


def test_json_prints_one_object_per_file(tiny_project, tmp_path):
    clips = ravdess_clips(tmp_path / "clips")

    result = soundmind(tiny_project, "predict", *clips, "--json", "--model", "baseline")

    assert result.returncode == 0, result.stderr
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert [item["file"] for item in objects] == [str(path) for path in clips]
    for item in objects:
        assert item["model"] == "baseline"
        assert sorted(item["probabilities"]) == sorted(EMOTIONS)
        assert sum(item["probabilities"].values()) == pytest.approx(1.0, abs=1e-6)
        assert item["emotion"] == max(item["probabilities"], key=item["probabilities"].get)


def bad_files(folder: Path) -> dict[str, str]:
    """Broken inputs a user might pass -> the problem their error line must name."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "empty.wav").write_bytes(b"")
    (folder / "notes.wav").write_text("meeting notes, saved with the wrong name\n" * 10)
    soundfile.write(str(folder / "silent.wav"), np.zeros(2 * RATE, dtype=np.float32), RATE, subtype="PCM_16")
    soundfile.write(str(folder / "cut.wav"), synthetic_clip("sad", 7, 1, RATE, 2.0), RATE, subtype="PCM_16")
    whole = (folder / "cut.wav").read_bytes()
    (folder / "cut.wav").write_bytes(whole[: len(whole) // 2])
    return {
        str(folder / "empty.wav"): "empty",
        str(folder / "notes.wav"): "cannot be decoded",
        str(folder / "silent.wav"): "silent",
        str(folder / "cut.wav"): "truncated",
        str(folder / "no_such_clip.wav"): "cannot be read",
    }


def test_bad_files_are_reported_one_line_each_and_the_good_ones_still_scored(tiny_project, tmp_path):
    good = ravdess_clips(tmp_path / "good")[:2]
    bad = bad_files(tmp_path / "bad")

    result = soundmind(tiny_project, "predict", *good, *bad, "--model", "baseline")

    assert result.returncode == 1
    assert "Traceback" not in result.stdout + result.stderr
    assert set(table_rows(result.stdout)) == {str(path) for path in good}
    errors = [line for line in result.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == len(bad)
    for path, problem in bad.items():
        (line,) = [line for line in errors if line.startswith(f"error: {path}: ")]
        assert problem in line
    assert result.stderr.splitlines()[-1] == f"{len(good)} scored, {len(bad)} failed"


def test_cli_accuracy_on_the_test_actors_equals_the_evaluate_stage(tiny_project):
    splits = pd.read_csv(tiny_project / "data" / "splits.csv")
    # RAVDESS's test actors, the clips evaluate's predictions list (the other corpus's are scored apart).
    test_actors = sorted(splits.loc[(splits["split"] == "test") & (splits["actor"] <= 24), "actor"].unique())
    folders = [Path("data") / "raw" / f"Actor_{actor:02d}" for actor in test_actors]
    evaluated = pd.read_csv(tiny_project / "reports" / "predictions" / "baseline.csv").set_index("clip_id")

    result = soundmind(tiny_project, "predict", *folders, "--model", "baseline")

    assert result.returncode == 0, result.stderr
    predicted = {Path(file).stem: emotion for file, emotion in table_rows(result.stdout).items()}
    assert sorted(predicted) == sorted(evaluated.index)
    correct, total, _ = ACCURACY_LINE.search(result.stdout).groups()
    evaluate_correct = int((evaluated["actual"] == evaluated["predicted"]).sum())
    assert (int(correct), int(total)) == (evaluate_correct, len(evaluated))
    # Stronger than equal accuracy: the same answer for every clip.
    assert predicted == evaluated["predicted"].to_dict()
