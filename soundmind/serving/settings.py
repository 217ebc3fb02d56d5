"""What the predictor needs beside the bundles: the speech detector's thresholds and each bundle's calibration,
written by the `calibrate` stage to models/serving.json from `params.yaml` (speech.*) and the val actors
(a temperature and an "uncertain" threshold per model). Without that file the defaults below apply and
probabilities are left as the bundle gives them."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from soundmind.params import is_number
from soundmind.paths import SERVING_FILE



@dataclass(frozen=True)
class SpeechSettings:
    """How speech is told from silence, noise and music, and cut into utterances (`speech.*` in params.yaml)."""

    # Off only for synthetic test corpora, whose tones no speech detector takes for speech.
    detect: bool = True
    # A 32 ms window is speech when the detector's probability reaches `threshold`; an utterance then lasts
    # while it stays above `threshold - 0.15` (the hysteresis Silero's own segmenter uses).
    threshold: float = 0.5
    # Less speech than this in a whole recording: "no speech detected"; shorter bursts are dropped.
    min_speech_seconds: float = 0.25
    # A pause shorter than this does not end an utterance.
    min_silence_seconds: float = 0.4
    # Kept around each utterance, as the training clips keep some silence around the speech.
    pad_seconds: float = 0.2
    # Utterances longer than this are cut into equal parts no longer than it (the models saw 3-5 s clips).
    max_segment_seconds: float = 5.0

    def __post_init__(self) -> None:
        if not isinstance(self.detect, bool):
            raise ValueError(f"speech.detect must be true or false, got {self.detect!r}")
        if not 0.15 < self.threshold < 1.0:
            raise ValueError(f"speech.threshold must be between 0.15 and 1, got {self.threshold!r}")
        for name in ("min_speech_seconds", "min_silence_seconds", "max_segment_seconds"):
            value = getattr(self, name)
            if not is_number(value) or value <= 0:
                raise ValueError(f"speech.{name} must be a positive number of seconds, got {value!r}")
        if not is_number(self.pad_seconds) or self.pad_seconds < 0:
            raise ValueError(f"speech.pad_seconds must be zero or more seconds, got {self.pad_seconds!r}")
        if self.max_segment_seconds < 2 * self.min_speech_seconds:
            raise ValueError("speech.max_segment_seconds must be at least twice speech.min_speech_seconds")

    @classmethod
    def from_params(cls, values: dict[str, Any]) -> "SpeechSettings":
        known = {item.name for item in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"speech: unknown setting(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
        return cls(**values)


@dataclass(frozen=True)
class ModelCalibration:
    """One bundle's calibration, fitted on the val actors: probabilities become softmax(log p / temperature), and an
    answer whose calibrated confidence is below `uncertain_below` is flagged uncertain."""

    temperature: float = 1.0
    uncertain_below: float = 0.0


@dataclass(frozen=True)
class ServingSettings:
    speech: SpeechSettings = field(default_factory=SpeechSettings)
    models: dict[str, ModelCalibration] = field(default_factory=dict)

    def calibration_of(self, model: str) -> ModelCalibration:
        return self.models.get(model, ModelCalibration())

    def to_json(self) -> dict[str, Any]:
        return {"speech": asdict(self.speech), "models": {name: asdict(value) for name, value in sorted(self.models.items())}}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "ServingSettings":
        return cls(SpeechSettings.from_params(data.get("speech", {})),
                   {name: ModelCalibration(**value) for name, value in data.get("models", {}).items()})


def load_serving_settings(models_dir: Path | str) -> ServingSettings:
    """models_dir/serving.json, or the defaults when there is none."""
    path = Path(models_dir) / SERVING_FILE
    if not path.is_file():
        return ServingSettings()
    try:
        return ServingSettings.from_json(json.loads(path.read_text()))
    except (ValueError, TypeError) as error:
        raise ValueError(f"{path}: is not a serving settings file ({error}); rerun the calibrate stage.") from error
