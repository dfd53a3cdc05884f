"""Public API beyond the engine: derived parameters, adaptive R, plan, check-model, verify,
assert_mle_properties, and the README/CI contract."""

from __future__ import annotations

import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import simstudy
from simstudy.metrics import derived
from simstudy.testing import assert_mle_properties, check_model

ROOT = Path(__file__).resolve().parents[1]


# ---- derived parameters ----------------------------------------------------------------------
@pytest.mark.parametrize(
    "expression, theta, value, gradient",
    [
        ("sqrt(sigma2)", [0.0, 4.0], 2.0, [0.0, 0.25]),
        ("shape / rate", [2.0, 4.0], 0.5, [0.25, -0.125]),
        ("log(shape) - 2 * rate ** 2", [2.0, 3.0], math.log(2.0) - 18.0, [0.5, -12.0]),
        ("exp(-shape) + abs(rate)", [0.5, -2.0], math.exp(-0.5) + 2.0, [-math.exp(-0.5), -1.0]),
        ("shape ** rate", [2.0, 3.0], 8.0, [12.0, 8.0 * math.log(2.0)]),
    ],
)
def test_dual_number_gradients_are_exact(expression, theta, value, gradient):
    names = ["shape", "rate"] if "sigma2" not in expression else ["mu", "sigma2"]
    tree = derived.parse(expression, names)
    got, grad = derived.value_and_gradient(tree, names, theta)
    assert float(got) == pytest.approx(value, rel=1e-14)
    assert [float(g) for g in grad] == pytest.approx(gradient, rel=1e-14, abs=1e-15)


@pytest.mark.parametrize(
    "expression, message",
    [
        ("__import__('os')", "only the functions"),
        ("rate.real", "Attribute is not allowed"),
        ("rate if rate else 1", "IfExp is not allowed"),
        ("shape % 2", "operator Mod is not allowed"),
        ("scale * 2", "unknown name 'scale'"),
        ("sqrt(rate, 2)", "takes exactly one argument"),
        ("rate +", "cannot parse"),
    ],
)
def test_unsafe_or_unknown_expressions_are_rejected(expression, message):
    with pytest.raises(derived.ExpressionError, match=re.escape(message)):
        derived.parse(expression, ["shape", "rate"])


def test_derived_parameter_gets_metrics_and_delta_method_crlb(tmp_path):
    cfg = {
        "name": "derived", "seed": 11, "replications": 400, "sample_sizes": [50, 200, 800],
        "models": [{"model": "exponential", "params": {"rate": 2.0}, "derived": {"mean": "1 / rate"}}],
    }
    result = simstudy.run(cfg, out=tmp_path, report=False)
    m = result.metrics
    rows = m[(m.param == "mean") & (m.n == 200)].set_index("metric")
    # CRLB of g = 1/λ: g'(λ)² I(λ)⁻¹ = (1/λ⁴) λ² = 1/λ² per observation.
    assert rows.at["inv_fisher", "value"] == pytest.approx(1 / 4.0, rel=1e-12)
    df = result.replicates(n=200)
    np.testing.assert_allclose(rows.at["mean", "value"], np.mean(1 / df["rate"]), rtol=1e-12)
    # Delta-method SE of 1/λ̂ with SE(λ̂) = λ̂/√n is (1/λ̂²)(λ̂/√n) = 1/(λ̂√n).
    modse = math.sqrt(np.mean((1 / (df["rate"] * math.sqrt(200))) ** 2))
    assert rows.at["modse", "value"] == pytest.approx(modse, rel=1e-12)
    assert set(result.verdicts[result.verdicts.param == "mean"].property) == {
        "consistent", "asymptotically_unbiased", "efficient", "asymptotically_normal", "wald_coverage"
    }


def test_derived_parameter_of_two_correlated_estimates_uses_reported_correlation(tmp_path):
    """gamma mean = shape/rate = x̄: its delta-method SE must equal sqrt(v/n) of the MoM fit,
    which needs the per-replication correlation of (shape, rate), ~0.99 here."""
    cfg = {
        "name": "corr", "seed": 5, "replications": 50, "sample_sizes": [400],
        "models": [{"model": "gamma", "params": {"shape": 2.0, "rate": 1.5},
                    "estimators": ["mom"], "derived": {"mean": "shape / rate"}}],
    }
    result = simstudy.run(cfg, out=tmp_path, report=False)
    df = result.replicates()
    assert (df["corr_shape_rate"] > 0.8).all()
    tree = derived.parse("shape / rate", ["shape", "rate"])
    _, _, g_hat, g_se = derived.delta_method(
        tree, ["shape", "rate"], np.array([2.0, 1.5]), np.eye(2),
        [df["shape"].to_numpy(), df["rate"].to_numpy()],
        [df["shape_se"].to_numpy(), df["rate_se"].to_numpy()],
        np.ones(len(df), bool), {("shape", "rate"): df["corr_shape_rate"].to_numpy()},
    )
    for rep in (0, 7, 31):
        x = result.sample("gamma", {"shape": 2.0, "rate": 1.5}, 400, rep)
        assert g_hat[rep] == pytest.approx(x.mean(), rel=1e-12)
        # x̄ = α̃/β̃ exactly, and its delta-method SE is the plain sqrt(m2/n) of the sample mean.
        assert g_se[rep] == pytest.approx(math.sqrt(np.var(x) / 400), rel=1e-9)


def test_per_parameter_expectations(tmp_path):
    cfg = {
        "name": "expect", "seed": 2, "replications": 300, "sample_sizes": [100, 300, 1000],
        "models": [{"model": "gamma", "params": {"shape": 2.0, "rate": 1.0}, "estimators": ["mle", "mom"],
                    "derived": {"mean": "shape / rate"},
                    "expect": {"mom": {"shape": {"efficient": "fail"}, "consistent": "fail"}}}],
    }
    v = simstudy.run(cfg, out=tmp_path, report=False).verdicts.set_index(["estimator", "param", "property"])
    assert v.at[("mom", "shape", "efficient"), "expected"] == "fail"
    assert v.at[("mom", "mean", "efficient"), "expected"] == "pass"
    assert v.at[("mom", "rate", "consistent"), "expected"] == "fail"
    assert v.at[("mle", "shape", "efficient"), "expected"] == "pass"


# ---- adaptive replications and planning ------------------------------------------------------
def test_until_mcse_raises_r_until_targets_hold_at_the_largest_n(tmp_path):
    cfg = {
        "name": "adaptive", "seed": 9, "sample_sizes": [40, 400],
        "replications": {"start": 100, "until_mcse": {"bias": 0.003}, "max": 5000},
        "models": [{"model": "exponential", "params": {"rate": 1.0}}],
    }
    result = simstudy.run(cfg, out=tmp_path, report=False)
    reps = result.manifest["replications"]
    assert 100 < reps <= 5000
    m = result.metrics
    bias = m[m.metric == "bias"].set_index("n")
    # The verdicts read the bias at the largest n: its MCSE meets the target; the n = 40 cell,
    # which no verdict is judged on, does not drive R (its MCSE stays far above the target).
    assert bias.at[400, "mcse"] <= 0.003
    assert bias.at[40, "mcse"] > 2 * 0.003
    # Morris eq. 5: R = Var(θ̂)/target²; at n = 400, Var(λ̂) ≈ λ²n²/((n-1)²(n-2)) ≈ 0.00252,
    # so R ≈ 280, rounded up to a multiple of 100.
    assert 0.8 * 0.00252 / 0.003**2 <= reps <= 500


def test_pilot_estimates_time_and_needed_replications():
    from simstudy.study import pilot

    cfg = {
        "name": "pilot", "seed": 1, "replications": 1000, "sample_sizes": [20, 200],
        "models": [{"model": "poisson", "params": {"rate": 4.0}}],
        "checks": {"target_mcse": {"coverage": 0.005, "bias": 0.001}},
    }
    report = pilot(cfg, replications=100)
    assert list(report.cells.n) == [20, 200]
    assert (report.cells.seconds_per_replication > 0).all()
    assert report.estimated_seconds > 0
    needed = report.needed.set_index("metric")
    # c(1-c)/t² = 0.0475/0.000025 = 1900 exactly (1900.0000000000002 in floating point).
    assert needed.at["coverage", "replications_needed"] == 1900
    # bias at the largest n, where the verdicts read it: Var(λ̂)/target² = (λ/n)/1e-6 = 20,000
    # at n = 200, estimated from the pilot (the n = 20 cell would ask ten times as many).
    assert needed.at["bias", "n"] == 200
    assert 12_000 < needed.at["bias", "replications_needed"] < 30_000


def test_check_model_catches_a_wrong_fisher_information():
    import dataclasses

    model = simstudy.get_model("exponential")

    def twice_fisher(theta, out):
        model.fisher(theta, out)
        out *= 2.0

    broken = dataclasses.replace(model, fisher=twice_fisher)
    failed = {r.name for r in check_model(broken, checks=["score_variance", "hessian_information"])
              if r.failed}  # fmt: skip
    assert "Var(score)[rate,rate] = I" in failed
    assert "-E[Hessian][rate,rate] = I" in failed


def test_verify_python_twin(tmp_path):
    cfg = {
        "name": "verify", "seed": 4, "replications": 10000, "sample_sizes": [100, 300, 1000, 3000],
        "models": [{"model": "poisson", "params": {"rate": 2.0}}],
    }
    outcome = simstudy.verify(cfg, out=tmp_path)
    assert outcome.passed, outcome.verdicts[~outcome.verdicts.met]
    again = simstudy.verify(tmp_path / "verify")  # from the results folder, no refit
    assert again.passed and again.result.last_run is None
    assert (tmp_path / "verify" / "verdicts.json").is_file()


def test_assert_mle_properties_reports_failing_property(tmp_path):
    (tmp_path / "plugmod.py").write_text(
        (ROOT / "tests" / "plugins" / "shifted.py").read_text()
    )
    sys.path.insert(0, str(tmp_path))
    try:
        with pytest.raises(AssertionError, match=r"rate: consistent is FAIL, expected PASS"):
            assert_mle_properties("exponential", {"rate": 2.0}, [100, 300, 1000, 3000], 2000,
                                  estimator="plugmod:shifted_mean")  # fmt: skip
        verdicts = assert_mle_properties(
            "exponential", {"rate": 2.0}, [100, 300, 1000, 3000], 2000,
            estimator="plugmod:shifted_mean", consistent="fail", asymptotically_unbiased="fail",
            wald_coverage="fail",  # an interval centred 0.1 too high misses θ as n grows
        )  # fmt: skip
        assert set(verdicts.verdict[verdicts.property == "consistent"]) == {"FAIL"}
    finally:
        sys.path.remove(str(tmp_path))


def test_python_dash_m_entry_point():
    proc = subprocess.run([sys.executable, "-m", "simstudy", "models"], capture_output=True, check=False, text=True, timeout=120)
    assert proc.returncode == 0 and "gamma" in proc.stdout
