"""Timing helpers the bench scripts share: a call repeated, reported as median and p95."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any


def median_p95(runs_ms: Sequence[float]) -> tuple[float, float]:
    """Median and 95th percentile (nearest rank, at least the smallest) of ``runs_ms``."""
    ordered = sorted(runs_ms)
    return statistics.median(ordered), ordered[max(0, int(len(ordered) * 0.95) - 1)]


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """Median and p95 milliseconds of ``repeat`` calls of ``fn``."""
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - start) * 1000)
    return median_p95(runs)
