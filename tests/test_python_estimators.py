"""Python estimators ({python: "module:function"}): the same samples as the kernels, failures
stored per replication, wrong returns refused before the run, the same bytes on any executor,
resumption after kill -9."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numba
import numpy as np
import pytest
import yaml
from clitools import kill_mid_run

import simstudy
from simstudy.cli import main

ROOT = Path(__file__).resolve().parents[1]
HAVE_DASK = importlib.util.find_spec("distributed") is not None
pytestmark = pytest.mark.xdist_group("python-estimators")

#: The user's estimators, written next to each study (imported from the study's folder).
ESTIMATORS = '''
import time
import numpy as np
import simstudy


def exp_mle(x):
    return {"rate": 1.0 / np.mean(x)}


def unlucky(x):
    """True for about 1 sample in 100, decided by the sample alone."""
    return int(x.view(np.uint64)[0] % 100) == 7


def flaky_mle(x):
    if unlucky(x):
        raise ValueError(f"unlucky sample starting {x[0]!r}")
    return simstudy.FitResult({"rate": 1.0 / np.mean(x)}, se={"rate": 1.0 / np.mean(x) / np.sqrt(x.size)})


def slow_sometimes(x, threshold=0.05):
    if x[0] < threshold:
        time.sleep(30)
    return {"estimate": {"rate": 1.0 / np.mean(x)}, "status": "ok"}


def slow_mle(x):
    time.sleep(0.01)
    return {"rate": 1.0 / np.mean(x)}


def first_value(x):
    return {"rate": float(x[0])}


def often(x):
    if x[0] < 0.35:  # about half of the samples
        raise RuntimeError("first value too small")
    return {"rate": 1.0 / np.mean(x)}


def sometimes_wrong(x):
    if x[0] < 0.05:
        return {"rate": None}
    return {"rate": 1.0 / np.mean(x)}


def missing(x):
    return {"shape": 1.0}


def text(x):
    return {"rate": "fast"}


def too_long(x):
    return [1.0, 2.0]


def bad_status(x):
    return {"estimate": {"rate": 1.0}, "status": "fine"}
'''


def study(folder: Path, name: str, estimators: list, *, reps: int = 200,
          sizes=(10, 40), **extra) -> Path:  # fmt: skip
    (folder / "user_estimators.py").write_text(ESTIMATORS)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump({
        "name": name, "seed": 11, "replications": reps, "sample_sizes": list(sizes),
        "models": [{"model": "exponential", "params": {"rate": 2.0}, "estimators": estimators}],
        **extra,
    }))  # fmt: skip
    return path


def py(function: str, name: str, **extra) -> dict:
    return {"python": f"user_estimators:{function}", "name": name, **extra}


def block_files(result) -> dict[str, bytes]:
    store = result.root / "store"
    return {str(p.relative_to(store)): p.read_bytes() for p in sorted(store.rglob("*.parquet"))}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Built-in MLE, the NumPy MLE, a flaky one and one that returns the first value, on one
    worker (threads=1)."""
    folder = tmp_path_factory.mktemp("pyref")
    config = study(folder, "pyref", ["mle", py("exp_mle", "np_mle"), py("flaky_mle", "flaky"),
                                     py("first_value", "first")])  # fmt: skip
    before = numba.get_num_threads()
    try:
        result = simstudy.run(config, out=folder / "out", threads=1, report=False, block_size=64)
    finally:
        numba.set_num_threads(before)
    return config, result


def test_the_numpy_mle_agrees_with_the_builtin_one_on_every_replication(reference):
    _, result = reference
    builtin, numpy_mle = result.replicates(estimator="mle"), result.replicates(estimator="np_mle")
    assert len(numpy_mle) == 2 * 200
    assert (numpy_mle.status == "ok").all() and numpy_mle.message.isna().all()
    np.testing.assert_allclose(numpy_mle.rate, builtin.rate, rtol=1e-12, atol=0)
    # lr_stat is evaluated as for the built-in (same log-likelihood at the same estimate).
    np.testing.assert_allclose(numpy_mle.lr_stat, builtin.lr_stat, rtol=1e-8, atol=1e-10)
    assert numpy_mle.rate_se.isna().all()  # it returns no SE


def test_the_function_gets_exactly_what_sample_replays(reference):
    _, result = reference
    first = result.replicates(estimator="first")
    for n, rep in [(10, 0), (10, 63), (10, 64), (40, 199)]:
        x = result.sample("exponential", {"rate": 2.0}, n, rep)
        (stored,) = first[(first.n == n) & (first.rep == rep)].rate
        assert stored == x[0]


def test_an_exception_is_status_error_at_exactly_its_replications(reference):
    _, result = reference
    flaky = result.replicates(estimator="flaky")
    expected = set()
    for n in (10, 40):
        for rep in range(200):
            x = result.sample("exponential", {"rate": 2.0}, n, rep)
            if int(x.view(np.uint64)[0] % 100) == 7:
                expected.add((n, rep))
    assert 1 <= len(expected) <= 12  # about 1%
    failed = flaky[flaky.status != "ok"]
    assert set(zip(failed.n, failed.rep)) == expected
    assert (failed.status == "error").all()
    assert failed.message.str.startswith("ValueError: unlucky sample starting").all()
    assert flaky[flaky.status == "ok"].message.isna().all()
    ok = flaky[flaky.status == "ok"]
    assert np.isfinite(ok.rate).all() and np.isfinite(ok.rate_se).all()
    # The study went on, and the failures count in fail_rate.
    metrics = result.analyse()[0]
    rows = metrics[(metrics.estimator == "flaky") & (metrics.metric == "fail_rate")]
    by_n = dict(zip(rows.n, rows.value))
    for n in (10, 40):
        assert by_n[n] == sum(1 for m, _ in expected if m == n) / 200


def test_one_worker_and_two_store_the_same_bytes(reference, tmp_path):
    config, one = reference
    two = simstudy.run(config, out=tmp_path / "two", threads=2, report=False, block_size=64)
    assert two.manifest["runs"][-1]["threads"] == 2
    files = block_files(one)
    assert len(files) == 4 * 2 * 4  # 4 estimators x 2 cells x blocks of 64 of R = 200
    assert block_files(two) == files


@pytest.mark.skipif(not HAVE_DASK, reason="needs the extra: pip install -e '.[dask]'")
def test_dask_stores_the_same_bytes(reference, tmp_path):
    distributed = pytest.importorskip("distributed")
    config, one = reference
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=":0") as cluster:  # fmt: skip
        dask = simstudy.run(config, out=tmp_path / "dask", scheduler=cluster.scheduler_address,
                            report=False, block_size=64)  # fmt: skip
    assert dask.manifest["runs"][-1]["executor"] == "dask"
    assert block_files(dask) == block_files(one)


def test_max_fail_rate_stops_the_cell_after_the_same_block_on_any_worker_count(tmp_path):
    config = study(tmp_path, "often", ["mle", py("often", "often")], reps=128, sizes=(20,),
                   max_fail_rate=0.2)  # fmt: skip
    runs = {}
    for threads in (1, 2):
        before = numba.get_num_threads()
        try:
            runs[threads] = simstudy.run(config, out=tmp_path / f"t{threads}", threads=threads,
                                         report=False, block_size=16)  # fmt: skip
        finally:
            numba.set_num_threads(before)
    one, two = runs[1], runs[2]
    assert [c["status"] for c in one.cells] == ["stopped"]
    stored = one.cells[0]["estimators"]
    assert stored["mle"]["replications"] == 128 and stored["often"]["replications"] == 16
    assert block_files(two) == block_files(one)


def test_replay_refits_a_python_estimator_identically(reference):
    _, result = reference
    found = simstudy.study.replay(result, 0, 5)
    fits = {f["estimator"]: f for f in found["fits"]}
    assert fits["np_mle"]["identical"] and fits["first"]["identical"]
    assert fits["np_mle"]["refit"]["rate"] == pytest.approx(fits["mle"]["refit"]["rate"], rel=1e-12)


def marked_reps(result, reps: int) -> set[int]:
    """The replications (of the n = 3 exponential cell) whose first value is below 0.05: the
    ones the planted estimators of configs/python_estimators.py treat differently."""
    return {rep for rep in range(reps)
            if result.sample("exponential", {"rate": 2.0}, 3, rep)[0] < 0.05}  # fmt: skip


def test_a_fit_past_its_timeout_is_status_timeout(tmp_path):
    config = study(tmp_path, "slow", [py("slow_sometimes", "slow", timeout=0.2)], reps=40,
                   sizes=(3,))  # fmt: skip
    t0 = time.perf_counter()
    result = simstudy.run(config, out=tmp_path / "out", report=False)
    assert time.perf_counter() - t0 < 25  # no fit slept its 30 s
    table = result.replicates(estimator="slow")
    expected = marked_reps(result, 40)
    assert expected and 0 not in expected
    slow = table[table.status == "timeout"]
    assert set(slow.rep) == expected
    assert (slow.message == "timeout: the fit took longer than 0.2 s").all()
    assert slow.rate.isna().all()
    assert (table[~table.rep.isin(expected)].status == "ok").all()


def test_a_wrong_return_after_the_first_replication_is_status_error(tmp_path):
    config = study(tmp_path, "later", [py("sometimes_wrong", "sw")], reps=40, sizes=(3,))
    result = simstudy.run(config, out=tmp_path / "out", report=False)
    table = result.replicates(estimator="sw")
    expected = marked_reps(result, 40)
    assert expected and 0 not in expected
    wrong = table[table.status == "error"]
    assert set(wrong.rep) == expected
    assert (wrong.message == "wrong return: the estimate['rate'] is None (NoneType), not a "
            "number; return a float (or NaN when there is none)").all()


@pytest.mark.parametrize(("function", "says"), [
    ("missing", ["returned {'shape': 1.0}", "the estimate has missing 'rate' and unknown 'shape'",
                 "give exactly the model's parameters rate"]),
    ("text", ["returned {'rate': 'fast'}", "the estimate['rate'] is 'fast' (str), not a number",
              "return a float"]),
    ("too_long", ["returned [1.0, 2.0]", "it returned a list", "return a mapping {'rate': ...}"]),
    ("bad_status", ["the status is 'fine'", "give one of ok, not_converged, no_mle, boundary"]),
], ids=lambda v: v if isinstance(v, str) else "")  # fmt: skip
def test_a_wrong_return_is_refused_before_the_run(tmp_path, capsys, function, says):
    config = study(tmp_path, "wrong", ["mle", py(function, "mine")])
    for command in ("validate", "run"):
        code = main([command, str(config), "--out", str(tmp_path / "out")][: 2 if command == "validate" else 4])
        err = capsys.readouterr().err
        assert code == 2, err
        assert f"{config}: models[0].estimators[1]: python estimator 'mine' (user_estimators:{function})" in err
        assert "at replication 0 of exponential {\"rate\":2.0} n=10" in err
        for text in says:
            assert text in err
        assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_a_sequence_of_the_wrong_length_names_both_lengths():
    from simstudy.pyfit import ReturnError, coerce

    with pytest.raises(ReturnError, match="the estimate has 2 values, the model has 3 parameters"):
        coerce({"estimate": [1.0, 2.0]}, ("b0", "b1", "b2"))
    est, se, status, n_iter = coerce({"estimate": np.array([1.0, 2.0]), "se": [0.5, 0.25],
                                      "status": "boundary"}, ("a", "b"))  # fmt: skip
    assert est.tolist() == [1.0, 2.0] and se[:2].tolist() == [0.5, 0.25] and np.isnan(se[2])
    assert (status, n_iter) == (3, 0)


def test_an_unimportable_function_is_a_clean_message(tmp_path, capsys):
    config = study(tmp_path, "noimport", ["mle", {"python": "no_such_module:fit"},
                                          py("no_such_function", "nsf")])  # fmt: skip
    assert main(["validate", str(config)]) == 2
    err = capsys.readouterr().err
    assert "cannot import module 'no_such_module'" in err and "Traceback" not in err
    config = study(tmp_path, "noattr", ["mle", py("no_such_function", "nsf")])
    assert main(["validate", str(config)]) == 2
    err = capsys.readouterr().err
    assert "models[0].estimators[1]" in err and "has no attribute 'no_such_function'" in err


def test_the_statsmodels_logit_agrees_with_the_builtin_mle_on_every_replication(tmp_path):
    pytest.importorskip("statsmodels")
    data = yaml.safe_load((ROOT / "configs" / "python_logit.yaml").read_text())
    data.update(replications=30, sample_sizes=[100, 1000])
    (tmp_path / "python_estimators.py").write_text((ROOT / "configs" / "python_estimators.py").read_text())
    config = tmp_path / "logit.yaml"
    config.write_text(yaml.safe_dump(data))
    result = simstudy.run(config, out=tmp_path / "out", report=False)
    mle, sm = result.replicates(estimator="mle"), result.replicates(estimator="statsmodels")
    assert len(sm) == 60 and (sm.status == "ok").all() and (mle.status == "ok").all()
    for p in ("b0", "b1", "b2"):
        np.testing.assert_allclose(sm[p], mle[p], rtol=0, atol=1e-6)
        np.testing.assert_allclose(sm[f"{p}_se"], mle[f"{p}_se"], rtol=1e-5)


def test_sigkill_mid_study_resumes_without_recomputing(tmp_path):
    config = study(tmp_path, "killed", [py("slow_mle", "slow")], reps=240, sizes=(20,))
    cmd = [sys.executable, "-m", "simstudy", "run", str(config), "--out", str(tmp_path / "out"),
           "--quiet", "--no-report", "--block-size", "20", "--threads", "1"]  # fmt: skip
    store = tmp_path / "out" / "killed" / "store"
    survivors = kill_mid_run(cmd, tmp_path, store, timeout=120)
    assert 3 <= len(survivors) < 12, "kill -9 should land mid-study"
    done = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    after = {p.name: p.stat().st_mtime_ns for p in store.rglob("*.parquet")}
    assert len(after) == 12
    assert all(after[name] == mtime for name, mtime in survivors.items())  # not recomputed
    result = simstudy.load(tmp_path / "out" / "killed")
    table = result.replicates(estimator="slow")
    assert table.rep.tolist() == list(range(240)) and (table.status == "ok").all()
    x = result.sample("exponential", {"rate": 2.0}, 20, 239)
    assert table.rate.iloc[-1] == 1.0 / np.mean(x)


def test_workers_never_rerun_the_users_script(tmp_path):
    """A script without an ``if __name__ == "__main__"`` guard runs once, whatever the workers."""
    config = study(tmp_path, "script", [py("exp_mle", "np_mle")], reps=40, sizes=(10,))
    (tmp_path / "script.py").write_text(
        "import simstudy\n"
        "with open('ran.txt', 'a') as f:\n"
        "    f.write('ran\\n')\n"
        f"simstudy.run({str(config)!r}, out='out', threads=2, report=False)\n"
    )
    subprocess.run([sys.executable, "script.py"], cwd=tmp_path, check=True, timeout=120)
    assert (tmp_path / "ran.txt").read_text() == "ran\n"
    assert len(simstudy.load(tmp_path / "out" / "script").replicates(estimator="np_mle")) == 40


def test_validate_with_a_python_estimator_compiles_and_loads_no_kernel(tmp_path):
    config = study(tmp_path, "offline", ["mle", py("exp_mle", "np_mle")])
    probe = (
        "import gc, json, sys\n"
        "from simstudy.cli import main\n"
        "code = main(sys.argv[1:])\n"
        "from numba.core.dispatcher import Dispatcher\n"
        "loaded = sorted({d.py_func.__qualname__ for d in gc.get_objects()\n"
        "                 if isinstance(d, Dispatcher) and d.overloads})\n"
        "print(json.dumps({'code': code, 'loaded': loaded}), file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", probe, "validate", str(config)], cwd=tmp_path,
                          capture_output=True, text=True, check=False, timeout=120,
                          env=dict(os.environ))  # fmt: skip
    found = json.loads(proc.stderr.strip().splitlines()[-1])
    assert found == {"code": 0, "loaded": []}
