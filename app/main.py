"""Streamlit face over soundmind.serving.predict: upload or record a clip, or pick a test-actor clip, see the emotion;
"Adapt to a voice" builds a speaker profile in memory from several clips of one speaker (uploaded or recorded), and
every prediction then shows the adapted answer beside the plain one.

Run with ``streamlit run app/main.py``. All audio and model work happens in soundmind.serving.predict;
this file only chooses what to score and draws the answer.

Environment variables (for tests and other checkouts):
  SOUNDMIND_ROOT        the project folder (default: the folder above app/)
  SOUNDMIND_MODELS_DIR  where trained bundles live (default: <root>/models)
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from soundmind.audio import AUDIO_SUFFIXES
from soundmind.models.bundle import METADATA_FILE
from soundmind.serving.adapt import plain_and_adapted
from soundmind.serving.predict import EmotionPredictor, PredictionError, available_bundles
from soundmind.paths import MANIFEST_NAME, METRICS, MODELS, ONNX_FOLDER, PRIOR_FILE, RAW, SPLITS_CSV
from soundmind.serving.speaker import MIN_PROFILE_CLIPS, SpeakerProfile

UPLOAD_CHOICE = "Upload a clip"
RECORD_CHOICE = "Record"
TEST_CLIP_CHOICE = "A test-actor clip"
# Enough points for a readable waveform without shipping every sample to the browser.
WAVEFORM_POINTS = 1500
# Audio longer than one scoring window (4 s, 5 s with its tolerance) also gets its emotion over time.
TIMELINE_SECONDS = 5.0
AUDIO_FORMATS = {".wav": "audio/wav", ".flac": "audio/flac", ".mp3": "audio/mpeg", ".ogg": "audio/ogg"}


def project_root() -> Path:
    return Path(os.environ.get("SOUNDMIND_ROOT") or Path(__file__).resolve().parents[1])


def models_dir() -> Path:
    return Path(os.environ.get("SOUNDMIND_MODELS_DIR") or project_root() / MODELS)


@st.cache_resource(show_spinner="Loading the model…")
def load_predictor(bundle_path: str, bundle_mtimes: tuple[float, ...]) -> EmotionPredictor:
    """One predictor per bundle; the mtimes in the key (the bundle's, the speaker prior's beside it) make a retrained
    bundle or a new prior load afresh."""
    return EmotionPredictor(bundle_path, models_dir())


def modification_times(*paths: Path) -> tuple[float, ...]:
    """Each file's modification time (0 for one that is missing)."""
    return tuple(path.stat().st_mtime if path.exists() else 0.0 for path in paths)


def test_metrics(model_name: str) -> dict | None:
    """The evaluate stage's test-actor metrics for ``model_name``, if it wrote any."""
    metrics_path = project_root() / METRICS
    try:
        return json.loads(metrics_path.read_text()).get(model_name)
    except (OSError, ValueError):
        return None


def test_clips() -> pd.DataFrame | None:
    """Clips of the held-out test actors (clip_id, emotion, actor, file), or None without the pipeline's data."""
    raw_dir = project_root() / RAW
    manifest_path, splits_path = raw_dir / MANIFEST_NAME, project_root() / SPLITS_CSV
    if not (manifest_path.is_file() and splits_path.is_file()):
        return None
    manifest = pd.read_parquet(manifest_path, columns=["clip_id", "path", "actor", "emotion"])
    splits = pd.read_csv(splits_path, usecols=["clip_id", "split"])
    clips = manifest.merge(splits[splits["split"] == "test"], on="clip_id")
    if clips.empty:
        return None
    clips["file"] = [str(raw_dir / path) for path in clips["path"]]
    return clips.sort_values("clip_id").reset_index(drop=True)


def choose_model(names: list[str]) -> EmotionPredictor | None:
    """Sidebar: pick a trained bundle, show which is active and its test metrics."""
    st.sidebar.header("Model")
    name = st.sidebar.selectbox("Trained models", names, key="model", help="Bundles found in " + str(models_dir()))
    bundle_path = models_dir() / name
    try:
        predictor = load_predictor(str(bundle_path), modification_times(
            bundle_path / METADATA_FILE, models_dir() / PRIOR_FILE, models_dir() / ONNX_FOLDER / name))
    except (PredictionError, OSError) as error:
        st.sidebar.error(str(error))
        return None
    st.sidebar.markdown(f"Active model: **{predictor.name}**")
    st.sidebar.caption(f"Scored with {predictor.runtime_description()}.")
    show_metrics(predictor.name)
    return predictor


def show_metrics(model_name: str) -> None:
    metrics = test_metrics(model_name)
    if not metrics or "accuracy" not in metrics:
        st.sidebar.caption("No test metrics for this model yet (the evaluate stage writes reports/metrics.json).")
        return
    accuracy_column, f1_column = st.sidebar.columns(2)
    accuracy_column.metric("Test accuracy", f"{metrics['accuracy']:.1%}")
    if "macro_f1" in metrics:
        f1_column.metric("Macro-F1", f"{metrics['macro_f1']:.3f}")
    if metrics.get("test_actors"):
        st.sidebar.caption(f"On held-out test actors {', '.join(map(str, metrics['test_actors']))}.")


def chosen_audio(clips: pd.DataFrame | None) -> tuple[bytes, str, str] | None:
    """The audio to score as (bytes, name, mime type), from an upload or a test clip; None until there is one."""
    choices = [UPLOAD_CHOICE, RECORD_CHOICE] + ([TEST_CLIP_CHOICE] if clips is not None else [])
    choice = st.radio("Audio", choices, key="source", horizontal=True)
    if choice == TEST_CLIP_CHOICE:
        return chosen_test_clip(clips)
    if choice == RECORD_CHOICE:
        recording = st.audio_input("Record a clip", key="record", help="Speak for 3-5 seconds, then stop.")
        return None if recording is None else (recording.getvalue(), recording.name or "recording.wav", "audio/wav")
    uploaded = st.file_uploader(
        "A speech clip",
        type=[suffix.lstrip(".") for suffix in AUDIO_SUFFIXES],
        key="upload",
        help="3-5 seconds of one person speaking, like the RAVDESS clips; longer audio is scored in windows.",
    )
    if uploaded is None:
        return None
    # getvalue() is the upload held in memory; it is never written to disk.
    return uploaded.getvalue(), uploaded.name, AUDIO_FORMATS.get(Path(uploaded.name).suffix.lower(), "audio/wav")


def chosen_test_clip(clips: pd.DataFrame) -> tuple[bytes, str, str] | None:
    labels = [f"{row.clip_id} (actor {row.actor}, {row.emotion})" for row in clips.itertuples()]
    label = st.selectbox("Test-actor clip", labels, key="test_clip")
    clip = clips.iloc[labels.index(label)]
    st.caption(f"Actual emotion: **{clip['emotion']}**")
    path = Path(clip["file"])
    try:
        return path.read_bytes(), path.name, AUDIO_FORMATS.get(path.suffix, "audio/wav")
    except OSError as error:
        st.error(f"{path}: cannot be read ({error.strerror or error}).")
        return None


def voice_clips() -> list[tuple[bytes, str]]:
    """The clips of the voice to adapt to, as (bytes, name): uploads, and every recording made since the last reset
    (the recorder holds one take at a time, so takes are kept in the session, in memory only)."""
    st.subheader("Adapt to a voice")
    st.caption(f"Several clips of one speaker (at least {MIN_PROFILE_CLIPS}, any emotion, no labels): the profile of "
               f"their voice is built in memory, and each prediction then also shows the adapted model's answer.")
    uploads = st.file_uploader("Clips of the speaker", type=[suffix.lstrip(".") for suffix in AUDIO_SUFFIXES],
                               accept_multiple_files=True, key="voice_upload")
    takes, seen = st.session_state.setdefault("voice_takes", {}), st.session_state.setdefault("voice_seen", set())
    take = st.audio_input("Record a clip of the speaker", key="voice_record")
    # A take is added once: the recorder keeps showing it after "Forget", and it must stay forgotten.
    if take is not None and take.file_id not in seen:
        seen.add(take.file_id)
        takes[take.file_id] = (take.getvalue(), f"recording {len(seen)}.wav")
    if takes and st.button("Forget the recordings", key="voice_reset"):
        takes.clear()
    return [(upload.getvalue(), upload.name) for upload in uploads or []] + list(takes.values())


def voice_profile(predictor: EmotionPredictor, clips: list[tuple[bytes, str]]) -> SpeakerProfile | None:
    """The profile of ``clips`` for ``predictor``, kept in the session for the same clips and model; None (and why)
    when there are too few clips, no adapted model or a clip that cannot be used."""
    if len(clips) < MIN_PROFILE_CLIPS:
        if clips:
            st.info(f"{len(clips)} clip of the speaker: add at least {MIN_PROFILE_CLIPS - len(clips)} more to adapt.")
        return None
    key = (str(predictor.bundle_path), tuple(hash(data) for data, _ in clips))
    cached = st.session_state.get("voice_profile")
    if cached is not None and cached[0] == key:
        return cached[1]
    try:
        profile = predictor.enroll([data for data, _ in clips], names=[name for _, name in clips])
    except PredictionError as error:
        st.warning(f"Not adapted: {error}")
        return None
    st.session_state["voice_profile"] = (key, profile)
    return profile


def show_prediction(result: dict, heading: str = "Predicted emotion") -> None:
    if not result["speech"]:
        st.header(f"{heading}: none")
        st.warning(f"No speech detected in these {result['duration_seconds']:.2f} s (silence, noise, tones or music "
                   f"get no emotion).")
        return
    st.header(f"{heading}: {result['emotion']}")
    st.metric("Confidence", f"{result['confidence']:.1%}")
    if result["uncertain"]:
        st.warning("Uncertain: this confidence is below the threshold chosen on the validation actors, where answers "
                   "this unsure were more often wrong than right.")
    st.caption(f"Model {result['model']} · {result['duration_seconds']:.2f} s of audio")
    probabilities = pd.DataFrame(
        {"emotion": list(result["probabilities"]), "probability": list(result["probabilities"].values())}
    )
    st.bar_chart(probabilities, x="emotion", y="probability", sort=False, y_label="probability")
    if "windows" in result:
        st.caption(f"Scored in {len(result['windows'])} overlapping windows; the answer is their mean.")
        st.dataframe(
            pd.DataFrame(
                {
                    "start (s)": [window["start_seconds"] for window in result["windows"]],
                    "emotion": [window["emotion"] for window in result["windows"]],
                    "confidence": [round(window["confidence"], 3) for window in result["windows"]],
                }
            ),
            hide_index=True,
        )


def show_waveform(waveform: np.ndarray, sample_rate: int) -> None:
    """Min/max envelope per time bucket, so peaks survive the thinning."""
    st.subheader("Waveform")
    chunks = np.array_split(waveform, max(1, min(WAVEFORM_POINTS, len(waveform))))
    starts = np.cumsum([0] + [len(chunk) for chunk in chunks[:-1]])
    envelope = pd.DataFrame(
        {
            "seconds": starts / sample_rate,
            "max": [float(chunk.max()) for chunk in chunks],
            "min": [float(chunk.min()) for chunk in chunks],
        }
    )
    st.line_chart(envelope, x="seconds", y=["max", "min"], y_label="amplitude", height=220)


def show_timeline(predictor: EmotionPredictor, audio: bytes, name: str) -> None:
    """Emotion over time for audio longer than one window: each utterance's probabilities, as steps."""
    rows = predictor.timeline(audio, name=name)
    st.subheader("Emotion over time")
    if not rows:
        st.info("No speech detected: no utterance to follow.")
        return
    labels = list(rows[0]["probabilities"])
    points = [{"seconds": row[edge], **row["probabilities"]} for row in rows for edge in ("start_seconds", "end_seconds")]
    st.line_chart(pd.DataFrame(points), x="seconds", y=labels, y_label="probability", height=260)
    st.dataframe(pd.DataFrame({
        "start (s)": [row["start_seconds"] for row in rows], "end (s)": [row["end_seconds"] for row in rows],
        "emotion": [row["emotion"] for row in rows], "confidence": [round(row["confidence"], 3) for row in rows],
        "uncertain": [row["uncertain"] for row in rows],
    }), hide_index=True)


def score(predictor: EmotionPredictor, audio: bytes, name: str, speaker: SpeakerProfile | None) -> None:
    try:
        result, adapted = plain_and_adapted(predictor, audio, name, speaker)
        # The same decoding the prediction used, for the picture only.
        waveform = predictor.waveform(audio, None, name)
    except PredictionError as error:
        st.error(str(error))
        return
    if adapted is None:
        show_prediction(result)
    else:
        plain_column, adapted_column = st.columns(2)
        with plain_column:
            show_prediction(result)
        with adapted_column:
            # A small profile's answer is partly the plain model's (adaptation.blend_clips): say how much.
            show_prediction(adapted, f"Adapted to the voice ({adapted['speaker_profile_clips']} clips, "
                                     f"{adapted['adapted_weight']:.0%} adapted)")
    show_waveform(waveform, predictor.sample_rate)
    if result["speech"] and len(waveform) > TIMELINE_SECONDS * predictor.sample_rate:
        show_timeline(predictor, audio, name)


def main() -> None:
    st.set_page_config(page_title="soundmind: speech emotion", page_icon="🎙️", layout="centered")
    st.title("soundmind: speech emotion recognition")
    names = available_bundles(models_dir())
    if not names:
        st.info(f"No model trained yet: there is no bundle in {models_dir()}. Run `dvc repro` to train one.")
        return
    predictor = choose_model(names)
    if predictor is None:
        return
    audio = chosen_audio(test_clips())
    # Below the clip to score: the first file input on the page stays the one for a single prediction.
    with st.expander("Adapt to a voice", expanded=False):
        speaker = voice_profile(predictor, voice_clips())
    if audio is None:
        st.info("Upload or record a clip of speech (wav, flac, mp3 or ogg) to hear what the model makes of it.")
        return
    data, name, mime_type = audio
    st.audio(data, format=mime_type)
    score(predictor, data, name, speaker)


main()
