"""Helpers of the command-line tests: ``python -m simstudy`` in a subprocess, the check of a
user error (exit 2, one message, no traceback), and ``simstudy.cli.main`` in-process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def simstudy(*args: str, cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")  # leave no __pycache__ in tmp folders
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(pythonpath), env.get("PYTHONPATH")]))
    return subprocess.run(
        [sys.executable, "-m", "simstudy", *args],
        cwd=cwd, env=env, capture_output=True, check=False, text=True, timeout=300,
    )  # fmt: skip


def assert_user_error(proc: subprocess.CompletedProcess, command: str, *fragments: str) -> str:
    """Exit 2, exactly one 'simstudy COMMAND: error: ...' line on stderr, no traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "Traceback" not in proc.stderr, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"simstudy {command}: error: "), lines[0]
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    assert proc.stdout == ""
    return lines[0]


def main_in_process(*args: str, cwd: Path, monkeypatch, capsys) -> subprocess.CompletedProcess:
    """``simstudy.cli.main`` in this process (no start-up cost) for errors raised before any
    work starts; any exception other than the CLI's own exit 2 fails the test."""
    from simstudy.cli import main

    monkeypatch.chdir(cwd)
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(["simstudy", *args], code, out, err)


def kill_mid_run(cmd, cwd, store, *, blocks: int = 3, timeout: float = 240) -> dict:
    """Start ``cmd`` (a ``simstudy run``), SIGKILL it once ``store`` holds ``blocks`` block
    files, and return {file name: mtime_ns} of the block files that survived."""
    import signal
    import time

    proc = subprocess.Popen(cmd, cwd=cwd)
    deadline = time.time() + timeout
    while time.time() < deadline and len(list(store.rglob("*.parquet"))) < blocks:
        assert proc.poll() is None, "the run finished before it could be interrupted"
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    return {p.name: p.stat().st_mtime_ns for p in store.rglob("*.parquet")}
