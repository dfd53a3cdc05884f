"""Blocks written by the Recorder's background thread while the next block computes: same
bytes, and errors and interrupts surface in the run."""

from __future__ import annotations

import os

import pytest

import simstudy
from simstudy.executors import _tasks, local


def config(name="overlap", replications=80):
    return {
        "name": name, "seed": 7, "replications": replications, "sample_sizes": [5, 30],
        "models": [
            {"model": "gamma", "params": {"shape": 2.0, "rate": 1.5}, "estimators": ["mle", "mom"]},
            {"model": "poisson", "params": {"rate": 3.0}},
        ],
    }  # fmt: skip


def block_bytes(root) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.parquet"))}


def leftovers(root) -> list:
    return [p for p in root.rglob("*") if p.name.endswith(".tmp")]


def test_background_writes_are_byte_identical_to_writing_in_place(tmp_path, monkeypatch):
    simstudy.run(config(), out=tmp_path / "bg", report=False, block_size=20)

    def write_now(self, task, result):
        for j, est in enumerate(task.estimators):
            self.store.write_block(est.result_key, task.start, task.stop,
                                   _tasks.block_table(task.cell, result, j))  # fmt: skip

    monkeypatch.setattr(_tasks.BlockWriter, "put", write_now)
    simstudy.run(config(), out=tmp_path / "fg", report=False, block_size=20)
    store_bg, store_fg = tmp_path / "bg" / "overlap" / "store", tmp_path / "fg" / "overlap" / "store"
    assert len(block_bytes(store_bg)) == (2 * 2 + 2 * 1) * 4  # cells x estimators x blocks
    assert block_bytes(store_bg) == block_bytes(store_fg)


def test_a_failed_write_fails_the_run_with_its_message_and_leaves_no_temp_file(tmp_path, monkeypatch):
    real_replace = os.replace
    parquet_replaces = []

    def failing_replace(src, dst, *args, **kwargs):
        if str(dst).endswith(".parquet"):
            parquet_replaces.append(dst)
            if len(parquet_replaces) == 2:
                raise OSError(28, "No space left on device (injected)")
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match=r"No space left on device \(injected\)"):
        simstudy.run(config(), out=tmp_path, report=False, block_size=20)
    root = tmp_path / "overlap"
    assert leftovers(root) == []
    assert not (root / "manifest.json").exists()
    assert not (root / ".lock").exists()
    # The write failed on the 2nd block, so the run stopped within the writer's queue depth.
    assert len(parquet_replaces) == 2
    assert len(list(root.rglob("*.parquet"))) == 1


def test_an_interrupt_keeps_the_computed_blocks_and_the_rerun_matches(tmp_path, monkeypatch):
    real = local.compute_block
    calls = []

    def interrupted(task, fits):
        calls.append(task)
        if len(calls) == 4:
            raise KeyboardInterrupt
        return real(task, fits)

    monkeypatch.setattr(local, "compute_block", interrupted)
    with pytest.raises(KeyboardInterrupt):
        simstudy.run(config(), out=tmp_path / "a", report=False, block_size=20)
    root = tmp_path / "a" / "overlap"
    # Every block computed before the interrupt was written whole (the writer was drained).
    assert len(list(root.rglob("*.parquet"))) == sum(len(t.estimators) for t in calls[:3])
    assert leftovers(root) == []
    monkeypatch.setattr(local, "compute_block", real)
    resumed = simstudy.run(config(), out=tmp_path / "a", report=False, block_size=20)
    assert resumed.last_run.computed_replications == 4 * 80 - 3 * 20
    simstudy.run(config(), out=tmp_path / "b", report=False, block_size=20)
    assert block_bytes(root / "store") == block_bytes(tmp_path / "b" / "overlap" / "store")

