"""Every block of params.yaml checked at once, before a stage does any work.

Each stage calls ``check_params`` first (through ``run_stage``), so a bad value anywhere stops the
first stage that `dvc repro` runs, naming the key, instead of the stage that reads it an hour
later. Nothing here imports TensorFlow or openSMILE: the check costs milliseconds.
"""

from __future__ import annotations

from typing import Any

from soundmind.data.ravdess import ACTORS
from soundmind.errors import ParamsError
from soundmind.frame_checks import check_frames, validate_crnn_params
from soundmind.models.architectures import FRAME_ARCHITECTURES, KERAS_ARCHITECTURES, SKLEARN_ARCHITECTURES
from soundmind.data.ingest import ON_BAD_FILE
from soundmind.data.split import check_disjoint_splits
from soundmind.evaluation.cv import CV_PROTOCOLS, check_cv_models, check_fold_count
from soundmind.params import (
    ALL_MODELS, calibrated_models, ensemble_members, is_int, is_number, require, require_choice, require_positive_int,
)

TRAINING_KEYS = (
    "seeds", "learning_rate", "batch_size", "epochs", "early_stopping_patience", "min_epochs",
    "reduce_lr_factor", "reduce_lr_patience", "min_learning_rate",
)



def _mapping(value: Any, key: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ParamsError(f"params.yaml: '{key}' must be a block of settings, got {value!r}.")
    return value


def _list(value: Any, key: str) -> list[Any]:
    if not isinstance(value, list):
        raise ParamsError(f"params.yaml: '{key}' must be a list, got {value!r}.")
    return value


def _known_feature_set(prefix: str, feature_set: Any) -> None:
    """A feature set of vectors (the frames are the CRNN's alone)."""
    from soundmind.features.sets import VECTOR_FEATURE_SETS

    if feature_set not in VECTOR_FEATURE_SETS:
        raise ParamsError(
            f"params.yaml: '{prefix}.feature_set' is {feature_set!r}; known: {', '.join(VECTOR_FEATURE_SETS)}."
        )


def validate_model_params(name: str, params: dict[str, Any]) -> None:
    """A Keras ``train.<name>`` block: every training key present, counts positive."""
    prefix = f"train.{name}"
    for key in ("architecture", "feature_set", *TRAINING_KEYS):
        if key not in params:
            raise ParamsError(f"params.yaml: missing key '{prefix}.{key}'.")
    if params["architecture"] not in KERAS_ARCHITECTURES:
        raise ParamsError(
            f"params.yaml: '{prefix}.architecture' is {params['architecture']!r}; known: {', '.join(KERAS_ARCHITECTURES)}."
        )
    _known_feature_set(prefix, params["feature_set"])
    for key in ("seeds", "batch_size", "epochs", "early_stopping_patience", "reduce_lr_patience"):
        if not is_int(params[key]) or params[key] <= 0:
            raise ParamsError(f"params.yaml: '{prefix}.{key}' must be a positive integer, got {params[key]!r}.")
    if not is_int(params["min_epochs"]) or params["min_epochs"] < 0:
        raise ParamsError(f"params.yaml: '{prefix}.min_epochs' must be a non-negative integer, got {params['min_epochs']!r}.")
    for key in ("learning_rate", "min_learning_rate"):
        if not is_number(params[key]) or params[key] <= 0:
            raise ParamsError(f"params.yaml: '{prefix}.{key}' must be a positive number, got {params[key]!r}.")
    if not is_number(params["reduce_lr_factor"]) or not 0 < params["reduce_lr_factor"] < 1:
        raise ParamsError(
            f"params.yaml: '{prefix}.reduce_lr_factor' must be between 0 and 1, got {params['reduce_lr_factor']!r}."
        )


def validate_sklearn_spec(prefix: str, spec: Any) -> None:
    """A scikit-learn model's settings: a known architecture and feature set; C (a positive number or a non-empty
    list of them) and n_estimators (a positive integer) where given."""
    spec = _mapping(spec, prefix)
    for key in ("architecture", "feature_set"):
        if key not in spec:
            raise ParamsError(f"params.yaml: missing key '{prefix}.{key}'.")
    if spec["architecture"] not in SKLEARN_ARCHITECTURES:
        raise ParamsError(f"params.yaml: '{prefix}.architecture' must be one of {', '.join(SKLEARN_ARCHITECTURES)}.")
    _known_feature_set(prefix, spec["feature_set"])
    if "C" in spec:
        grid = spec["C"] if isinstance(spec["C"], list) else [spec["C"]]
        if not grid or not all(is_number(value) and value > 0 for value in grid):
            raise ParamsError(
                f"params.yaml: '{prefix}.C' must be a positive number or a non-empty list of them, got {spec['C']!r}."
            )
    if "n_estimators" in spec and (not is_int(spec["n_estimators"]) or spec["n_estimators"] <= 0):
        raise ParamsError(f"params.yaml: '{prefix}.n_estimators' must be a positive integer, got {spec['n_estimators']!r}.")


def validate_sklearn_params(name: str, params: dict[str, Any]) -> None:
    """A scikit-learn ``train.<name>`` block."""
    validate_sklearn_spec(f"train.{name}", params)


def validate_ensemble_params(name: str, params: dict[str, Any], trained_models: dict[str, Any]) -> None:
    """An ensemble ``train.<name>`` block: members that are other ``train`` entries, at least two in all."""
    prefix = f"train.{name}"
    for key in ("members", "sklearn_members", "selection_rounds", "feature_set"):
        if key not in params:
            raise ParamsError(f"params.yaml: missing key '{prefix}.{key}'.")
    if params["members"] != ALL_MODELS:
        _list(params["members"], f"{prefix}.members")
    members = ensemble_members(trained_models, name)
    for member in members:
        if member not in trained_models or member == name:
            raise ParamsError(f"params.yaml: '{prefix}.members' names {member!r}, which is not another train.* model.")
    own_members = _mapping(params["sklearn_members"], f"{prefix}.sklearn_members")
    for member, spec in own_members.items():
        validate_sklearn_spec(f"{prefix}.sklearn_members.{member}", spec)
        if member in members:
            raise ParamsError(f"params.yaml: '{prefix}.sklearn_members.{member}' has the name of a member in '{prefix}.members'.")
    if len(members) + len(own_members) < 2:
        raise ParamsError(f"params.yaml: '{prefix}' needs at least two members.")
    rounds = params["selection_rounds"]
    if not is_int(rounds) or rounds <= 0:
        raise ParamsError(f"params.yaml: '{prefix}.selection_rounds' must be a positive integer, got {rounds!r}.")
    if not isinstance(params.get("channel_shifted_val", False), bool):
        raise ParamsError(f"params.yaml: '{prefix}.channel_shifted_val' must be true or false, got {params['channel_shifted_val']!r}.")


def check_train(models: Any, n_mels: int = 64) -> None:
    """``train``: every block a known Keras, CRNN, scikit-learn or ensemble model with valid settings
    (``n_mels``: ``frames.n_mels``, which a CRNN's pooling must leave a band of)."""
    if not isinstance(models, dict) or not models:
        raise ParamsError("params.yaml: 'train' must map model names to their blocks.")
    for name, block in models.items():
        if not isinstance(block, dict):
            raise ParamsError(f"params.yaml: 'train.{name}' must be a block of settings.")
        architecture = block.get("architecture")
        if architecture in KERAS_ARCHITECTURES:
            validate_model_params(name, block)
        elif architecture in FRAME_ARCHITECTURES:
            validate_crnn_params(name, block, n_mels)
        elif architecture in SKLEARN_ARCHITECTURES:
            validate_sklearn_params(name, block)
        elif architecture == "ensemble":
            validate_ensemble_params(name, block, models)
        else:
            known = ", ".join((*KERAS_ARCHITECTURES, *FRAME_ARCHITECTURES, *SKLEARN_ARCHITECTURES, "ensemble"))
            raise ParamsError(f"params.yaml: 'train.{name}.architecture' is {architecture!r}; known: {known}.")


def check_split(params: dict[str, Any]) -> None:
    """Named actors must exist in RAVDESS and not sit in two splits; drawn splits must not be empty."""
    named = {}
    for key in ("split.test_actors", "split.val_actors"):
        actors = require(params, key) or []
        if not isinstance(actors, list) or not all(is_int(actor) and actor in ACTORS for actor in actors):
            raise ParamsError(f"params.yaml: '{key}' must be a list of actor numbers 1-24, got {actors!r}.")
        named[key] = set(actors)
    check_disjoint_splits(named["split.test_actors"], named["split.val_actors"])
    drawn = sum(require_positive_int(params, key) for key in ("split.n_test_actors", "split.n_val_actors"))
    if drawn >= len(ACTORS):
        raise ParamsError("params.yaml: 'split.n_test_actors' and 'split.n_val_actors' leave no RAVDESS actor to train on.")


def check_corpora(params: dict[str, Any]) -> None:
    """``corpora``: known labelled corpora in ``extra``, each with its block (a source string, speaker lists that share
    no speaker, positive draw counts)."""
    from soundmind.data.corpus_names import SPEAKER_NUMBER_BASE as LABELLED_CORPORA

    block = _mapping(params.get("corpora", {}) or {}, "corpora")
    extra = _list(block.get("extra", []) or [], "corpora.extra")
    for name in extra:
        if name not in LABELLED_CORPORA:
            raise ParamsError(f"params.yaml: 'corpora.extra' names {name!r}; known corpora: {', '.join(LABELLED_CORPORA)}.")
        if extra.count(name) > 1:
            raise ParamsError(f"params.yaml: 'corpora.extra' names {name!r} twice.")
    # A listed corpus needs its block; a block present is checked even while its corpus is not listed.
    for name in LABELLED_CORPORA:
        if name not in extra and name not in block:
            continue
        corpus = _mapping(block.get(name), f"corpora.{name}")
        if not isinstance(corpus.get("source", ""), str):
            raise ParamsError(f"params.yaml: 'corpora.{name}.source' must be a path (or empty), got {corpus['source']!r}.")
        named = {}
        for key in ("test_speakers", "val_speakers"):
            speakers = _list(corpus.get(key, []) or [], f"corpora.{name}.{key}")
            if not all(isinstance(speaker, (str, int)) and not isinstance(speaker, bool) for speaker in speakers):
                raise ParamsError(f"params.yaml: 'corpora.{name}.{key}' must list speaker ids, got {speakers!r}.")
            named[f"corpora.{name}.{key}"] = {str(speaker) for speaker in speakers}
        check_disjoint_splits(*named.values(), keys=tuple(named))
        for key in ("n_test_speakers", "n_val_speakers"):
            if key in corpus:
                require_positive_int(params, f"corpora.{name}.{key}")


def check_cv(params: dict[str, Any]) -> None:
    """``cv``: the fold count, protocols, ensemble rounds, worker processes and models."""
    check_fold_count(require(params, "cv.folds"))
    protocols = require(params, "cv.protocols")
    if not isinstance(protocols, list) or not protocols or not set(protocols) <= set(CV_PROTOCOLS):
        raise ParamsError(f"params.yaml: 'cv.protocols' must be a non-empty list of {', '.join(CV_PROTOCOLS)}, got {protocols!r}.")
    require_positive_int(params, "cv.ensemble_rounds")
    require_positive_int(params, "cv.n_jobs")
    if not isinstance(require(params, "cv.channel_shifted_val"), bool):
        raise ParamsError(f"params.yaml: 'cv.channel_shifted_val' must be true or false, got {params['cv']['channel_shifted_val']!r}.")
    check_cv_models(require(params, "cv.models"), require(params, "train"))
    if any(params["train"][name]["architecture"] in FRAME_ARCHITECTURES for name in params["cv"]["models"]):
        require_positive_int(params, "cv.crnn_seeds")


def check_audit(params: dict[str, Any]) -> None:
    """``audit``: three split shares summing to 1 and a scikit-learn model."""
    fractions = require(params, "audit.fractions")
    if (
        not isinstance(fractions, list) or len(fractions) != 3
        or not all(is_number(value) and value > 0 for value in fractions) or abs(sum(fractions) - 1) > 1e-6
    ):
        raise ParamsError(f"params.yaml: 'audit.fractions' must be three positive shares summing to 1, got {fractions!r}.")
    model = _mapping(require(params, "audit.model"), "audit.model")
    if model.get("architecture") not in SKLEARN_ARCHITECTURES:
        raise ParamsError(f"params.yaml: 'audit.model.architecture' must be one of {', '.join(SKLEARN_ARCHITECTURES)}.")


def check_calibration(params: dict[str, Any]) -> None:
    """``calibration``: a non-empty list of distinct plain ``train.*`` models, a positive bin count and an accuracy
    in (0, 1) for the uncertain threshold."""
    if require(params, "calibration.models") != ALL_MODELS:
        _list(require(params, "calibration.models"), "calibration.models")
    names = calibrated_models(params)
    if not names or len(set(map(str, names))) != len(names):
        raise ParamsError(f"params.yaml: 'calibration.models' must be a non-empty list of distinct models, got {names!r}.")
    for name in names:
        if not isinstance(name, str) or name not in require(params, "train"):
            raise ParamsError(f"params.yaml: 'calibration.models' names {name!r}, which is not a train.* model.")
    require_positive_int(params, "calibration.bins")
    accuracy = require(params, "calibration.uncertain_accuracy")
    if not is_number(accuracy) or not 0 < accuracy < 1:
        raise ParamsError(f"params.yaml: 'calibration.uncertain_accuracy' must be between 0 and 1, got {accuracy!r}.")


def check_speech(params: dict[str, Any]) -> None:
    """``speech``: the settings ``SpeechSettings`` takes, each a number where it wants one (a word would fail
    its range check with a TypeError that names no key)."""
    from dataclasses import fields

    from soundmind.serving.settings import SpeechSettings

    values = _mapping(require(params, "speech"), "speech")
    numeric = {item.name for item in fields(SpeechSettings)} - {"detect"}
    for key, value in values.items():
        if key in numeric and not is_number(value):
            raise ParamsError(f"params.yaml: 'speech.{key}' must be a number, got {value!r}.")
    try:
        SpeechSettings.from_params(values)
    except ValueError as error:
        raise ParamsError(f"params.yaml: {error}.") from error


def check_params(params: dict[str, Any]) -> None:
    """Refuse the first bad value in any block with one sentence naming its key."""
    from soundmind.data.augment import augment_settings_from_params
    from soundmind.data.channel import channel_settings_from_params
    from soundmind.features.channel_copies import channel_copy_families
    from soundmind.features.parallel import backend_from_params
    from soundmind.features.spectral import feature_settings_from_params

    if not is_int(require(params, "base.seed")) or params["base"]["seed"] < 0:
        raise ParamsError(f"params.yaml: 'base.seed' must be a non-negative integer, got {params['base']['seed']!r}.")
    require_positive_int(params, "audio.sample_rate")
    require_positive_int(params, "data.expected_clips")
    require_choice(params, "data.on_bad_file", ON_BAD_FILE)
    check_split(params)
    check_corpora(params)
    augment_settings_from_params(params)
    channel_settings_from_params(params)
    channel_settings_from_params(params, "channel_augment")
    require_positive_int(params, "channel_augment.copies")
    channel_copy_families(params)
    try:
        feature_settings_from_params(params)
    except ValueError as error:
        raise ParamsError(f"params.yaml: features: {error}.") from error
    backend_from_params(params)
    check_frames(params)
    check_train(require(params, "train"), require_positive_int(params, "frames.n_mels"))
    require_positive_int(params, "training.seed_workers")
    check_cv(params)
    check_audit(params)
    check_calibration(params)
    check_speech(params)
