"""What every stage script shares: params checked first, one clear sentence and a non-zero exit on bad input."""

from __future__ import annotations

import sys
from typing import Callable

from soundmind.errors import SoundmindError


def run_stage(main: Callable[[], None]) -> None:
    """Check all of params.yaml, then run ``main``; a bad input ends the stage with one sentence."""
    from soundmind.checks import check_params
    from soundmind.params import load_params

    try:
        # Every block, not just this stage's: the first stage `dvc repro` runs refuses a bad value
        # anywhere before any work is done.
        check_params(load_params())
        main()
    # ValueError: the package's factories and settings refuse bad arguments with one sentence.
    except (SoundmindError, FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
