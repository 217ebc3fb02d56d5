"""speaker-prior: the training actors' typical within-voice deviation of every feature, into
models/speaker_prior.json, towards which the predictor shrinks a speaker profile of few clips; with how much a small
profile's adapted answer leans on the plain one."""

from soundmind.features.frame_store import load_family_inputs
from soundmind.features.sets import FAMILIES
from soundmind.features.speaker_prior import clip_count_of, family_settings, training_voice_deviations
from soundmind.files import write_json
from soundmind.params import load_params
from soundmind.paths import MODELS, PRIOR_FILE
from soundmind.serving.speaker import SpeakerPrior
from soundmind.stage import run_stage



def main() -> None:
    params = load_params()
    prior_clips, blend_clips = clip_count_of(params, "adaptation.prior_clips"), clip_count_of(params, "adaptation.blend_clips")
    # Every family an adapted recipe can read: an adapted bundle reading one the prior lacks refuses it.
    inputs = load_family_inputs(set(FAMILIES))
    prior = SpeakerPrior(training_voice_deviations(inputs), prior_clips, blend_clips, family_settings(inputs))
    write_json(MODELS / PRIOR_FILE, prior.to_json())
    print(f"speaker prior from the training actors: {', '.join(f'{name} {len(values)}' for name, values in prior.deviations.items())} "
          f"features, worth {prior_clips} clips; adapted answers blended with the plain ones from {blend_clips} clips")


if __name__ == "__main__":
    run_stage(main)
