"""The Dask executor: the same bytes as the local one, a killed worker retried, flags checked."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from pathlib import Path

import numba
import numpy as np
import pandas as pd
import pytest
import yaml

import simstudy
from simstudy.cli import main

PLUGINS = Path(__file__).parent / "plugins"
HAVE_DASK = importlib.util.find_spec("distributed") is not None
needs_dask = pytest.mark.skipif(not HAVE_DASK, reason="needs the extra: pip install -e '.[dask]'")


def write_config(folder: Path, name: str, **extra) -> Path:
    """A small study next to a copy of a plugin (imported from the config's folder)."""
    (folder / "shifted.py").write_text((PLUGINS / "shifted.py").read_text())
    cfg = {
        "name": name,
        "seed": 4242,
        "replications": 40,
        "sample_sizes": [5, 60],
        "models": [
            {"model": "gamma", "params": {"shape": 2.0, "rate": 1.5}, "estimators": ["mle", "mom"]},
            {"model": "normal", "params": {"mu": 1.0, "sigma2": 2.0}},
            {
                "model": "exponential",
                "params": {"rate": 0.5},
                "estimators": ["mle", {"plugin": "shifted:shifted_mean", "name": "shifted"}],
            },
        ],
        **extra,
    }
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def block_files(result) -> dict[str, bytes]:
    """Every stored block file's bytes, by its path under the store."""
    store = result.root / "store"
    return {str(p.relative_to(store)): p.read_bytes() for p in sorted(store.rglob("*.parquet"))}


def replicate_digest(result) -> str:
    """SHA-256 of every replicate column of every result key, in plan and replication order."""
    h = hashlib.sha256()
    for cell in result.cells:
        for info in cell["estimators"].values():
            table = result.store.read_replicates(
                info["result_key"], result.manifest["replications"]
            )
            for name in table.column_names:
                h.update(name.encode())
                h.update(np.ascontiguousarray(table.column(name).to_numpy()).tobytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def inprocess_cluster():
    """A LocalCluster of two single-threaded workers in this process (processes=False)."""
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    )
    yield cluster
    cluster.close()


@needs_dask
def test_every_executor_stores_the_same_bytes(tmp_path, inprocess_cluster):
    config = write_config(tmp_path, "same")
    before = numba.get_num_threads()
    try:
        one = simstudy.run(config, out=tmp_path / "t1", threads=1, report=False)
    finally:
        numba.set_num_threads(before)
    two = simstudy.run(config, out=tmp_path / "t2", threads=2, report=False)
    blocks7 = simstudy.run(config, out=tmp_path / "b7", block_size=7, report=False)
    address = inprocess_cluster.scheduler_address
    code = main(["run", str(config), "--out", str(tmp_path / "inproc"), "--scheduler", address,
                 "--quiet", "--no-report"])  # fmt: skip
    assert code == 0
    inproc = simstudy.load(tmp_path / "inproc" / "same")
    procs = simstudy.run(
        config, out=tmp_path / "procs", executor="dask", block_size=7, report=False
    )

    # Same block layout: the very same Parquet bytes.
    reference = block_files(one)
    n_results = sum(len(c["estimators"]) for c in one.cells)
    assert len(reference) == n_results
    assert block_files(two) == reference
    assert block_files(inproc) == reference
    assert len(block_files(procs)) == n_results * 6
    assert block_files(procs) == block_files(blocks7)
    # Any layout: the same replicates, and the same metrics.
    digests = {replicate_digest(r) for r in (one, two, blocks7, inproc, procs)}
    assert len(digests) == 1
    metrics = one.analyse()[0]
    for other in (inproc, procs):
        pd.testing.assert_frame_equal(other.analyse()[0], metrics, check_exact=True)

    assert one.manifest["runs"][-1]["executor"] == "local"
    run_in = inproc.manifest["runs"][-1]
    assert (run_in["executor"], run_in["scheduler"], run_in["cluster"]) == (
        "dask",
        address,
        "external",
    )
    assert run_in["workers"] == 2 and run_in["blocks_reused"] == 0
    run_pr = procs.manifest["runs"][-1]
    assert (run_pr["executor"], run_pr["cluster"]) == ("dask", "LocalCluster")
    assert run_pr["workers"] == numba.config.NUMBA_NUM_THREADS
    assert run_pr["numba_threads_per_task"] == 1


@needs_dask
def test_dask_resumes_a_partial_store_and_stops_cells_like_local(tmp_path, inprocess_cluster):
    distributed = pytest.importorskip("distributed")
    cfg = {"name": "fails", "seed": 2, "replications": 300, "sample_sizes": [1, 30],
           "max_fail_rate": 0.25,
           "models": [{"model": "normal", "params": {"mu": 0.0, "sigma2": 1.0}}]}  # fmt: skip
    local = simstudy.run(cfg, out=tmp_path / "local", block_size=50, report=False)
    with distributed.Client(inprocess_cluster, set_as_default=False) as client:
        said = []
        dask = simstudy.run(cfg, out=tmp_path / "dask", block_size=50, report=False,
                            scheduler=client, echo=said.append)  # fmt: skip
        assert [c["status"] for c in dask.cells] == [c["status"] for c in local.cells]
        assert block_files(dask) == block_files(local)
        assert any("stopped early" in line for line in said)

        # Lose the last two blocks of the completed cell (n = 30) in both stores, then resume:
        # they are recomputed (and the stopped n = 1 cell retries one block and stops again),
        # the same work on the cluster as locally.
        key = next(c for c in dask.cells if c["n"] == 30)["estimators"]["mle"]["result_key"]
        for where in ("dask", "local"):
            lost = sorted((tmp_path / where / "fails" / "store" / key).glob("*.parquet"))[-2:]
            assert len(lost) == 2
            for path in lost:
                path.unlink()
        local_again = simstudy.run(cfg, out=tmp_path / "local", block_size=50, report=False)
        said.clear()
        again = simstudy.run(cfg, out=tmp_path / "dask", block_size=50, report=False,
                             scheduler=client, echo=said.append)  # fmt: skip
        computed = again.last_run.computed_replications
        assert computed == local_again.last_run.computed_replications
        assert 100 <= computed <= 150  # the two lost blocks, plus at most the stopped retry
        # Counted in one unit: replications of a cell (a sample with all its estimators).
        kept = [line for line in said if line.startswith("kept ")]
        assert len(kept) == 1 and "of 600 replications already stored; computing " in kept[0]
        kept_reps = int(kept[0].split()[1].replace(",", ""))
        planned = int(kept[0].split("computing ")[1].split()[0].replace(",", ""))
        assert kept_reps + planned == 600 and planned >= computed
        assert block_files(again) == block_files(local)


@needs_dask
def test_a_worker_killed_mid_task_is_retried_with_the_same_bytes(tmp_path):
    for name in ("kill_worker.py", "slow_fit.py"):
        (tmp_path / name).write_text((PLUGINS / name).read_text())
    (tmp_path / "arm-kill").write_text(str(os.getpid()))
    config = tmp_path / "kill.yaml"
    config.write_text(yaml.safe_dump({
        "name": "kill", "seed": 9, "replications": 120, "sample_sizes": [20],
        "models": [{"model": "exponential", "params": {"rate": 1.0},
                    "estimators": ["mle", {"plugin": "kill_worker:slow_mle", "name": "slow"}]}],
    }))  # fmt: skip
    clean = simstudy.run(config, out=tmp_path / "local", block_size=30, report=False)
    assert not (tmp_path / "killed-once").exists(), "the driver must never arm the kill"

    result = simstudy.run(config, out=tmp_path / "dask", executor="dask", block_size=30,
                          report=False)  # fmt: skip
    killed = (tmp_path / "killed-once").read_text()
    assert killed.isdigit() and int(killed) != os.getpid()
    assert all(c["status"] == "complete" for c in result.cells)
    assert block_files(result) == block_files(clean)


def test_missing_dask_names_the_extra(tmp_path, monkeypatch, capsys):
    config = write_config(tmp_path, "nodask")
    monkeypatch.setitem(sys.modules, "distributed", None)  # `import distributed` fails
    out = tmp_path / "out"
    for flags in (["--executor", "dask"], ["--scheduler", "tcp://127.0.0.1:8786"]):
        code = main(["run", str(config), "--out", str(out), "--quiet", *flags])
        err = capsys.readouterr().err
        assert code == 2
        assert "pip install 'simstudy[dask]'" in err and "Traceback" not in err
        assert not out.exists()
    with pytest.raises(simstudy.SimstudyError, match=r"optional extra 'dask'"):
        simstudy.run(config, out=out, executor="dask")


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--executor", "local", "--scheduler", "tcp://127.0.0.1:8786"], "--scheduler:"),
        pytest.param(["--scheduler", "tcp://127.0.0.1:8786", "--threads", "2"], "drop --threads",
                     marks=needs_dask),
        pytest.param(["--executor", "dask", "--threads", "999"], "--threads: 999 is not in",
                     marks=needs_dask),
        pytest.param(["--scheduler", "tcp://127.0.0.1:1"], "cannot connect to 'tcp://127.0.0.1:1'",
                     marks=needs_dask),
    ],
)  # fmt: skip
def test_bad_executor_flags_exit_2_and_write_nothing(tmp_path, capsys, monkeypatch, flags, message):
    if HAVE_DASK:
        from simstudy.executors import dask as dask_executor

        monkeypatch.setattr(dask_executor, "CONNECT_TIMEOUT", "1s")
    config = write_config(tmp_path, "flags")
    out = tmp_path / "out"
    code = main(["run", str(config), "--out", str(out), "--quiet", *flags])
    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err and "Traceback" not in err
    assert not out.exists()
