"""Checking a timeline against known utterances: clips joined with pauses into one recording (whose spans are
known), then each segment matched to the clip it lies in, and the timeline's answers compared with the labels."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np


def join_with_pauses(waveforms: Sequence[np.ndarray], sample_rate: int, pause_seconds: float) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """One recording of ``waveforms`` with ``pause_seconds`` of silence between them, and each one's (start, end)."""
    if pause_seconds < 0:
        raise ValueError(f"pause_seconds must be zero or more, got {pause_seconds!r}")
    pause = np.zeros(int(round(pause_seconds * sample_rate)), dtype=np.float32)
    parts, spans, position = [], [], 0
    for index, waveform in enumerate(waveforms):
        if index:
            parts.append(pause)
            position += len(pause)
        parts.append(np.asarray(waveform, dtype=np.float32))
        spans.append((position / sample_rate, (position + len(waveform)) / sample_rate))
        position += len(waveform)
    return np.concatenate(parts), spans


def containing_span(start: float, end: float, spans: Sequence[tuple[float, float]], tolerance: float) -> int | None:
    """The index of the span that holds [start, end] within ``tolerance`` seconds, else None."""
    for index, (low, high) in enumerate(spans):
        if start >= low - tolerance and end <= high + tolerance:
            return index
    return None


def timeline_against_clips(rows: Sequence[dict[str, Any]], spans: Sequence[tuple[float, float]],
                           emotions: Sequence[str], tolerance: float = 0.3) -> dict[str, Any]:
    """How a timeline of a joined recording matches its clips: segments found, those inside one clip's span
    (± ``tolerance``), clips with exactly one segment, and the accuracy of the clips' answers (a clip's answer:
    the duration-weighted mean of its segments' probabilities; a clip with no segment counts as wrong)."""
    by_clip: dict[int, list[dict[str, Any]]] = {}
    outside = 0
    for row in rows:
        index = containing_span(row["start_seconds"], row["end_seconds"], spans, tolerance)
        if index is None:
            outside += 1
        else:
            by_clip.setdefault(index, []).append(row)
    correct = 0
    for index, emotion in enumerate(emotions):
        segments = by_clip.get(index, [])
        if not segments:
            continue
        weights = [row["end_seconds"] - row["start_seconds"] for row in segments]
        labels = list(segments[0]["probabilities"])
        mean = np.average([[row["probabilities"][label] for label in labels] for row in segments], axis=0, weights=weights)
        correct += labels[int(np.argmax(mean))] == emotion
    return {
        "clips": len(spans), "segments": len(rows), "segments_inside_one_clip": len(rows) - outside,
        "clips_with_one_segment": sum(len(found) == 1 for found in by_clip.values()),
        "clips_without_segment": len(spans) - len(by_clip), "tolerance_seconds": tolerance,
        "accuracy": round(correct / len(spans), 4) if spans else 0.0,
    }
