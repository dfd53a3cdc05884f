"""simstudy.progress: percent, rate and ETA in observations; plain lines off a terminal."""

from __future__ import annotations

import io
import re

import pytest

from simstudy.progress import Progress, format_count, format_duration


class FakeClock:
    def __init__(self, t: float = 1000.0):
        self.t = t

    def __call__(self) -> float:
        return self.t


def _log(total_obs, total_reps, **kwargs):
    clock, out = FakeClock(), io.StringIO()
    p = Progress(total_obs, total_reps, stream=out, is_terminal=False, clock=clock, **kwargs)
    return p, clock, out


def _lines(out: io.StringIO) -> list[str]:
    text = out.getvalue()
    assert text.endswith("\n") or not text
    return text.splitlines()


def _frames(out: io.StringIO) -> list[str]:
    return out.getvalue().split("\r")[1:]


@pytest.mark.parametrize(
    ("n", "text"),
    [(0, "0"), (950, "950"), (999, "999"), (1000, "1.0k"), (12_345, "12.3k"),
     (99_949, "99.9k"), (99_950, "100k"), (123_456, "123k"), (999_499, "999k"),
     (999_500, "1.0M"), (2_600_000, "2.6M"), (5_800_000, "5.8M"), (1_200_000_000, "1.2G"),
     (780_123.4, "780k"), (-12_345, "-12.3k")],
)  # fmt: skip
def test_format_count(n, text):
    assert format_count(n) == text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(0, "0.0 s"), (0.4, "0.4 s"), (7.44, "7.4 s"), (9.94, "9.9 s"), (9.96, "10 s"),
     (12.4, "12 s"), (59.4, "59 s"), (59.6, "1 min 00 s"), (185, "3 min 05 s"),
     (3599.4, "59 min 59 s"), (3599.6, "1 h 00 min"), (7380, "2 h 03 min"),
     (96_000, "26 h 40 min"), (-1.0, "0.0 s"), (float("inf"), "--"), (float("nan"), "--")],
)  # fmt: skip
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


def test_log_mode_writes_about_a_dozen_plain_lines_however_many_blocks():
    p, clock, out = _log(1_000_000, 10_000, blocks=1000)
    p.start()
    for _ in range(1000):
        clock.t += 0.01
        p.advance(1000, 10)
    p.close()
    assert "\r" not in out.getvalue()
    lines = _lines(out)
    assert len(lines) == 11  # start, 10% .. 90%, done
    assert lines[0] == "computing 1.0M observations (10,000 replications) in 1,000 blocks"
    assert [int(re.match(r"progress: (\d+)%", x).group(1)) for x in lines[1:-1]] == list(
        range(10, 100, 10)
    )
    assert lines[-1] == "done: 100% (1.0M observations, 10,000 replications) in 10 s (100k obs/s)"


def test_log_mode_coalesces_steps_crossed_by_one_block():
    p, clock, out = _log(100, 100)
    p.start()
    for obs in (5, 30, 65):  # 5% (no step), 35% (3 steps at once), 100%
        clock.t += 1
        p.advance(obs, obs)
    p.close()
    lines = _lines(out)
    assert len(lines) == 3
    assert lines[1].startswith("progress: 35% ")
    assert lines[2].startswith("done: 100% ")


def test_percent_is_the_share_of_observations_not_of_replications():
    # Cell A: n = 10, blocks of 1000 replications; cell B: n = 1000, blocks of 10. Every block
    # is 10,000 observations (10%), but A's blocks hold 99% of the replications.
    blocks = [(10 * 1000, 1000)] * 4 + [(1000 * 10, 10)] * 6
    clock, out = FakeClock(), io.StringIO()
    p = Progress.from_sizes(blocks, stream=out, is_terminal=False, clock=clock)
    assert (p.total_observations, p.total_replications, p.blocks) == (100_000, 4060, 10)
    p.start()
    done_reps = 0
    for k, (obs, reps) in enumerate(blocks[:-1], start=1):
        clock.t += 1
        p.advance(obs, reps)
        done_reps += reps
        line = _lines(out)[-1]
        percent = int(re.match(r"progress: (\d+)%", line).group(1))
        assert percent == 10 * k
        assert percent != 100 * done_reps // 4060
        assert f"{format_count(10_000 * k)}/100k observations" in line
        assert f"{done_reps:,}/4,060 replications" in line


def test_eta_after_the_first_block_is_the_mean_rate_estimate():
    # Replication shares differ from observation shares (blocks of n = 33.3 and n = 10,000),
    # so an ETA in replications would differ.
    p, clock, out = _log(400_000, 3030)
    clock.t += 50.0  # compilation, before start(): not part of the rate
    p.start()
    clock.t += 3.0
    p.advance(100_000, 3000)
    assert p.rate == 100_000 / 3.0
    assert p.eta == 3.0 / 100_000 * (400_000 - 100_000) == 9.0
    assert _lines(out)[-1] == (
        "progress: 25% (100k/400k observations, 3,000/3,030 replications), 3.0 s elapsed, "
        "ETA 9.0 s, 33.3k obs/s"
    )
    clock.t += 5.0  # a slower block: the ETA is still elapsed / done x left, no smoothing
    p.advance(100_000, 10)
    assert p.eta == 8.0 / 200_000 * 200_000
    assert _lines(out)[-1].endswith(", 8.0 s elapsed, ETA 8.0 s, 25.0k obs/s")


def test_no_rate_or_eta_before_the_first_block():
    p, clock, out = _log(1000, 10)
    p.start()
    clock.t += 30.0
    assert p.rate is None and p.eta is None
    assert "ETA" not in out.getvalue() and "obs/s" not in out.getvalue()

    clock, out = FakeClock(), io.StringIO()
    p = Progress(1000, 10, stream=out, is_terminal=True, clock=clock)
    p.start()
    (frame,) = _frames(out)
    assert "ETA --" in frame and "-- obs/s" in frame
    assert "  0%" in frame


def test_a_line_at_least_every_minute_between_steps():
    p, clock, out = _log(1_000_000, 1000)
    p.start()
    for _ in range(20):  # 0.1% every 10 s: no 10% step in 200 s
        clock.t += 10.0
        p.advance(1000, 1)
    lines = _lines(out)
    assert len(lines) == 4
    assert [re.search(r"\), (.+) elapsed", x).group(1) for x in lines[1:]] == [
        "1 min 00 s", "2 min 00 s", "3 min 00 s",
    ]  # fmt: skip
    assert lines[1].startswith("progress: 0% (6.0k/1.0M observations, 6/1,000 replications)")


def test_close_is_idempotent_and_ends_the_display():
    p, clock, out = _log(1000, 10)
    with p:
        p.start()
        clock.t += 2.0
        p.advance(1000, 10)
        p.close()
        first = out.getvalue()
        clock.t += 5.0
        p.close()
        p.advance(1000, 10)
    assert out.getvalue() == first
    assert first.count("done: 100%") == 1
    assert _lines(out)[-1] == "done: 100% (1.0k observations, 10 replications) in 2.0 s (500 obs/s)"


def test_close_before_start_writes_nothing():
    for terminal in (False, True):
        out = io.StringIO()
        with Progress(1000, 10, stream=out, is_terminal=terminal, clock=FakeClock()):
            pass
        assert out.getvalue() == ""


def test_close_of_an_unfinished_run_says_stopped():
    p, clock, out = _log(1000, 10)
    p.start()
    clock.t += 4.0
    p.advance(500, 5)
    p.close()
    assert _lines(out)[-1] == (
        "stopped at 50% (500/1.0k observations, 5/10 replications) after 4.0 s (125 obs/s)"
    )


def test_skipped_work_leaves_the_totals():
    p, clock, out = _log(1000, 10)
    p.start()
    clock.t += 1.0
    p.advance(200, 2)
    p.skip(800, 8)  # a stopped cell's blocks
    assert p.eta == 0.0
    p.close()
    assert _lines(out)[-1] == "done: 100% (200 observations, 2 replications) in 1.0 s (200 obs/s)"


def test_advance_before_start_is_an_error():
    p, _, _ = _log(1000, 10)
    with pytest.raises(RuntimeError, match="start"):
        p.advance(10, 1)


def test_terminal_mode_redraws_in_place_and_ends_at_100_percent(monkeypatch):
    monkeypatch.setenv("COLUMNS", "140")
    clock, out = FakeClock(), io.StringIO()
    p = Progress(1_000_000, 10_000, stream=out, is_terminal=True, clock=clock)
    p.start()
    for _ in range(100):  # 100 blocks in 3.125 s: throttled to one frame per 0.5 s
        clock.t += 1 / 32
        p.advance(10_000, 100)
    p.close()
    text = out.getvalue()
    assert text.endswith("\n") and text.count("\n") == 1
    frames = _frames(out)
    # start, first block (at 1/32 s), then 0.5 s after the previous frame (6), close
    assert len(frames) == 9
    assert "ETA 3.1 s" in frames[1]  # the first block's frame, drawn despite the throttle
    last = frames[-1]
    assert last.startswith("computing 100% |")
    assert "1.0M/1.0M obs, 320k obs/s, 3.1 s elapsed, ETA 0.0 s" in last
    assert "10,000/10,000 replications" in last


def test_terminal_frames_fit_the_width_and_keep_the_numbers(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    clock, out = FakeClock(), io.StringIO()
    p = Progress(5_800_000, 20_000, stream=out, is_terminal=True, clock=clock, mininterval=0)
    p.start()
    for _ in range(40):
        clock.t += 5.0
        p.advance(145_000, 500)
    p.close()
    frames = [f.rstrip("\n") for f in _frames(out)]
    assert len(frames) == 42
    assert all(len(f) <= 79 for f in frames)
    assert all(" obs/s, " in f and " elapsed, ETA " in f for f in frames)
    bars = {len(m.group(0)) for f in frames if (m := re.search(r"\|[^|]*\|", f))}
    assert len(bars) == 1  # the bar keeps its width


def test_terminal_bar_only_shrinks_as_the_numbers_widen(monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")
    clock, out = FakeClock(), io.StringIO()
    p = Progress(4_000_000, 4000, stream=out, is_terminal=True, clock=clock, mininterval=0)
    p.start()
    for k in range(40):  # fast blocks, then slow ones: elapsed and ETA change format
        clock.t += 0.2 if k < 20 else 30.0
        p.advance(100_000, 100)
    p.close()
    widths = [len(m.group(0)) for f in _frames(out) if (m := re.search(r"\|[^|]*\|", f))]
    assert len(widths) == 42
    assert widths == sorted(widths, reverse=True)
    assert len(set(widths)) <= 3


def test_mode_follows_isatty_unless_told():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    assert Progress(10, 1, stream=Tty()).is_terminal
    assert not Progress(10, 1, stream=io.StringIO()).is_terminal
    assert not Progress(10, 1, stream=Tty(), is_terminal=False).is_terminal


def test_a_failing_stream_does_not_fail_the_run():
    class Broken(io.StringIO):
        def write(self, _text):
            raise BrokenPipeError

    clock = FakeClock()
    p = Progress(10, 1, stream=Broken(), is_terminal=False, clock=clock)
    p.start()
    p.advance(10, 1)
    p.close()
