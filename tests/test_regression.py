"""Regression models and user-defined (plugin) models: what the generic suite cannot say."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

import simstudy
from simstudy.models import NO_MLE, NOT_CONVERGED, get_model
from simstudy.models._base import se_slots
from simstudy.testing import check_model

ROOT = Path(__file__).resolve().parents[1]
DESIGN = {"intercept": True, "covariates": [{"dist": "normal", "mean": 0.0, "sd": 1.0}]}


def _rows(y, x):
    return np.column_stack([y, np.ones(len(y)), x]).ravel()


@pytest.mark.parametrize("estimator", ["mle", "mse_loss", "gradient_ascent"])
@pytest.mark.parametrize(
    "y, x",
    [
        ([0, 0, 1, 1], [-2.0, -1.0, 1.0, 3.0]),  # complete separation
        ([0, 0, 1, 1, 0], [-2.0, 0.0, 0.0, 3.0, -1.0]),  # quasi-complete (a tie at x = 0)
        ([1, 1, 1, 1], [-1.0, 0.5, 2.0, 0.1]),  # one class only
    ],
)
def test_separation_is_certified_no_mle(estimator, y, x):
    model = get_model("logistic", DESIGN)
    est, se = np.empty(2), np.full(se_slots(2), np.nan)
    status, _ = model.estimator(estimator).fit(_rows(y, x), est, se)
    if estimator == "gradient_ascent" and status == NOT_CONVERGED:
        # Under quasi-complete separation β grows only like log(t): within its step cap the
        # direction need not be certifiable yet, and "not converged" is then the honest answer.
        assert y == [0, 0, 1, 1, 0]
        return
    assert status == NO_MLE
    assert np.isnan(est).all()


def test_separated_replications_count_in_fail_rate_not_in_metrics(tmp_path):
    """At n = 8 with a steep slope many samples are separated: they are stored as no_mle,
    counted in fail_rate, and the metrics use only the fits that exist."""
    cfg = {
        "name": "sep", "seed": 3, "replications": 400, "sample_sizes": [8, 400],
        "models": [{"model": "logistic", "params": {"b0": 0.0, "b1": 4.0}, "design": DESIGN}],
    }
    result = simstudy.run(cfg, out=tmp_path, report=False)
    df = result.replicates(n=8)
    failed = (df.status == "no_mle").sum()
    assert 40 < failed < 360
    m = result.metrics
    row = m[(m.n == 8) & (m.param == "b1") & (m.metric == "fail_rate")].iloc[0]
    assert row.value == pytest.approx(failed / 400) and row.n_failed == failed
    mean = m[(m.n == 8) & (m.param == "b1") & (m.metric == "mean")].iloc[0].value
    usable = df[df.status.isin(["ok", "boundary"])].b1
    assert mean == pytest.approx(usable.mean()) and np.isfinite(mean) and abs(mean) < 50


def test_linear_model_fisher_is_exact_and_regression_replay_matches(tmp_path):
    design = {"intercept": True, "covariates": [{"dist": "uniform", "low": -1.0, "high": 3.0},
                                                {"dist": "bernoulli", "p": 0.25}]}  # fmt: skip
    model = get_model("linear_gaussian", design)
    info = np.zeros((4, 4))
    model.fisher(np.array([0.0, 1.0, 2.0, 0.5]), info)
    # E[x xᵀ]/σ² for x = (1, U(-1,3), Bern(1/4)): E U = 1, E U² = 7/3.
    expected = np.array([[1, 1, 0.25], [1, 7 / 3, 0.25], [0.25, 0.25, 0.25]]) / 0.5
    np.testing.assert_allclose(info[:3, :3], expected, rtol=1e-12)
    assert info[3, 3] == pytest.approx(1 / (2 * 0.25))
    cfg = {"name": "lin", "seed": 4, "replications": 20, "sample_sizes": [50],
           "models": [{"model": "linear_gaussian", "design": design,
                       "params": {"b0": 0.0, "b1": 1.0, "b2": 2.0, "sigma2": 0.5}}]}  # fmt: skip
    result = simstudy.run(cfg, out=tmp_path, report=False)
    x = result.sample("linear_gaussian", {"b0": 0.0, "b1": 1.0, "b2": 2.0, "sigma2": 0.5}, 50, 7)
    rows = x.reshape(50, 4)
    beta, *_ = np.linalg.lstsq(rows[:, 1:], rows[:, 0], rcond=None)
    stored = result.replicates().query("rep == 7").iloc[0]
    np.testing.assert_allclose([stored.b0, stored.b1, stored.b2], beta, rtol=1e-9)


def test_design_block_is_validated(tmp_path):
    bad = {"name": "bad", "seed": 1, "replications": 10, "sample_sizes": [10],
           "models": [{"model": "normal", "params": {"mu": 0.0, "sigma2": 1.0}, "design": DESIGN}]}  # fmt: skip
    with pytest.raises(simstudy.StudyConfigError, match=r"models\[0\]\.design: model 'normal' takes no design"):
        simstudy.run(bad, out=tmp_path, report=False)
    wrong = {"name": "bad", "seed": 1, "replications": 10, "sample_sizes": [10],
             "models": [{"model": "logistic", "params": {"b0": 0.0, "b1": 1.0},
                         "design": {"covariates": [{"dist": "bernoulli", "sd": 1.0}]}}]}  # fmt: skip
    with pytest.raises(simstudy.StudyConfigError, match="bernoulli covariate takes p"):
        simstudy.run(wrong, out=tmp_path, report=False)
    options = {"name": "bad", "seed": 1, "replications": 10, "sample_sizes": [10],
               "models": [{"model": "logistic", "params": {"b0": 0.0, "b1": 1.0}, "design": DESIGN,
                           "estimators": [{"estimator": "gradient_ascent", "options": {"rat": 2.0}}]}]}  # fmt: skip
    with pytest.raises(simstudy.StudyConfigError, match=r"no option 'rat' \(did you mean 'rate'\?\)"):
        simstudy.run(options, out=tmp_path, report=False)


def test_gradient_ascent_rate_is_an_option_and_part_of_the_identity(tmp_path):
    cfg = {"name": "ga", "seed": 5, "replications": 30, "sample_sizes": [300],
           "models": [{"model": "logistic", "params": {"b0": -0.5, "b1": 1.5}, "design": DESIGN,
                       "estimators": ["mle", "gradient_ascent",
                                      {"estimator": "gradient_ascent", "options": {"rate": 3.0}, "name": "fast"}]}]}  # fmt: skip
    result = simstudy.run(cfg, out=tmp_path, report=False)
    df = result.replicates()
    iters = df.groupby("estimator").n_iter.mean()
    assert iters["fast"] < iters["gradient_ascent"] / 2 and iters["mle"] < 10
    keys = {label: info["result_key"] for label, info in result.cells[0]["estimators"].items()}
    assert len(set(keys.values())) == 3
    mle = df[df.estimator == "mle"].set_index("rep").b1
    fast = df[df.estimator == "fast"].set_index("rep").b1
    np.testing.assert_allclose(fast, mle, rtol=1e-5)  # both reach the same maximum


# ---- user-defined models -----------------------------------------------------------------------
@pytest.fixture
def plugin_dir():
    path = str(ROOT / "configs")
    sys.path.insert(0, path)
    yield Path(path)
    sys.path.remove(path)


def test_plugin_model_fallbacks_match_closed_forms(plugin_dir):
    from simstudy.models._registry import load_plugin_model

    model = load_plugin_model("my_models:Rayleigh")
    assert "numerical" in model.tags["score"] and "quadrature" in model.tags["fisher"]
    gen = np.random.Generator(np.random.Philox(key=5, counter=[0, 0, 1, 0]))
    x = model.numpy_sample(gen, np.array([1.5]), 1000)
    fit = simstudy.fit(model, x)
    assert fit.status == "ok"
    assert fit.estimate["sigma"] == pytest.approx(np.sqrt((x**2).sum() / 2000), rel=1e-8)
    # Observed information n·(3Σx²/(nσ⁴) - 2/σ²)... at the MLE it is 4n/σ̂²: SE = σ̂/(2√n).
    assert fit.se["sigma"] == pytest.approx(fit.estimate["sigma"] / (2 * np.sqrt(1000)), rel=1e-4)
    info = np.zeros((1, 1))
    model.fisher(np.array([1.5]), info)
    # I(σ) = 4/σ² (the Rayleigh closed form), by quadrature of the numerical score.
    assert info[0, 0] == pytest.approx(4 / 1.5**2, rel=1e-8)
    assert check_model(model).ok


def test_plugin_model_study_runs_replays_and_verifies(tmp_path):
    cfg = yaml.safe_load((ROOT / "configs" / "plugin_model.yaml").read_text())
    cfg["replications"] = 300
    config = tmp_path / "plugin_model.yaml"
    config.write_text(yaml.safe_dump(cfg))
    (tmp_path / "my_models.py").write_text((ROOT / "configs" / "my_models.py").read_text())
    result = simstudy.run(config, out=tmp_path / "out", report=False)
    assert {c["model"] for c in result.cells} == {"rayleigh"}
    assert result.cells[0]["plugin"] == "my_models:Rayleigh"
    from simstudy.study import replay

    out = replay(result, 2, 11)
    assert all(f["identical"] for f in out["fits"])
    assert set(result.verdicts.model) == {"rayleigh"}
