"""Shared fixtures: a temporary copy of the project with tiny params, built once by the real `dvc repro`.

The suite runs on two pytest-xdist workers (pyproject.toml). The tiny project is built once for both, in a thread
that starts with the first test, while the workers run the tests that do not need it (collected first); DVC
commands on the shared project take turns.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from filelock import FileLock

from tests.tiny_corpus import TINY_NEMO_SPEAKERS, make_tiny_corpus, make_tiny_nemo

REPO_ROOT = Path(__file__).resolve().parents[1]
PROJECT_FILES = ("soundmind", "stages", "dvc.yaml", "params.yaml", ".dvc/config", ".dvcignore", ".gitignore")
TINY_ACTORS = (1, 2, 3, 4, 5, 6)
TINY_TEST_ACTORS = [5, 6]
TINY_VAL_ACTORS = [3, 4]
# A CRNN small and quick enough for the tiny corpus's 1 s clips that still learns them (two seeds: the
# bundle averages them); its full-size structure is tested in test_crnn.
TINY_CRNN = dict(
    seeds=2, crop_seconds=1.0, conv_filters=[8, 8, 16, 16], gru_units=16, epochs=15, min_epochs=3, warmup_epochs=1,
    batch_size=8, peak_learning_rate=0.01, mixup_alpha=0.2, freq_masks=1, freq_mask_bands=4, time_masks=1,
    time_mask_frames=10,
)
# One seed and 8 epochs: the CRNN's and the baseline's bundles already cover seed averaging, and this recipe is
# cross-validated six times in the build (the largest stage); no test asks it to learn the corpus well.
TINY_STRIDED_CRNN = dict(TINY_CRNN, seeds=1, epochs=8, min_epochs=2, front_filters=[4, 8], conv1d_filters=[16],
                         conv1d_pools=[2])


def tiny_params(params: dict) -> dict:
    """The project's params with everything made small enough for a test."""
    params["data"].update(expected_clips=len(TINY_ACTORS) * 16, n_jobs=2)
    params["split"].update(test_actors=TINY_TEST_ACTORS, val_actors=TINY_VAL_ACTORS)
    params["augment"].update(copies=1, n_jobs=2)
    params["channel_shift"].update(rooms=2, n_jobs=2)
    params["channel_augment"].update(rooms=2, n_jobs=2)
    params["features"].update(n_jobs=2)
    for model in params["train"].values():
        if model["architecture"] == "baseline":
            # Two seeds: the bundle averages them and evaluate reports both.
            model.update(seeds=2, epochs=25, early_stopping_patience=10, min_epochs=5, batch_size=16)
        elif model["architecture"] in ("enhanced", "optimized"):
            # The deep models only have to run end to end here; their structure is tested in test_models.
            model.update(seeds=1, epochs=3, early_stopping_patience=2, min_epochs=1, batch_size=16)
        elif model["architecture"] == "crnn":
            model.update(TINY_CRNN)
        elif model["architecture"] == "strided_crnn":
            model.update(TINY_STRIDED_CRNN)
    params["train"]["ensemble"]["sklearn_members"]["extra_trees"]["n_estimators"] = 20
    # Two actors per fold; the CRNN's recipe is TINY_CRNN's. One worker process: for trainings this small, a second
    # costs more to start (TensorFlow, the tables) than it saves; the figures are the same (test_pipeline).
    params["cv"].update(folds=3, n_jobs=1)
    params["train_adapted"].update(crnn_epochs=6, crnn_min_epochs=2)
    # 16 is more than a tiny actor's 15 other clips: the curve caps it (and says so by its "clips" column).
    params["adaptation"].update(draws=2)
    # RAVDESS and one other training corpus (tests/tiny_corpus.make_tiny_nemo): one speaker per split.
    speakers = list(TINY_NEMO_SPEAKERS)
    params["corpora"].update(extra=["nemo"])
    params["corpora"]["nemo"].update(test_speakers=[speakers[2]], val_speakers=[speakers[1]])
    # The tiny corpus's synthetic tones are not speech to a speech detector: the predictor takes whole clips.
    params["speech"]["detect"] = False
    return params


def copy_project(destination: Path) -> Path:
    """A fresh git + DVC project holding the pipeline's code and config and a tiny nEMO (not RAVDESS: each test
    brings its own), but no other data and no lock."""
    destination.mkdir(parents=True)
    for name in PROJECT_FILES:
        source = REPO_ROOT / name
        target = destination / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
    params_path = destination / "params.yaml"
    params_path.write_text(yaml.safe_dump(tiny_params(yaml.safe_load(params_path.read_text())), sort_keys=False))
    make_tiny_nemo(destination / "data" / "external" / "nemo")  # the other training corpus tiny_params names
    git = ["git", "-c", "user.name=soundmind tests", "-c", "user.email=tests@localhost"]
    subprocess.run(["git", "init", "-q"], cwd=destination, check=True)
    subprocess.run([*git, "add", "-A"], cwd=destination, check=True)
    subprocess.run([*git, "commit", "-q", "-m", "tiny project"], cwd=destination, check=True)
    return destination


def dvc_turn(project: Path) -> FileLock:
    """Held while a DVC command runs in ``project`` or it is copied: two workers' commands on one repository would
    meet DVC's lock, and a copy taken mid-command would carry DVC's temporary files."""
    return FileLock(project.parent / f".{project.name}.dvc-turn.lock")


def copy_built_project(tiny_project: Path, destination: Path) -> Path:
    """The reproduced tiny project, cache and all, so a test can rerun parts of it without touching the original."""
    with dvc_turn(tiny_project):
        shutil.copytree(tiny_project, destination, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
    return destination


# A guard against a hung run, not a speed target: the whole tiny pipeline takes minutes on 2 idle cores, and far
# longer on a busy machine.
DVC_TIMEOUT_SECONDS = 2400


def run_dvc(
    project: Path, *arguments: str, check: bool = True, running: list[subprocess.Popen] | None = None
) -> subprocess.CompletedProcess:
    """Run one DVC command in ``project``; ``running``, where given, gets its process (so that it can be killed)."""
    with dvc_turn(project):
        process = subprocess.Popen([sys.executable, "-m", "dvc", *arguments], cwd=project, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        if running is not None:
            running.append(process)
        try:
            stdout, stderr = process.communicate(timeout=DVC_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    result = subprocess.CompletedProcess(process.args, process.returncode, stdout, stderr)
    if check and result.returncode != 0:
        raise AssertionError(f"dvc {' '.join(arguments)} failed:\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture
def project_params() -> dict:
    """A fresh copy of the project's params.yaml, free to edit."""
    from soundmind.params import load_params

    return load_params(REPO_ROOT / "params.yaml")


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Path:
    """Three actors' synthetic clips, for the tests that train tiny bundles in seconds (tests/tiny_bundles.py)."""
    folder = tmp_path_factory.mktemp("corpus")
    make_tiny_corpus(folder, actors=(1, 2, 3))
    return folder


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # The tests that need the tiny project last: the build starts with the first test (below) and the workers run
    # the others meanwhile.
    items.sort(key=lambda item: "tiny_project" in getattr(item, "fixturenames", ()))


def shared_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The run's temporary folder that every xdist worker sees (each worker's base temp is a folder inside it)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


def build_tiny_project(shared: Path, running: list[subprocess.Popen]) -> Path:
    """Build the tiny project under ``shared`` unless a worker already has; a failed build is kept as a file, so
    that every worker reports it instead of building again. ``running`` gets the `dvc repro` process."""
    folder, project = shared / "pipeline", shared / "pipeline" / "project"
    failure, built = folder / "build-failed.txt", folder / "built"
    with FileLock(shared / "pipeline.lock"):
        if failure.exists():
            raise AssertionError(f"the tiny project did not build:\n{failure.read_text()}")
        if not built.exists():
            shutil.rmtree(folder, ignore_errors=True)
            copy_project(project)
            make_tiny_corpus(project / "data" / "external" / "tiny", actors=TINY_ACTORS)
            repro = run_dvc(project, "repro", check=False, running=running)
            if repro.returncode != 0:
                failure.write_text(f"dvc repro exited with {repro.returncode}:\n{repro.stdout}\n{repro.stderr}")
                raise AssertionError(failure.read_text())
            built.touch()
    return project


@pytest.fixture(scope="session", autouse=True)
def tiny_project_build_started_at_once(request, tmp_path_factory) -> Iterator[None]:
    """One worker starts building the tiny project in a thread with its first test, if any test needs it."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    needed = any("tiny_project" in getattr(item, "fixturenames", ()) for item in request.session.items)
    if worker != "gw0" or not needed or os.environ.get("SOUNDMIND_TINY_PROJECT"):
        yield
        return
    running: list[subprocess.Popen] = []

    def build() -> None:
        with contextlib.suppress(Exception):  # a failure is kept in the shared folder for the tests to report
            build_tiny_project(shared_folder(tmp_path_factory), running)

    builder = threading.Thread(target=build, daemon=True)
    builder.start()
    yield
    if builder.is_alive() and running:  # the session ended early (-x, ^C): no build left behind
        running[0].kill()
    builder.join()


@pytest.fixture(scope="session")
def tiny_project(tmp_path_factory) -> Path:
    """The project copied, given a tiny corpus in data/external, and reproduced end to end, once for all workers.
    SOUNDMIND_TINY_PROJECT names one already reproduced from the current code (a developer's shortcut; CI always
    builds its own)."""
    if os.environ.get("SOUNDMIND_TINY_PROJECT"):
        return Path(os.environ["SOUNDMIND_TINY_PROJECT"])
    return build_tiny_project(shared_folder(tmp_path_factory), [])
