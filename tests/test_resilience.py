"""Runs that are interrupted, concurrent, failing or foreign: kill -9, locks, code changes,
max_fail_rate and replay."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import yaml
from clitools import kill_mid_run

import simstudy
from simstudy.cli import main

ROOT = Path(__file__).resolve().parents[1]


def _replicate_bytes(result) -> bytes:
    out = b""
    for cell in result.cells:
        for info in cell["estimators"].values():
            table = result.store.read_replicates(info["result_key"], result.manifest["replications"])
            for name in table.column_names:
                out += np.ascontiguousarray(table.column(name).to_numpy()).tobytes()
    return out


def test_sigkill_mid_study_resumes_without_recomputing(tmp_path):
    (tmp_path / "slow_fit.py").write_text((ROOT / "tests" / "plugins" / "slow_fit.py").read_text())
    config = tmp_path / "slow.yaml"
    config.write_text(yaml.safe_dump({
        "name": "slow", "seed": 3, "replications": 240, "sample_sizes": [50],
        "models": [{"model": "exponential", "params": {"rate": 1.0},
                    "estimators": [{"plugin": "slow_fit:slow_mle", "name": "slow"}]}],
    }))  # fmt: skip
    cmd = [sys.executable, "-m", "simstudy", "run", str(config), "--out", str(tmp_path / "out"),
           "--quiet", "--no-report", "--block-size", "20"]  # fmt: skip
    store = tmp_path / "out" / "slow" / "store"
    survivors = kill_mid_run(cmd, tmp_path, store, timeout=240)
    assert 3 <= len(survivors) < 12, "kill -9 should land mid-study"
    # Writes are atomic (temporary file, then rename): every block file that survived the kill
    # is complete and verifies against its checksum.
    from simstudy.store import Store

    for path in store.rglob("reps-*.parquet"):
        Store(tmp_path / "out" / "slow").read_block(path)  # raises CorruptBlock if torn
    # A torn temporary file is allowed (the kill may land mid-write) but never read as a block:
    # plant one next to the blocks, covering replications no block holds yet.
    key_dir = next(p.parent for p in store.rglob("reps-*.parquet"))
    torn = key_dir / ".reps-000000220-000000240.parquet.killed.tmp"
    torn.write_bytes(b"PAR1 torn write")

    rerun = subprocess.run(cmd, cwd=tmp_path, capture_output=True, check=False, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a torn file read as a block warns "corrupt"
        result = simstudy.load(tmp_path / "out" / "slow")
        listed = [path.name for _, _, path in result.store.blocks(key_dir.name)]
        assert torn.name not in listed and len(listed) == 12
        assert result.store.read_replicates(key_dir.name, 240) is not None
    assert not result.store.corrupt
    # Finished blocks were not recomputed: same files, same modification times.
    for name, mtime in survivors.items():
        assert next(store.rglob(name)).stat().st_mtime_ns == mtime
    assert result.last_run is None
    last = result.manifest["runs"][-1]
    assert last["replications_computed"] == 240 - 20 * len(survivors)
    # The torn file did not stand in for the block 220-240: that block was computed.
    assert (key_dir / "reps-000000220-000000240.parquet").is_file()

    fresh = simstudy.run(config, out=tmp_path / "fresh", report=False)
    assert _replicate_bytes(result) == _replicate_bytes(fresh)


def test_live_lock_refuses_a_second_run_and_stale_lock_is_taken_over(tmp_path, capsys):
    cfg = {"name": "lock", "seed": 1, "replications": 10, "sample_sizes": [5],
           "models": [{"model": "poisson", "params": {"rate": 2.0}}]}  # fmt: skip
    config = tmp_path / "lock.yaml"
    config.write_text(yaml.safe_dump(cfg))
    out = tmp_path / "out"
    lock = out / "lock" / ".lock"
    lock.parent.mkdir(parents=True)
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        lock.write_text(json.dumps({"pid": holder.pid, "host": os.uname().nodename, "started": 0}))
        code = main(["run", str(config), "--out", str(out), "--quiet", "--no-report"])
        err = capsys.readouterr().err
        assert code == 2
        assert f"PID {holder.pid}" in err and "Traceback" not in err
        assert not (out / "lock" / "store").exists()
    finally:
        holder.kill()
        holder.wait()
    # The holder is dead now: its lock is stale and the next run takes it over.
    code = main(["run", str(config), "--out", str(out), "--no-report"])
    assert code == 0
    assert "took over a stale lock" in capsys.readouterr().err
    assert not lock.exists()


def test_other_code_or_environment_is_not_mixed_without_force(tmp_path):
    cfg = {"name": "env", "seed": 1, "replications": 10, "sample_sizes": [5],
           "models": [{"model": "poisson", "params": {"rate": 2.0}}]}  # fmt: skip
    simstudy.run(cfg, out=tmp_path, report=False)
    manifest = tmp_path / "env" / "manifest.json"
    data = json.loads(manifest.read_text())
    data["environment"]["numba"] = "0.1.0"
    manifest.write_text(json.dumps(data))
    with pytest.raises(simstudy.StoreError, match=r"numba: 0\.1\.0 -> .*--force"):
        simstudy.run(cfg, out=tmp_path, report=False)
    forced = simstudy.run(cfg, out=tmp_path, report=False, force=True)
    assert forced.last_run.computed_replications == 10


def test_max_fail_rate_stops_a_cell_and_says_so(tmp_path):
    cfg = {"name": "fails", "seed": 2, "replications": 300, "sample_sizes": [1, 30],
           "max_fail_rate": 0.25,
           "models": [{"model": "normal", "params": {"mu": 0.0, "sigma2": 1.0}}]}  # fmt: skip
    said = []
    result = simstudy.run(cfg, out=tmp_path, report=False, block_size=50, echo=said.append)
    by_n = {c["n"]: c for c in result.cells}
    assert by_n[1]["status"] == "stopped"
    assert by_n[1]["estimators"]["mle"]["replications"] == 50
    assert "max_fail_rate 0.25" in by_n[1]["stopped"]
    assert any("stopped early" in line for line in said)
    assert by_n[30]["status"] == "complete"


def test_replay_reproduces_a_stored_failure(tmp_path, capsys):
    cfg = {"name": "replay", "seed": 2, "replications": 20, "sample_sizes": [1, 25],
           "models": [{"model": "normal", "params": {"mu": 0.0, "sigma2": 1.0}}]}  # fmt: skip
    simstudy.run(cfg, out=tmp_path, report=False)
    folder = str(tmp_path / "replay")
    assert main(["replay", folder]) == 0
    listing = capsys.readouterr().out
    assert "20 of 20 failed" in listing and "0 of 20 failed" in listing
    assert main(["replay", folder, "--cell", "0", "--rep", "4"]) == 0
    out = capsys.readouterr().out
    assert "no_mle" in out and "identical" in out and "DIFFERENT" not in out
    assert main(["replay", folder, "--cell", "9", "--rep", "4"]) == 2
    assert "there are 2 cells" in capsys.readouterr().err
