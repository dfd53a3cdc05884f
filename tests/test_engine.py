"""Engine, store and executor: determinism, resume, extension, replay, plugins, corruption."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numba
import numpy as np
import pyarrow as pa
import pytest

import simstudy
from simstudy.models import get_model

PLUGIN_DIR = Path(__file__).parent / "plugins"


def small_config(name="det", replications=60, **extra):
    cfg = {
        "name": name,
        "seed": 12345,
        "replications": replications,
        "sample_sizes": [5, 40],
        "models": [
            {"model": "gamma", "params": {"shape": 2.0, "rate": 1.5}, "estimators": ["mle", "mom"]},
            {"model": "normal", "params": {"mu": 1.0, "sigma2": 2.0}, "estimators": ["mle", "unbiased"]},
            {"model": "bernoulli", "params": {"p": 0.2}},
            {"model": "poisson", "params": {"rate": 12.0}},
            {"model": "exponential", "params": {"rate": 0.5}},
        ],
    }
    cfg.update(extra)
    return cfg


def replicate_digest(result) -> str:
    """SHA-256 of every stored replicate array, cell by cell, in plan order."""
    h = hashlib.sha256()
    for cell in result.cells:
        for label, info in cell["estimators"].items():
            table = result.store.read_replicates(info["result_key"], result.manifest["replications"])
            assert table is not None, f"{cell['model']} {label} incomplete"
            for name in table.column_names:
                h.update(name.encode())
                h.update(np.ascontiguousarray(table.column(name).to_numpy()).tobytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref")
    return simstudy.run(small_config(), out=out, report=False)


def test_threads_do_not_change_results(reference, tmp_path):
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = simstudy.run(small_config(), out=tmp_path / "t1", report=False)
    finally:
        numba.set_num_threads(before)
    assert numba.config.NUMBA_NUM_THREADS >= 2, "the machine should have 2 cores"
    two = simstudy.run(small_config(), out=tmp_path / "t2", threads=2, report=False)
    assert replicate_digest(one) == replicate_digest(two) == replicate_digest(reference)


@pytest.mark.parametrize("block_size", [7, 1000])
def test_block_size_does_not_change_results(reference, tmp_path, block_size):
    result = simstudy.run(small_config(), out=tmp_path, block_size=block_size, report=False)
    assert replicate_digest(result) == replicate_digest(reference)
    files = list((tmp_path / "det" / "store").rglob("*.parquet"))
    n_results = sum(len(c["estimators"]) for c in result.cells)
    expected_blocks = -(-60 // block_size) * n_results
    assert len(files) == expected_blocks


def test_interrupted_then_resumed_equals_uninterrupted(reference, tmp_path):
    first = simstudy.run(small_config(), out=tmp_path, block_size=7, report=False)
    files = sorted((tmp_path / "det" / "store").rglob("*.parquet"))
    # Simulate a run killed part-way: lose every third block.
    lost = files[::3]
    for path in lost:
        path.unlink()
    resumed = simstudy.run(small_config(), out=tmp_path, block_size=7, report=False)
    lost_reps = sum(int(p.stem.split("-")[2]) - int(p.stem.split("-")[1]) for p in lost)
    assert resumed.last_run.computed_replications <= lost_reps
    assert resumed.last_run.computed_replications > 0
    assert replicate_digest(resumed) == replicate_digest(reference) == replicate_digest(first)


def test_rerun_computes_nothing_and_raising_r_computes_only_new(tmp_path):
    cfg = small_config(replications=40)
    simstudy.run(cfg, out=tmp_path, report=False)
    again = simstudy.run(cfg, out=tmp_path, report=False)
    assert again.last_run.computed_replications == 0
    more = simstudy.run(cfg, out=tmp_path, replications=100, report=False)
    n_cells = len(more.cells)
    assert more.last_run.computed_replications == 60 * n_cells
    # The first 40 replications of the extended run are those of a fresh R = 100 run.
    fresh = simstudy.run(small_config(replications=100), out=tmp_path / "fresh", report=False)
    assert replicate_digest(more) == replicate_digest(fresh)


def test_force_recomputes(tmp_path):
    cfg = small_config(replications=20)
    simstudy.run(cfg, out=tmp_path, report=False)
    forced = simstudy.run(cfg, out=tmp_path, force=True, report=False)
    assert forced.last_run.computed_replications == 20 * len(forced.cells)


def test_corrupt_block_is_detected_and_recomputed(reference, tmp_path):
    """A block whose values changed silently (valid Parquet, stale checksum) is recomputed."""
    import pyarrow.parquet as pq

    simstudy.run(small_config(), out=tmp_path, block_size=30, report=False)
    victim = sorted((tmp_path / "det" / "store").rglob("*.parquet"))[3]
    table = pq.read_table(victim)
    column = table.column_names.index("lr_stat")
    altered = table.column("lr_stat").to_numpy().copy()
    altered[0] += 1.0
    table = table.set_column(column, "lr_stat", pa.array(altered))
    pq.write_table(table, victim)  # keeps the old checksum in the schema metadata
    with pytest.warns(UserWarning, match="checksum mismatch"):
        again = simstudy.run(small_config(), out=tmp_path, block_size=30, report=False)
    assert again.last_run.computed_replications == 30
    assert replicate_digest(again) == replicate_digest(reference)


def test_truncated_block_is_recomputed(reference, tmp_path):
    simstudy.run(small_config(), out=tmp_path, block_size=30, report=False)
    victim = min((tmp_path / "det" / "store").rglob("*.parquet"))
    victim.write_bytes(victim.read_bytes()[:100])
    with pytest.warns(UserWarning, match="unreadable"):
        again = simstudy.run(small_config(), out=tmp_path, block_size=30, report=False)
    assert replicate_digest(again) == replicate_digest(reference)


def test_replay_regenerates_sample_and_estimate_with_numpy(reference):
    reps = reference.replicates(model="gamma", estimator="mle", n=40)
    for rep in (0, 17, 59):
        x = reference.sample("gamma", {"shape": 2.0, "rate": 1.5}, 40, rep)
        refit = simstudy.fit("gamma", x, "mle")
        row = reps[reps.rep == rep].iloc[0]
        assert refit.estimate == {"shape": row["shape"], "rate": row["rate"]}
        assert refit.status == row["status"]
        assert refit.n_iter == row["n_iter"]


def test_replay_recipe_in_manifest_is_plain_numpy(reference):
    """The manifest's key words and counter regenerate a sample without simstudy's code."""
    cell = next(c for c in reference.cells if c["model"] == "normal" and c["n"] == 40)
    seed, key1 = reference.manifest["seed"], cell["key1"]
    gen = np.random.Generator(
        np.random.Philox(key=seed | (key1 << 64), counter=np.array([0, 0, 9, 0], dtype=np.uint64))
    )
    x = gen.normal(1.0, np.sqrt(2.0), 40)
    row = reference.replicates(model="normal", estimator="mle", n=40).query("rep == 9").iloc[0]
    assert row["mu"] == np.mean(x) or abs(row["mu"] - np.mean(x)) <= 1e-15 * abs(np.mean(x))
    assert abs(row["sigma2"] - np.var(x)) <= 1e-13 * np.var(x)


def test_common_random_numbers_across_estimators(reference):
    """Every estimator of a cell sees the same sample: mle and unbiased σ² differ by n/(n-1)."""
    df = reference.replicates(model="normal", n=40)
    mle = df[df.estimator == "mle"].set_index("rep")
    unb = df[df.estimator == "unbiased"].set_index("rep")
    np.testing.assert_array_equal(mle["mu"], unb["mu"])
    np.testing.assert_allclose(unb["sigma2"] * 39 / 40, mle["sigma2"], rtol=1e-14)


def test_lr_stat_is_twice_the_loglik_gain(reference):
    model = get_model("gamma")
    df = reference.replicates(model="gamma", estimator="mle", n=40)
    theta0 = np.array([2.0, 1.5])
    for rep in (3, 44):
        x = reference.sample("gamma", {"shape": 2.0, "rate": 1.5}, 40, rep)
        row = df[df.rep == rep].iloc[0]
        expected = 2 * (model.loglik(x, np.array([row["shape"], row["rate"]])) - model.loglik(x, theta0))
        assert row["lr_stat"] == pytest.approx(expected, rel=1e-12)
        assert row["lr_stat"] >= 0.0


def test_boundary_fits_are_kept_with_their_status(tmp_path):
    cfg = {
        "name": "boundary", "seed": 1, "replications": 200, "sample_sizes": [3],
        "models": [{"model": "bernoulli", "params": {"p": 0.1}}],
    }
    df = simstudy.run(cfg, out=tmp_path, report=False).replicates()
    zero = df[df.p == 0.0]
    # P(all three are 0) = 0.9³ = 0.729: about 146 of 200.
    assert 100 < len(zero) < 190
    edge = df[(df.p == 0.0) | (df.p == 1.0)]
    assert set(edge.status) == {"boundary"}
    assert (df[(df.p > 0) & (df.p < 1)].status == "ok").all()


def test_plugin_estimator_runs_like_a_builtin(tmp_path):
    cfg = {
        "name": "plugin", "seed": 7, "replications": 30, "sample_sizes": [20],
        "models": [{
            "model": "exponential", "params": {"rate": 2.0},
            "estimators": ["mle", {"plugin": "shifted:shifted_mean", "name": "shifted"}],
        }],
    }
    config = tmp_path / "plugin.yaml"
    import yaml

    config.write_text(yaml.safe_dump(cfg))
    (tmp_path / "shifted.py").write_text((PLUGIN_DIR / "shifted.py").read_text())
    df = simstudy.run(config, out=tmp_path / "out", report=False).replicates()
    mle = df[df.estimator == "mle"].set_index("rep")["rate"]
    shifted = df[df.estimator == "shifted"].set_index("rep")["rate"]
    np.testing.assert_allclose(shifted, mle + 0.1, rtol=0, atol=1e-12)


def test_bad_input_writes_nothing(tmp_path):
    cfg = small_config()
    cfg["models"][0]["estimators"] = ["mle", "nonsense"]
    with pytest.raises(simstudy.StudyConfigError, match=r"models\[0\]\.estimators\[1\]"):
        simstudy.run(cfg, out=tmp_path / "out", report=False)
    assert not (tmp_path / "out").exists()
