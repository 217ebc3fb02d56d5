"""Native libraries' start-up notes, kept off the user's terminal without hiding their warnings and errors."""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

# absl's informational lines ("I0000 00:00:17.5 1234 port.cc:153] ..."), its note that it was not initialised yet,
# and the second line of TensorFlow's CPU-feature note; absl's W/E/F lines are kept.
START_UP_NOTES = re.compile(
    r"^(I\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [\w.]+:\d+\] .*"
    r"|WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
    r"|To enable the following instructions: .* in other operations, rebuild TensorFlow with the appropriate compiler flags\.)$"
)


def without_start_up_notes(text: str) -> str:
    """``text`` without the lines that are native start-up notes."""
    return "".join(line for line in text.splitlines(keepends=True) if not START_UP_NOTES.match(line.rstrip("\n")))


@contextmanager
def native_start_up_notes_dropped() -> Iterator[None]:
    """Run the body with the process's standard error (file descriptor 2, where native code writes) going to a
    temporary file, then pass on everything it received except the start-up notes."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            kept = without_start_up_notes(captured.read().decode("utf-8", errors="replace"))
            if kept:
                sys.stderr.write(kept)
                sys.stderr.flush()
