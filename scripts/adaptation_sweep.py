"""How adaptation.prior_clips and adaptation.blend_clips were chosen: the enrollment curve on the VAL actors.

    python scripts/adaptation_sweep.py [--draws 3] [--write]

Run on a built project (models/ensemble and its adapted twin, models/speaker_prior.json). For each weight of the
speaker prior (blend off) and each blend weight (prior at params.yaml's weight), the adapted accuracy of
adaptation.model on the val actors against the number of enrollment clips, scored by evaluate-external's own
enrollment curve (--draws random draws, 3 by default, seeded by base.seed). The test actors play no part. With --write it
goes to reports/adaptation_sweep.json.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))

PRIOR_CLIPS = [0, 2, 4, 8, 16, 32]
BLEND_CLIPS = [0, 2, 4, 8]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=3, help="random draws of the enrollment clips per k (default 3)")
    parser.add_argument("--write", action="store_true", help="write reports/adaptation_sweep.json")
    arguments = parser.parse_args()

    from dataclasses import replace

    import numpy as np

    from soundmind.serving.adaptation_report import enrollment_curve, enrollment_sizes, test_actor_features
    from soundmind.files import write_json
    from soundmind.params import load_params, require
    from soundmind.paths import MODELS
    from soundmind.serving.predict import EmotionPredictor

    params = load_params()
    predictor = EmotionPredictor(require(params, "adaptation.model"), MODELS)
    predictor.adapted_bundle()
    shipped = predictor.speaker_prior
    if shipped is None:
        sys.exit("error: models/speaker_prior.json is missing; run dvc repro speaker-prior first.")
    clips, actors, emotions = test_actor_features(predictor, split="val")
    sizes, draws, seed = enrollment_sizes(params), arguments.draws, require(params, "base.seed")

    def curve(prior_clips: int, blend_clips: int) -> dict[str, float]:
        predictor.speaker_prior = replace(shipped, clips=prior_clips, blend_clips=blend_clips)
        rows = enrollment_curve(predictor, clips, actors, emotions, sizes, draws, seed)
        accuracies = {row["k"]: row["adapted_accuracy"] for row in rows}
        print(f"prior_clips {prior_clips:>2}, blend_clips {blend_clips}: "
              + ", ".join(f"k={k} {value:.1%}" for k, value in accuracies.items())
              + f"; mean {np.mean(list(accuracies.values())):.1%} (plain {rows[0]['plain_accuracy']:.1%})", flush=True)
        return {**accuracies, "mean": round(float(np.mean(list(accuracies.values()))), 4), "plain": rows[0]["plain_accuracy"]}

    report = {
        "model": predictor.name, "val_actors": sorted(int(actor) for actor in np.unique(actors)), "clips": len(clips),
        "draws": draws,
        "prior_clips": {str(value): curve(value, 0) for value in PRIOR_CLIPS},
        "blend_clips": {str(value): curve(shipped.clips, value) for value in BLEND_CLIPS},
    }
    if arguments.write:
        write_json(REPO_ROOT / "reports" / "adaptation_sweep.json", report)


if __name__ == "__main__":
    main()
