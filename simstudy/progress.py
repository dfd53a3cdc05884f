"""Progress of a run: one bar (on a terminal) or a few plain lines (in a log).

The unit is the observation: a block of R replications of a cell with samples of size n is
n x R observations, and its cost is close to proportional to n x R. Percent, rate (obs/s) and
ETA all measure observations, so they agree with each other across cells of different n; a
replication count would finish the small-n cells first and predict a wrong ETA for the large-n
ones. Replications done/total are shown too, labelled, as information only.

The rate is the mean since :meth:`Progress.start` (done / elapsed, no smoothing), and the ETA
is ``elapsed / done x (total - done)``; both are shown only once a block has finished ("ETA
--" before). The caller starts the clock after every kernel is compiled, so compilation never
enters the rate.

Two modes, chosen by ``stream.isatty()`` unless ``is_terminal`` says otherwise:

* terminal: one line redrawn in place with ``\\r``, at most every ``mininterval`` seconds
  (and on the first block and at the end), completed by a newline on :meth:`Progress.close`;
* log (a file, a pipe, a batch job's stderr): no ``\\r`` ever, only newline-terminated lines: one
  at start, one each time the share done crosses another ``step`` percent or ``interval``
  seconds have passed since the previous line (whichever comes first; several steps crossed by
  one block give one line), and one at close. With the defaults that is at most 11 lines plus
  one a minute, however many blocks there are. Lines are only written when a block finishes.

A failing stream (closed, broken pipe) silences the display instead of failing the run.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import IO

__all__ = ["Progress", "format_count", "format_duration"]

_SI = ("k", "M", "G", "T", "P", "E")


def format_count(n: float) -> str:
    """A count with an SI suffix and about three significant digits.

    Below 1000 the rounded integer ("950"); then one decimal below 100 of the unit ("12.3k",
    "2.6M", "1.2G") and none from 100 ("123k"); a value that rounds up to 1000 of a unit moves
    to the next one ("1.0M", not "1000k").
    """
    if math.isnan(n):
        return "--"
    sign = "-" if n < 0 else ""
    x = abs(n)
    if math.isinf(x):
        return f"{sign}inf"
    if round(x) < 1000:
        return f"{sign}{round(x)}"
    for i, suffix in enumerate(_SI):
        scaled = x / 1000.0 ** (i + 1)
        if scaled < 99.95:
            return f"{sign}{scaled:.1f}{suffix}"
        if scaled < 999.5 or i == len(_SI) - 1:
            return f"{sign}{scaled:.0f}{suffix}"
    raise AssertionError("unreachable")


def format_duration(seconds: float) -> str:
    """A duration for people: "0.4 s", "9.9 s", "12 s", "3 min 05 s", "2 h 03 min".

    One decimal below 10 s, whole seconds below an hour, whole minutes from an hour (hours
    are not folded into days: "26 h 40 min"). Negative values count as 0; NaN and infinity
    give "--".
    """
    if not math.isfinite(seconds):
        return "--"
    seconds = max(0.0, float(seconds))
    if seconds < 9.95:
        return f"{seconds:.1f} s"
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    m = round(seconds / 60)
    return f"{m // 60} h {m % 60:02d} min"


def _is_tty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


class Progress:
    """Progress over ``total_observations`` observations (``total_replications`` replications).

    Call :meth:`start` when the work really begins (after compilation), :meth:`advance` once
    per finished block, :meth:`skip` for a block that will not be computed, and :meth:`close`
    at the end (idempotent). As a context manager, leaving the ``with`` block closes it;
    entering does not start the clock. Safe to call from several threads.

    ``stream`` defaults to ``sys.stderr`` (looked up when the object is made); ``is_terminal``
    defaults to ``stream.isatty()``. ``clock`` returns seconds (monotonic). ``label`` begins the
    start line and the terminal bar. ``blocks`` (if known) is named in the start line;
    ``announce=False`` leaves the start line out (the caller has said what it computes). Log mode
    writes a line every ``step`` percent or ``interval`` seconds; terminal mode redraws at most
    every ``mininterval`` seconds.
    """

    def __init__(self, total_observations: int, total_replications: int, *,
                 stream: IO[str] | None = None, is_terminal: bool | None = None,
                 clock: Callable[[], float] = time.monotonic, label: str = "computing",
                 announce: bool = True,
                 blocks: int | None = None, step: int = 10, interval: float = 60.0,
                 mininterval: float = 0.5):  # fmt: skip
        if total_observations < 0 or total_replications < 0:
            raise ValueError("totals must be >= 0")
        if not 1 <= step <= 100:
            raise ValueError(f"step must be a whole percent in 1..100, not {step!r}")
        self.total_observations = int(total_observations)
        self.total_replications = int(total_replications)
        self.done_observations = 0
        self.done_replications = 0
        self.blocks = blocks
        self.stream = sys.stderr if stream is None else stream
        self.is_terminal = _is_tty(self.stream) if is_terminal is None else bool(is_terminal)
        self.clock = clock
        self.label = label
        self.announce = announce
        self.step = int(step)
        self.interval = float(interval)
        self.mininterval = float(mininterval)
        self._lock = threading.Lock()
        self._t0: float | None = None
        self._closed = False
        self._silenced = False
        self._last_line = 0.0  # clock time of the last line (log) or frame (terminal)
        self._last_step = 0  # log mode: steps of `step` percent already reported
        self._rate_shown = False  # terminal mode: a frame with a rate has been drawn
        self._frame_len = 0
        self._width = 0  # terminal mode: the width the bar was fitted to
        self._cells = 30  # terminal mode: bar cells

    @classmethod
    def from_sizes(cls, sizes: Iterable[tuple[int, int]], **kwargs) -> Progress:
        """From the (observations, replications) of every work item; ``blocks`` is their count."""
        sizes = [(int(o), int(r)) for o, r in sizes]
        kwargs.setdefault("blocks", len(sizes))
        return cls(sum(o for o, _ in sizes), sum(r for _, r in sizes), **kwargs)

    # -- state ------------------------------------------------------------------------------

    @property
    def started(self) -> bool:
        return self._t0 is not None

    @property
    def elapsed(self) -> float:
        """Seconds since :meth:`start` (0 before it)."""
        return 0.0 if self._t0 is None else max(0.0, self.clock() - self._t0)

    @property
    def fraction(self) -> float:
        """Share of the observations done (1 when there is nothing to do)."""
        if self.total_observations <= 0:
            return 1.0
        return self.done_observations / self.total_observations

    @property
    def rate(self) -> float | None:
        """Mean observations per second since :meth:`start`; None before the first block."""
        return self._rate(self.elapsed)

    @property
    def eta(self) -> float | None:
        """Seconds left at the mean rate, ``elapsed / done x (total - done)``; None before the
        first block."""
        return self._eta(self.elapsed)

    def _rate(self, elapsed: float) -> float | None:
        if self.done_observations <= 0 or elapsed <= 0:
            return None
        return self.done_observations / elapsed

    def _eta(self, elapsed: float) -> float | None:
        if self.done_observations <= 0:
            return None
        left = max(0, self.total_observations - self.done_observations)
        return elapsed / self.done_observations * left

    def _percent(self) -> int:
        """Whole percent of observations done, rounded down (so 100 only when all are done)."""
        if self.total_observations <= 0:
            return 100
        return min(100, self.done_observations * 100 // self.total_observations)

    # -- events -----------------------------------------------------------------------------

    def start(self) -> Progress:
        """Start the clock and write the start line (log) or the first frame (terminal).

        A second call does nothing.
        """
        with self._lock:
            if self._t0 is not None or self._closed:
                return self
            self._t0 = self._last_line = self.clock()
            if self.is_terminal:
                self._draw(self._t0)
            elif self.announce:
                blocks = "" if self.blocks is None else f" in {self.blocks:,} blocks"
                self._write(
                    f"{self.label} {format_count(self.total_observations)} observations "
                    f"({self.total_replications:,} replications){blocks}\n"
                )
        return self

    def advance(self, observations: int, replications: int) -> None:
        """Account for one finished block of ``observations`` (n x R) and ``replications``."""
        with self._lock:
            if self._closed:
                return
            if self._t0 is None:
                raise RuntimeError("Progress.advance() before start()")
            self.done_observations += int(observations)
            self.done_replications += int(replications)
            self._update()

    def skip(self, observations: int, replications: int) -> None:
        """Account for a block that will not be computed (a stopped cell): its work leaves the
        totals, so percent and ETA measure only what is computed."""
        with self._lock:
            if self._closed:
                return
            self.total_observations = max(0, self.total_observations - int(observations))
            self.total_replications = max(0, self.total_replications - int(replications))
            if self._t0 is not None:
                self._update()

    def close(self) -> None:
        """Write the final frame or line: "done: 100% ..." if everything was done, else
        "stopped at ..."; nothing if :meth:`start` was never called. Later calls do nothing."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._t0 is None:
                return
            now = self.clock()
            if self.is_terminal:
                self._draw(now)
                self._write("\n")
                return
            elapsed = max(0.0, now - self._t0)
            rate = self._rate(elapsed)
            speed = "" if rate is None else f" ({format_count(rate)} obs/s)"
            if self.done_observations >= self.total_observations:
                self._write(
                    f"done: 100% ({format_count(self.done_observations)} observations, "
                    f"{self.done_replications:,} replications) in "
                    f"{format_duration(elapsed)}{speed}\n"
                )
            else:
                self._write(
                    f"stopped at {self._percent()}% ({self._counts()}) after "
                    f"{format_duration(elapsed)}{speed}\n"
                )

    def __enter__(self):
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    # -- output -----------------------------------------------------------------------------

    def _update(self) -> None:
        now = self.clock()
        if self.is_terminal:
            first = not self._rate_shown and self.done_observations > 0
            if first or now - self._last_line >= self.mininterval:
                self._draw(now)
            return
        if self.done_observations >= self.total_observations:
            return  # close() writes the last line
        steps = self._percent() // self.step
        if steps > self._last_step or now - self._last_line >= self.interval:
            self._last_step = max(self._last_step, steps)
            self._last_line = now
            elapsed = max(0.0, now - self._t0)
            rate = self._rate(elapsed)
            speed = "" if rate is None else f", {format_count(rate)} obs/s"
            self._write(
                f"progress: {self._percent()}% ({self._counts()}), {format_duration(elapsed)} "
                f"elapsed, ETA {self._eta_text(elapsed)}{speed}\n"
            )

    def _counts(self) -> str:
        return (
            f"{format_count(self.done_observations)}/{format_count(self.total_observations)} "
            f"observations, {self.done_replications:,}/{self.total_replications:,} replications"
        )

    def _eta_text(self, elapsed: float) -> str:
        eta = self._eta(elapsed)
        return "--" if eta is None else format_duration(eta)

    def _draw(self, now: float) -> None:
        """Redraw the terminal line in place, fitted to the terminal's width.

        Percent, observations, rate, elapsed and ETA always show; the bar (at most 30 cells)
        takes the room left, and only shrinks during a run (unless the terminal is resized) so
        it does not jitter; replications done/total are appended where they fit.
        """
        self._last_line = now
        self._rate_shown = self._rate_shown or self.done_observations > 0
        elapsed = max(0.0, now - self._t0)
        rate = self._rate(elapsed)
        eta = self._eta(elapsed)
        pct = self._percent()
        head = f"{self.label} {pct:3d}%"
        done, total = format_count(self.done_observations), format_count(self.total_observations)
        body = (
            f" {done}/{total} obs"
            f", {'--' if rate is None else format_count(rate)} obs/s"
            f", {format_duration(elapsed)} elapsed"
            f", ETA {'--' if eta is None else format_duration(eta)}"
        )
        reps = f" | {self.done_replications:,}/{self.total_replications:,} replications"
        width = self._columns() - 1
        # Room for the bar, as if the count done, rate and ETA had their usual widths.
        room = width - len(head) - len(body) - 3 - (3 if eta is None else 0)
        room -= (2 if rate is None else 0) + max(0, len(total) - len(done))
        if width != self._width:
            self._width, self._cells = width, 30
        self._cells = min(self._cells, room)
        bar = ""
        if self._cells >= 8:
            full = self._cells * pct // 100
            bar = " |" + self._fill * full + " " * (self._cells - full) + "|"
        text = head + bar + body
        if len(text) + len(reps) <= width:
            text += reps
        text = text[:width]
        pad = " " * max(0, self._frame_len - len(text))
        self._frame_len = len(text)
        self._write("\r" + text + pad)

    def _columns(self) -> int:
        try:
            columns = os.get_terminal_size(self.stream.fileno()).columns
        except (AttributeError, ValueError, OSError):
            columns = shutil.get_terminal_size((80, 24)).columns
        return columns if columns > 0 else 80

    @property
    def _fill(self) -> str:
        try:
            "\u2588".encode(getattr(self.stream, "encoding", None) or "ascii")
            return "\u2588"
        except (UnicodeEncodeError, LookupError):
            return "#"

    def _write(self, text: str) -> None:
        if self._silenced:
            return
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self._silenced = True
