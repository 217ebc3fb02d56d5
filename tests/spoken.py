"""Real spoken sentences for the speech-detection tests: Debian's espeak-ng speaks them to WAV files (the tiny
corpus's synthetic tones are no speech to a detector). .ci/run installs espeak-ng, as it installs chromium."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile

from soundmind.audio import to_mono_at_rate

SENTENCES = (
    "The kids are talking by the door.",
    "Dogs are sitting by the door, waiting for dinner.",
    "I cannot believe you did that again.",
    "Please put the books back on the shelf.",
)


def spoken(sentences: tuple[str, ...], folder: Path, rate: int) -> list[np.ndarray]:
    """Each sentence spoken by espeak-ng, mono at ``rate``; skips the test when espeak-ng is not installed."""
    program = shutil.which("espeak-ng")
    if program is None:
        pytest.skip("the speech tests need Debian's espeak-ng (apt-get install espeak-ng; .ci/run installs it)")
    folder.mkdir(parents=True, exist_ok=True)
    waveforms = []
    for index, sentence in enumerate(sentences):
        path = folder / f"sentence{index}.wav"
        subprocess.run([program, "-s", "150", "-w", str(path), sentence], check=True, capture_output=True)
        samples, native_rate = soundfile.read(str(path), dtype="float32")
        waveforms.append(to_mono_at_rate(samples, native_rate, rate))
    return waveforms
