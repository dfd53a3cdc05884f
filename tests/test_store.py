"""The replicate store on its own (no study, no Numba): atomic writes, checksums, block listing,
the ranges a rerun computes, replicate order, manifests and the study lock.

Expected values are written out here: ranges by hand, the checksum as SHA-256 over the column
names and raw bytes (DESIGN.md "Store"), file modes from the umask.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import subprocess
import sys

import numpy as np
import pyarrow as pa
import pytest

from simstudy.errors import StoreError
from simstudy.store import (
    CHECKSUM_KEY,
    CorruptBlock,
    Store,
    StudyLock,
    atomic_write_bytes,
    atomic_write_json,
    subtract_ranges,
    table_checksum,
)

KEY = "0123456789abcdef01234567"


def block(start, stop, offset=0.0):
    reps = np.arange(start, stop, dtype=np.int64)
    return pa.table({"rep": reps, "theta": reps * 0.5 + offset, "status": np.zeros_like(reps)})


@pytest.mark.parametrize("whole, covered, gaps", [
    ((0, 100), [], [(0, 100)]),
    ((0, 100), [(0, 100)], []),
    ((0, 100), [(0, 20), (40, 60)], [(20, 40), (60, 100)]),
    ((0, 100), [(40, 60), (0, 20)], [(20, 40), (60, 100)]),  # any order
    ((0, 100), [(0, 50), (30, 80)], [(80, 100)]),  # overlapping blocks
    ((0, 100), [(10, 20)], [(0, 10), (20, 100)]),
    ((0, 100), [(0, 150)], []),  # a block beyond R (R lowered)
    ((0, 100), [(100, 120)], [(0, 100)]),  # only beyond
    ((0, 100), [(20, 30), (30, 40)], [(0, 20), (40, 100)]),  # adjacent blocks
    ((50, 100), [(0, 60)], [(60, 100)]),
    ((0, 10), [(0, 5), (5, 10), (2, 3)], []),
])  # fmt: skip
def test_subtract_ranges_by_hand(whole, covered, gaps):
    assert subtract_ranges(whole, covered) == gaps


def test_atomic_write_leaves_the_whole_file_with_umask_permissions(tmp_path):
    path = tmp_path / "sub" / "file.bin"
    atomic_write_bytes(path, b"first")
    atomic_write_bytes(path, b"second", durable=False)
    assert path.read_bytes() == b"second"
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
    assert [p.name for p in path.parent.iterdir()] == ["file.bin"]  # no temporary file left


def test_atomic_write_that_fails_keeps_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "file.json"
    atomic_write_json(path, {"a": 1})

    def broken(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="disk full"):
        atomic_write_json(path, {"a": 2})
    assert json.loads(path.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["file.json"]


def test_table_checksum_is_sha256_of_names_and_raw_bytes():
    table = block(0, 5)
    h = hashlib.sha256()
    for name in ("rep", "theta", "status"):
        h.update(name.encode())
        h.update(np.ascontiguousarray(table.column(name).to_numpy()).tobytes())
    assert table_checksum(table) == h.hexdigest()
    assert table_checksum(block(0, 5, offset=1e-12)) != h.hexdigest()


def test_block_round_trip_and_checksum_in_metadata(tmp_path):
    store = Store(tmp_path)
    path = store.write_block(KEY, 0, 20, block(0, 20))
    assert path == tmp_path / "store" / KEY / "reps-000000000-000000020.parquet"
    back = store.read_block(path)
    assert back.equals(block(0, 20)) and back.schema.metadata is None
    import pyarrow.parquet as pq

    meta = pq.read_schema(path).metadata
    assert meta[CHECKSUM_KEY].decode() == table_checksum(block(0, 20))


def test_a_corrupt_or_unsigned_block_is_refused(tmp_path):
    store = Store(tmp_path)
    path = store.write_block(KEY, 0, 20, block(0, 20))
    import pyarrow.parquet as pq

    # Values changed, checksum kept: mismatch.
    tampered = block(0, 20, offset=1.0).replace_schema_metadata(
        {CHECKSUM_KEY: table_checksum(block(0, 20)).encode()}
    )
    pq.write_table(tampered, path)
    with pytest.raises(CorruptBlock, match="checksum mismatch"):
        store.read_block(path)
    # A stored checksum above or below the true one: both refused (not an order comparison).
    other = block(0, 20, offset=2.0)
    for data, signed in ((block(0, 20), other), (other, block(0, 20))):
        pq.write_table(data.replace_schema_metadata(
            {CHECKSUM_KEY: table_checksum(signed).encode()}), path)  # fmt: skip
        with pytest.raises(CorruptBlock, match="checksum mismatch"):
            store.read_block(path)
    pq.write_table(block(0, 20), path)  # no checksum at all
    with pytest.raises(CorruptBlock, match="checksum mismatch"):
        store.read_block(path)
    path.write_bytes(b"not parquet")
    with pytest.raises(CorruptBlock, match="unreadable Parquet"):
        store.read_block(path)


def test_blocks_lists_only_block_files_sorted_by_start(tmp_path):
    store = Store(tmp_path)
    assert store.blocks(KEY) == []
    for start, stop in ((40, 60), (0, 20), (20, 40)):
        store.write_block(KEY, start, stop, block(start, stop))
    folder = tmp_path / "store" / KEY
    (folder / ".reps-000000060-000000080.parquet.x1.tmp").write_bytes(b"torn")
    (folder / "reps-000000060-000000080.parquet.bak").write_bytes(b"copy")
    (folder / "reps-60-80.parquet").write_bytes(b"short name")
    (folder / "notes.txt").write_text("x")
    assert [(a, b) for a, b, _ in store.blocks(KEY)] == [(0, 20), (20, 40), (40, 60)]


def test_missing_ranges_trust_own_blocks_and_verify_the_others(tmp_path):
    store = Store(tmp_path)
    for start, stop in ((0, 20), (40, 60)):
        store.write_block(KEY, start, stop, block(start, stop))
    assert store.missing_ranges(KEY, 80) == [(20, 40), (60, 80)]
    assert store.missing_ranges(KEY, 50) == [(20, 40)]
    assert store.missing_ranges("no-such-key", 10) == [(0, 10)]
    # Another Store (a rerun) reads and verifies every block: a corrupt one is missing again.
    (tmp_path / "store" / KEY / "reps-000000040-000000060.parquet").write_bytes(b"garbage")
    rerun = Store(tmp_path)
    with pytest.warns(UserWarning, match="will be recomputed"):
        assert rerun.missing_ranges(KEY, 80) == [(20, 80)]
    assert [p.name for p, _ in rerun.corrupt] == ["reps-000000040-000000060.parquet"]
    # A block it wrote that is gone is not "unchanged".
    gone = store.write_block(KEY, 60, 80, block(60, 80))
    gone.unlink()
    assert not store._unchanged_since_written(gone)
    assert not store._unchanged_since_written(tmp_path / "store" / KEY / "never-written.parquet")
    # The writing Store trusts its block only while the file is unchanged (size, mtime).
    assert store._unchanged_since_written(tmp_path / "store" / KEY / "reps-000000000-000000020.parquet")
    with pytest.warns(UserWarning):
        assert store.missing_ranges(KEY, 80) == [(20, 80)]


def test_read_replicates_in_rep_order_complete_or_none(tmp_path):
    store = Store(tmp_path)
    store.write_block(KEY, 20, 40, block(20, 40))
    assert store.read_replicates(KEY, 40) is None  # 0-20 missing
    store.write_block(KEY, 0, 20, block(0, 20))
    table = store.read_replicates(KEY, 40)
    assert table.column("rep").to_pylist() == list(range(40))
    # R lowered below what is stored: the first R replications.
    assert store.read_replicates(KEY, 30).column("rep").to_pylist() == list(range(30))
    # Overlapping blocks (another block size) hold the same rows: each rep once.
    store.write_block(KEY, 10, 30, block(10, 30))
    table = store.read_replicates(KEY, 40)
    assert table.column("rep").to_pylist() == list(range(40))
    assert table.column("theta").to_pylist() == [r * 0.5 for r in range(40)]


def test_read_stored_returns_what_there_is(tmp_path):
    store = Store(tmp_path)
    assert store.read_stored(KEY) is None
    store.write_block(KEY, 40, 60, block(40, 60))
    store.write_block(KEY, 0, 20, block(0, 20))
    assert store.read_stored(KEY).column("rep").to_pylist() == list(range(20)) + list(range(40, 60))
    store.remove_result(KEY)
    assert store.blocks(KEY) == [] and store.read_stored(KEY) is None


def test_manifest_round_trip_and_unreadable_manifest(tmp_path):
    store = Store(tmp_path)
    assert store.read_manifest() == {}
    store.write_manifest({"replications": 5, "cells": []})
    assert store.read_manifest() == {"replications": 5, "cells": []}
    # Indented JSON (diff-friendly), keys in the order given, a final newline.
    assert store.manifest_path.read_text() == '{\n  "replications": 5,\n  "cells": []\n}\n'
    store.manifest_path.write_text("{not json")
    with pytest.raises(StoreError, match="unreadable manifest"):
        store.read_manifest()


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_lock_creates_missing_folders(tmp_path):
    with StudyLock(tmp_path / "results" / "study"):
        assert (tmp_path / "results" / "study" / ".lock").is_file()


def test_lock_acquire_release_and_refusals(tmp_path):
    lock = StudyLock(tmp_path).acquire()
    held = json.loads((tmp_path / ".lock").read_text())
    umask = os.umask(0)
    os.umask(umask)
    assert (tmp_path / ".lock").stat().st_mode & 0o777 == 0o644 & ~umask
    assert held["pid"] == os.getpid() and held["host"] == socket.gethostname()
    with pytest.raises(StoreError, match="being written by another simstudy run"):
        StudyLock(tmp_path).acquire()  # this process is alive
    lock.release()
    assert not (tmp_path / ".lock").exists()
    # A lock of another host cannot be checked: refused, even with a PID that is gone here
    # (host names that sort before and after this one).
    for host in ("elsewhere", "!first", "~last"):
        held = {"pid": _dead_pid(), "host": host, "started": 0}
        (tmp_path / ".lock").write_text(json.dumps(held))
        with pytest.raises(StoreError, match=re.escape(host)):
            StudyLock(tmp_path).acquire()
    # Release leaves a lock it does not hold: another host, or another process of this host,
    # or this PID on another host.
    me, here = os.getpid(), socket.gethostname()
    for holder in ({"pid": 1, "host": "elsewhere"}, {"pid": me - 1, "host": here},
                   {"pid": me + 1, "host": here}, {"pid": me, "host": "~~~"},
                   {"pid": me, "host": "!!!"}):  # fmt: skip
        (tmp_path / ".lock").write_text(json.dumps({**holder, "started": 0}))
        StudyLock(tmp_path).release()
        assert (tmp_path / ".lock").exists(), holder


def test_a_lock_whose_process_cannot_be_signalled_is_live(tmp_path, monkeypatch):
    """os.kill(pid, 0) raising PermissionError: the process exists (another user's)."""
    (tmp_path / ".lock").write_text(json.dumps({"pid": 12345, "host": socket.gethostname()}))

    def denied(pid, sig):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "kill", denied)
    with pytest.raises(StoreError, match="being written by another simstudy run"):
        StudyLock(tmp_path).acquire()


@pytest.mark.parametrize("content", [
    "dead",  # a process that is gone
    "{half",  # a lock its writer died writing
    json.dumps({"pid": "1", "host": "x"}),  # no integer pid
])  # fmt: skip
def test_stale_lock_is_taken_over(tmp_path, content):
    if content == "dead":
        stale = {"pid": _dead_pid(), "host": socket.gethostname(), "started": 0}
        content = json.dumps(stale)
    (tmp_path / ".lock").write_text(content)
    with StudyLock(tmp_path) as lock:
        assert json.loads((tmp_path / ".lock").read_text())["pid"] == os.getpid()
        assert lock.took_over is not None
    assert not (tmp_path / ".lock").exists()


def test_durable_writes_fsync_and_block_writes_do_not(tmp_path, monkeypatch):
    """Study files (manifest, configs) survive an operating-system crash; blocks carry their
    checksum instead (a lost block is recomputed), so they skip the 4 ms fsync."""
    synced = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: synced.append(fd) or real(fd))
    store = Store(tmp_path)
    store.write_manifest({"replications": 1})
    assert len(synced) == 1
    store.write_block(KEY, 0, 5, block(0, 5))
    atomic_write_bytes(tmp_path / "x.bin", b"x", durable=False)
    assert len(synced) == 1
    atomic_write_bytes(tmp_path / "y.bin", b"y")  # durable by default
    assert len(synced) == 2


def test_a_grown_block_is_verified_again(tmp_path):
    store = Store(tmp_path)
    path = store.write_block(KEY, 0, 20, block(0, 20))
    with open(path, "ab") as handle:
        handle.write(b"appended")  # larger and later than what the Store wrote
    with pytest.warns(UserWarning, match="will be recomputed"):
        assert store.missing_ranges(KEY, 20) == [(0, 20)]


def test_corrupt_block_warning_points_at_the_caller(tmp_path):
    store = Store(tmp_path)
    (tmp_path / "store" / KEY).mkdir(parents=True)
    (tmp_path / "store" / KEY / "reps-000000000-000000020.parquet").write_bytes(b"garbage")
    with pytest.warns(UserWarning) as caught:
        store.missing_ranges(KEY, 20)
    assert caught[0].filename == __file__


def test_replicates_from_rep_one_are_incomplete(tmp_path):
    store = Store(tmp_path)
    store.write_block(KEY, 1, 40, block(1, 40))
    assert store.read_replicates(KEY, 40) is None
    assert store.missing_ranges(KEY, 40) == [(0, 1)]


def test_lock_released_between_the_check_and_the_takeover(tmp_path, monkeypatch):
    """The holder releases right after our O_EXCL open failed: its lock is gone when we take it
    over, which must not raise (and the second attempt gets the lock)."""
    real_open = os.open
    attempts = []

    def racing_open(path, flags, mode=0o777):
        attempts.append(path)
        if len(attempts) == 1:
            raise FileExistsError(path)
        return real_open(path, flags, mode)

    monkeypatch.setattr(os, "open", racing_open)
    with StudyLock(tmp_path):
        assert json.loads((tmp_path / ".lock").read_text())["pid"] == os.getpid()
    assert len(attempts) == 2


def test_a_lock_that_keeps_reappearing_is_refused_after_one_takeover(tmp_path, monkeypatch):
    attempts = []

    def always_taken(path, flags, mode=0o777):
        attempts.append(path)
        raise FileExistsError(path)

    monkeypatch.setattr(os, "open", always_taken)
    with pytest.raises(StoreError, match="could not take the lock"):
        StudyLock(tmp_path).acquire()
    assert len(attempts) == 2


def test_durable_is_keyword_only(tmp_path):
    with pytest.raises(TypeError):
        atomic_write_bytes(tmp_path / "x.bin", b"x", False)
