"""Blocks written by the Recorder's background thread while the next block computes: same
bytes, errors and interrupts surface in the run, and the manifest trusts only what it wrote."""

from __future__ import annotations

import json
import os

import pytest

import simstudy
from simstudy.errors import OutputError
from simstudy.executors import _tasks, local
from simstudy.store import Store


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
    with pytest.raises(OutputError, match=r"No space left on device \(injected\).*free some space"):
        simstudy.run(config(), out=tmp_path, report=False, block_size=20)
    root = tmp_path / "overlap"
    assert leftovers(root) == []
    assert not (root / ".lock").exists()
    # The write failed on the 2nd block, so the run stopped within the writer's queue depth.
    assert len(parquet_replaces) == 2
    stored = list(root.rglob("*.parquet"))
    assert len(stored) == 1
    # The manifest describes exactly what is stored: one block of 20 replications.
    manifest = json.loads((root / "manifest.json").read_text())
    counts = [e["replications"] for c in manifest["cells"] for e in c["estimators"].values()]
    assert sorted(counts) == [0] * (len(counts) - 1) + [20]
    assert {c["status"] for c in manifest["cells"]} == {"partial"}


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


def test_manifest_reads_back_kept_blocks_only_and_still_catches_a_corrupt_one(tmp_path, monkeypatch):
    simstudy.run(config(replications=40), out=tmp_path, report=False, block_size=20)
    root = tmp_path / "overlap"
    kept = sorted(root.rglob("*.parquet"))
    victim = kept[0]
    read = []
    real_read = Store.read_block
    real_compute = local.compute_block

    def counting_read(self, path):
        read.append(path)
        return real_read(self, path)

    def corrupt_then_compute(task, fits):
        if victim.read_bytes()[-200:] != b"\0" * 200:
            # A kept block torn after planning: only the manifest's check can notice it.
            victim.write_bytes(victim.read_bytes()[:-200] + b"\0" * 200)
        return real_compute(task, fits)

    monkeypatch.setattr(Store, "read_block", counting_read)
    monkeypatch.setattr(local, "compute_block", corrupt_then_compute)
    with pytest.warns(UserWarning, match="unreadable"):
        result = simstudy.run(config(replications=80), out=tmp_path, report=False, block_size=20)
    written = set(root.rglob("*.parquet")) - set(kept)
    assert len(written) == len(kept)
    assert not written & set(read), "blocks written in this run were read back"
    assert read.count(victim) == 2  # once when planning, once for the manifest
    by_cell = {(c["model"], c["n"]): c for c in result.cells}
    victim_key = victim.parent.name
    cell = next(c for c in by_cell.values()
                for e in c["estimators"].values() if e["result_key"] == victim_key)  # fmt: skip
    assert cell["status"] == "partial"
    assert next(e for e in cell["estimators"].values()
                if e["result_key"] == victim_key)["replications"] == 60  # fmt: skip
