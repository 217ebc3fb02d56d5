"""The Streamlit app over the tiny project's models: through Streamlit's test API, then in a real browser."""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
from pathlib import Path
from typing import Iterator

import numpy as np
import pandas as pd
import psutil
import pytest
import soundfile
from streamlit.testing.v1 import AppTest

from soundmind.serving.predict import MAX_FILE_BYTES, EmotionPredictor, available_bundles
from soundmind.data.ravdess import EMOTIONS
from soundmind.evaluation.timeline import join_with_pauses
from tests.spoken import SENTENCES, spoken
from tests.conftest import REPO_ROOT
from tests.tiny_corpus import synthetic_clip
from soundmind.data.corpus_names import corpus_of_clip

APP = REPO_ROOT / "app" / "main.py"
RATE = 16000
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")
SCREENSHOT = REPO_ROOT / "tests" / "artifacts" / "app_prediction.png"


def wav_bytes(emotion: str = "angry", seconds: float = 3.0) -> bytes:
    buffer = io.BytesIO()
    soundfile.write(buffer, synthetic_clip(emotion, 5, 1, RATE, seconds), RATE, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def point_app_at(monkeypatch, root: Path, models: Path) -> None:
    monkeypatch.setenv("SOUNDMIND_ROOT", str(root))
    monkeypatch.setenv("SOUNDMIND_MODELS_DIR", str(models))


def run_app() -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=120).run()
    assert not app.exception, [item.value for item in app.exception]
    return app


def predicted_emotion(app: AppTest) -> str | None:
    """The emotion in the result heading, or None when there is no result."""
    headings = [item.value for item in app.header if item.value.startswith("Predicted emotion: ")]
    assert len(headings) <= 1
    return headings[0].removeprefix("Predicted emotion: ") if headings else None


def evaluated(project: Path, model: str) -> pd.DataFrame:
    return pd.read_csv(project / "reports" / "predictions" / f"{model}.csv").set_index("clip_id")


@pytest.fixture
def tiny_app(tiny_project, monkeypatch) -> AppTest:
    point_app_at(monkeypatch, tiny_project, tiny_project / "models")
    return run_app()


# --- Streamlit's test API --------------------------------------------------------------------------


def test_the_sidebar_names_the_active_model_offers_the_trained_ones_and_shows_its_metrics(tiny_app, tiny_project):
    metrics = json.loads((tiny_project / "reports" / "metrics.json").read_text())["ensemble"]
    model_picker = tiny_app.sidebar.selectbox(key="model")

    assert model_picker.options == available_bundles(tiny_project / "models")
    assert model_picker.options[0] == "ensemble"
    assert set(model_picker.options) == {
        "ensemble", "optimized", "enhanced", "baseline", "svm_rich", "logistic_egemaps", "logistic_compare", "crnn",
        "strided_crnn",
    }
    assert model_picker.value == "ensemble"
    assert "Active model: **ensemble**" in [item.value for item in tiny_app.sidebar.markdown]
    # The export stage's networks, not Keras: the app never loads TensorFlow for an exported bundle.
    assert "Scored with ONNX Runtime." in [item.value for item in tiny_app.sidebar.caption]
    assert [item.value for item in tiny_app.sidebar.metric] == [
        f"{metrics['accuracy']:.1%}",
        f"{metrics['macro_f1']:.3f}",
    ]
    assert predicted_emotion(tiny_app) is None, "nothing is scored before a clip is chosen"


def test_a_test_actor_clip_gets_the_prediction_the_evaluate_stage_made(tiny_app, tiny_project):
    tiny_app.radio(key="source").set_value("A test-actor clip").run()
    clip_picker = tiny_app.selectbox(key="test_clip")
    expected = evaluated(tiny_project, "ensemble")
    offered = [option.split()[0] for option in clip_picker.options]
    # RAVDESS's test clips are the ones evaluate predicted; the other training corpus's test clips are offered too.
    assert sorted(clip for clip in offered if corpus_of_clip(clip) == "ravdess") == sorted(expected.index)
    assert {corpus_of_clip(clip) for clip in offered} == {"ravdess", "nemo"}

    clip_id = expected.index[-1]
    clip_picker.set_value(next(option for option in clip_picker.options if option.startswith(clip_id))).run()

    assert not tiny_app.exception and not tiny_app.error
    assert predicted_emotion(tiny_app) == expected.loc[clip_id, "predicted"]
    assert f"Actual emotion: **{expected.loc[clip_id, 'actual']}**" in [item.value for item in tiny_app.caption]


def test_switching_the_model_changes_the_sidebar_and_the_prediction(tiny_app, tiny_project):
    tiny_app.radio(key="source").set_value("A test-actor clip").run()
    tiny_app.sidebar.selectbox(key="model").set_value("baseline").run()

    metrics = json.loads((tiny_project / "reports" / "metrics.json").read_text())["baseline"]
    clip_id = tiny_app.selectbox(key="test_clip").value.split()[0]
    assert "Active model: **baseline**" in [item.value for item in tiny_app.sidebar.markdown]
    assert tiny_app.sidebar.metric[0].value == f"{metrics['accuracy']:.1%}"
    assert predicted_emotion(tiny_app) == evaluated(tiny_project, "baseline").loc[clip_id, "predicted"]


def test_an_uploaded_clip_is_scored_and_a_broken_one_gets_one_error(tiny_app, tiny_project):
    uploader = tiny_app.get("file_uploader")[0]
    uploader.set_value(("take 1.wav", wav_bytes(), "audio/wav")).run()
    assert not tiny_app.exception and not tiny_app.error
    # The app shows what the predictor says about the same bytes with the same (default) model.
    expected = EmotionPredictor(models_dir=tiny_project / "models").predict(wav_bytes(), name="take 1.wav")
    assert predicted_emotion(tiny_app) == expected["emotion"]
    (confidence,) = tiny_app.main.metric
    assert confidence.label == "Confidence" and confidence.value == f"{expected['confidence']:.1%}"

    tiny_app.get("file_uploader")[0].set_value(("broken.wav", b"just text, not audio " * 50, "audio/wav")).run()
    assert not tiny_app.exception
    (error,) = [item.value for item in tiny_app.error]
    assert error.startswith("broken.wav: cannot be decoded as audio") and "\n" not in error
    assert predicted_emotion(tiny_app) is None


def test_with_no_trained_model_the_app_says_so(tiny_project, tmp_path, monkeypatch):
    (tmp_path / "models").mkdir()
    point_app_at(monkeypatch, tiny_project, tmp_path / "models")

    app = run_app()

    (message,) = [item.value for item in app.info]
    assert message.startswith("No model trained yet") and "dvc repro" in message
    assert not app.error and not app.sidebar.selectbox and predicted_emotion(app) is None


def test_without_the_pipeline_data_only_upload_is_offered(tiny_project, tmp_path, monkeypatch):
    point_app_at(monkeypatch, tmp_path, tiny_project / "models")

    app = run_app()

    assert app.radio(key="source").options == ["Upload a clip", "Record"], \
        "no test-actor clips to pick without data/raw/manifest.parquet and data/splits.csv"
    assert [uploader.key for uploader in app.get("file_uploader")] == ["upload", "voice_upload"]
    assert app.sidebar.selectbox(key="model").value == "ensemble"
    assert not app.sidebar.metric, "no reports/metrics.json under this root"


def test_a_clip_recorded_with_the_microphone_is_scored(tiny_app, tiny_project):
    tiny_app.radio(key="source").set_value("Record").run()
    tiny_app.audio_input(key="record").set_value(("take.wav", wav_bytes("sad"), "audio/wav")).run()

    assert not tiny_app.exception and not tiny_app.error
    expected = EmotionPredictor(models_dir=tiny_project / "models").predict(wav_bytes("sad"), name="take.wav")
    assert predicted_emotion(tiny_app) == expected["emotion"]


def models_detecting_speech(tiny_project: Path, tmp_path: Path) -> Path:
    """A copy of the tiny models with speech detection switched on in its serving.json."""
    models = shutil.copytree(tiny_project / "models", tmp_path / "models")
    settings = json.loads((models / "serving.json").read_text())
    settings["speech"]["detect"] = True
    (models / "serving.json").write_text(json.dumps(settings))
    return models


@pytest.fixture
def speech_app(tiny_project, tmp_path, monkeypatch) -> AppTest:
    """The app over a copy of the tiny models with speech detection on (the tiny pipeline turns it off: its
    synthetic tones are no speech to a detector)."""
    point_app_at(monkeypatch, tiny_project, models_detecting_speech(tiny_project, tmp_path))
    return run_app()


def test_noise_gets_no_emotion_and_spoken_utterances_get_a_timeline(speech_app, tmp_path):
    noise = io.BytesIO()
    soundfile.write(noise, 0.3 * np.random.default_rng(1).standard_normal(3 * RATE), RATE, format="WAV", subtype="PCM_16")
    speech_app.get("file_uploader")[0].set_value(("noise.wav", noise.getvalue(), "audio/wav")).run()
    assert not speech_app.exception and not speech_app.error
    assert predicted_emotion(speech_app) == "none" and not speech_app.main.metric
    assert any(item.value.startswith("No speech detected") for item in speech_app.warning)

    joined, spans = join_with_pauses(spoken(SENTENCES, tmp_path / "spoken", RATE), RATE, pause_seconds=1.0)
    talk = io.BytesIO()
    soundfile.write(talk, joined, RATE, format="WAV", subtype="PCM_16")
    speech_app.get("file_uploader")[0].set_value(("talk.wav", talk.getvalue(), "audio/wav")).run()
    assert not speech_app.exception and not speech_app.error
    assert predicted_emotion(speech_app) in EMOTIONS
    assert "Emotion over time" in [item.value for item in speech_app.subheader]
    (timeline,) = [frame.value for frame in speech_app.dataframe if "end (s)" in frame.value.columns]
    assert len(timeline) == len(spans) and set(timeline["emotion"]) <= set(EMOTIONS)


def voice_of_actor(project: Path, count: int) -> list[tuple[str, bytes, str]]:
    """``count`` clips of test actor 6, as uploads."""
    paths = sorted((project / "data/raw/Actor_06").glob("*.flac"))[:count]
    return [(path.name, path.read_bytes(), "audio/flac") for path in paths]


def test_adapting_to_a_voice_from_uploads_and_a_recording_shows_the_adapted_answer_beside_the_plain_one(tiny_app, tiny_project):
    uploads = voice_of_actor(tiny_project, 2)
    tiny_app.file_uploader(key="voice_upload").set_value(uploads[:1]).run()
    assert any("add at least 1 more" in item.value for item in tiny_app.info)

    recorded = wav_bytes("happy", seconds=1.5)
    tiny_app.file_uploader(key="voice_upload").set_value(uploads).run()
    tiny_app.audio_input(key="voice_record").set_value(("voice.wav", recorded, "audio/wav")).run()
    tiny_app.file_uploader(key="upload").set_value(("take 1.wav", wav_bytes(), "audio/wav")).run()

    assert not tiny_app.exception and not tiny_app.error and not tiny_app.warning
    predictor = EmotionPredictor(models_dir=tiny_project / "models")
    profile = predictor.enroll([data for _, data, _ in uploads] + [recorded])
    plain = predictor.predict(wav_bytes(), name="take 1.wav")
    adapted = predictor.predict(wav_bytes(), name="take 1.wav", speaker=profile)
    headings = [item.value for item in tiny_app.main.header]
    assert 0 < adapted["adapted_weight"] < 1  # the tiny project's speaker prior blends a 3-clip profile's answer
    assert headings == [f"Predicted emotion: {plain['emotion']}",
                        f"Adapted to the voice (3 clips, {adapted['adapted_weight']:.0%} adapted): {adapted['emotion']}"]
    assert [metric.value for metric in tiny_app.main.metric] == [f"{plain['confidence']:.1%}", f"{adapted['confidence']:.1%}"]

    # The recording is forgotten (and stays so while the recorder still shows it): two clips remain.
    tiny_app.button(key="voice_reset").click().run()
    tiny_app.run()
    assert [item.value for item in tiny_app.main.header][1].startswith("Adapted to the voice (2 clips, ")


# --- a real browser --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_healthy(url: str, server: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise AssertionError(f"streamlit exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read() == b"ok":
                    return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"streamlit did not answer on {url} within {seconds} s:\n{log.read_text()}")


@contextlib.contextmanager
def served_app(root: Path, models: Path, log: Path) -> Iterator[str]:
    """`streamlit run app/main.py` on a free loopback port, stopped however the test ends."""
    port = free_port()
    environment = dict(os.environ, SOUNDMIND_ROOT=str(root), SOUNDMIND_MODELS_DIR=str(models))
    # No --server.address: the repository's .streamlit/config.toml must keep it on loopback.
    command = [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port)]
    with log.open("w") as log_file:
        server = subprocess.Popen(command, cwd=REPO_ROOT, env=environment, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_healthy(url, server, log)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture
def app_server(tiny_project, tmp_path):
    with served_app(tiny_project, tiny_project / "models", tmp_path / "streamlit.log") as url:
        yield url


@pytest.fixture
def browser():
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        pytest.skip(f"the browser test needs Debian's chromium and chromium-driver ({CHROMIUM}, {CHROMEDRIVER})")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,1500",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def stored_copies(clip: Path) -> list[Path]:
    """Files written since ``clip`` that hold its bytes, in the temporary folder or the repository
    (its git and DVC stores aside: the app writes to neither)."""
    content, written = clip.read_bytes(), clip.stat().st_mtime
    copies = []
    for root in (Path(tempfile.gettempdir()), REPO_ROOT):
        for folder, subfolders, files in os.walk(root):
            subfolders[:] = [name for name in subfolders if name not in (".git", ".dvc")]
            for name in files:
                path = Path(folder) / name
                try:
                    status = path.stat()
                    if (path != clip and status.st_mtime >= written and status.st_size == len(content)
                            and path.read_bytes() == content):
                        copies.append(path)
                except OSError:
                    continue
    return copies


def test_the_app_listens_on_loopback_only_and_caps_uploads(app_server):
    port = int(app_server.rsplit(":", 1)[1])
    listening = {
        connection.laddr.ip for connection in psutil.net_connections(kind="inet")
        if connection.status == psutil.CONN_LISTEN and connection.laddr.port == port
    }
    assert listening == {"127.0.0.1"}
    config = tomllib.loads((REPO_ROOT / ".streamlit/config.toml").read_text())
    assert config["server"]["maxUploadSize"] * 1024 * 1024 == MAX_FILE_BYTES


def test_a_browser_upload_shows_a_prediction(app_server, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    clip = tmp_path / "upload_angry.wav"
    clip.write_bytes(wav_bytes("angry"))

    browser.get(app_server)
    WebDriverWait(browser, 60).until(lambda page: page.find_elements(By.CSS_SELECTOR, "input[type=file]"))
    browser.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(str(clip))

    def result_heading(page):
        headings = [element.text for element in page.find_elements(By.CSS_SELECTOR, "h1, h2, h3")]
        return next((text for text in headings if text.startswith("Predicted emotion:")), False)

    heading = WebDriverWait(browser, 60).until(result_heading)
    assert heading.removeprefix("Predicted emotion:").strip() in EMOTIONS
    assert not stored_copies(clip), "the uploaded audio was written to disk"
    # Both charts (probabilities, waveform) drawn before the picture is taken.
    WebDriverWait(browser, 30).until(
        lambda page: (
            len(
                page.find_elements(
                    By.CSS_SELECTOR, "[data-testid=stVegaLiteChart] canvas, [data-testid=stVegaLiteChart] svg"
                )
            )
            >= 2
        )
    )
    assert not browser.find_elements(By.CSS_SELECTOR, "[data-testid=stException], [data-testid=stAlertContentError]")

    # The terminal that runs the app shows Streamlit's banner, not other libraries' warnings.
    noise = [line for line in (tmp_path / "streamlit.log").read_text().splitlines()
             if re.search(r"warn|deprecat|traceback|retracing", line, re.IGNORECASE)]
    assert noise == []

    screenshot = tmp_path / "app_prediction.png"
    assert browser.save_screenshot(str(screenshot))
    SCREENSHOT.parent.mkdir(exist_ok=True)
    shutil.copyfile(screenshot, SCREENSHOT)


def test_a_browser_shows_no_speech_for_noise_and_a_timeline_for_talk(tiny_project, browser, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    models = models_detecting_speech(tiny_project, tmp_path)
    noise = tmp_path / "noise.wav"
    soundfile.write(str(noise), 0.3 * np.random.default_rng(2).standard_normal(3 * RATE), RATE, subtype="PCM_16")
    joined, spans = join_with_pauses(spoken(SENTENCES, tmp_path / "spoken", RATE), RATE, pause_seconds=1.0)
    talk = tmp_path / "talk.wav"
    soundfile.write(str(talk), joined, RATE, subtype="PCM_16")

    def texts(page, selector):
        return [element.text for element in page.find_elements(By.CSS_SELECTOR, selector)]

    with served_app(tiny_project, models, tmp_path / "streamlit.log") as url:
        browser.get(url)
        WebDriverWait(browser, 60).until(lambda page: page.find_elements(By.CSS_SELECTOR, "input[type=file]"))
        browser.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(str(noise))
        WebDriverWait(browser, 60).until(lambda page: any("No speech detected" in text for text in texts(page, "[data-testid=stAlert]")))
        assert "Predicted emotion: none" in texts(browser, "h1, h2, h3")

        browser.refresh()
        WebDriverWait(browser, 60).until(lambda page: page.find_elements(By.CSS_SELECTOR, "input[type=file]"))
        browser.find_element(By.CSS_SELECTOR, "input[type=file]").send_keys(str(talk))
        WebDriverWait(browser, 90).until(lambda page: "Emotion over time" in texts(page, "h1, h2, h3"))
        # Probabilities, waveform and the timeline: three charts drawn.
        WebDriverWait(browser, 30).until(lambda page: len(page.find_elements(
            By.CSS_SELECTOR, "[data-testid=stVegaLiteChart] canvas, [data-testid=stVegaLiteChart] svg")) >= 3)
        assert not browser.find_elements(By.CSS_SELECTOR, "[data-testid=stException], [data-testid=stAlertContentError]")
        heading = next(text for text in texts(browser, "h1, h2, h3") if text.startswith("Predicted emotion:"))
        assert heading.removeprefix("Predicted emotion:").strip() in EMOTIONS
