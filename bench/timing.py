"""Repeated, interleaved timings and the machine they ran on.

Timings on a shared 2-core machine drift by tens of percent between seconds. Every comparison
here therefore times its candidates *interleaved* (kernel, anchor, kernel, anchor, ...) in one
process, each timing sample long enough (``min_time``) to average out scheduler noise, and
reports the median, min and max over the repeats. Ratios are ratios of medians.
"""

from __future__ import annotations

import os
import platform
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Stats:
    """Summary of repeated measurements (seconds, rates or bytes)."""

    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return float(np.median(self.values))

    @property
    def min(self) -> float:
        return float(np.min(self.values))

    @property
    def max(self) -> float:
        return float(np.max(self.values))

    def scaled(self, factor: float) -> Stats:
        return Stats(tuple(v * factor for v in self.values))

    def inverted(self, numerator: float = 1.0) -> Stats:
        """numerator / value (seconds per call -> calls per second)."""
        return Stats(tuple(numerator / v for v in self.values))

    def paired_ratio(self, other: Stats) -> list[float]:
        """[min, max] of the per-repeat ratios self[i] / other[i] (interleaved repeats)."""
        ratios = [a / b for a, b in zip(self.values, other.values)]
        return [float(min(ratios)), float(max(ratios))]

    def as_dict(self) -> dict:
        return {"median": self.median, "min": self.min, "max": self.max,
                "repeats": len(self.values), "values": list(self.values)}  # fmt: skip


def _calibrate(fn: Callable[[], object], min_time: float) -> int:
    """Calls per timing sample so that one sample lasts at least ``min_time`` (after a warm-up
    call, which also triggers any compilation)."""
    fn()
    t0 = time.perf_counter()
    fn()
    once = max(time.perf_counter() - t0, 1e-7)
    return max(1, int(np.ceil(min_time / once)))


def interleaved(fns: dict[str, Callable[[], object]], repeats: int,
                min_time: float) -> dict[str, Stats]:  # fmt: skip
    """Seconds per call of each function, timed in turn within every repeat."""
    inner = {name: _calibrate(fn, min_time) for name, fn in fns.items()}
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            for _ in range(inner[name]):
                fn()
            samples[name].append((time.perf_counter() - t0) / inner[name])
    return {name: Stats(tuple(v)) for name, v in samples.items()}


def alternating(fns: dict[str, Callable[[], object]], repeats: int) -> dict[str, Stats]:
    """Wall seconds of one call of each function per repeat, in turn (long runs: no warm-up
    or calibration calls)."""
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - t0)
    return {name: Stats(tuple(v)) for name, v in samples.items()}


def timed(fn: Callable[[], object], repeats: int) -> Stats:
    """Wall seconds of ``repeats`` calls (for long runs that need no inner loop)."""
    values = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        values.append(time.perf_counter() - t0)
    return Stats(tuple(values))


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _version(module: str) -> str:
    try:
        return __import__(module).__version__
    except ImportError:
        return "not installed"


_LIBRARIES = ("simstudy", "numpy", "scipy", "numba", "llvmlite", "pandas", "statsmodels", "pyarrow")


def machine() -> dict:
    """CPU, cores, threads, library versions and the code measured."""
    import numba

    from simstudy._jit import source_fingerprint

    def git(*args):
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()  # fmt: skip

    try:
        commit = git("rev-parse", "--short", "HEAD")
        dirty = bool(git("status", "--porcelain", "simstudy"))
    except (OSError, subprocess.CalledProcessError):
        commit, dirty = "unknown", False
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "numba_threads": numba.get_num_threads(),
        "platform": f"{platform.system()} {platform.release()} {platform.machine()}",
        "python": platform.python_version(),
        "versions": {m: _version(m) for m in _LIBRARIES},
        "simstudy_source": source_fingerprint(),
        "git": f"{commit}{' + uncommitted simstudy changes' if dirty else ''}",
        "load_average_start": list(os.getloadavg()),
    }
