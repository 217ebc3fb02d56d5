"""Speaker adaptation: profiles (enroll, save, load, refuse), prediction through an adapted bundle, per-folder
leave-one-out adaptation, and scoring a labelled folder through the real command line."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from soundmind.data.ravdess import EMOTIONS
from soundmind.errors import SpeakerProfileError
from soundmind.features.normalise import speaker_normalise, speaker_normalise_frames
from soundmind.errors import ParamsError
from soundmind.features.speaker_prior import clip_count_of, typical_speaker_deviation
from soundmind.serving.adapt import predict_per_folder
from soundmind.serving.labelled import labels_from_names, usable_clips
from soundmind.serving.predict import AdaptedBundleMissing, EmotionPredictor, PredictionError, available_bundles
from soundmind.serving.speaker import PRIOR_FILE, SpeakerPrior, SpeakerProfile, adapted_weight, shrunk_deviation
from tests.conftest import REPO_ROOT
from tests.tiny_bundles import RICH_SETTINGS, TINY_MODEL, rich_rows, write_tiny_bundles
from tests.tiny_corpus import synthetic_clip

RATE = 16000


@pytest.fixture(scope="module")
def models(corpus, tmp_path_factory) -> Path:
    return write_tiny_bundles(corpus, tmp_path_factory.mktemp("models"))


@pytest.fixture(scope="module")
def predictor(models) -> EmotionPredictor:
    return EmotionPredictor(TINY_MODEL, models)


def actor_clips(corpus: Path, actor: int) -> list[Path]:
    return sorted((corpus / f"Actor_{actor:02d}").glob("*.wav"))


def write_clip(path: Path, emotion: str, actor: int, statement: int = 1) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(path), synthetic_clip(emotion, actor, statement, RATE, 1.0), RATE, subtype="PCM_16")
    return path


# --- profiles ------------------------------------------------------------------------------------------------


def test_enroll_save_load_round_trip(predictor, corpus, tmp_path):
    clips = actor_clips(corpus, 1)[:5]
    profile = predictor.enroll(clips)
    profile.save(tmp_path / "me.json")
    loaded = SpeakerProfile.load(tmp_path / "me.json")

    assert loaded.clip_count == profile.clip_count == 5
    assert loaded.families == {"rich"} and loaded.settings == profile.settings == predictor.bundle.feature_settings
    for family, (mean, std) in profile.statistics.items():
        np.testing.assert_array_equal(loaded.statistics[family][0], mean)
        np.testing.assert_array_equal(loaded.statistics[family][1], std)
    features = predictor.clip_features(clips[0]).features
    np.testing.assert_array_equal(loaded.normalise(features)["rich"], profile.normalise(features)["rich"])
    assert loaded.source == str(tmp_path / "me.json")


def test_a_profile_normalises_exactly_as_the_speaker_normalised_protocol(corpus):
    paths = actor_clips(corpus, 2) + actor_clips(corpus, 3)
    matrix = rich_rows(paths).astype(np.float64)  # as the cross-validation reads its tables
    actors = np.array([2] * 16 + [3] * 16)
    per_clip = [{"rich": row[None, :]} for row in matrix[:16]]
    profile = SpeakerProfile.from_features(per_clip, {"rich": {}})
    np.testing.assert_allclose(profile.normalise({"rich": matrix[:16]})["rich"], speaker_normalise(matrix, actors)[:16],
                               rtol=0, atol=1e-12)

    rng = np.random.default_rng(0)
    frames = [rng.normal(-40, 10, size=(30 + index, 8)).astype(np.float16) for index in range(4)]
    frames[0][:, 3] = -100.0  # a flat band stays finite, as in the protocol
    frame_profile = SpeakerProfile.from_features([{"frames": [clip]} for clip in frames], {"frames": {}})
    expected = speaker_normalise_frames(frames, np.zeros(4))
    for got, want in zip(frame_profile.normalise({"frames": frames})["frames"], expected):
        np.testing.assert_array_equal(got, want)


def test_one_clip_is_not_a_profile(predictor, corpus):
    with pytest.raises(SpeakerProfileError, match="at least 2 clips"):
        predictor.enroll(actor_clips(corpus, 1)[:1])


# --- refusals ----------------------------------------------------------------------------------------------


def mutate(payload: dict, how: str) -> str | dict:
    rich = payload["families"]["rich"]
    if how == "settings":
        rich["settings"]["n_fft"] = 1024
    elif how == "family":
        payload["families"] = {"compare": rich}
    elif how == "width":
        rich["mean"], rich["std"] = rich["mean"][:10], rich["std"][:10]
    elif how == "negative":
        rich["std"][0] = -1.0
    elif how == "not json":
        return '{"format": "soundmind speaker profile", '
    elif how == "no clips":
        del payload["clips"]
    return payload


@pytest.mark.parametrize("how, reason", [
    ("settings", "rich features were made with .*'n_fft': 1024"),
    ("family", "holds the compare features but model 'tiny_adapted' needs rich"),
    ("width", "has 10 rich features, the clip 392"),
    ("negative", "deviations non-negative"),
    ("not json", "not valid JSON"),
    ("no clips", "missing key 'clips'"),
])
def test_a_mismatched_or_broken_profile_is_refused_naming_the_file(predictor, corpus, tmp_path, how, reason):
    predictor.enroll(actor_clips(corpus, 1)[:3]).save(tmp_path / "me.json")
    changed = mutate(json.loads((tmp_path / "me.json").read_text()), how)
    (tmp_path / "me.json").write_text(changed if isinstance(changed, str) else json.dumps(changed))
    with pytest.raises(SpeakerProfileError, match=reason) as caught:
        predictor.predict(actor_clips(corpus, 1)[5], speaker=SpeakerProfile.load(tmp_path / "me.json"))
    message = str(caught.value)
    assert message.startswith(str(tmp_path / "me.json")) and message.count(". ") == 0 and message.endswith(".")


# --- prediction with a profile ---------------------------------------------------------------------------------


def test_predict_with_a_profile_scores_the_normalised_features_with_the_adapted_bundle(predictor, corpus):
    enrolled, new = actor_clips(corpus, 3)[:8], actor_clips(corpus, 3)[8:]
    profile = predictor.enroll(enrolled)
    results = predictor.predict_many(new, speaker=profile)
    plain = predictor.predict_many(new)

    adapted = predictor.adapted_bundle()
    mean, std = profile.statistics["rich"]
    expected = adapted.pipeline.predict_proba((rich_rows(new) - mean) / np.where(std > 1e-12, std, 1.0))
    for result, row, plain_result in zip(results, expected, plain):
        assert result["model"] == "tiny_adapted" and plain_result["model"] == "tiny"
        assert result["speaker_profile_clips"] == 8 and "speaker_profile_clips" not in plain_result
        np.testing.assert_allclose([result["probabilities"][label] for label in EMOTIONS], row, atol=1e-6)
    assert any(a["probabilities"] != p["probabilities"] for a, p in zip(results, plain))


def test_without_an_adapted_bundle_speaker_adaptation_names_it_and_its_stage(corpus, tmp_path):
    write_tiny_bundles(corpus, tmp_path / "models", adapted=False)
    lone = EmotionPredictor(TINY_MODEL, tmp_path / "models")
    profile = lone.enroll(actor_clips(corpus, 1)[:3])
    with pytest.raises(AdaptedBundleMissing, match=r"tiny_adapted: no adapted bundle .* the train-adapted stage makes it"):
        lone.predict(actor_clips(corpus, 1)[4], speaker=profile)
    assert lone.predict(actor_clips(corpus, 1)[4])["model"] == "tiny"


def test_an_adapted_bundle_is_never_picked_or_loaded_as_a_plain_model(models):
    assert available_bundles(models) == [TINY_MODEL]
    with pytest.raises(PredictionError, match="is an adapted bundle"):
        EmotionPredictor("tiny_adapted", models)


# --- per-folder adaptation -----------------------------------------------------------------------------------


def test_per_folder_adaptation_never_normalises_a_clip_with_itself(predictor, corpus, tmp_path):
    (tmp_path / "a").mkdir()
    speaker_a = [Path(shutil.copy(path, tmp_path / "a")) for path in actor_clips(corpus, 2)[:4]]
    speaker_b = [write_clip(tmp_path / "b" / f"{emotion}.wav", emotion, actor=3) for emotion in ("sad", "happy")]
    results = predict_per_folder(predictor, speaker_a + speaker_b)

    assert [result["file"] for result in results] == [str(path) for path in speaker_a + speaker_b]
    for index, (path, result) in enumerate(zip(speaker_a, results)):
        assert result["speaker_profile_clips"] == 3 and result["model"] == "tiny_adapted"
        others = predictor.enroll([other for other in speaker_a if other != path])
        with_itself = predictor.enroll(speaker_a)
        assert result["probabilities"] == predictor.predict(path, speaker=others)["probabilities"]
        assert result["probabilities"] != predictor.predict(path, speaker=with_itself)["probabilities"]
    for result in results[4:]:
        assert result["model"] == "tiny" and "speaker_profile_clips" not in result
        assert "2 clip(s), and 3 are needed" in result["adaptation"]


def soundmind(*arguments: object) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "soundmind", *map(str, arguments)], cwd=REPO_ROOT, capture_output=True,
                          text=True, timeout=300, check=False)


def test_enroll_then_predict_with_the_speaker_and_per_folder_through_the_cli(models, corpus, tmp_path):
    clips = actor_clips(corpus, 1)
    enrolled = soundmind("enroll", *clips[:6], "-o", tmp_path / "me.json", "--model", TINY_MODEL, "--models-dir", models)
    assert enrolled.returncode == 0, enrolled.stderr
    assert SpeakerProfile.load(tmp_path / "me.json").clip_count == 6

    adapted = soundmind("predict", *clips[6:9], "--speaker", tmp_path / "me.json", "--json", "--model", TINY_MODEL,
                        "--models-dir", models)
    assert adapted.returncode == 0, adapted.stderr
    lines = [json.loads(line) for line in adapted.stdout.splitlines()]
    assert [line["model"] for line in lines] == ["tiny_adapted"] * 3
    assert {line["speaker_profile_clips"] for line in lines} == {6}

    per_folder = soundmind("predict", corpus / "Actor_02", "--adapt-per-folder", "--json", "--model", TINY_MODEL,
                           "--models-dir", models)
    assert per_folder.returncode == 0, per_folder.stderr
    assert {json.loads(line)["speaker_profile_clips"] for line in per_folder.stdout.splitlines()} == {15}

    (tmp_path / "broken.json").write_text("[]")
    refused = soundmind("predict", clips[0], "--speaker", tmp_path / "broken.json", "--model", TINY_MODEL,
                        "--models-dir", models)
    assert refused.returncode == 1
    assert refused.stderr.strip().splitlines() == [f"error: {tmp_path / 'broken.json'}: is not a usable speaker profile "
                                                   f"(expected format 'soundmind speaker profile' version 1)."]


# --- labelled folders ----------------------------------------------------------------------------------------


def test_emodb_names_give_speakers_and_emotions_and_boredom_is_left_out(tmp_path):
    for name, emotion in (("03a01Wa", "angry"), ("03a02Lb", "calm"), ("10b09Tc", "sad")):
        write_clip(tmp_path / f"{name}.wav", emotion, actor=1)
    clips = labels_from_names(tmp_path)
    assert [(clip.path.stem, clip.emotion, clip.speaker) for clip in clips] == [
        ("03a01Wa", "angry", "03"), ("03a02Lb", None, "03"), ("10b09Tc", "sad", "10")]
    kept, notes = usable_clips(clips, {}, EMOTIONS)
    assert [clip.path.stem for clip in kept] == ["03a01Wa", "10b09Tc"]
    assert len(notes) == 1 and "1 clip(s) labelled 'boredom'" in notes[0]


def test_evaluate_a_labelled_folder_with_a_label_map_through_the_cli(models, tmp_path):
    names = {"anger": "angry", "joy": "happy", "sorrow": "sad"}
    rows = ["path,emotion,speaker"]
    for speaker in (4, 5):
        for statement in (1, 2):
            for own, emotion in names.items():
                path = write_clip(tmp_path / "audio" / f"s{speaker}" / f"{own}{statement}.wav", emotion, speaker, statement)
                rows.append(f"{path.relative_to(tmp_path)},{own},s{speaker}")
    write_clip(tmp_path / "audio" / "bored.wav", "calm", 4)
    rows.append("audio/bored.wav,boredom,s4")
    (tmp_path / "labels.csv").write_text("\n".join(rows) + "\n")

    result = subprocess.run(
        [sys.executable, "-m", "soundmind", "evaluate", str(tmp_path / "audio"), "--labels", str(tmp_path / "labels.csv"),
         "--label-map", "anger=angry, joy=happy,sorrow=sad", "--model", TINY_MODEL, "--models-dir", str(models),
         "--output", str(tmp_path / "report.json")],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["model"] == "tiny" and report["classes"] == ["happy", "sad", "angry"]
    assert any("1 clip(s) labelled 'boredom'" in note for note in report["notes"])
    for kind in ("one_clip", "adapted"):
        figures = report[kind]
        matrix = figures["confusion_matrix"]
        assert figures["clips"] == 12 and sorted(matrix) == sorted(report["classes"])  # JSON keys are sorted
        assert sum(sum(row.values()) for row in matrix.values()) == 12
        assert all(sum(matrix[label].values()) == 4 for label in report["classes"])
        recalls = {label: matrix[label][label] / 4 for label in report["classes"]}
        assert figures["per_class_recall"] == pytest.approx(recalls, abs=1e-4)
        assert figures["unweighted_average_recall"] == pytest.approx(np.mean(list(recalls.values())), abs=1e-4)
        diagonal = sum(matrix[label][label] for label in report["classes"])
        assert figures["accuracy"] == pytest.approx(diagonal / 12, abs=1e-4)
    assert report["adapted"]["model"] == "tiny_adapted" and report["adapted"]["adapted_clips"] == 12
    assert {row["speaker_profile_clips"] for row in report["predictions"]} == {5}
    assert {row["one_clip"] for row in report["predictions"]} <= set(report["classes"])
    assert f"one_clip: 12 clips, accuracy {report['one_clip']['accuracy']:.2%}" in result.stdout


def test_a_small_profile_is_shrunk_towards_the_prior_and_a_large_one_hardly_moved():
    own, prior = np.array([0.0, 1.0, 4.0]), np.array([2.0, 2.0, 2.0])
    np.testing.assert_allclose(shrunk_deviation(own, 1, prior, 8), np.sqrt((own**2 + 8 * 4.0) / 9))
    np.testing.assert_allclose(shrunk_deviation(own, 8, prior, 0), own)
    np.testing.assert_allclose(shrunk_deviation(own, 1000, prior, 8)[1:], own[1:], atol=0.02)
    # A one-clip profile (deviation 0) divides by the prior's deviation, no longer by 1.
    assert shrunk_deviation(own, 1, prior, 8)[0] == pytest.approx(np.sqrt(32 / 9))
    with pytest.raises(ValueError):
        shrunk_deviation(own, 0, prior, 8)


def test_the_typical_deviation_is_the_root_mean_square_of_each_actors_own():
    values = np.array([[0.0], [2.0], [10.0], [16.0]])
    actors = np.array([1, 1, 2, 2])
    assert typical_speaker_deviation(values, actors, frames=False) == pytest.approx([np.sqrt((1.0 + 9.0) / 2)])
    frames = [np.array([[0.0], [2.0]]), np.array([[4.0], [6.0]]), np.array([[1.0], [1.0]])]
    assert typical_speaker_deviation(frames, np.array([1, 1, 2]), frames=True) == pytest.approx([np.sqrt((5.0 + 0.0) / 2)])


def test_the_predictor_shrinks_profiles_with_the_prior_beside_its_bundles(corpus, tmp_path):
    models = write_tiny_bundles(corpus, tmp_path / "models")
    clips = actor_clips(corpus, 1)
    plain = EmotionPredictor(TINY_MODEL, models)
    profile = plain.enroll(clips[:2])
    without = plain.predict(clips[5], speaker=profile)["probabilities"]

    width = plain.clip_features(clips[0]).features["rich"].shape[1]
    prior = SpeakerPrior({"rich": np.full(width, 50.0)}, clips=8, settings={"rich": RICH_SETTINGS})
    (models / PRIOR_FILE).write_text(json.dumps(prior.to_json()))
    shrunk = EmotionPredictor(TINY_MODEL, models)
    assert shrunk.predict(clips[5], speaker=profile)["probabilities"] != pytest.approx(without, rel=1e-3)
    assert shrunk.speaker_prior.clips == 8
    (models / PRIOR_FILE).write_text(json.dumps(SpeakerPrior(prior.deviations, clips=0, settings=prior.settings).to_json()))
    assert EmotionPredictor(TINY_MODEL, models).predict(clips[5], speaker=profile)["probabilities"] == without

    # A prior of other features, or a damaged one, is refused when adapting, naming its file; plain answers go on.
    refused = {
        "settings": (SpeakerPrior(prior.deviations, 8, settings={"rich": {**RICH_SETTINGS, "n_fft": 1024}}).to_json(),
                     r"was not measured on the rich features model 'tiny_adapted' reads \(other feature settings\)"),
        "family": (SpeakerPrior({}, 8).to_json(), r"rich features model 'tiny_adapted' reads \(missing\)"),
        "negative": ({**prior.to_json(), "blend_clips": -2}, r"is not a usable speaker prior \(blend_clips must be a whole number"),
        "nan": ({**prior.to_json(), "deviations": {"rich": [float("nan")] * width}}, r"deviations must be a list of finite"),
        "no count": ({**prior.to_json(), "blend_clips": None}, r"blend_clips must be a whole number"),
        "no deviations": ({"clips": 8}, r"is not a usable speaker prior \(missing key 'deviations'\)"),
    }
    for payload, message in refused.values():
        (models / PRIOR_FILE).write_text(json.dumps(payload))
        predictor = EmotionPredictor(TINY_MODEL, models)
        assert predictor.predict(clips[5])["emotion"] in EMOTIONS
        with pytest.raises(PredictionError, match=r"speaker_prior\.json: .*" + message):
            predictor.predict(clips[5], speaker=profile)
    (models / PRIOR_FILE).write_text("{not json")
    with pytest.raises(PredictionError, match=r"speaker_prior\.json: is not a usable speaker prior .*rerun the speaker-prior stage"):
        EmotionPredictor(TINY_MODEL, models).enroll(clips[:2])

    # Hand-edited to other widths with the right settings, it is still refused before scoring.
    (models / PRIOR_FILE).write_text(json.dumps(SpeakerPrior({"rich": np.full(width + 1, 50.0)}, 8, settings=prior.settings).to_json()))
    with pytest.raises(SpeakerProfileError, match=rf"speaker_prior\.json: the speaker prior has {width + 1} rich features"):
        EmotionPredictor(TINY_MODEL, models).predict(clips[5], speaker=profile)


def test_a_small_profile_leans_on_the_plain_answer_and_a_large_one_on_the_adapted():
    assert adapted_weight(4, 4) == pytest.approx(0.5) and adapted_weight(1, 4) == pytest.approx(0.2)
    assert adapted_weight(8, 0) == 1.0 and adapted_weight(60, 4) > 0.9
    np.testing.assert_allclose(adapted_weight(np.array([1, 4, 12]), 4), [0.2, 0.5, 0.75])
    for clips, blend_clips in ((0, 4), (4, -1)):
        with pytest.raises(ValueError):
            adapted_weight(clips, blend_clips)
    assert clip_count_of({"adaptation": {"blend_clips": 0}}, "adaptation.blend_clips") == 0
    for bad in (-1, 2.5, True, "4"):
        with pytest.raises(ParamsError, match=r"'adaptation\.blend_clips' must be a whole number of 0 or more"):
            clip_count_of({"adaptation": {"blend_clips": bad}}, "adaptation.blend_clips")


def test_the_predictor_blends_the_adapted_answer_with_the_plain_one_by_profile_size(corpus, tmp_path):
    models = write_tiny_bundles(corpus, tmp_path / "models")
    clips = actor_clips(corpus, 1)
    predictor = EmotionPredictor(TINY_MODEL, models)
    profile = predictor.enroll(clips[:2])
    plain = predictor.predict(clips[5])
    adapted_alone = predictor.predict(clips[5], speaker=profile)
    assert adapted_alone["adapted_weight"] == 1.0  # no prior beside the bundles: the adapted answer alone
    assert adapted_alone["probabilities"] != pytest.approx(plain["probabilities"], rel=1e-3)

    width = predictor.clip_features(clips[0]).features["rich"].shape[1]
    prior = SpeakerPrior({"rich": np.ones(width)}, clips=0, blend_clips=6, settings={"rich": RICH_SETTINGS})
    (models / PRIOR_FILE).write_text(json.dumps(prior.to_json()))
    blended = EmotionPredictor(TINY_MODEL, models).predict(clips[5], speaker=profile)
    assert blended["adapted_weight"] == 0.25 and blended["speaker_profile_clips"] == 2  # 2 / (2 + 6)
    expected = {label: 0.25 * adapted_alone["probabilities"][label] + 0.75 * plain["probabilities"][label]
                for label in EMOTIONS}
    assert blended["probabilities"] == pytest.approx(expected, rel=1e-5)
    assert blended["model"] == adapted_alone["model"] != plain["model"]
