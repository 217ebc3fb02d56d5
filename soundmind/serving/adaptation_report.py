"""How much speaker adaptation helps: a plain bundle and its adapted twin on an out-of-corpus folder (EmoDB), and the
enrollment curve on the fixed split's test actors, the adapted bundle's accuracy against the number k of a speaker's
clips its profile holds.

Each clip is scored with a profile of k of its speaker's OTHER clips (a user's new clip is never among their enrolled
ones), drawn at random ``draws`` times. k = 1 is kept and measured as it is: one clip's deviation is 0 everywhere, so
the normalisation's floor leaves the features only centred on that clip (mean-only), not scaled; the curve shows what
that costs. The profile code is the predictor's (serving/speaker.py), the scoring of a folder the CLI's `evaluate`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from soundmind.data.corpus_names import RAVDESS, corpus_of_clips, extra_corpora
from soundmind.errors import CorpusError, ParamsError
from soundmind.features.frame_store import FRAMES_FAMILY, load_family_inputs
from soundmind.features.tables import family_matrices, family_table_path, held_out_rows, require_current_table, split_rows
from soundmind.params import is_int, require, require_positive_int
from soundmind.paths import EXTERNAL
from soundmind.serving.labelled import labels_from_names, usable_clips
from soundmind.serving.predict import EmotionPredictor
from soundmind.serving.scoring import evaluate_labelled
from soundmind.serving.speaker import SpeakerProfile

ALL_CLIPS = "all"
# Where an empty external.emodb looks, as an empty data.source looks under data/external/ for RAVDESS.
LOCAL_EMODB = EXTERNAL / "emodb"
SKIPPED_EXTERNAL = (f"external.emodb is empty and {LOCAL_EMODB} does not exist: the out-of-corpus scoring is skipped "
                    "(link a folder of EmoDB clips named as upstream there, or set external.emodb to one, e.g. "
                    "../shared/emodb16k).")


def external_folder(setting: str, local_copy: Path = LOCAL_EMODB) -> str:
    """The EmoDB folder to score: ``external.emodb`` when set, else the local copy if there is one, else ''."""
    if setting:
        return setting
    return str(local_copy) if local_copy.is_dir() else ""


def enrollment_sizes(params: dict[str, Any]) -> list[int | str]:
    """``adaptation.enrollment_clips``: positive integers and/or ``all``, each once."""
    sizes = require(params, "adaptation.enrollment_clips")
    valid = isinstance(sizes, list) and sizes and all(
        size == ALL_CLIPS or (is_int(size) and size > 0) for size in sizes)
    if not valid or len(set(map(str, sizes))) != len(sizes):
        raise ParamsError(f"params.yaml: 'adaptation.enrollment_clips' must be a list of distinct positive integers "
                          f"and/or '{ALL_CLIPS}', got {sizes!r}.")
    return sizes


def other_external_models(params: dict[str, Any]) -> list[str]:
    """``external.other_models``: bundle names, each once."""
    names = require(params, "external.other_models")
    if not isinstance(names, list) or not all(isinstance(name, str) and name for name in names) or len(set(names)) != len(names):
        raise ParamsError(f"params.yaml: 'external.other_models' must be a list of distinct model names, got {names!r}.")
    return names


def transfer_figures(report: dict[str, Any]) -> dict[str, Any]:
    """The headline figures of ``score_external``'s report, one clip and adapted: accuracy, UAR, macro-F1; or, for a
    part that was skipped (a bundle without an adapted twin), why."""
    keys = ("accuracy", "unweighted_average_recall", "macro_f1")
    return {part: {"skipped": report[part]["skipped"]} if "skipped" in report[part] else
            {key: report[part][key] for key in keys if key in report[part]} for part in ("one_clip", "adapted")}


def score_external(folder: str, predictor: EmotionPredictor) -> dict[str, Any]:
    """The CLI's `evaluate` report of an EmoDB-named folder (boredom left out, argmax over the classes present): the
    plain bundle one clip at a time and its adapted twin with each clip's leave-one-out speaker profile; without a
    folder, why it was skipped."""
    if not folder:
        return {"skipped": SKIPPED_EXTERNAL}
    path = Path(folder)
    if not path.is_dir():
        raise CorpusError(f"params.yaml: 'external.emodb' names {folder}, which is not a folder.")
    clips, notes = usable_clips(labels_from_names(path), {}, predictor.bundle.labels)
    if not clips:
        raise CorpusError(f"{folder}: no clip is labelled with one of the model's classes.")
    report = evaluate_labelled(predictor, clips, notes)
    # Per-clip answers are no metric: the figures and notes stay.
    report.pop("predictions")
    return {"folder": str(path), **report}


def test_actor_features(predictor: EmotionPredictor, split: str = "test", corpus: str | None = None
                        ) -> tuple[list[dict[str, Any]], np.ndarray, np.ndarray]:
    """Every original clip's features of the test actors (or ``split`` "val": the val actors, where adaptation
    settings are chosen) from the pipeline's tables, for every family the predictor and its adapted twin read
    (tables made otherwise than the bundles are refused); with the clips' actors and emotions. ``corpus``: only that
    training corpus's clips (all of them otherwise)."""
    if split not in ("test", "val"):
        raise ValueError(f"split must be 'test' or 'val', got {split!r}")
    families = set(predictor.extractors)
    settings = {**predictor.bundle.feature_settings, **predictor.adapted_bundle().feature_settings}
    for family in sorted(families):
        require_current_table(family_table_path(family), settings[family])
    inputs = load_family_inputs(families)
    reference = inputs[FRAMES_FAMILY].index if FRAMES_FAMILY in inputs else next(iter(inputs.values()))
    rows = held_out_rows(reference) if split == "test" else split_rows(reference)[1].sort_values("clip_id")
    if corpus is not None:
        rows = rows[corpus_of_clips(rows["clip_id"]) == corpus]
    matrices = family_matrices(inputs, rows["clip_id"].tolist())
    per_clip = [{family: [values[row]] if family == FRAMES_FAMILY else values[row : row + 1]
                 for family, values in matrices.items()} for row in range(len(rows))]
    return per_clip, rows["actor"].to_numpy(), rows["emotion"].to_numpy()


def merged(clips: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Many clips' features as one batch: vector rows stacked, frame clips listed."""
    return {family: [frames for clip in clips for frames in clip[family]] if family == FRAMES_FAMILY
            else np.vstack([clip[family] for clip in clips]) for family in clips[0]}


def enrollment_profiles(clips: Sequence[dict[str, Any]], actors: np.ndarray, size: int | str,
                        rng: np.random.Generator, settings: dict[str, dict[str, Any]]) -> list[SpeakerProfile]:
    """For each clip, the profile of ``size`` of its actor's other clips drawn by ``rng`` (all of them for ``all``, or
    when the actor has fewer)."""
    profiles = []
    for row, actor in enumerate(actors):
        others = np.flatnonzero((actors == actor) & (np.arange(len(actors)) != row))
        if size != ALL_CLIPS and size < len(others):
            others = np.sort(rng.choice(others, size=size, replace=False))
        profiles.append(SpeakerProfile.from_features([clips[other] for other in others], settings, min_clips=1))
    return profiles


def enrollment_curve(predictor: EmotionPredictor, clips: Sequence[dict[str, Any]], actors: np.ndarray,
                     emotions: np.ndarray, sizes: Sequence[int | str], draws: int, seed: int) -> list[dict[str, Any]]:
    """One row per k: the adapted bundle's accuracy over the clips, mean and deviation over ``draws`` random draws of
    each clip's enrollment clips (one draw for ``all``: there is nothing to draw), beside the plain bundle's."""
    adapted, labels = predictor.adapted_bundle(), np.asarray(predictor.bundle.labels)
    plain = predictor.calibrated(predictor.bundle, merged(clips))
    plain_accuracy = float(np.mean(labels[plain.argmax(axis=1)] == emotions))
    rows = []
    for index, size in enumerate(sizes):
        accuracies = []
        for draw in range(1 if size == ALL_CLIPS else draws):
            rng = np.random.default_rng([seed, index, draw])
            profiles = enrollment_profiles(clips, actors, size, rng, adapted.feature_settings)
            normalised = merged([profile.normalise(clip, predictor.speaker_prior) for profile, clip in zip(profiles, clips)])
            # Scored as the predictor scores one clip with a profile: blended with the plain answer by profile size.
            answers = predictor.adapted_probabilities(normalised, np.array([profile.clip_count for profile in profiles]), plain)
            accuracies.append(float(np.mean(labels[answers.argmax(axis=1)] == emotions)))
        others = int(min(np.sum(actors == actor) for actor in np.unique(actors))) - 1
        rows.append({"k": str(size), "clips": others if size == ALL_CLIPS else min(int(size), others),
                     "draws": len(accuracies), "adapted_accuracy": round(float(np.mean(accuracies)), 4),
                     "adapted_accuracy_std": round(float(np.std(accuracies)), 4), "plain_accuracy": round(plain_accuracy, 4)})
    return rows


def adaptation_report(params: dict[str, Any], models_dir: Path) -> tuple[dict[str, Any], pd.DataFrame]:
    """``adaptation.model`` and its adapted twin on ``external.emodb`` and along the enrollment curve: the report
    (reports/adaptation.json) and the curve's table (reports/adaptation_curve.csv)."""
    sizes, draws = enrollment_sizes(params), require_positive_int(params, "adaptation.draws")
    predictor = EmotionPredictor(require(params, "adaptation.model"), models_dir)
    # Loaded first: the twin may read families the plain bundle does not, and those must be extracted too.
    adapted = predictor.adapted_bundle()
    folder = external_folder(str(require(params, "external.emodb") or ""))
    external = score_external(folder, predictor)
    others = other_external_models(params)
    if folder:
        external["other_models"] = {name: transfer_figures(score_external(folder, EmotionPredictor(name, models_dir)))
                                    for name in others}
    # The curve on RAVDESS's test actors (comparable with RAVDESS-only runs); each other training corpus's test
    # speakers with every other clip of theirs enrolled, beside the plain answer.
    clips, actors, emotions = test_actor_features(predictor, corpus=RAVDESS)
    curve = enrollment_curve(predictor, clips, actors, emotions, sizes, draws, require(params, "base.seed"))
    report = {"model": predictor.name, "adapted_model": adapted.name, "external_emodb": external,
              "enrollment": {"test_actors": sorted(int(actor) for actor in np.unique(actors)), "clips": len(clips),
                             "curve": {row["k"]: row for row in curve}}}
    for corpus in extra_corpora(params):
        clips, actors, emotions = test_actor_features(predictor, corpus=corpus)
        [row] = enrollment_curve(predictor, clips, actors, emotions, [ALL_CLIPS], 1, require(params, "base.seed"))
        report.setdefault("test_speakers_by_corpus", {})[corpus] = {
            "test_speakers": sorted(int(actor) for actor in np.unique(actors)), "clips": len(clips),
            "one_clip_accuracy": row["plain_accuracy"], "adapted_accuracy": row["adapted_accuracy"]}
    return report, pd.DataFrame(curve)
