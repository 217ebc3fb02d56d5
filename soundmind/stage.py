"""What every stage script shares: one clear sentence and a non-zero exit on bad input."""

from __future__ import annotations

import sys
from typing import Callable

from soundmind.errors import SoundmindError


def run_stage(main: Callable[[], None]) -> None:
    try:
        main()
    except (SoundmindError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        sys.exit(1)
