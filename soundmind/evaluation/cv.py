"""Cross-validation over actors: every clip is tested once, by a model that never heard its speaker.

Fold k tests actors 4k+1 ... 4k+4 and stops/selects on the next fold's four actors; the other
sixteen train. Two protocols are kept apart: ``plain`` (nothing known about test speakers) and
``speaker_normalised`` (each actor's features standardised with that actor's own unlabelled clips). The
CRNN reads the frame store: each clip standardised per band with its own statistics (plain) or with its
actor's (speaker-normalised). A fold trains as the shipped stages do: in the plain protocol on its training actors'
clips and the training channel copies each family's table holds of them, in the speaker-normalised one on the clips
alone (as the adapted models).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score

from soundmind.data.channel import TRAINING_CONDITIONS
from soundmind.data.corpus_names import RAVDESS, corpus_of_clips
from soundmind.data.ravdess import ACTORS, EMOTIONS
from soundmind.errors import ParamsError
from soundmind.evaluation.finished_jobs import FinishedJobs, inputs_digest
from soundmind.features.frames import FrameSettings, standardise_per_band
from soundmind.features.normalise import speaker_normalise, speaker_normalise_frames
from soundmind.features.sets import VECTOR_FAMILIES, feature_family
from soundmind.features.tables import METADATA_COLUMNS, copy_rows_by_source, encode_labels
from soundmind.models.architectures import FRAME_ARCHITECTURES, SKLEARN_ARCHITECTURES
from soundmind.models.seeds import training_seeds
from soundmind.models.sklearn_models import fit_with_selection
from soundmind.models.voting import greedy_weights, weighted_vote
from soundmind.params import ensemble_members, is_int
from soundmind.models.workers import map_in_worker_processes, run_on_one_thread


CV_PROTOCOLS = ("plain", "speaker_normalised")
# Each fold needs its own test actors and the next fold's as val actors, with some left to train on.
MIN_FOLDS = 3
SPEAKER_FREE_FEATURE_SETS = VECTOR_FAMILIES  # whole tables: what cross-validation takes


def check_fold_count(folds: Any, n_actors: int = len(ACTORS)) -> None:
    """``cv.folds``: an integer from MIN_FOLDS to the number of actors."""
    if not is_int(folds) or not MIN_FOLDS <= folds <= n_actors:
        raise ParamsError(f"params.yaml: 'cv.folds' must be an integer from {MIN_FOLDS} to the {n_actors} actors, got {folds!r}.")


def check_cv_models(names: Any, models: dict[str, Any]) -> None:
    """``cv.models``: scikit-learn ``train.*`` entries on a whole feature table, or CRNNs."""
    if not isinstance(names, list):
        raise ParamsError(f"params.yaml: 'cv.models' must be a list, got {names!r}.")
    for name in names:
        block = models.get(name) if isinstance(name, str) else None
        if not isinstance(block, dict):
            raise ParamsError(f"params.yaml: 'cv.models' names {name!r}, which is not a train.* model.")
        if block.get("architecture") in FRAME_ARCHITECTURES:
            continue
        if block.get("architecture") not in SKLEARN_ARCHITECTURES or block.get("feature_set") not in SPEAKER_FREE_FEATURE_SETS:
            raise ParamsError(
                f"params.yaml: 'cv.models' names {name!r}; cross-validation takes scikit-learn models "
                f"({', '.join(SKLEARN_ARCHITECTURES)}) on a whole feature table ({', '.join(SPEAKER_FREE_FEATURE_SETS)}) "
                f"and {', '.join(FRAME_ARCHITECTURES)}."
            )


@dataclass(frozen=True)
class Fold:
    """One fold: the actors it tests and the next fold's actors it validates on."""

    index: int
    test_actors: tuple[int, ...]
    val_actors: tuple[int, ...]


def make_folds(actors: list[int], n_folds: int) -> list[Fold]:
    """Consecutive groups of actors (sizes differing by one at most when ``n_folds`` does not divide
    them); each fold validates on the next fold's group."""
    actors = sorted(actors)
    check_fold_count(n_folds, len(actors))
    groups = [tuple(int(actor) for actor in group) for group in np.array_split(np.array(actors), n_folds)]
    return [Fold(index, groups[index], groups[(index + 1) % n_folds]) for index in range(n_folds)]


@dataclass
class FeatureView:
    """One feature table's matrix, aligned to the clip order shared by all views, and the rows of the training
    channel copies the table holds, with the position of each copy's original in that order."""

    matrix: np.ndarray
    actors: np.ndarray
    copy_matrix: np.ndarray | None = None
    copy_source: np.ndarray | None = None

    def for_protocol(self, protocol: str) -> np.ndarray:
        return speaker_normalise(self.matrix, self.actors) if protocol == "speaker_normalised" else self.matrix

    def training_rows(self, protocol: str, train: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The fold's training matrix, labels and actors: its clips and, in the plain protocol, their channel copies (as
        the shipped model trains on the train split's; the speaker-normalised models, as the adapted ones, never do)."""
        matrix = self.for_protocol(protocol)
        x, y, groups = matrix[train], labels[train], self.actors[train]
        if protocol == "speaker_normalised" or self.copy_matrix is None or not len(self.copy_matrix):
            return x, y, groups
        kept = train[self.copy_source]
        sources = self.copy_source[kept]
        return (np.vstack([x, self.copy_matrix[kept]]), np.concatenate([y, labels[sources]]),
                np.concatenate([groups, self.actors[sources]]))


@dataclass
class FrameView:
    """The original clips' frames (decibels), in the clip order shared by all views, their settings, and each clip's
    training channel copies (an epoch draws one version of a clip)."""

    clips: list[np.ndarray]
    actors: np.ndarray
    settings: dict[str, Any]
    copies: list[tuple[np.ndarray, ...]] | None = None

    def for_protocol(self, protocol: str) -> list[np.ndarray]:
        if protocol == "speaker_normalised":
            return speaker_normalise_frames(self.clips, self.actors)
        return [standardise_per_band(frames) for frames in self.clips]

    def training_copies(self, protocol: str, train: np.ndarray) -> list[tuple[np.ndarray, ...]] | None:
        """The fold's training clips' channel copies, each standardised as its clip is (plain protocol only)."""
        if protocol == "speaker_normalised" or self.copies is None:
            return None
        return [tuple(standardise_per_band(frames) for frames in self.copies[row]) for row in np.flatnonzero(train)]


def crnn_on_fold(
    spec: dict[str, Any], views: dict[str, FrameView], masks: dict[str, np.ndarray], labels: np.ndarray, protocol: str,
    seeds: list[int],
) -> tuple[float, dict[str, np.ndarray]]:
    """Train ``seeds`` CRNNs on the fold's train clips, each keeping its epoch best on the val clips; return their
    averaged val accuracy and their averaged probabilities of every other (view, split) pair, keyed like
    ``split_probabilities``."""
    # Imported here: only a cross-validation with a CRNN loads TensorFlow.
    from soundmind.models.crnn_training import fold_probabilities

    clips = {view_name: view.for_protocol(protocol) for view_name, view in views.items()}
    part = {(view_name, split): [clips[view_name][row] for row in np.flatnonzero(mask)]
            for view_name in views for split, mask in masks.items()}
    val_accuracy, probabilities = fold_probabilities(
        spec, seeds, train_clips=part["clean", "train"], train_y=labels[masks["train"]], val_clips=part["clean", "val"],
        val_y=labels[masks["val"]], train_copies=views["clean"].training_copies(protocol, masks["train"]),
        scored={f"{view_name}/{split}": part[view_name, split] for view_name, split in part if split != "train"},
        crop_frames=FrameSettings(**views["clean"].settings).frames_in(spec["crop_seconds"]),
    )
    return val_accuracy, probabilities


def cv_model_specs(names: list[str], train_params: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Return the cross-validation recipe of each named ``train`` entry: its feature family, architecture and C grid."""
    check_cv_models(names, train_params)
    return {
        name: {**train_params[name],
               "features": feature_family(train_params[name]["feature_set"])}
        for name in names
    }


def cv_ensemble_members(cv_models: list[str], train_params: dict[str, Any], ensemble: str = "ensemble") -> dict[str, list[str]]:
    """The cv.models each protocol's ensemble votes over: in the plain protocol those the shipped ``ensemble`` may use
    (its ``members``), so that the figure describes it; in the speaker-normalised one every cv.model, as the adapted
    ensemble votes over every adapted model."""
    shipped = ensemble_members(train_params, ensemble)
    return {"plain": [name for name in cv_models if name in shipped], "speaker_normalised": list(cv_models)}


def voting_members(ensemble_members: dict[str, list[str]] | None, protocol: str, models: dict[str, Any]) -> list[str]:
    """The models ``protocol``'s ensemble votes over: the list ``ensemble_members`` gives it, else every one."""
    return list((ensemble_members or {}).get(protocol, list(models)))


def fold_masks(fold: Fold, actors: np.ndarray, fixed_split: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Which clips (by their ``actors``) a fold trains, validates and tests on. ``fixed_split``, where given, holds
    the fixed split of another training corpus's clips ("" for RAVDESS's): those keep it in every fold (train speakers
    train, val speakers join the fold's val actors, test speakers take no part); only RAVDESS's actors are folded."""
    test, val = np.isin(actors, fold.test_actors), np.isin(actors, fold.val_actors)
    train = ~(test | val)
    if fixed_split is not None:
        other_corpus = fixed_split != ""
        test = test & ~other_corpus
        val = (val & ~other_corpus) | (fixed_split == "val")
        train = (train & ~other_corpus) | (fixed_split == "train")
    return {"train": train, "val": val, "test": test}


def run_fold(
    fold: Fold, models: dict[str, dict[str, Any]], views: dict[str, dict[str, Any]], *, labels: np.ndarray,
    actors: np.ndarray, protocol: str, ensemble_rounds: int, seed: int, crnn_seeds: int = 1,
    fixed_split: np.ndarray | None = None, ensemble_members: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """Every model of ``models`` on one fold, plus the soft-voting ensemble of those ``ensemble_members`` names for
    ``protocol`` (all of them where it names none: ``voting_members``), weighted on val actors.

    ``views`` maps "clean" (and "shifted", the channel-shifted copies in the same clip order, where given) to each
    feature family's view. With shifted copies, the ensemble's weights are chosen on the val actors' clean and
    shifted clips together (as train-ensemble's are), and every model's and the ensemble's test accuracy on the
    shifted copies of the test actors is reported as ``shifted_accuracy``."""
    masks = fold_masks(fold, actors, fixed_split)
    train, val, test = masks["train"], masks["val"], masks["test"]
    results, probabilities = {}, {}
    for name, spec in models.items():
        family_views = {view_name: family[spec["features"]] for view_name, family in views.items()}
        if spec["architecture"] in FRAME_ARCHITECTURES:
            seeds = training_seeds(seed, crnn_seeds)
            val_accuracy, probabilities[name] = crnn_on_fold(spec, family_views, masks, labels, protocol, seeds)
            # The schedule it trained with: the shipped train.<name> recipe's, which reports can be checked against.
            results[name] = {"seeds": seeds, "epochs": spec["epochs"], "val_accuracy": round(float(val_accuracy), 4)}
        else:
            matrices = {view_name: view.for_protocol(protocol) for view_name, view in family_views.items()}
            train_x, train_y, train_groups = family_views["clean"].training_rows(protocol, train, labels)
            val_accuracy, chosen, model = fit_with_selection(
                spec, train_x=train_x, train_y=train_y, val_x=matrices["clean"][val],
                val_y=labels[val], seed=seed, train_groups=train_groups,
            )
            probabilities[name] = {f"{view_name}/{split}": model.predict_proba(matrix[masks[split]])
                                   for view_name, matrix in matrices.items() for split in ("val", "test")}
            results[name] = {"C": chosen, "val_accuracy": round(float(val_accuracy), 4)}
        results[name].update(fold_scores(probabilities[name], labels[test]))
    voting = {name: probabilities[name] for name in voting_members(ensemble_members, protocol, models)}
    selection = [f"{view_name}/val" for view_name in views]
    weights = greedy_weights({name: np.concatenate([member[key] for key in selection]) for name, member in voting.items()},
                             np.concatenate([labels[val]] * len(selection)), ensemble_rounds)
    voted = {key: weighted_vote({name: member[key] for name, member in voting.items()}, weights)
             for key in next(iter(voting.values()))}
    results["ensemble"] = {"weights": weights, **fold_scores(voted, labels[test])}
    return results


def fold_scores(probabilities: dict[str, np.ndarray], test_labels: np.ndarray) -> dict[str, float]:
    """A model's test scores on the clean clips, and its accuracy on the shifted copies where it scored them."""
    results = scores(test_labels, probabilities["clean/test"])
    if "shifted/test" in probabilities:
        results["shifted_accuracy"] = scores(test_labels, probabilities["shifted/test"])["accuracy"]
    return results


def scores(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    """Return the accuracy and macro-F1 of ``probabilities`` against integer ``labels``."""
    predicted = probabilities.argmax(axis=1)
    return {
        "accuracy": round(float(accuracy_score(labels, predicted)), 4),
        "macro_f1": round(float(f1_score(labels, predicted, labels=np.arange(len(EMOTIONS)), average="macro",
                                         zero_division=0)), 4),
    }


def summarise(per_fold: list[dict[str, Any]]) -> dict[str, Any]:
    """Mean and standard deviation over folds of each model's accuracy and macro-F1."""
    summary = {}
    for name in per_fold[0]:
        accuracies = np.array([fold[name]["accuracy"] for fold in per_fold])
        macro_f1 = np.array([fold[name]["macro_f1"] for fold in per_fold])
        summary[name] = {
            "accuracy_mean": round(float(accuracies.mean()), 4), "accuracy_std": round(float(accuracies.std()), 4),
            "macro_f1_mean": round(float(macro_f1.mean()), 4), "macro_f1_std": round(float(macro_f1.std()), 4),
        }
        if "shifted_accuracy" in per_fold[0][name]:
            shifted = np.array([fold[name]["shifted_accuracy"] for fold in per_fold])
            summary[name].update(shifted_accuracy_mean=round(float(shifted.mean()), 4),
                                 shifted_accuracy_std=round(float(shifted.std()), 4))
    return summary


def family_view(table: Any, rows: pd.DataFrame, actors: np.ndarray, with_copies: bool = False) -> FeatureView | FrameView:
    """One family's view of ``rows`` (the frame store duck-typed by its ``frames_of``); ``with_copies``: with the
    training channel copies ``table`` holds of them. (The augmented copies exist for the fixed split's training actors
    only, so no fold could train on them evenly: cross-validation leaves them out.)"""
    all_rows = table_rows(table)
    copies = all_rows[all_rows["augmentation"].isin(TRAINING_CONDITIONS)] if with_copies else None
    if hasattr(table, "frames_of"):
        clips = table.frames_of(rows["clip_id"].tolist())
        if copies is None:
            return FrameView(clips, actors, table.settings)
        frames_of_copy = dict(zip(copies.index, table.frames_of(copies["clip_id"].tolist())))
        copies_of = copy_rows_by_source(copies)
        per_clip = [tuple(frames_of_copy[label] for label in copies_of.get(clip_id, ())) for clip_id in rows["clip_id"]]
        return FrameView(clips, actors, table.settings, per_clip)
    matrix = rows.drop(columns=METADATA_COLUMNS).to_numpy(dtype=np.float64)
    if copies is None:
        return FeatureView(matrix, actors)
    position = pd.Series(np.arange(len(rows)), index=rows["clip_id"])
    copies = copies[copies["source_clip"].isin(position.index)].sort_values("clip_id")
    return FeatureView(matrix, actors, copies.drop(columns=METADATA_COLUMNS).to_numpy(dtype=np.float64),
                       position.loc[copies["source_clip"]].to_numpy())


def table_rows(table: Any) -> pd.DataFrame:
    return table.index if hasattr(table, "frames_of") else table


def aligned_views(tables: dict[str, Any]) -> tuple[dict[str, Any], np.ndarray, np.ndarray]:
    """Return the original clips only, in one clip order for every table (and the frame store, duck-typed by
    its ``frames_of``); returns the views, labels and actors."""
    originals = {name: table_rows(table).query("augmentation == 'none'").sort_values("clip_id").reset_index(drop=True)
                 for name, table in tables.items()}
    reference = next(iter(originals.values()))
    for name, table in originals.items():
        if not table["clip_id"].equals(reference["clip_id"]):
            raise ValueError(f"feature table {name!r} does not hold the same clips as the others")
    actors = reference["actor"].to_numpy()
    views = {name: family_view(tables[name], rows, actors, with_copies=True) for name, rows in originals.items()}
    return views, encode_labels(reference["emotion"]), actors


def aligned_shifted_views(shifted_tables: dict[str, Any], clip_ids: pd.Series, actors: np.ndarray) -> dict[str, Any]:
    """Return each family's view of the channel-shifted copies, one per original clip in ``clip_ids``'s order."""
    views = {}
    for name, table in shifted_tables.items():
        rows = table_rows(table).sort_values("source_clip").reset_index(drop=True)
        if not rows["source_clip"].equals(clip_ids.reset_index(drop=True)):
            raise ValueError(f"the channel-shifted {name!r} table does not hold one copy of each original clip")
        views[name] = family_view(table, rows, actors)
    return views


def fold_inputs(
    tables: dict[str, pd.DataFrame], models: dict[str, dict[str, Any]], *,
    n_folds: int, protocols: tuple[str, ...], ensemble_rounds: int, seed: int, crnn_seeds: int = 1,
    shifted_tables: dict[str, Any] | None = None, ensemble_members: dict[str, list[str]] | None = None,
) -> tuple[list[Fold], dict[str, Any]]:
    """The folds, and what every fold job is given (the keyword arguments of ``run_fold`` but the fold and protocol):
    the models, the aligned views of every table, labels, actors and the other corpora's fixed split."""
    unknown = sorted(set(protocols) - set(CV_PROTOCOLS))
    if unknown:
        raise ParamsError(f"params.yaml: 'cv.protocols' has unknown entries {unknown}; known: {', '.join(CV_PROTOCOLS)}.")
    unknown_voting = sorted(set(ensemble_members or {}) - set(CV_PROTOCOLS))
    if unknown_voting:
        raise ValueError(f"ensemble_members names protocols {unknown_voting}; known: {', '.join(CV_PROTOCOLS)}")
    for protocol in protocols:
        names = voting_members(ensemble_members, protocol, models)
        if not names:
            raise ParamsError(f"params.yaml: 'cv.models' ({', '.join(models)}) and 'train.ensemble.members' share no model, "
                              f"so the {protocol} ensemble of cross-validation has none to vote over.")
        if set(names) - set(models):
            raise ParamsError(f"the {protocol} ensemble of cross-validation can vote only over cv.models "
                              f"({', '.join(models)}); it was given {list(names)}.")
    for name, spec in models.items():
        if spec.get("features") not in tables:
            raise ParamsError(f"params.yaml: 'cv.models.{name}.features' must be one of {', '.join(tables)}.")
    clean_views, labels, actors = aligned_views(tables)
    views = {"clean": clean_views}
    if shifted_tables is not None:
        clip_ids = table_rows(next(iter(tables.values()))).query("augmentation == 'none'")["clip_id"].sort_values()
        views["shifted"] = aligned_shifted_views(shifted_tables, clip_ids, actors)
    reference = table_rows(next(iter(tables.values()))).query("augmentation == 'none'").sort_values("clip_id")
    from_ravdess = corpus_of_clips(reference["clip_id"]) == RAVDESS
    folds = make_folds(sorted(set(actors[from_ravdess].tolist())), n_folds)
    shared = {"models": models, "views": views, "labels": labels, "actors": actors, "ensemble_rounds": ensemble_rounds,
              "seed": seed, "crnn_seeds": crnn_seeds, "ensemble_members": ensemble_members,
              "fixed_split": None if from_ravdess.all() else np.where(from_ravdess, "", reference["split"].to_numpy())}
    return folds, shared


def cross_validate(
    tables: dict[str, pd.DataFrame], models: dict[str, dict[str, Any]], *,
    n_folds: int, protocols: tuple[str, ...], ensemble_rounds: int, seed: int, crnn_seeds: int = 1,
    shifted_tables: dict[str, Any] | None = None, n_jobs: int = 1, resume_folder: Path | None = None,
    ensemble_members: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """Return every model's and their ensemble's figures per fold and over folds, for each protocol
    (a CRNN averaged over ``crnn_seeds`` seeds per fold). With ``shifted_tables`` (one channel-shifted copy of
    each clip), ensemble weights are chosen on clean and shifted val clips, and shifted test accuracy is reported.
    The folds of both protocols run in ``n_jobs`` worker processes of one thread each: the figures are the same
    for any ``n_jobs``. With ``resume_folder``, each finished fold is stored there as it finishes and a rerun of a
    stopped run with the same inputs, code and libraries reuses the stored folds (the same figures: a fold does not
    depend on which process ran it); a completed run deletes the folder."""
    folds, shared = fold_inputs(tables, models, n_folds=n_folds, protocols=protocols, ensemble_rounds=ensemble_rounds,
                                seed=seed, crnn_seeds=crnn_seeds, shifted_tables=shifted_tables,
                                ensemble_members=ensemble_members)
    report: dict[str, Any] = {"folds": [{"test_actors": list(fold.test_actors), "val_actors": list(fold.val_actors)}
                                        for fold in folds]}
    jobs = [(protocol, fold) for protocol in protocols for fold in folds]
    store = FinishedJobs(resume_folder, inputs_digest(shared)) if resume_folder is not None else None
    finished = {job_name(job): store.load(job_name(job)) for job in jobs} if store is not None else {}
    finished = {name: result for name, result in finished.items() if result is not None}
    if finished:
        print(f"cross-validate: reusing {len(finished)} of {len(jobs)} folds finished by an earlier run that was stopped "
              f"({store.runs_folder})", flush=True)
    pending = [job for job in jobs if job_name(job) not in finished]
    if pending:
        finished.update(zip(map(job_name, pending), in_worker_processes(pending, shared, n_jobs, store)))
    results = iter(finished[job_name(job)] for job in jobs)
    for protocol in protocols:
        per_fold = [next(results) for _ in folds]
        report[protocol] = {"summary": summarise(per_fold), "per_fold": per_fold,
                            "ensemble_members": voting_members(ensemble_members, protocol, models)}
    if store is not None:
        store.discard()
    return report


def job_name(job: tuple[str, Fold]) -> str:
    """``plain-fold1``: the protocol and the fold's number, counted from 1."""
    protocol, fold = job
    return f"{protocol}-fold{fold.index + 1}"


# What a worker process was given once, at its start, for every fold it runs: the views are the bulk of it; and
# where it stores each fold it finishes (None: nowhere).
_worker_shared: dict[str, Any] = {}
_worker_store: list[FinishedJobs | None] = [None]


def _start_worker(shared: dict[str, Any], store: FinishedJobs | None = None) -> None:
    """Keep ``shared`` for this worker's folds, and run them on one thread (``run_on_one_thread``): a fold's figures
    must not depend on how many folds run beside it."""
    _worker_shared.update(shared)
    _worker_store[0] = store
    run_on_one_thread(with_tensorflow=any(spec["architecture"] in FRAME_ARCHITECTURES
                                          for spec in shared["models"].values()))


def _run_job(job: tuple[str, Fold]) -> dict[str, Any]:
    protocol, fold = job
    result = run_fold(fold, protocol=protocol, **_worker_shared)
    # Stored by the worker as soon as it is done, not when this fold's turn comes in the map's order.
    if _worker_store[0] is not None:
        _worker_store[0].save(job_name(job), result)
    return result


def in_worker_processes(jobs: list[tuple[str, Fold]], shared: dict[str, Any], n_jobs: int,
                        store: FinishedJobs | None = None) -> list[dict[str, Any]]:
    """``run_fold`` of each (protocol, fold) job, in order, run by ``n_jobs`` worker processes of one thread each
    (one worker when ``n_jobs`` is 1, never this process: its threads are set before any fold runs); each result is
    saved in ``store`` as it finishes, where one is given."""
    if not is_int(n_jobs) or n_jobs < 1:
        raise ValueError(f"n_jobs must be a positive integer, got {n_jobs!r}")
    return map_in_worker_processes(_run_job, jobs, n_jobs, _start_worker, (shared, store))


def fold_accuracy(report: dict[str, Any], protocols: list[str]) -> pd.DataFrame:
    """Return one row per protocol, fold and model with its test accuracy (what the folds' plot draws)."""
    rows = [
        {"protocol": protocol, "model": model, "fold": index, "accuracy": fold[model]["accuracy"]}
        for protocol in protocols for index, fold in enumerate(report[protocol]["per_fold"])
        for model in fold
    ]
    return pd.DataFrame(rows)


def fold_accuracy_by_model(long_table: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """Return per protocol a table of folds (numbered from 1) by models, so `dvc plots` draws one line per model."""
    wide_tables = {}
    for protocol, table in long_table.groupby("protocol"):
        wide = table.pivot(index="fold", columns="model", values="accuracy").reset_index()
        wide_tables[protocol] = wide.assign(fold=wide["fold"] + 1)
    return wide_tables
