"""Adapting to speakers whose clips come in groups (a folder, or a labelled speaker): each clip is scored by the
adapted bundle with a profile of its group's OTHER clips, so that no clip normalises itself (the cross-validation's
speaker-normalised protocol includes the test clip in its actor's statistics; a user's new clip is never among
their enrolled ones, so leaving it out is the honest measure)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from soundmind.errors import PredictionError
from soundmind.serving.predict import ClipFeatures, EmotionPredictor
from soundmind.serving.speaker import MIN_PROFILE_CLIPS, SpeakerProfile, leave_one_out_profiles

# A group needs this many clips so that each clip's profile holds MIN_PROFILE_CLIPS others.
MIN_GROUP_CLIPS = MIN_PROFILE_CLIPS + 1


def too_small_note(count: int) -> str:
    """Why a group's clips were scored plain."""
    return (f"scored without adaptation: the speaker has {count} clip(s), and {MIN_GROUP_CLIPS} are needed so that "
            f"each clip's profile holds {MIN_PROFILE_CLIPS} others")


def score_speaker_group(predictor: EmotionPredictor, clips: Sequence[ClipFeatures]) -> list[dict[str, Any]]:
    """Score one speaker's clips, each with a leave-one-out profile (``speaker_profile_clips`` is one less than
    the group); a group smaller than MIN_GROUP_CLIPS is scored plain, each result saying so in ``adaptation``."""
    if len(clips) < MIN_GROUP_CLIPS:
        return [{**predictor.score(clip), "adaptation": too_small_note(len(clips))} for clip in clips]
    profiles = leave_one_out_profiles([clip.features for clip in clips], predictor.bundle.feature_settings)
    return [predictor.score(clip, profile) for clip, profile in zip(clips, profiles)]


def extract_all(predictor: EmotionPredictor, paths: Sequence[Path]) -> tuple[dict[Path, ClipFeatures], dict[Path, str]]:
    """The features of every file that can be scored, and the error of every one that cannot."""
    features, errors = {}, {}
    for path in paths:
        try:
            features[path] = predictor.clip_features(path)
        except PredictionError as error:
            errors[path] = str(error)
    return features, errors


def predict_per_folder(predictor: EmotionPredictor, files: Sequence[Path]) -> list[dict[str, Any]]:
    """Score ``files`` taking each folder for one speaker, in the order given; a file that cannot be scored gives
    ``{"file", "error"}``, as ``predict_many`` does. Needs the adapted bundle (AdaptedBundleMissing otherwise)."""
    predictor.adapted_bundle()
    folders: dict[Path, list[Path]] = {}
    for path in map(Path, files):
        folders.setdefault(path.parent, []).append(path)
    results: dict[Path, dict[str, Any]] = {}
    for folder, paths in folders.items():
        features, errors = extract_all(predictor, paths)
        results.update({path: {"file": str(path), "error": error} for path, error in errors.items()})
        scored = score_speaker_group(predictor, list(features.values()))
        results.update({path: {"file": str(path), "speaker": str(folder), **result}
                        for path, result in zip(features, scored)})
    return [results[Path(path)] for path in files]


def plain_and_adapted(predictor: EmotionPredictor, audio: bytes, name: str,
                      speaker: SpeakerProfile | None) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """One clip's plain answer and, with ``speaker``, its adapted answer, from features extracted once."""
    if speaker is not None:
        predictor.adapted_bundle()
    answers = predictor.answers(predictor.waveform(audio, None, name), [None, speaker])
    return answers[0], (answers[1] if speaker is not None else None)
