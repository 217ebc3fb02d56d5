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

CHANNEL_CONDITIONS = ("telephone", "room", "cheap_microphone")
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

    def __post_init__(self) -> None:
        unknown = sorted(set(self.conditions) - set(CHANNEL_CONDITIONS))
        if unknown or not self.conditions:
            raise ValueError(f"channel_shift.conditions must be a non-empty subset of {CHANNEL_CONDITIONS}, got {list(self.conditions)}")
        if self.rooms < 1:
            raise ValueError(f"channel_shift.rooms must be at least 1, got {self.rooms}")
        if self.rt60_seconds[0] <= 0:
            raise ValueError(f"channel_shift.rt60_seconds must be positive, got {list(self.rt60_seconds)}")


def channel_settings_from_params(params: dict) -> ChannelSettings:
    """Return the ``channel_shift.*`` block as settings; a bad value is refused naming its key."""
    from soundmind.errors import ParamsError
    from soundmind.params import is_int, require, require_range

    rooms = require(params, "channel_shift.rooms")
    if not is_int(rooms):
        raise ParamsError(f"params.yaml: 'channel_shift.rooms' must be an integer, got {rooms!r}.")
    conditions = require(params, "channel_shift.conditions")
    if not isinstance(conditions, list):
        raise ParamsError(f"params.yaml: 'channel_shift.conditions' must be a list, got {conditions!r}.")
    try:
        return ChannelSettings(
            conditions=tuple(conditions),
            noise_snr_db=require_range(params, "channel_shift.noise_snr_db"),
            gain_db=require_range(params, "channel_shift.gain_db"),
            rooms=int(rooms),
            rt60_seconds=require_range(params, "channel_shift.rt60_seconds"),
        )
    except ValueError as error:
        raise ParamsError(f"params.yaml: {error}.") from error


def room_impulse_responses(settings: ChannelSettings, sample_rate: int, seed: int) -> list[np.ndarray]:
    """Return ``settings.rooms`` simulated impulse responses (shoebox rooms of random size and reverberation time,
    talker and microphone 1-4 m apart), each scaled to unit energy so that a room colours the clip without
    changing its level."""
    import pyroomacoustics

    rng = np.random.default_rng([seed, 0x524F4F4D])  # "ROOM": a stream of its own
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


def shift_waveform(
    waveform: np.ndarray, sample_rate: int, condition: str, settings: ChannelSettings,
    rooms: list[np.ndarray], rng: np.random.Generator,
) -> np.ndarray:
    """Return ``waveform`` through ``condition``, with background noise and a gain drawn from ``settings``."""
    from scipy.signal import fftconvolve

    if condition == "telephone":
        shifted = telephone_board(rng)(waveform, sample_rate)
    elif condition == "room":
        response = rooms[int(rng.integers(len(rooms)))]
        shifted = fftconvolve(waveform, response)[: len(waveform)].astype(np.float32)
    elif condition == "cheap_microphone":
        shifted = cheap_microphone_board(rng)(waveform, sample_rate)
    else:
        raise ValueError(f"unknown channel condition {condition!r}; known: {', '.join(CHANNEL_CONDITIONS)}")
    shifted = with_noise_at_snr(np.asarray(shifted, dtype=np.float32), float(rng.uniform(*settings.noise_snr_db)),
                                float(rng.choice([0.0, 1.0, 2.0])), rng)
    shifted = shifted * np.float32(10.0 ** (rng.uniform(*settings.gain_db) / 20.0))
    peak = float(np.max(np.abs(shifted))) if len(shifted) else 0.0
    if peak > PEAK_LIMIT:
        shifted = shifted * np.float32(PEAK_LIMIT / peak)
    return shifted.astype(np.float32)


# The copy index of the shifted copy's generator: never the draws of one of the clip's augmented copies.
SHIFT_STREAM = 2**32 - 1
SHIFTED_COLUMNS = ["clip_id", "source_clip", "path", "actor", "emotion", "augmentation", "amount"]


def _shift_clip(row: dict, raw_dir: Path, out_dir: Path, sample_rate: int, settings: ChannelSettings,
                rooms: list[np.ndarray], seed: int) -> dict:
    waveform = load_audio(raw_dir / row["path"], sample_rate)
    rng = clip_generator(seed, row["clip_id"], SHIFT_STREAM)
    condition = settings.conditions[int(rng.integers(len(settings.conditions)))]
    shifted = shift_waveform(waveform, sample_rate, condition, settings, rooms, rng)
    shifted_id = f"{row['clip_id']}_{condition}"
    relative_path = Path(f"Actor_{row['actor']:02d}") / f"{shifted_id}.flac"
    write_flac(out_dir / relative_path, shifted, sample_rate)
    return {"clip_id": shifted_id, "source_clip": row["clip_id"], "path": relative_path.as_posix(),
            "actor": row["actor"], "emotion": row["emotion"], "augmentation": condition, "amount": 0.0}


def shift_every_clip(
    manifest: pd.DataFrame, raw_dir: Path, out_dir: Path, *, sample_rate: int, settings: ChannelSettings,
    seed: int, n_jobs: int = -1,
) -> pd.DataFrame:
    """Write one channel-shifted copy of every original clip (one condition drawn per clip) and return their
    manifest, in the augmented manifest's columns (``augmentation`` names the condition)."""
    rooms = room_impulse_responses(settings, sample_rate, seed)
    records = manifest.sort_values("clip_id").to_dict("records")
    rows = Parallel(n_jobs=n_jobs)(
        delayed(_shift_clip)(row, raw_dir, out_dir, sample_rate, settings, rooms, seed)
        for row in tqdm(records, desc="channel shift", unit="clip")
    )
    return pd.DataFrame(rows, columns=SHIFTED_COLUMNS).sort_values("clip_id").reset_index(drop=True)
