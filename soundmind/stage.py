"""What every stage script shares: one clear sentence and a non-zero exit on bad input."""

from __future__ import annotations

import sys
from typing import Callable

from soundmind.errors import SoundmindError


def run_stage(main: Callable[[], None]) -> None:
    try:
        main()
    # ValueError: the package's factories and settings refuse bad arguments with one sentence.
    except (SoundmindError, FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
