"""Scoring a labelled folder: how a model does on recordings of one's own or another corpus, one clip at a time and,
where speakers are known and an adapted bundle exists, adapted to each speaker with a profile of that speaker's
other clips. Predictions are the argmax over the classes the labels hold (a corpus without "calm" is not
scored as if the model could answer "calm")."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from soundmind.errors import CorpusError
from soundmind.evaluation.metrics import recognition_scores
from soundmind.serving.adapt import extract_all, score_speaker_group
from soundmind.serving.labelled import LabelledClip
from soundmind.serving.predict import AdaptedBundleMissing, EmotionPredictor


def restricted_choice(probabilities: dict[str, float], classes: Sequence[str]) -> str:
    """The most probable of ``classes`` (the first on a tie, in ``classes``' order)."""
    return classes[int(np.argmax([probabilities[label] for label in classes]))]


def classes_of(clips: Sequence[LabelledClip], model_labels: Sequence[str]) -> list[str]:
    """The emotions the labels hold, in the model's order."""
    present = {clip.emotion for clip in clips}
    return [label for label in model_labels if label in present]


def adapted_predictions(predictor: EmotionPredictor, clips: Sequence[LabelledClip], features: dict, classes: list[str],
                        notes: list[str]) -> dict[Any, dict[str, Any]]:
    """Each clip's adapted result, scored with a leave-one-out profile of its speaker's other clips."""
    speakers: dict[str, list[LabelledClip]] = {}
    for clip in clips:
        speakers.setdefault(str(clip.speaker), []).append(clip)
    results = {}
    for speaker, own in sorted(speakers.items()):
        scored = score_speaker_group(predictor, [features[clip.path] for clip in own])
        if "adaptation" in scored[0]:
            notes.append(f"speaker {speaker}: {scored[0]['adaptation']}")
        results.update({clip.path: result for clip, result in zip(own, scored)})
    return results


def evaluate_labelled(predictor: EmotionPredictor, clips: Sequence[LabelledClip], notes: Sequence[str]) -> dict[str, Any]:
    """The report of ``clips`` (already mapped to the model's classes): ``one_clip`` figures, ``adapted`` figures or
    why there are none, the notes on what was left out, and every clip's answers."""
    notes = list(notes)
    adapted_missing = None
    speakers_known = all(clip.speaker is not None for clip in clips)
    if speakers_known:
        try:
            # Loaded before extracting: the adapted twin may read feature families the plain bundle does not.
            predictor.adapted_bundle()
        except AdaptedBundleMissing as error:
            adapted_missing = str(error)
    features, errors = extract_all(predictor, [clip.path for clip in clips])
    notes += [f"left out, cannot be scored: {error}" for error in errors.values()]
    clips = [clip for clip in clips if clip.path in features]
    if not clips:
        raise CorpusError(f"none of the labelled clips could be scored ({next(iter(errors.values()), 'no clips')}).")
    classes = classes_of(clips, predictor.bundle.labels)
    actual = [clip.emotion for clip in clips]
    one_clip = [restricted_choice(predictor.score(features[clip.path])["probabilities"], classes) for clip in clips]
    report: dict[str, Any] = {"model": predictor.name, "classes": classes,
                              "one_clip": recognition_scores(actual, one_clip, classes)}
    rows = [{"path": str(clip.path), "emotion": clip.emotion, "speaker": clip.speaker, "one_clip": answer}
            for clip, answer in zip(clips, one_clip)]
    if not speakers_known:
        report["adapted"] = {"skipped": "the speakers are not known (give a speaker column in the labels CSV)"}
    elif adapted_missing is not None:
        report["adapted"] = {"skipped": adapted_missing}
    else:
        adapted = adapted_predictions(predictor, clips, features, classes, notes)
        answers = [restricted_choice(adapted[clip.path]["probabilities"], classes) for clip in clips]
        report["adapted"] = {"model": predictor.adapted_bundle().name,
                             "adapted_clips": sum("speaker_profile_clips" in adapted[clip.path] for clip in clips),
                             **recognition_scores(actual, answers, classes)}
        for row, clip, answer in zip(rows, clips, answers):
            row.update(adapted=answer, speaker_profile_clips=adapted[clip.path].get("speaker_profile_clips", 0))
    return {**report, "notes": notes, "predictions": rows}
