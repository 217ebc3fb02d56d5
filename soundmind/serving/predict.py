"""Scoring people's own audio with a trained bundle: the one code path behind the CLI and the app."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Sequence

import numpy as np

from soundmind.errors import PredictionError, SpeakerProfileError
from soundmind.features.frames import FRAMES_FAMILY, FrameSettings, clip_frames
from soundmind.features.functionals import FUNCTIONAL_SETS, tidy_engines
from soundmind.features.sets import family_extractor
from soundmind.models.bundle import (  # noqa: F401 (ADAPTED_SUFFIX: part of this module's interface)
    ADAPTED_SUFFIX, METADATA_FILE, AnyBundle, EnsembleBundle, common_sample_rate, load_bundle, load_keras_model, load_pickle,
)
from soundmind.models.onnx_networks import OnnxNetwork, fitted_loader, network_loader
from soundmind.serving.audio_input import (  # noqa: F401 (MAX_FILE_BYTES, audio_files: part of this module's interface)
    MAX_FILE_BYTES, audio_files, scoreable_waveform, split_into_windows,
)
from soundmind.audio import to_mono_at_rate
from soundmind.evaluation.calibration import calibrated_probabilities
from soundmind.serving.long_audio import LongAudio
from soundmind.serving.settings import ModelCalibration, load_serving_settings
from soundmind.paths import MODELS, PRIOR_FILE
from soundmind.serving.speaker import SpeakerPrior, SpeakerProfile, adapted_weight
from soundmind.serving.speech import VAD_RATE, detect_speech, speech_probabilities, speech_segments

NO_SPEECH = "no speech detected"
SPEECH_WORKER = "speech"  # the worker thread that runs the speech detector, beside the feature families' own

# The ensemble first; every other bundle by the val-actor accuracy it recorded (never by test accuracy).
PREFERRED_MODEL = "ensemble"
ADAPTED_STAGE = "train-adapted"


class AdaptedBundleMissing(PredictionError):
    """Speaker adaptation was asked for, but no adapted bundle lies beside the plain one."""


def adapted_bundle_path(bundle_path: Path) -> Path:
    """Where the adapted twin of the bundle at ``bundle_path`` lives: ``models/<name>_adapted``."""
    return bundle_path.with_name(bundle_path.name + ADAPTED_SUFFIX)


@dataclass
class ClipFeatures:
    """One clip's features, ``{family: one row per window}`` (frames: one array per window), and its windows."""

    features: dict[str, Any]
    window_starts: list[int]
    duration_seconds: float


def available_bundles(models_dir: Path | str = MODELS) -> list[str]:
    """Names of the trained bundles under ``models_dir``, best first: the ensemble, then by val accuracy."""
    models_dir = Path(models_dir)
    if not models_dir.is_dir():
        return []
    # Adapted bundles need a speaker profile: they are reached through their plain twin, never picked alone.
    found = sorted(path.name for path in models_dir.iterdir()
                   if (path / METADATA_FILE).is_file() and not path.name.endswith(ADAPTED_SUFFIX))
    return sorted(found, key=lambda name: (name != PREFERRED_MODEL, -_val_accuracy(models_dir / name)))


def _val_accuracy(bundle_dir: Path) -> float:
    """The recorded val accuracy; a broken bundle.json ranks last and fails later with a clear message."""
    try:
        return float(json.loads((bundle_dir / METADATA_FILE).read_text()).get("val_accuracy") or 0.0)
    except (OSError, ValueError, TypeError, AttributeError):
        return 0.0


def resolve_bundle(model: str | Path | None, models_dir: Path | str = MODELS) -> Path:
    """A bundle folder from a path, a model name under ``models_dir``, or the best one available."""
    models_dir = Path(models_dir)
    if model is None:
        names = available_bundles(models_dir)
        if not names:
            raise PredictionError(f"No trained model in {models_dir}/: run `dvc repro` first (or pass a bundle path).")
        return models_dir / names[0]
    for candidate in (Path(model), models_dir / str(model)):
        if (candidate / METADATA_FILE).is_file():
            return candidate
    known = ", ".join(available_bundles(models_dir)) or "none"
    raise PredictionError(f"{model}: no model bundle by that name or path (trained models: {known}).")


class EmotionPredictor:
    """Predict the emotion of speech with a trained bundle.

    >>> predictor = EmotionPredictor()            # the best bundle under models/
    >>> predictor.predict("clip.wav")["emotion"]
    """

    def __init__(self, bundle: str | Path | None = None, models_dir: str | Path = MODELS,
                 detect_speech: bool | None = None, runtime: str = "onnx") -> None:
        self.bundle_path = resolve_bundle(bundle, models_dir)
        # ONNX Runtime by default (the export stage's files): TensorFlow loads only for a network without one, and
        # scikit-learn only for a scaler or pipeline without one.
        self.load_network = network_loader(runtime, models_dir, load_keras_model)
        self.load_fitted = fitted_loader(runtime, models_dir, load_pickle)
        self.bundle: AnyBundle = loaded_bundle(self.bundle_path, self.load_network, self.load_fitted)
        # models/serving.json (the calibrate stage): speech thresholds and each bundle's calibration.
        try:
            self.serving = load_serving_settings(self.bundle_path.parent)
        except ValueError as error:
            raise PredictionError(str(error)) from error
        self.detects_speech = self.serving.speech.detect if detect_speech is None else bool(detect_speech)
        # models/speaker_prior.json (the speaker-prior stage), loaded with the adapted bundle: a small profile's
        # deviations are shrunk towards it, and its adapted answer leans on the plain one.
        self.speaker_prior: SpeakerPrior | None = None
        if self.bundle.speaker_normalised:
            raise PredictionError(f"{self.bundle_path}: is an adapted bundle, trained on speaker-normalised features; "
                                  f"load its plain twin and pass speaker= (a profile from enroll).")
        self._adapted: AnyBundle | None = None
        self._workers: dict[str, ThreadPoolExecutor] = {}
        # The settings each feature table was extracted with, as the bundle copied them from there.
        settings = self.bundle.feature_settings
        self.extractors = {family: extractor_of(family, settings[family]) for family in self.bundle.required_families()}

    @property
    def name(self) -> str:
        return self.bundle.name

    def runtime_description(self) -> str:
        """What scores this bundle's networks, for people: ONNX Runtime, Keras, both, or neither (scikit-learn only)."""
        kinds = {"ONNX Runtime" if isinstance(network, OnnxNetwork) else "Keras"
                 for network in bundle_networks(self.bundle)}
        return " and ".join(sorted(kinds)) if kinds else "scikit-learn (no neural network)"

    @property
    def sample_rate(self) -> int:
        return self.bundle.sample_rate

    def predict(self, audio: str | Path | bytes | np.ndarray, sample_rate: int | None = None, name: str | None = None,
                speaker: SpeakerProfile | None = None) -> dict[str, Any]:
        """Score a file path, the bytes of a file, or a waveform with its sample rate; with ``speaker`` (a profile
        from ``enroll``), the adapted bundle scores the features standardised with that speaker's statistics.

        Returns ``{"speech": True, "emotion", "confidence", "uncertain", "probabilities", "model",
        "duration_seconds", "speech_seconds"}`` (probabilities calibrated on the val actors; ``uncertain`` when the
        confidence is below the threshold chosen there); audio longer than one window also gets ``"windows"``, the
        per-window results whose mean is the answer. Audio without speech (silence, noise, tones, music) gets
        ``{"speech": False, "emotion": None, "message": "no speech detected", ...}`` instead.
        Raises PredictionError with one sentence for anything that cannot be scored.
        """
        if speaker is not None:
            # Loaded first: its extra feature families (if any) must be extracted from this clip too.
            self.adapted_bundle()
        return self.answers(self.waveform(audio, sample_rate, name), [speaker])[0]

    def answers(self, waveform: np.ndarray, speakers: Sequence[SpeakerProfile | None]) -> list[dict[str, Any]]:
        """The answer to one waveform (at the bundle's rate) for each of ``speakers`` (None: plain), from one speech
        check and one feature extraction."""
        # The speech check runs in a thread of its own beside the feature extraction (its native code releases the
        # GIL): on two cores the answer then waits for the longer of the two, not for both.
        speech_check = self.family_worker(SPEECH_WORKER).submit(self.speech_seconds, waveform)
        scored_early: dict[str, np.ndarray] = {}

        def score_ready_members(ready: dict[str, Any]) -> None:
            # An ensemble's members that read only the families extracted in this thread are scored while openSMILE
            # still runs in the others: the answer then waits for openSMILE, not for openSMILE and the networks.
            scored_early.update(ready_member_probabilities(self.bundle, ready))

        try:
            clip = self.waveform_features(waveform, while_extracting=score_ready_members)
        except Exception:
            # Audio without speech is answered "no speech", whatever the extractors made of it.
            if speech_check.result() == 0:
                return [self.no_speech(round(len(waveform) / self.sample_rate, 3)) for _ in speakers]
            raise
        speech_seconds = speech_check.result()
        if speech_seconds == 0:
            return [self.no_speech(round(len(waveform) / self.sample_rate, 3)) for _ in speakers]
        detected = {} if speech_seconds is None else {"speech_seconds": speech_seconds}
        # The plain answer, and what adapted ones blend with.
        plain = self.calibrated(self.bundle, clip.features, scored_early)
        return [{"speech": True, **self.score(clip, speaker, plain), **detected} for speaker in speakers]

    def speech_seconds(self, waveform: np.ndarray) -> float | None:
        """Seconds of speech the detector finds in a waveform at the bundle's rate; None with detection off."""
        if not self.detects_speech:
            return None
        segments = detect_speech(self.at_vad_rate(waveform), self.serving.speech)
        return round(sum(end - start for start, end in segments), 3)

    def no_speech(self, duration: float) -> dict[str, Any]:
        """The answer for audio in which the detector found no speech: no emotion at all."""
        return {"speech": False, "emotion": None, "confidence": None, "uncertain": None, "probabilities": {},
                "model": self.name, "duration_seconds": duration, "message": NO_SPEECH}

    def at_vad_rate(self, waveform: np.ndarray) -> np.ndarray:
        return waveform if self.sample_rate == VAD_RATE else to_mono_at_rate(waveform, self.sample_rate, VAD_RATE)

    def clip_features(self, audio: str | Path | bytes | np.ndarray, sample_rate: int | None = None,
                      name: str | None = None) -> ClipFeatures:
        """The features of one clip, per window: computed once, then scored plain or with any profile."""
        return self.waveform_features(self.waveform(audio, sample_rate, name))

    def waveform_features(self, waveform: np.ndarray,
                          while_extracting: Callable[[dict[str, Any]], None] | None = None) -> ClipFeatures:
        windows = split_into_windows(waveform, self.sample_rate)
        return ClipFeatures(self.window_features(windows, while_extracting), [start for start, _ in windows],
                            round(len(waveform) / self.sample_rate, 3))

    def timeline(self, audio: str | Path | bytes | np.ndarray, sample_rate: int | None = None, name: str | None = None,
                 speaker: SpeakerProfile | None = None) -> list[dict[str, Any]]:
        """Emotion over time: the speech of a recording of any length cut into utterances, each scored, as rows
        ``{"start_seconds", "end_seconds", "emotion", "confidence", "uncertain", "probabilities"}`` (empty when
        there is no speech). A file is read in blocks: memory does not grow with its length."""
        if speaker is not None:
            self.adapted_bundle()
        label = name or (str(audio) if isinstance(audio, (str, Path)) else "the audio")
        if isinstance(audio, (str, Path)) and Path(audio).is_dir():
            raise PredictionError(f"{audio}: is a folder, not an audio file.")
        if not isinstance(audio, (str, Path, bytes, bytearray)):
            audio = self.waveform(audio, sample_rate, name)
        recording = LongAudio(audio, self.sample_rate, label, native_rate=self.sample_rate)
        settings = self.serving.speech
        if self.detects_speech:
            at_vad_rate = recording if self.sample_rate == VAD_RATE else LongAudio(audio, VAD_RATE, label, self.sample_rate)
            probabilities, window_seconds = speech_probabilities(at_vad_rate.blocks())
        else:
            # Without a detector the whole recording is one utterance, cut to the models' length.
            window_seconds = 0.032
            probabilities = np.ones(int(np.ceil(recording.duration_seconds / window_seconds)), dtype=np.float32)
        rows = []
        for start, end in speech_segments(probabilities, window_seconds, recording.duration_seconds, settings):
            segment = recording.span(start, end)
            if len(segment) < int(0.25 * self.sample_rate):
                continue
            result = self.score(self.waveform_features(segment), speaker)
            rows.append({"start_seconds": start, "end_seconds": end,
                         **{key: result[key] for key in ("emotion", "confidence", "uncertain", "probabilities", "model")}})
        return rows

    def score(self, clip: ClipFeatures, speaker: SpeakerProfile | None = None,
              plain: np.ndarray | None = None) -> dict[str, Any]:
        """The prediction for a clip's features: plain, or adapted to ``speaker`` (then ``speaker_profile_clips``
        says how many clips the profile holds, ``adapted_weight`` how much the adapted bundle's answer counts).
        ``plain``: the plain bundle's calibrated probabilities of the clip, when the caller has them already."""
        bundle, probabilities = self.bundle, self.calibrated(self.bundle, clip.features) if plain is None else plain
        if speaker is not None:
            bundle = self.adapted_bundle()
            missing = sorted(bundle.required_families() - set(clip.features))
            if missing:
                raise PredictionError(f"the clip's {', '.join(missing)} features, which {bundle.name!r} needs, were not "
                                      f"extracted: load the adapted bundle (adapted_bundle()) before extracting them.")
            speaker.check_fits(bundle.required_families(), bundle.feature_settings, speaker.source, bundle.name)
            probabilities = self.adapted_probabilities(speaker.normalise(clip.features, self.speaker_prior),
                                                       speaker.clip_count, probabilities)
        calibration = self.serving.calibration_of(bundle.name)
        result = describe(bundle, probabilities.mean(axis=0), calibration)
        result["duration_seconds"] = clip.duration_seconds
        if speaker is not None:
            result["speaker_profile_clips"] = speaker.clip_count
            result["adapted_weight"] = round(float(self.adapted_weight(speaker.clip_count)), 4)
        if len(clip.window_starts) > 1:
            result["windows"] = [{"start_seconds": round(start / self.sample_rate, 3), **describe(bundle, row, calibration)}
                                 for start, row in zip(clip.window_starts, probabilities)]
        return result

    def calibrated(self, bundle: AnyBundle, features: dict[str, Any],
                   scored_members: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """``bundle``'s probabilities of ``features``' rows, with the temperature the calibrate stage chose for it;
        ``scored_members``: the probabilities of an ensemble's members scored already, from the same rows."""
        if scored_members:
            probabilities = bundle.combine(bundle.member_probabilities(features, scored_members))
        else:
            probabilities = bundle.probabilities(features)
        return calibrated_probabilities(probabilities, self.serving.calibration_of(bundle.name).temperature)

    def adapted_weight(self, profile_clips: int | np.ndarray) -> float | np.ndarray:
        """How much the adapted answer counts for a profile of ``profile_clips`` clips (1 without a speaker prior)."""
        return adapted_weight(profile_clips, 0 if self.speaker_prior is None else self.speaker_prior.blend_clips)

    def adapted_probabilities(self, normalised: dict[str, Any], profile_clips: int | np.ndarray,
                              plain: np.ndarray) -> np.ndarray:
        """The adapted answer to rows of speaker-normalised features made with profiles of ``profile_clips`` clips
        (one count, or one per row): the adapted bundle's probabilities (``calibrated``: the calibrate stage leaves
        the adapted twins at temperature 1), blended with ``plain`` (the plain bundle's calibrated probabilities of
        the same rows) by ``adapted_weight``, so that a small profile leans on the plain answer."""
        weight = np.reshape(self.adapted_weight(profile_clips), (-1, 1))
        return weight * self.calibrated(self.adapted_bundle(), normalised) + (1 - weight) * plain

    def enroll(self, clips: Iterable[Any], sample_rate: int | None = None, names: Sequence[str] | None = None) -> SpeakerProfile:
        """The speaker profile of ``clips`` (paths, bytes, waveforms at ``sample_rate`` or (waveform, rate) pairs),
        unlabelled clips of one speaker, for the families this model's features come from (and its adapted twin's);
        ``names`` are what error messages call uploaded clips."""
        if (adapted_bundle_path(self.bundle_path) / METADATA_FILE).is_file():
            # The profile must cover every family the adapted bundle reads, which may be more than the plain one's.
            self.adapted_bundle()
        items = [clip if isinstance(clip, tuple) else (clip, sample_rate) for clip in clips]
        names = list(names) if names is not None else [None] * len(items)
        features = [self.clip_features(audio, rate, name).features for (audio, rate), name in zip(items, names)]
        return SpeakerProfile.from_features(features, self.bundle.feature_settings)

    def adapted_bundle(self) -> AnyBundle:
        """The bundle trained on speaker-normalised features beside this one, loaded once and checked to need
        the same features made the same way (the predictor computes them once for both)."""
        if self._adapted is None:
            path = adapted_bundle_path(self.bundle_path)
            if not (path / METADATA_FILE).is_file():
                raise AdaptedBundleMissing(
                    f"{path}: no adapted bundle for model {self.name!r} (its recipe trained on speaker-normalised "
                    f"features), which speaker adaptation needs; the {ADAPTED_STAGE} stage makes it."
                )
            adapted = loaded_bundle(path, self.load_network, self.load_fitted)
            # An adapted ensemble's weights are its own, so it may read families the plain one gave weight 0: those
            # are extracted too; a family both read must have been made the same way.
            shared = adapted.required_families() & set(self.bundle.feature_settings)
            # Its answers are blended with the plain bundle's, class by class: the classes must be the same.
            if not adapted.speaker_normalised or adapted.labels != self.bundle.labels or any(
                adapted.feature_settings[family] != self.bundle.feature_settings[family] for family in shared
            ) or common_sample_rate(adapted.feature_settings) != self.sample_rate:
                raise PredictionError(f"{path}: is not a speaker-normalised twin of {self.bundle_path} (features made "
                                      f"otherwise, other classes, or not marked speaker_normalised); rerun the "
                                      f"{ADAPTED_STAGE} stage.")
            try:
                prior = SpeakerPrior.load(self.bundle_path.parent / PRIOR_FILE)
                if prior is not None:
                    prior.check_fits(adapted.required_families(), adapted.feature_settings, adapted.name)
            except SpeakerProfileError as error:
                raise PredictionError(str(error)) from error
            self.speaker_prior = prior
            extra = adapted.required_families() - set(self.extractors)
            self.extractors.update({family: extractor_of(family, adapted.feature_settings[family]) for family in extra})
            self._adapted = adapted
        return self._adapted

    def window_features(self, windows: list[tuple[int, np.ndarray]],
                        while_extracting: Callable[[dict[str, Any]], None] | None = None) -> dict[str, Any]:
        """Every feature family the bundle needs, one row per window: the pipeline's own extractors. openSMILE
        releases the GIL while it runs, so each functional set extracts in a thread of its own beside the others;
        ``while_extracting`` is given the other families, extracted in this thread, before openSMILE has finished."""
        def extract_all(family: str) -> Any:
            rows = [self.extractors[family](window) for _, window in windows]
            # Frames are sequences of different lengths: a list of one array per window, as the frame store gives.
            return rows if family == FRAMES_FAMILY else np.vstack(rows)

        pending = {family: self.family_worker(family).submit(extract_all, family)
                   for family in sorted(self.extractors) if family in FUNCTIONAL_SETS}
        features = {family: extract_all(family) for family in sorted(self.extractors) if family not in pending}
        if while_extracting is not None and pending:
            while_extracting(dict(features))
        try:
            features.update({family: future.result() for family, future in pending.items()})
        finally:
            for family in pending:
                # Readying each engine for the next clip is done in its own thread while this one scores the clip.
                self.family_worker(family).submit(tidy_engines)
        return {family: features[family] for family in sorted(features)}

    def wait_until_idle(self) -> None:
        """Return once every worker thread has finished what it does after an answer (readying openSMILE's engines
        for the next clip): the state in which a clip that arrives on its own finds the predictor."""
        for worker in list(self._workers.values()):
            worker.submit(lambda: None).result()

    def family_worker(self, family: str) -> ThreadPoolExecutor:
        """The one thread that extracts ``family`` (or detects speech): always the same, so its openSMILE engine (or
        speech model) is made once."""
        if family not in self._workers:
            self._workers[family] = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"soundmind-{family}")
        return self._workers[family]

    def predict_many(self, items: Iterable[str | Path], speaker: SpeakerProfile | None = None) -> list[dict[str, Any]]:
        """Score many files; a file that cannot be scored gives ``{"file", "error"}`` instead of stopping the batch."""
        results = []
        for item in items:
            try:
                results.append({"file": str(item), **self.predict(item, speaker=speaker)})
            except PredictionError as error:
                results.append({"file": str(item), "error": str(error)})
        return results

    def waveform(self, audio: str | Path | bytes | np.ndarray, sample_rate: int | None, name: str | None) -> np.ndarray:
        """Mono audio at the bundle's rate, checked for the problems real-world audio brings."""
        # With the detector on, silence is "no speech detected", not an error.
        return scoreable_waveform(audio, sample_rate, name, self.sample_rate, refuse_silence=not self.detects_speech)


def ready_member_probabilities(bundle: AnyBundle, features: dict[str, Any]) -> dict[str, np.ndarray]:
    """The probabilities of each member of an ensemble ``bundle`` whose feature families are all in ``features``
    (none for a single model)."""
    if not isinstance(bundle, EnsembleBundle):
        return {}
    return {name: member.probabilities(features) for name, member in bundle.members.items()
            if member.required_families() <= set(features)}


def bundle_networks(bundle: AnyBundle) -> list[Any]:
    """Every network of ``bundle`` (an ensemble's members' included): Keras models or ONNX sessions."""
    if hasattr(bundle, "members"):
        return [network for member in bundle.members.values() for network in bundle_networks(member)]
    return list(getattr(bundle, "models", {}).values())


def loaded_bundle(path: Path, load_network: Callable[[Path], Any] | None = None,
                  load_fitted: Callable[[Path], Any] | None = None) -> AnyBundle:
    """The bundle at ``path`` (its networks and pickles loaded by ``load_network`` and ``load_fitted``: Keras and
    joblib by default), or a PredictionError naming it."""
    try:
        return load_bundle(path, load_network, load_fitted)
    except (FileNotFoundError, KeyError, ValueError, OSError) as error:
        raise PredictionError(f"{path}: the model bundle cannot be loaded ({error}).") from error


def describe(bundle: AnyBundle, probabilities: np.ndarray, calibration: ModelCalibration = ModelCalibration()) -> dict[str, Any]:
    """The answer for one row of ``bundle``'s probabilities: the emotion, its confidence, whether that is below the
    bundle's "uncertain" threshold, all probabilities."""
    probabilities = np.asarray(probabilities, dtype=np.float64)
    probabilities = probabilities / probabilities.sum()
    best = int(np.argmax(probabilities))
    return {
        "emotion": bundle.labels[best],
        "confidence": float(probabilities[best]),
        "uncertain": bool(probabilities[best] < calibration.uncertain_below),
        "probabilities": {label: float(value) for label, value in zip(bundle.labels, probabilities)},
        "model": bundle.name,
    }


def extractor_of(family: str, settings: dict[str, Any]) -> Callable[[np.ndarray], Any]:
    """Return the function from a waveform to ``family``'s features, made with the ``settings`` the bundle
    recorded: the pipeline's own extractors (the log-mel frames for a CRNN, a vector for the others)."""
    if family == FRAMES_FAMILY:
        frame_settings = FrameSettings(**settings)
        return lambda waveform: clip_frames(waveform, frame_settings)
    return family_extractor(family, settings)
