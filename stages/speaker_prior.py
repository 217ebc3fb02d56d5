"""speaker-prior: the training actors' typical within-voice deviation of every feature, into
models/speaker_prior.json, towards which the predictor shrinks a speaker profile of few clips; with how much a small
profile's adapted answer leans on the plain one."""

from soundmind.features.frame_store import load_family_inputs
from soundmind.features.speaker_prior import clip_count_of, training_voice_deviations
from soundmind.files import write_json
from soundmind.params import load_params
from soundmind.paths import MODELS
from soundmind.serving.speaker import PRIOR_FILE, SpeakerPrior
from soundmind.stage import run_stage

# The families the adapted bundles read (train_adapted.models: the rich vector, ComParE, eGeMAPS, the frames).
FAMILIES = {"rich", "compare", "egemaps", "frames"}


def main() -> None:
    params = load_params()
    prior_clips, blend_clips = clip_count_of(params, "adaptation.prior_clips"), clip_count_of(params, "adaptation.blend_clips")
    deviations = training_voice_deviations(load_family_inputs(FAMILIES))
    write_json(MODELS / PRIOR_FILE, SpeakerPrior(deviations, prior_clips, blend_clips).to_json())
    print(f"speaker prior from the training actors: {', '.join(f'{name} {len(values)}' for name, values in deviations.items())} "
          f"features, worth {prior_clips} clips; adapted answers blended with the plain ones from {blend_clips} clips")


if __name__ == "__main__":
    run_stage(main)
