"""Held-out recording channels: each clip as a telephone line, another room or a cheap microphone would deliver it.

Model selection sees these copies beside the clean val clips (issue 21): RAVDESS's val actors share its studio and
microphone with the training actors, so on clean val alone a model that learns the channel looks best. The effects
come from maintained libraries: Pedalboard (filters, EQ, the GSM and MP3 codecs) and pyroomacoustics (simulated room
impulse responses). Every copy is drawn from a generator seeded by the clip id, so a rerun writes the same audio.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from tqdm import tqdm

from soundmind.audio import load_audio, write_flac
from soundmind.data.augment import clip_generator

# Held out: only the val/test copies of shift-channels pass through these.
CHANNEL_CONDITIONS = ("telephone", "room", "cheap_microphone")
# Training only (augment-channels): other codecs (a resampled, bit-crushed line instead of GSM and MP3), another bank
# of rooms and another family of EQ curves, so that the shifted val copies judge channels no model trained on.
TRAINING_CONDITIONS = ("narrowband", "reverberant_room", "microphone_eq")
CONDITIONS_OF_BLOCK = {"channel_shift": CHANNEL_CONDITIONS, "channel_augment": TRAINING_CONDITIONS}
# Each block's bank of simulated rooms is drawn from a stream of its own: the training rooms are never the held-out ones.
ROOM_STREAM_OF_BLOCK = {"channel_shift": 0x524F4F4D, "channel_augment": 0x5452524D}
# Kept below full scale after the channel's gain, as a recorder's limiter would.
PEAK_LIMIT = 0.99


@dataclass(frozen=True)
class ChannelSettings:
    """The ``channel_shift`` block: which conditions, how much noise, and the bank of simulated rooms."""

    conditions: tuple[str, ...]
    noise_snr_db: tuple[float, float]
    gain_db: tuple[float, float]
    rooms: int
    rt60_seconds: tuple[float, float]
    # channel_shift (held-out conditions) or channel_augment (training conditions): what it may name, its rooms.
    block: str = "channel_shift"

    def __post_init__(self) -> None:
        known = CONDITIONS_OF_BLOCK[self.block]
        unknown = sorted(set(self.conditions) - set(known))
        if unknown or not self.conditions:
            raise ValueError(f"{self.block}.conditions must be a non-empty subset of {known}, got {list(self.conditions)}")
        if self.rooms < 1:
            raise ValueError(f"{self.block}.rooms must be at least 1, got {self.rooms}")
        if self.rt60_seconds[0] <= 0:
            raise ValueError(f"{self.block}.rt60_seconds must be positive, got {list(self.rt60_seconds)}")


def channel_settings_from_params(params: dict, block: str = "channel_shift") -> ChannelSettings:
    """Return the ``channel_shift.*`` (or ``channel_augment.*``) block as settings; a bad value is refused naming its key."""
    from soundmind.errors import ParamsError
    from soundmind.params import is_int, require, require_range

    rooms = require(params, f"{block}.rooms")
    if not is_int(rooms):
        raise ParamsError(f"params.yaml: '{block}.rooms' must be an integer, got {rooms!r}.")
    conditions = require(params, f"{block}.conditions")
    if not isinstance(conditions, list):
        raise ParamsError(f"params.yaml: '{block}.conditions' must be a list, got {conditions!r}.")
    try:
        return ChannelSettings(
            conditions=tuple(conditions),
            noise_snr_db=require_range(params, f"{block}.noise_snr_db"),
            gain_db=require_range(params, f"{block}.gain_db"),
            rooms=int(rooms),
            rt60_seconds=require_range(params, f"{block}.rt60_seconds"),
            block=block,
        )
    except ValueError as error:
        raise ParamsError(f"params.yaml: {error}.") from error


def room_impulse_responses(settings: ChannelSettings, sample_rate: int, seed: int) -> list[np.ndarray]:
    """Return ``settings.rooms`` simulated impulse responses (shoebox rooms of random size and reverberation time,
    talker and microphone 1-4 m apart), each scaled to unit energy so that a room colours the clip without
    changing its level."""
    import pyroomacoustics

    rng = np.random.default_rng([seed, ROOM_STREAM_OF_BLOCK[settings.block]])
    responses = []
    for _ in range(settings.rooms):
        size = np.array([rng.uniform(3.5, 10.0), rng.uniform(3.0, 8.0), rng.uniform(2.5, 3.5)])
        rt60 = float(rng.uniform(*settings.rt60_seconds))
        absorption, max_order = pyroomacoustics.inverse_sabine(rt60, size.tolist())
        room = pyroomacoustics.ShoeBox(size.tolist(), fs=sample_rate, materials=pyroomacoustics.Material(absorption),
                                       max_order=min(max_order, 40))
        talker = size * rng.uniform(0.2, 0.8, size=3)
        direction = rng.normal(size=3)
        microphone = np.clip(talker + direction / np.linalg.norm(direction) * rng.uniform(1.0, 4.0), 0.3, size - 0.3)
        room.add_source(talker.tolist())
        room.add_microphone(microphone.tolist())
        room.compute_rir()
        response = np.asarray(room.rir[0][0], dtype=np.float64)
        responses.append((response / np.sqrt(np.sum(response**2))).astype(np.float32))
    return responses


def coloured_noise(length: int, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """Return unit-power noise whose power falls as 1/f**exponent (0 white, 1 pink, 2 brown)."""
    spectrum = np.fft.rfft(rng.normal(size=length))
    frequencies = np.fft.rfftfreq(length)
    frequencies[0] = frequencies[1] if length > 1 else 1.0
    noise = np.fft.irfft(spectrum / frequencies ** (exponent / 2.0), n=length)
    return (noise / (np.sqrt(np.mean(noise**2)) or 1.0)).astype(np.float32)


def with_noise_at_snr(waveform: np.ndarray, snr_db: float, exponent: float, rng: np.random.Generator) -> np.ndarray:
    """Return ``waveform`` plus coloured noise ``snr_db`` decibels below its power."""
    signal_power = float(np.mean(waveform**2)) or 1e-12
    noise = coloured_noise(len(waveform), exponent, rng) * np.sqrt(signal_power / 10.0 ** (snr_db / 10.0))
    return waveform + noise


def telephone_board(rng: np.random.Generator) -> Any:
    """A telephone line: the 300-3,400 Hz band and the GSM full-rate codec (8 kHz inside)."""
    import pedalboard

    low, high = float(rng.uniform(250.0, 350.0)), float(rng.uniform(3200.0, 3600.0))
    # Each filter falls 6 dB per octave: two of each make the band's edges as steep as a telephone's.
    return pedalboard.Pedalboard([
        pedalboard.HighpassFilter(low), pedalboard.HighpassFilter(low),
        pedalboard.LowpassFilter(high), pedalboard.LowpassFilter(high),
        pedalboard.GSMFullRateCompressor(),
    ])


def cheap_microphone_board(rng: np.random.Generator) -> Any:
    """A small microphone and a low-bitrate MP3: weak bass, a resonant peak or notch, a tilted top."""
    import pedalboard

    return pedalboard.Pedalboard([
        pedalboard.LowShelfFilter(float(rng.uniform(150.0, 400.0)), float(rng.uniform(-14.0, -4.0))),
        pedalboard.PeakFilter(float(np.exp(rng.uniform(np.log(500.0), np.log(5000.0)))),
                              float(rng.choice([-1.0, 1.0]) * rng.uniform(4.0, 10.0)), float(rng.uniform(0.7, 2.0))),
        pedalboard.HighShelfFilter(float(rng.uniform(3500.0, 6000.0)), float(rng.uniform(-10.0, 4.0))),
        pedalboard.MP3Compressor(float(rng.uniform(7.0, 9.5))),
    ])


def narrowband_board(rng: np.random.Generator) -> Any:
    """A narrow, coarse line (training only): bass cut, resampled down to 6-11 kHz and back with a cheap
    interpolator (its images and aliases stand in for a codec), the top rolled off below the new Nyquist
    frequency, and 9-13 bit quantisation."""
    import pedalboard

    qualities = [pedalboard.Resample.Quality.ZeroOrderHold, pedalboard.Resample.Quality.Linear,
                 pedalboard.Resample.Quality.CatmullRom]
    rate = float(rng.uniform(6000.0, 11025.0))
    return pedalboard.Pedalboard([
        pedalboard.HighpassFilter(float(rng.uniform(100.0, 300.0))),
        pedalboard.Resample(rate, quality=qualities[int(rng.integers(len(qualities)))]),
        pedalboard.LowpassFilter(0.4 * rate), pedalboard.LowpassFilter(0.4 * rate),
        pedalboard.Bitcrush(float(rng.uniform(9.0, 13.0))),
    ])


# The graphic equaliser's octave bands (training only; the held-out microphones use shelves and one resonance).
EQ_BAND_HERTZ = (200.0, 400.0, 800.0, 1600.0, 3200.0, 6400.0)


def microphone_eq_board(rng: np.random.Generator) -> Any:
    """Another microphone and preamp (training only): a random six-band graphic EQ (+-8 dB an octave) and a
    gentle top roll-off."""
    import pedalboard

    bands = [pedalboard.PeakFilter(centre, float(rng.uniform(-8.0, 8.0)), 1.4) for centre in EQ_BAND_HERTZ]
    return pedalboard.Pedalboard([*bands, pedalboard.LowpassFilter(float(rng.uniform(4500.0, 7800.0)))])


def shift_waveform(
    waveform: np.ndarray, sample_rate: int, condition: str, settings: ChannelSettings,
    rooms: list[np.ndarray], rng: np.random.Generator,
) -> np.ndarray:
    """Return ``waveform`` through ``condition``, with background noise and a gain drawn from ``settings``."""
    from scipy.signal import fftconvolve

    boards = {"telephone": telephone_board, "cheap_microphone": cheap_microphone_board,
              "narrowband": narrowband_board, "microphone_eq": microphone_eq_board}
    if condition in ("room", "reverberant_room"):
        response = rooms[int(rng.integers(len(rooms)))]
        shifted = fftconvolve(waveform, response)[: len(waveform)].astype(np.float32)
    elif condition in boards:
        shifted = boards[condition](rng)(waveform, sample_rate)
    else:
        raise ValueError(f"unknown channel condition {condition!r}; known: {', '.join(CHANNEL_CONDITIONS + TRAINING_CONDITIONS)}")
    shifted = with_noise_at_snr(np.asarray(shifted, dtype=np.float32), float(rng.uniform(*settings.noise_snr_db)),
                                float(rng.choice([0.0, 1.0, 2.0])), rng)
    shifted = shifted * np.float32(10.0 ** (rng.uniform(*settings.gain_db) / 20.0))
    peak = float(np.max(np.abs(shifted))) if len(shifted) else 0.0
    if peak > PEAK_LIMIT:
        shifted = shifted * np.float32(PEAK_LIMIT / peak)
    return shifted.astype(np.float32)


# The copy index of the shifted copy's generator: never the draws of one of the clip's augmented copies.
SHIFT_STREAM = 2**32 - 1
# Training channel copy k draws from TRAINING_STREAM - k: never the held-out copy's or an augmented copy's draws.
TRAINING_STREAM = 2**32 - 2
SHIFTED_COLUMNS = ["clip_id", "source_clip", "path", "actor", "emotion", "augmentation", "amount"]


def _channel_copy(row: dict, raw_dir: Path, out_dir: Path, sample_rate: int, settings: ChannelSettings,
                  rooms: list[np.ndarray], seed: int, stream: int, suffix: str | None) -> dict:
    """Write one copy of ``row``'s clip through a condition drawn from ``stream``; it is named
    ``<clip>_<suffix>``, or ``<clip>_<condition>`` without a suffix."""
    waveform = load_audio(raw_dir / row["path"], sample_rate)
    rng = clip_generator(seed, row["clip_id"], stream)
    condition = settings.conditions[int(rng.integers(len(settings.conditions)))]
    shifted = shift_waveform(waveform, sample_rate, condition, settings, rooms, rng)
    copy_id = f"{row['clip_id']}_{suffix or condition}"
    relative_path = Path(f"Actor_{row['actor']:02d}") / f"{copy_id}.flac"
    write_flac(out_dir / relative_path, shifted, sample_rate)
    return {"clip_id": copy_id, "source_clip": row["clip_id"], "path": relative_path.as_posix(),
            "actor": row["actor"], "emotion": row["emotion"], "augmentation": condition, "amount": 0.0}


def _channel_copies(jobs: list[tuple[dict, int, str | None]], raw_dir: Path, out_dir: Path, *, sample_rate: int,
                    settings: ChannelSettings, seed: int, n_jobs: int, description: str) -> pd.DataFrame:
    rooms = room_impulse_responses(settings, sample_rate, seed)
    rows = Parallel(n_jobs=n_jobs)(
        delayed(_channel_copy)(row, raw_dir, out_dir, sample_rate, settings, rooms, seed, stream, suffix)
        for row, stream, suffix in tqdm(jobs, desc=description, unit="clip")
    )
    return pd.DataFrame(rows, columns=SHIFTED_COLUMNS).sort_values("clip_id").reset_index(drop=True)


def shift_every_clip(
    manifest: pd.DataFrame, raw_dir: Path, out_dir: Path, *, sample_rate: int, settings: ChannelSettings,
    seed: int, n_jobs: int = -1,
) -> pd.DataFrame:
    """Write one channel-shifted copy of every original clip (one condition drawn per clip) and return their
    manifest, in the augmented manifest's columns (``augmentation`` names the condition)."""
    jobs = [(row, SHIFT_STREAM, None) for row in manifest.sort_values("clip_id").to_dict("records")]
    return _channel_copies(jobs, raw_dir, out_dir, sample_rate=sample_rate, settings=settings, seed=seed,
                           n_jobs=n_jobs, description="channel shift")


def training_channel_copies(
    manifest: pd.DataFrame, raw_dir: Path, out_dir: Path, *, sample_rate: int, settings: ChannelSettings,
    copies: int, seed: int, n_jobs: int = -1,
) -> pd.DataFrame:
    """Write ``copies`` copies of every original clip (``<clip>_chan<k>``) through training conditions (the
    channel_augment block) and return their manifest. Every actor's clips are copied so that each cross-validation
    fold trains on its own training actors' copies as the shipped models do on the train split's; only the rows of
    training actors are ever trained on (val and test keep their originals only)."""
    if settings.block != "channel_augment":
        raise ValueError(f"training copies take the channel_augment block's conditions, got the {settings.block} block")
    jobs = [(row, TRAINING_STREAM - copy, f"chan{copy}")
            for row in manifest.sort_values("clip_id").to_dict("records") for copy in range(copies)]
    return _channel_copies(jobs, raw_dir, out_dir, sample_rate=sample_rate, settings=settings, seed=seed,
                           n_jobs=n_jobs, description="channel copies")
