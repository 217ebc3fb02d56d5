"""Long recordings read in blocks, so that an hour of audio is scored in bounded memory: one pass streams the
whole file (mono, resampled with a streaming soxr) through the speech detector, then each utterance's span is read
back on its own. In-memory audio (an upload's bytes, an array) goes through the same two passes."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Iterator

import numpy as np
import soundfile
import soxr

from soundmind.audio import to_mono_at_rate
from soundmind.errors import PredictionError

BLOCK_SECONDS = 30.0


class LongAudio:
    """A file (path or bytes) or an in-memory waveform, readable as a stream of blocks or span by span, mono at
    ``rate``. Raises PredictionError with one sentence naming it when it cannot be read."""

    def __init__(self, source: str | Path | bytes | np.ndarray, rate: int, name: str, native_rate: int | None = None) -> None:
        self.rate, self.name = rate, name
        self._waveform: np.ndarray | None = None
        self._source: str | io.BytesIO | None = None
        if isinstance(source, np.ndarray):
            self._waveform = to_mono_at_rate(source, int(native_rate or rate), rate)
            self.native_rate, self.native_frames = rate, len(self._waveform)
            return
        if isinstance(source, (str, Path)) and not Path(source).is_file():
            raise PredictionError(f"{name}: cannot be read (no such file).")
        self._source = str(source) if isinstance(source, (str, Path)) else io.BytesIO(bytes(source))
        try:
            info = soundfile.info(self._source)
        except (soundfile.LibsndfileError, RuntimeError, TypeError, ValueError) as error:
            raise PredictionError(f"{name}: cannot be decoded as audio ({error}).") from error
        finally:
            self._rewind()
        if info.frames <= 0:
            raise PredictionError(f"{name}: the file holds no audio samples.")
        self.native_rate, self.native_frames = int(info.samplerate), int(info.frames)

    @property
    def duration_seconds(self) -> float:
        return self.native_frames / self.native_rate

    def _rewind(self) -> None:
        if isinstance(self._source, io.BytesIO):
            self._source.seek(0)

    def blocks(self, block_seconds: float = BLOCK_SECONDS) -> Iterator[np.ndarray]:
        """The whole recording, mono at ``rate``, in consecutive blocks (resampled as one stream: no seams)."""
        if self._waveform is not None:
            step = int(block_seconds * self.rate)
            for start in range(0, len(self._waveform), step):
                yield self._waveform[start:start + step]
            return
        self._rewind()
        resampler = None if self.native_rate == self.rate else soxr.ResampleStream(self.native_rate, self.rate, 1, dtype="float32", quality="VHQ")
        frames = int(block_seconds * self.native_rate)
        for block in soundfile.blocks(self._source, blocksize=frames, dtype="float32", always_2d=True):
            mono = np.ascontiguousarray(block.mean(axis=1), dtype=np.float32)
            yield mono if resampler is None else resampler.resample_chunk(mono)
        if resampler is not None:
            yield resampler.resample_chunk(np.zeros(0, dtype=np.float32), last=True)

    def span(self, start_seconds: float, end_seconds: float) -> np.ndarray:
        """Mono audio at ``rate`` from ``start_seconds`` to ``end_seconds``, read on its own."""
        if self._waveform is not None:
            return self._waveform[int(round(start_seconds * self.rate)):int(round(end_seconds * self.rate))]
        self._rewind()
        first = int(round(start_seconds * self.native_rate))
        last = min(int(round(end_seconds * self.native_rate)), self.native_frames)
        samples, _ = soundfile.read(self._source, start=first, stop=last, dtype="float32", always_2d=True)
        return to_mono_at_rate(samples, self.native_rate, self.rate)
