"""The CRNN: its architecture from params.yaml, its bundle's seed averaging, and long clips scored in windows."""

from __future__ import annotations

import json
import math
from dataclasses import asdict

import numpy as np
import pytest

from soundmind.data.ravdess import EMOTIONS
from soundmind.data.synthetic import synthetic_clip
from soundmind.features.frames import FrameSettings, clip_frames, standardise_per_band
from soundmind.models.bundle import load_bundle, save_bundle
from soundmind.models.crnn import build_crnn, build_crnn_from_params, build_strided_crnn
from soundmind.models.crnn_inputs import windowed_probabilities
from soundmind.models.frame_bundle import FrameBundle
from soundmind.models.keras_backend import keras
from soundmind.serving.predict import EmotionPredictor

SETTINGS = FrameSettings()
TINY = dict(conv_filters=[4, 4, 8, 8], gru_units=4)


def expected_parameters(params: dict, n_mels: int, classes: int) -> int:
    """Conv (weights, bias, 4 batch-norm values per channel), bidirectional GRU (Keras' reset_after: two biases),
    attention score, softmax layer."""
    channels = [1, *params["conv_filters"]]
    kernel = params["kernel_size"]
    conv = sum(kernel * kernel * inputs * outputs + outputs + 4 * outputs for inputs, outputs in zip(channels, channels[1:]))
    width = n_mels // math.prod(pool[1] for pool in params["pool_sizes"]) * channels[-1]
    units = params["gru_units"]
    gru = 2 * 3 * (width * units + units * units + 2 * units)
    return conv + gru + (2 * units + 1) + (2 * units * classes + classes)


def test_the_crnn_of_params_yaml_has_its_blocks_and_parameter_count(project_params):
    params = project_params["train"]["crnn"]
    model = build_crnn_from_params(params, project_params["frames"]["n_mels"], len(EMOTIONS))
    kinds = [layer.__class__.__name__ for layer in model.layers]
    assert kinds.count("Conv2D") == 4 and kinds.count("Bidirectional") == 1
    convs = [layer for layer in model.layers if layer.__class__.__name__ == "Conv2D"]
    assert [layer.filters for layer in convs] == params["conv_filters"] == [16, 32, 64, 64]
    assert all(layer.kernel_size == (3, 3) for layer in convs)
    pools = [list(layer.pool_size) for layer in model.layers if layer.__class__.__name__ == "MaxPooling2D"]
    assert pools == params["pool_sizes"]
    assert {layer.momentum for layer in model.layers if layer.__class__.__name__ == "BatchNormalization"} == {0.9}
    assert model.get_layer("bidirectional_gru").forward_layer.units == 64
    assert kinds[-5:] == ["Softmax", "Dot", "Reshape", "Dropout", "Dense"]  # attention pooling, then the softmax
    n_mels = project_params["frames"]["n_mels"]
    assert model.count_params() == expected_parameters(params, n_mels, 8)
    # at the 64 mel bands, the same blocks are its 185 k parameters
    assert build_crnn_from_params(params, 64, 8).count_params() == expected_parameters(params, 64, 8) == 185_737
    # any number of frames: the GRU runs over whatever time the convolutions leave
    assert model.predict_on_batch(np.zeros((2, 57, n_mels), np.float32)).shape == (2, 8)


@pytest.mark.parametrize("arguments", [
    dict(n_mels=0), dict(num_classes=1), dict(conv_filters=[]), dict(pool_sizes=[[2, 2]] * 3),
    dict(pool_sizes=[[2, 4]] * 4), dict(gru_units=0), dict(conv_dropout=1.0), dict(batch_norm_momentum=1.0),
])
def test_build_crnn_refuses_bad_arguments(arguments):
    with pytest.raises(ValueError):
        build_crnn(**{"n_mels": 64, "num_classes": 8, **arguments})


# benchmarks/frame_models.py's candidate: train.crnn's recipe with a strided 2D front end and a 1D back end.
STRIDED = dict(architecture="strided_crnn", front_filters=[32, 32], conv1d_filters=[128, 128], conv1d_kernel_size=3,
               conv1d_pools=[2, 1])


def expected_strided_parameters(params: dict, n_mels: int, classes: int) -> int:
    """Front convs 3x3 and 1D convs (weights, bias, 4 batch-norm values per channel), then the CRNN's GRU and head."""
    channels = [1, *params["front_filters"]]
    front = sum(9 * inputs * outputs + outputs + 4 * outputs for inputs, outputs in zip(channels, channels[1:]))
    bands = n_mels
    for _ in params["front_filters"]:
        bands = math.ceil(bands / 2)  # stride 2, "same" padding
    widths = [bands * channels[-1], *params["conv1d_filters"]]
    kernel = params["conv1d_kernel_size"]
    conv1d = sum(kernel * inputs * outputs + outputs + 4 * outputs for inputs, outputs in zip(widths, widths[1:]))
    units = params["gru_units"]
    gru = 2 * 3 * (widths[-1] * units + units * units + 2 * units)
    return front + conv1d + gru + (2 * units + 1) + (2 * units * classes + classes)


@pytest.mark.parametrize("n_mels", [40, 64])
def test_the_strided_crnn_of_params_has_a_strided_2d_front_a_1d_back_and_its_parameter_count(project_params, n_mels):
    params = {**project_params["train"]["crnn"], **STRIDED}
    model = build_crnn_from_params(params, n_mels, len(EMOTIONS))
    assert model.name == "strided_crnn"
    kinds = [layer.__class__.__name__ for layer in model.layers]
    front = [layer for layer in model.layers if layer.__class__.__name__ == "Conv2D"]
    assert [layer.filters for layer in front] == STRIDED["front_filters"]
    assert all(layer.strides == (2, 2) and layer.kernel_size == (3, 3) for layer in front)
    assert kinds.index("Conv1D") > max(index for index, kind in enumerate(kinds) if kind == "Conv2D")
    assert [layer.filters for layer in model.layers if layer.__class__.__name__ == "Conv1D"] == STRIDED["conv1d_filters"]
    assert [layer.pool_size for layer in model.layers if layer.__class__.__name__ == "MaxPooling1D"] == [(2,)]
    assert model.get_layer("bidirectional_gru").forward_layer.units == params["gru_units"]
    assert kinds[-5:] == ["Softmax", "Dot", "Reshape", "Dropout", "Dense"]  # the CRNN's attention pooling and softmax
    assert model.count_params() == expected_strided_parameters(params, n_mels, len(EMOTIONS))
    # 300 frames: 75 after the front end (stride 2, twice), 37 after the first 1D block's pool
    sequence = keras.Model(model.inputs, model.get_layer("bidirectional_gru").output)
    assert sequence.predict_on_batch(np.zeros((1, 300, n_mels), np.float32)).shape == (1, 37, 2 * params["gru_units"])
    assert model.predict_on_batch(np.zeros((2, 57, n_mels), np.float32)).shape == (2, 8)


@pytest.mark.parametrize("arguments", [
    dict(n_mels=0), dict(num_classes=1), dict(front_filters=[]), dict(conv1d_filters=[64], conv1d_pools=[2, 1]),
    dict(conv1d_pools=[0, 1]), dict(conv1d_kernel_size=0), dict(gru_units=0), dict(head_dropout=1.0),
])
def test_build_strided_crnn_refuses_bad_arguments(arguments):
    with pytest.raises(ValueError):
        build_strided_crnn(**{"n_mels": 40, "num_classes": 8, **arguments})


def test_an_unknown_frame_architecture_is_refused_by_name(project_params):
    with pytest.raises(ValueError, match="'transformer'"):
        build_crnn_from_params({**project_params["train"]["crnn"], "architecture": "transformer"}, 40, 8)


def frame_bundle(seeds=(7, 8), crop_frames=100) -> FrameBundle:
    models = {}
    for seed in seeds:
        keras.utils.set_random_seed(seed)
        models[seed] = build_crnn(SETTINGS.n_mels, len(EMOTIONS), **TINY)
    metadata = {"name": "crnn", "architecture": "crnn", "feature_set": "frames", "crop_frames": crop_frames,
                "sample_rate": SETTINGS.sample_rate, "feature_settings": {"frames": asdict(SETTINGS)}}
    return FrameBundle(models=models, scaler=None, labels=list(EMOTIONS), metadata=metadata)


def test_a_crnn_bundle_answers_with_the_mean_of_its_seeds_and_round_trips(tmp_path):
    bundle = frame_bundle()
    clips = [clip_frames(synthetic_clip(emotion, 1, 1, SETTINGS.sample_rate, 0.8), SETTINGS) for emotion in EMOTIONS[:3]]
    per_seed = bundle.seed_probabilities({"frames": clips})
    assert list(per_seed) == [7, 8] and not np.allclose(per_seed[7], per_seed[8])
    np.testing.assert_allclose(bundle.probabilities({"frames": clips}), (per_seed[7] + per_seed[8]) / 2)

    save_bundle(bundle, tmp_path / "crnn")
    recorded = json.loads((tmp_path / "crnn" / "bundle.json").read_text())
    assert recorded["framework"] == "crnn" and recorded["seeds"] == [7, 8]
    assert not (tmp_path / "crnn" / "scaler.joblib").exists()
    loaded = load_bundle(tmp_path / "crnn")
    assert isinstance(loaded, FrameBundle) and loaded.required_families() == {"frames"}
    np.testing.assert_allclose(loaded.probabilities({"frames": clips}), bundle.probabilities({"frames": clips}), rtol=1e-5)


def test_a_clip_longer_than_the_crop_is_scored_as_the_mean_of_its_windows(tmp_path):
    bundle = frame_bundle(seeds=(3,), crop_frames=60)
    frames = clip_frames(synthetic_clip("happy", 2, 1, SETTINGS.sample_rate, 1.6), SETTINGS)[:150]
    standardised = standardise_per_band(frames)
    model = bundle.models[3]
    starts = [0, 30, 60, 90]  # half a crop apart, the last ending with the clip
    by_window = [model.predict_on_batch(standardised[None, start : start + 60]) for start in starts]
    np.testing.assert_allclose(bundle.probabilities({"frames": [frames]})[0], np.mean(by_window, axis=0)[0], rtol=1e-5)

    # Through the predictor, as the app and CLI score it: 10 s of audio in windows whose mean is the answer.
    save_bundle(bundle, tmp_path / "crnn")
    predictor = EmotionPredictor(tmp_path / "crnn")
    waveform = np.concatenate([synthetic_clip(emotion, 2, 1, SETTINGS.sample_rate, 2.5) for emotion in EMOTIONS[:4]])
    result = predictor.predict(waveform, SETTINGS.sample_rate)
    assert len(result["windows"]) >= 4
    mean = np.mean([[window["probabilities"][label] for label in EMOTIONS] for window in result["windows"]], axis=0)
    np.testing.assert_allclose([result["probabilities"][label] for label in EMOTIONS], mean / mean.sum(), rtol=1e-6)


def test_an_adapted_crnn_scores_the_speakers_normalised_frames_without_standardising_each_clip_again(tmp_path):
    bundle = frame_bundle(seeds=(5,), crop_frames=80)
    save_bundle(bundle, tmp_path / "crnn")
    bundle.metadata = {**bundle.metadata, "name": "crnn_adapted", "speaker_normalised": True}
    save_bundle(bundle, tmp_path / "crnn_adapted")
    # A synthetic tone is not speech: the detector would answer "no speech detected" instead of scoring it.
    predictor = EmotionPredictor(tmp_path / "crnn", detect_speech=False)
    rate = SETTINGS.sample_rate
    profile = predictor.enroll([(synthetic_clip(emotion, 4, 2, rate, 0.8), rate) for emotion in EMOTIONS[:4]])
    assert profile.families == {"frames"} and profile.statistics["frames"][0].shape == (SETTINGS.n_mels,)

    clip = synthetic_clip("sad", 4, 1, rate, 0.7)
    normalised = profile.normalise({"frames": [clip_frames(clip, SETTINGS)]})["frames"][0]
    expected = windowed_probabilities(bundle.models[5].predict_on_batch, [normalised], 80)[0]  # padded to a crop
    adapted = predictor.predict(clip, rate, speaker=profile)
    assert adapted["model"] == "crnn_adapted" and adapted["speaker_profile_clips"] == 4
    np.testing.assert_allclose([adapted["probabilities"][label] for label in EMOTIONS], expected, rtol=1e-5)
    assert not np.allclose(normalised, standardise_per_band(normalised), atol=1e-3)  # per-clip standardising would differ


def test_each_epoch_crops_one_version_of_every_clip_original_or_channel_copy():
    import pandas as pd

    from soundmind.models.crnn_training import AugmentedEpochs, channel_copies_by_clip

    params = {"batch_size": 4, "freq_masks": 0, "freq_mask_bands": 0, "time_masks": 0, "time_mask_frames": 0,
              "mixup_alpha": 0.0}
    index = pd.DataFrame({"clip_id": ["a", "a_chan0", "b"], "source_clip": ["a", "a", "b"],
                          "augmentation": ["none", "narrowband", "none"], "emotion": ["sad", "sad", "angry"]})
    clips = [np.full((8, 3), 1.0, np.float32), np.full((8, 3), 2.0, np.float32), np.full((8, 3), 3.0, np.float32)]
    kept, copies = channel_copies_by_clip(index, clips)
    assert kept["clip_id"].tolist() == ["a", "b"] and [len(others) for others in copies] == [1, 0]
    batches = AugmentedEpochs([clips[0], clips[2]], np.array([0, 1]), params, 8, seed=0, copies=copies)
    seen = set()
    for _ in range(20):
        batches.on_epoch_end()
        values = sorted(float(crop.mean()) for crop in batches.inputs)
        assert len(values) == 2 and values[1] == 3.0  # one version of each clip per epoch; "b" has only itself
        seen.add(values[0])
    assert seen == {1.0, 2.0}
    plain = AugmentedEpochs([clips[0], clips[2]], np.array([0, 1]), params, 8, seed=0)
    assert sorted(float(crop.mean()) for crop in plain.inputs) == [1.0, 3.0]


def test_the_strided_crnns_seeds_trained_side_by_side_in_two_workers_are_those_trained_in_turn_in_one(tmp_path):
    # The strided CRNN trains with the CRNN's loop; a seed repeats itself in another process, alone or beside another.
    from soundmind.models.crnn_training import fit_crnn_seeds

    rng = np.random.default_rng(1)
    clips = [rng.standard_normal((int(length), 16)).astype(np.float32) for length in rng.integers(30, 60, 24)]
    labels = np.arange(24) % 8
    params = dict(STRIDED, front_filters=[4, 4], conv1d_filters=[8], conv1d_pools=[2], conv_dropout=0.1, gru_units=4,
                  head_dropout=0.1, batch_norm_momentum=0.9, batch_size=8, epochs=2, min_epochs=0, warmup_epochs=1,
                  peak_learning_rate=0.01, weight_decay=0.01, label_smoothing=0.1, mixup_alpha=0.2, freq_masks=1,
                  freq_mask_bands=2, time_masks=1, time_mask_frames=5, jit_compile=False)

    def fit(seed_workers):
        models, histories, summary = fit_crnn_seeds(
            params, [5, 6], train_clips=clips, train_y=labels, val_clips=clips[:8], val_y=labels[:8], crop_frames=40,
            live_dir=tmp_path / f"curves{seed_workers}", seed_workers=seed_workers)
        return {seed: model.get_weights() for seed, model in models.items()}, histories, summary

    (in_turn, histories, summary), (side_by_side, parallel_histories, parallel_summary) = fit(1), fit(2)
    assert list(side_by_side) == [5, 6] and summary == parallel_summary and histories == parallel_histories
    assert len(histories[5]["accuracy"]) == 2 and 0.0 <= summary["val_accuracy"] <= 1.0
    for seed in (5, 6):
        assert all(np.array_equal(first, second) for first, second in zip(in_turn[seed], side_by_side[seed]))
    # Two seeds, two different models; each worker logged its seed's curves.
    assert not all(np.array_equal(first, second) for first, second in zip(side_by_side[5], side_by_side[6]))
    assert (tmp_path / "curves2/seed5").is_dir() and (tmp_path / "curves2/seed6").is_dir()
