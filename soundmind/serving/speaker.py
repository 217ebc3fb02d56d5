"""A speaker's profile: the per-feature mean and deviation of each feature family over a few unlabelled clips of
one speaker, so that a model trained on speaker-normalised features (an adapted bundle) can score that speaker.

The statistics and the standardisation are ``features.normalise``'s, the code the cross-validation's
speaker_normalised protocol runs: a vector family per feature over the clips, the frames per mel band over all
frames, a near-constant feature only centred. A profile records the feature settings it was made with and is
refused by a bundle whose features were made otherwise.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from soundmind.errors import SpeakerProfileError
from soundmind.features.frames import FRAMES_FAMILY
from soundmind.features.normalise import FLAT_BAND, VECTOR_FLOOR, stacked_frames, standardise, statistics
from soundmind.files import write_json
from soundmind.params import is_int
from soundmind.paths import PRIOR_FILE

PROFILE_FORMAT = "soundmind speaker profile"
PROFILE_VERSION = 1
# Fewer clips say little about a voice: one clip's vector has no spread at all.
MIN_PROFILE_CLIPS = 2


def _floor(family: str) -> float:
    return FLAT_BAND if family == FRAMES_FAMILY else VECTOR_FLOOR


def _as_rows(family: str, clip_features: Sequence[dict[str, Any]]) -> np.ndarray:
    """The rows whose statistics make ``family``'s profile: every window's vector, or every frame."""
    if family == FRAMES_FAMILY:
        return stacked_frames([frames for clip in clip_features for frames in clip[family]])
    return np.vstack([np.atleast_2d(clip[family]) for clip in clip_features]).astype(np.float64)


def shrunk_deviation(deviation: np.ndarray, clips: int, prior: np.ndarray, prior_clips: int) -> np.ndarray:
    """A profile's deviation from ``clips`` clips pulled towards ``prior`` as if the prior came from ``prior_clips``
    clips: sqrt((clips * deviation^2 + prior_clips * prior^2) / (clips + prior_clips)). A deviation from a few
    clips is a noisy estimate (from one clip it is 0); from many it is hardly moved."""
    if clips < 1 or prior_clips < 0:
        raise ValueError(f"clips must be at least 1 and prior_clips at least 0, got {clips} and {prior_clips}")
    return np.sqrt((clips * np.square(deviation) + prior_clips * np.square(prior)) / (clips + prior_clips))


def adapted_weight(clips: int | np.ndarray, blend_clips: int) -> float | np.ndarray:
    """How much the adapted answer counts against the plain one for a profile of ``clips`` clips: clips / (clips +
    blend_clips). An adapted model fed a profile of one or two clips is worse than the plain model (the committed
    enrollment curve), so a small profile's answer leans on the plain one; blend_clips 0: the adapted answer alone."""
    if np.any(np.asarray(clips) < 1) or blend_clips < 0:
        raise ValueError(f"clips must be at least 1 and blend_clips at least 0, got {clips} and {blend_clips}")
    return np.asarray(clips, dtype=np.float64) / (np.asarray(clips, dtype=np.float64) + blend_clips)


# models/speaker_prior.json: the speaker-prior stage's output, read by the predictor beside the bundles.


def _clip_count(payload: dict[str, Any], key: str) -> int:
    value = payload[key]
    if not is_int(value) or value < 0:
        raise ValueError(f"{key} must be a whole number of 0 or more, got {value!r}")
    return value


@dataclass
class SpeakerPrior:
    """What the predictor knows about voices before it hears a speaker: models/speaker_prior.json, the speaker-prior
    stage's output. ``deviations`` (family -> per feature) is how much each feature varies within one training
    voice, worth ``clips`` clips against a profile's own: a profile of k clips divides by
    sqrt((k s^2 + clips prior^2) / (k + clips)) instead of s. ``blend_clips``: the adapted answer from a profile of
    k clips counts k / (k + blend_clips) against the plain answer's rest. ``settings``: family -> the feature
    settings the deviations were measured with (an adapted bundle whose features were made otherwise refuses it)."""

    deviations: dict[str, np.ndarray]
    clips: int
    blend_clips: int = 0
    settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: str = PRIOR_FILE

    def to_json(self) -> dict[str, Any]:
        return {"clips": self.clips, "blend_clips": self.blend_clips,
                "settings": {family: self.settings[family] for family in sorted(self.settings)},
                "deviations": {family: values.tolist() for family, values in sorted(self.deviations.items())}}

    @classmethod
    def load(cls, path: Path | str) -> "SpeakerPrior | None":
        """The prior at ``path``, or None when there is none (profiles are then used as they are); a damaged one is
        refused with one sentence naming the file."""
        path = Path(path)
        if not path.is_file():
            return None
        try:
            payload = json.loads(path.read_text())
            if not isinstance(payload, dict):
                raise ValueError("expected a JSON object")
            deviations = {}
            for family, values in dict(payload["deviations"]).items():
                deviations[family] = np.asarray(values, dtype=np.float64)
                if deviations[family].ndim != 1 or not (np.isfinite(deviations[family]).all() and (deviations[family] >= 0).all()):
                    raise ValueError(f"the {family} deviations must be a list of finite, non-negative numbers")
            settings = {family: dict(values) for family, values in dict(payload["settings"]).items()}
            return cls(deviations, _clip_count(payload, "clips"), _clip_count(payload, "blend_clips"), settings, str(path))
        except (OSError, KeyError, TypeError, ValueError, AttributeError) as error:
            raise SpeakerProfileError(f"{path}: is not a usable speaker prior ({_reason(error)}); rerun the speaker-prior "
                                      f"stage.") from error

    def check_fits(self, families: set[str], settings: dict[str, dict[str, Any]], model: str) -> None:
        """Refuse, naming this prior's file, a prior lacking a family ``model`` reads or measured on features made with
        other settings than the model's."""
        for family in sorted(families):
            if family not in self.deviations or self.settings.get(family) != settings[family]:
                raise SpeakerProfileError(
                    f"{self.source}: the speaker prior was not measured on the {family} features model {model!r} reads "
                    f"({'missing' if family not in self.deviations else 'other feature settings'}); rerun the "
                    f"speaker-prior stage.")


@dataclass
class SpeakerProfile:
    """``statistics``: family -> (mean, std) per feature (per mel band for frames); ``settings``: family -> the
    feature settings as bundles record them; ``clip_count``: how many clips the statistics come from;
    ``source``: what error messages call it (its file, once loaded)."""

    statistics: dict[str, tuple[np.ndarray, np.ndarray]]
    settings: dict[str, dict[str, Any]]
    clip_count: int
    source: str = "the speaker profile"

    @classmethod
    def from_features(cls, clip_features: Sequence[dict[str, Any]], settings: dict[str, dict[str, Any]],
                      min_clips: int = MIN_PROFILE_CLIPS) -> "SpeakerProfile":
        """The profile of clips given as each clip's ``{family: window rows}`` (what the predictor extracts).

        ``min_clips`` below MIN_PROFILE_CLIPS is for measuring (the enrollment curve's k = 1): a one-clip profile
        has deviation 0 everywhere, so the floor leaves its features only centred on that clip."""
        if len(clip_features) < max(1, min_clips):
            raise SpeakerProfileError(
                f"a speaker profile needs at least {min_clips} clips of the speaker, got {len(clip_features)}."
            )
        families = sorted(clip_features[0])
        return cls({family: statistics(_as_rows(family, clip_features)) for family in families},
                   {family: settings[family] for family in families}, len(clip_features))

    @property
    def families(self) -> set[str]:
        return set(self.statistics)

    def normalise(self, features: dict[str, Any], prior: "SpeakerPrior | None" = None) -> dict[str, Any]:
        """Return ``features`` (``{family: rows}``, frames a list of clips) standardised with this speaker's statistics;
        with ``prior``, each deviation is first shrunk towards the training voices' typical one (few clips)."""
        normalised: dict[str, Any] = {}
        for family, values in features.items():
            mean, std = self.statistics[family]
            width = np.shape(values[0])[-1] if family == FRAMES_FAMILY else np.shape(values)[-1]
            if width != mean.size:
                raise SpeakerProfileError(f"{self.source}: the speaker profile has {mean.size} {family} features, "
                                          f"the clip {width}; enroll again with this model.")
            if prior is not None and family in prior.deviations and prior.clips > 0:
                if prior.deviations[family].size != width:
                    raise SpeakerProfileError(f"{prior.source}: the speaker prior has {prior.deviations[family].size} "
                                              f"{family} features, the clip {width}; rerun the speaker-prior stage.")
                std = shrunk_deviation(std, self.clip_count, prior.deviations[family], prior.clips)
            if family == FRAMES_FAMILY:
                normalised[family] = [standardise(np.asarray(frames, dtype=np.float32), mean, std, _floor(family))
                                      for frames in values]
            else:
                normalised[family] = standardise(np.asarray(values, dtype=np.float64), mean, std, _floor(family))
        return normalised

    def check_fits(self, families: set[str], settings: dict[str, dict[str, Any]], source: str, model: str) -> None:
        """Refuse, naming ``source`` (the profile's file), a profile lacking a family ``model`` needs or made with
        other settings than the ones the model's features were made with. Extra families are harmless."""
        missing = sorted(families - self.families)
        if missing:
            raise SpeakerProfileError(
                f"{source}: the speaker profile holds the {', '.join(sorted(self.families))} features but model "
                f"{model!r} needs {', '.join(missing)} too; enroll again with this model."
            )
        for family in sorted(families):
            if self.settings[family] != settings[family]:
                raise SpeakerProfileError(
                    f"{source}: the speaker profile's {family} features were made with {self.settings[family]}, "
                    f"model {model!r}'s with {settings[family]}; enroll again with this model."
                )

    def to_json(self) -> dict[str, Any]:
        return {
            "format": PROFILE_FORMAT, "version": PROFILE_VERSION, "clips": self.clip_count,
            "families": {family: {"settings": self.settings[family], "mean": mean.tolist(), "std": std.tolist()}
                         for family, (mean, std) in self.statistics.items()},
        }

    def save(self, path: Path | str) -> None:
        """Write the profile as JSON (through a temporary name: never half-written)."""
        write_json(path, self.to_json())

    @classmethod
    def load(cls, path: Path | str) -> "SpeakerProfile":
        """Read a profile that ``save`` wrote; anything else is refused with one sentence naming the file."""
        try:
            payload = json.loads(Path(path).read_text())
        except OSError as error:
            raise SpeakerProfileError(f"{path}: the speaker profile cannot be read ({error.strerror or error}).") from error
        except ValueError as error:
            raise SpeakerProfileError(f"{path}: is not a speaker profile (not valid JSON: {error}).") from error
        try:
            return cls.from_json(payload, source=str(path))
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise SpeakerProfileError(f"{path}: is not a usable speaker profile ({_reason(error)}).") from error

    @classmethod
    def from_json(cls, payload: dict[str, Any], source: str = "the speaker profile") -> "SpeakerProfile":
        """The profile of ``to_json``'s payload; a KeyError, TypeError or ValueError says what is wrong."""
        if not isinstance(payload, dict) or payload.get("format") != PROFILE_FORMAT or payload.get("version") != PROFILE_VERSION:
            raise ValueError(f"expected format {PROFILE_FORMAT!r} version {PROFILE_VERSION}")
        clips, families = payload["clips"], payload["families"]
        if not is_int(clips) or clips < 1 or not families:
            raise ValueError("it needs a positive clip count and at least one feature family")
        statistics_, settings = {}, {}
        for family, entry in families.items():
            dtype = np.float32 if family == FRAMES_FAMILY else np.float64
            mean, std = (np.asarray(entry[key], dtype=dtype) for key in ("mean", "std"))
            if mean.ndim != 1 or mean.shape != std.shape or mean.size == 0:
                raise ValueError(f"the {family} mean and std must be equally long lists of numbers")
            if not (np.isfinite(mean).all() and np.isfinite(std).all() and (std >= 0).all()):
                raise ValueError(f"the {family} statistics must be finite, the deviations non-negative")
            statistics_[family], settings[family] = (mean, std), dict(entry["settings"])
        return cls(statistics_, settings, clips, source)


def _reason(error: Exception) -> str:
    return f"missing key {error}" if isinstance(error, KeyError) else str(error)


def leave_one_out_profiles(clip_features: Sequence[dict[str, Any]], settings: dict[str, dict[str, Any]]) -> list[SpeakerProfile]:
    """Return for each clip the profile of the speaker's OTHER clips, so that no clip normalises itself."""
    return [SpeakerProfile.from_features([other for index, other in enumerate(clip_features) if index != left_out], settings)
            for left_out in range(len(clip_features))]
