"""Tiny scikit-learn bundles on the rich vector, trained in seconds on the tiny synthetic corpus: a plain one and
its adapted twin (trained on speaker-normalised features, as the train-adapted stage will), without `dvc repro`."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from soundmind.audio import load_audio
from soundmind.data.ravdess import EMOTIONS, parse_clip_id
from soundmind.features.normalise import speaker_normalise
from soundmind.features.sets import family_extractor
from soundmind.features.speaker_prior import typical_speaker_deviation
from soundmind.features.spectral import FeatureSettings
from soundmind.models.bundle import SPEAKER_NORMALISED, SklearnBundle, save_bundle
from soundmind.models.onnx_export import export_bundle
from soundmind.models.onnx_networks import ONNX_FOLDER
from soundmind.models.sklearn_models import build_sklearn_member
from soundmind.serving.predict import ADAPTED_SUFFIX
from soundmind.serving.settings import SERVING_FILE, ServingSettings, SpeechSettings
from soundmind.serving.speaker import PRIOR_FILE, SpeakerPrior

RICH_SETTINGS = asdict(FeatureSettings())
TINY_MODEL = "tiny"


def rich_rows(paths: list[Path]) -> np.ndarray:
    """The rich vectors of ``paths``, by the extractor the predictor uses."""
    extract = family_extractor("rich", RICH_SETTINGS)
    return np.vstack([extract(load_audio(path, RICH_SETTINGS["sample_rate"])) for path in paths])


def write_serving_settings(models_dir: Path, detect_speech: bool) -> None:
    """models_dir/serving.json as the calibrate stage writes it, no calibration: the synthetic corpus's tones are no
    speech to a detector, so tests of everything else switch it off."""
    settings = ServingSettings(speech=SpeechSettings(detect=detect_speech))
    (models_dir / SERVING_FILE).write_text(json.dumps(settings.to_json(), indent=2, sort_keys=True) + "\n")


def write_tiny_bundles(corpus: Path, models_dir: Path, adapted: bool = True, detect_speech: bool = False) -> Path:
    """Train models_dir/tiny on the corpus's RAVDESS-named clips, and models_dir/tiny_adapted on the same clips
    standardised per actor (speech detection as ``detect_speech``); return models_dir."""
    paths = sorted(corpus.rglob("*.wav"))
    infos = [parse_clip_id(path.stem) for path in paths]
    matrix = rich_rows(paths)
    labels = np.array([EMOTIONS.index(info.emotion) for info in infos])
    actors = np.array([info.actor for info in infos])
    variants = {TINY_MODEL: (matrix, {})}
    if adapted:
        variants[TINY_MODEL + ADAPTED_SUFFIX] = (speaker_normalise(matrix, actors), {SPEAKER_NORMALISED: True})
    for name, (rows, extra) in variants.items():
        pipeline = build_sklearn_member("logistic", {"C": 1.0}, seed=0).fit(rows, labels)
        metadata = {"name": name, "feature_set": "rich", "sample_rate": RICH_SETTINGS["sample_rate"],
                    "feature_settings": {"rich": RICH_SETTINGS}, **extra}
        save_bundle(SklearnBundle(pipeline, list(EMOTIONS), metadata), models_dir / name)
        # Served as the pipeline's are: through the ONNX twin the export stage would write.
        export_bundle(models_dir / name, models_dir / ONNX_FOLDER / name)
    write_serving_settings(models_dir, detect_speech)
    return models_dir


def write_speaker_prior(corpus: Path, models_dir: Path, prior_clips: int, blend_clips: int) -> SpeakerPrior:
    """models_dir/speaker_prior.json as the speaker-prior stage writes it, measured on the corpus's actors."""
    paths = sorted(corpus.rglob("*.wav"))
    actors = np.array([parse_clip_id(path.stem).actor for path in paths])
    deviations = {"rich": typical_speaker_deviation(rich_rows(paths), actors, frames=False)}
    prior = SpeakerPrior(deviations, prior_clips, blend_clips, {"rich": RICH_SETTINGS})
    (models_dir / PRIOR_FILE).write_text(json.dumps(prior.to_json()))
    return prior
