"""Statistical properties at R = 10,000: the metrics find known truths, the verdicts have power.

Three studies, each run once per module (module-scoped fixtures) with a fixed seed, so every
assertion is deterministic:

- ``analytic``: small n (10, 30), where finite-sample means and variances of closed-form
  estimators are known exactly; metric rows must match them within 3 MCSE.
- ``seed_models``: the five seed models up to n = 10,000. No MLE gets a false FAIL; the gamma
  method of moments FAILs ``efficient``.
- ``planted``: estimators from tests/plugins/planted.py, each with one planted defect, run
  through the plugin mechanism; the verdict for that defect FAILs and (specificity) the
  properties the estimator keeps still PASS.

Tolerances come from the MCSEs the metrics report: a value is compared with its truth within
``K_MCSE`` Monte Carlo standard errors.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

import simstudy

pytestmark = pytest.mark.slow

PLUGIN_DIR = Path(__file__).resolve().parents[1] / "plugins"
R = 10_000
K_MCSE = 3.0
PROPERTIES = ("consistent", "asymptotically_unbiased", "efficient", "asymptotically_normal",
              "wald_coverage")  # fmt: skip


@pytest.fixture(scope="module")
def plugins_on_path():
    """Make ``planted`` importable for dict configs (a YAML config's folder is added instead)."""
    path = str(PLUGIN_DIR)
    sys.path.insert(0, path)
    yield
    sys.path.remove(path)


def _verdict(verdicts, model, estimator, param, prop, theta=None):
    rows = verdicts[(verdicts.model == model) & (verdicts.estimator == estimator)
                    & (verdicts.param == param) & (verdicts.property == prop)]  # fmt: skip
    if theta is not None:
        rows = rows[rows.theta == theta]
    assert len(rows) == 1, (model, estimator, param, prop, theta, len(rows))
    return rows.iloc[0]


def _describe(rows):
    return "\n".join(
        f"{r.model} {r.theta} {r.estimator} {r.param} {r.property}: {r.verdict} ({r.detail})"
        for r in rows.itertuples()
    )


# ============================================================================================
# Analytic finite-sample truths


ANALYTIC = {
    "name": "analytic-truths",
    "seed": 20240611,
    "replications": R,
    "sample_sizes": [10, 30],
    "models": [
        {"model": "exponential", "params": {"rate": 1.5}, "estimators": ["mle", "unbiased"]},
        {"model": "normal", "params": {"mu": 1.0, "sigma2": 4.0},
         "estimators": ["mle", "unbiased"]},
        {"model": "poisson", "params": {"rate": 3.0}},
        {"model": "bernoulli", "params": {"p": 0.3}},
    ],
}


def _truth(model, estimator, param, n):
    """(E θ̂, Var θ̂, θ) exactly, for the closed-form estimators of ``ANALYTIC``."""
    if model == "exponential":
        lam = 1.5
        if estimator == "mle":
            # n/Σx with Σx ~ Gamma(n, λ): E = nλ/(n-1), Var = n²λ²/((n-1)²(n-2)).
            return n * lam / (n - 1), n * n * lam * lam / ((n - 1) ** 2 * (n - 2)), lam
        # (n-1)/Σx: unbiased, Var = λ²/(n-2).
        return lam, lam * lam / (n - 2), lam
    if model == "normal":
        mu, s2 = 1.0, 4.0
        if param == "mu":
            return mu, s2 / n, mu
        if estimator == "mle":
            # Σ(x-x̄)²/n = σ²χ²_{n-1}/n: E = (n-1)σ²/n, Var = 2(n-1)σ⁴/n².
            return (n - 1) * s2 / n, 2 * (n - 1) * s2**2 / n**2, s2
        return s2, 2 * s2**2 / (n - 1), s2
    if model == "poisson":
        return 3.0, 3.0 / n, 3.0  # x̄: unbiased, Var = λ/n = CRLB
    if model == "bernoulli":
        return 0.3, 0.3 * 0.7 / n, 0.3  # k/n: unbiased, Var = p(1-p)/n = CRLB
    raise AssertionError(model)


@pytest.fixture(scope="module")
def analytic(tmp_path_factory):
    return simstudy.run(ANALYTIC, out=tmp_path_factory.mktemp("analytic"), report=False)


def _analytic_cases():
    for entry in ANALYTIC["models"]:
        model = entry["model"]
        for est in entry.get("estimators", ["mle"]):
            for param in entry["params"]:
                for n in ANALYTIC["sample_sizes"]:
                    yield pytest.param(model, est, param, n, id=f"{model}-{est}-{param}-n{n}")


def _metric(table, model, est, n, param, metric):
    rows = table[(table.model == model) & (table.estimator == est) & (table.n == n)
                 & (table.param == param) & (table.metric == metric)]  # fmt: skip
    assert len(rows) == 1, (model, est, n, param, metric)
    return float(rows.value.iloc[0]), float(rows.mcse.iloc[0])


def _within(got, truth, mcse, what):
    assert mcse > 0, what
    z = (got - truth) / mcse
    assert abs(z) <= K_MCSE, f"{what}: {got:.6g} vs truth {truth:.6g} ({z:+.2f} MCSE)"


@pytest.mark.parametrize("model, est, param, n", list(_analytic_cases()))
def test_mean_and_bias_match_the_exact_expectation(analytic, model, est, param, n):
    table = analytic.metrics
    expectation, _, theta = _truth(model, est, param, n)
    value, se = _metric(table, model, est, n, param, "mean")
    _within(value, expectation, se, "mean")
    value, se = _metric(table, model, est, n, param, "bias")
    _within(value, expectation - theta, se, "bias")
    assert _metric(table, model, est, n, param, "fail_rate")[0] == 0.0


@pytest.mark.parametrize("model, est, param, n", list(_analytic_cases()))
def test_variance_matches_the_exact_variance(analytic, model, est, param, n):
    """n·EmpSE² (``n_var``, kurtosis-robust MCSE) and CRLB/Var (``efficiency``) vs exact values."""
    table = analytic.metrics
    _, var, _ = _truth(model, est, param, n)
    value, se = _metric(table, model, est, n, param, "n_var")
    _within(value, n * var, se, "n_var")
    crlb_var = _metric(table, model, est, n, param, "crlb_se")[0] ** 2
    value, se = _metric(table, model, est, n, param, "efficiency")
    _within(value, crlb_var / var, se, "efficiency")


@pytest.mark.parametrize(
    "model, est, param, n",
    # EmpSE's Table-6 MCSE, EmpSE/sqrt(2(R-1)), is normal-theory: compare it only for
    # estimators whose distribution has near-zero excess kurtosis (the sample mean of normal,
    # Poisson and Bernoulli data); n_var above covers the skewed ones with a robust MCSE.
    [pytest.param(m, e, p, n, id=f"{m}-{p}-n{n}") for m, e, p in
     [("normal", "mle", "mu"), ("poisson", "mle", "rate"), ("bernoulli", "mle", "p")]
     for n in (10, 30)],
)  # fmt: skip
def test_empse_matches_the_exact_standard_deviation(analytic, model, est, param, n):
    _, var, _ = _truth(model, est, param, n)
    value, se = _metric(analytic.metrics, model, est, n, param, "empse")
    _within(value, math.sqrt(var), se, "empse")


@pytest.mark.parametrize("model, param, inv_fisher", [("poisson", "rate", 3.0),
                                                      ("bernoulli", "p", 0.21)])  # fmt: skip
@pytest.mark.parametrize("n", [10, 30])
def test_unbiased_mles_attain_the_crlb_at_finite_n(analytic, model, param, inv_fisher, n):
    """Poisson x̄ and Bernoulli k/n: n·Var equals [I(θ)⁻¹] exactly, at every n."""
    table = analytic.metrics
    assert _metric(table, model, "mle", n, param, "inv_fisher")[0] == pytest.approx(inv_fisher)
    assert _metric(table, model, "mle", n, param, "crlb_se")[0] == pytest.approx(
        math.sqrt(inv_fisher / n)
    )
    value, se = _metric(table, model, "mle", n, param, "n_var")
    _within(value, inv_fisher, se, "n_var vs inv_fisher")
    value, se = _metric(table, model, "mle", n, param, "bias")
    _within(value, 0.0, se, "bias")


def test_boundary_fits_are_usable_not_failures(analytic):
    """Bernoulli n = 10: p̂ = 0 in about 0.7¹⁰ = 2.8% of samples. Those fits have status
    ``boundary``, are kept in the metrics (n_ok = R) and are not counted in ``fail_rate``;
    keeping them is what makes k/n exactly unbiased (checked above)."""
    reps = analytic.replicates(model="bernoulli", n=10)
    boundary = int((reps.status == "boundary").sum())
    expected = R * 0.7**10
    assert abs(boundary - expected) <= K_MCSE * math.sqrt(expected)
    rows = analytic.metrics
    rows = rows[(rows.model == "bernoulli") & (rows.n == 10) & (rows.param == "p")]
    assert (rows.n_ok == R).all() and (rows.n_failed == 0).all()
    assert _metric(analytic.metrics, "bernoulli", "mle", 10, "p", "fail_rate") == (0.0, 0.0)


def test_exponential_mle_bias_is_detected_at_small_n(analytic):
    """Power of the bias MCSE: at n = 10 the MLE's bias λ/(n-1) = 0.167 is many MCSEs from 0."""
    value, se = _metric(analytic.metrics, "exponential", "mle", 10, "rate", "bias")
    assert value / se > 10
    value, se = _metric(analytic.metrics, "normal", "mle", 10, "sigma2", "bias")
    assert value / se < -10  # -σ²/n = -0.4


# ============================================================================================
# Seed models: no false FAIL for any MLE; the gamma method of moments is inefficient

SEED_MODELS = {
    "name": "seed-models-verdicts",
    "seed": 20261121,
    "replications": R,
    "sample_sizes": [10, 30, 100, 300, 1000, 3000, 10000],
    "models": [
        {"model": "bernoulli", "params": {"p": 0.3}, "estimators": ["mle"]},
        {"model": "normal", "params": {"mu": 0.0, "sigma2": 4.0},
         "estimators": ["mle", "unbiased"]},
        {"model": "exponential", "params": {"rate": 1.5}, "estimators": ["mle"]},
        {"model": "poisson", "params": {"rate": 3.0}, "estimators": ["mle"]},
        {"model": "gamma", "params": {"shape": [0.5, 2.0], "rate": 1.5},
         "estimators": ["mle", "mom"], "expect": {"mom": {"efficient": "fail"}}},
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def seed_models(tmp_path_factory):
    return simstudy.run(SEED_MODELS, out=tmp_path_factory.mktemp("seed"), report=False)


def test_every_seed_model_mle_passes_every_verdict(seed_models):
    verdicts = seed_models.verdicts
    mle = verdicts[verdicts.estimator == "mle"]
    # bernoulli 1, normal 2, exponential 1, poisson 1, gamma 2 θ x 2 parameters.
    assert len(mle) == (1 + 2 + 1 + 1 + 4) * len(PROPERTIES)
    not_pass = mle[mle.verdict != "PASS"]
    assert not_pass.empty, "MLE verdicts that did not PASS:\n" + _describe(not_pass)


def test_other_consistent_estimators_get_no_false_fail(seed_models):
    """normal `unbiased` passes everything; gamma `mom` everything but `efficient`."""
    verdicts = seed_models.verdicts
    others = verdicts[(verdicts.estimator != "mle") & (verdicts.property != "efficient")]
    others = others[(others.estimator == "unbiased") | (others.estimator == "mom")]
    not_pass = others[others.verdict != "PASS"]
    assert not_pass.empty, _describe(not_pass)
    unbiased = verdicts[(verdicts.estimator == "unbiased") & (verdicts.property == "efficient")]
    assert (unbiased.verdict == "PASS").all(), _describe(unbiased)
    # Every expectation of the study (mom: efficient fail, everything else pass) is met.
    assert verdicts.met.astype(bool).all(), _describe(verdicts[~verdicts.met.astype(bool)])


@pytest.mark.parametrize("shape", [0.5, 2.0])
@pytest.mark.parametrize("param", ["shape", "rate"])
def test_gamma_mom_fails_efficient(seed_models, shape, param):
    theta = json.dumps({"shape": shape, "rate": 1.5}, separators=(",", ":"))
    row = _verdict(seed_models.verdicts, "gamma", "mom", param, "efficient", theta)
    assert row.verdict == "FAIL", row.detail
    assert row.statistic < 1 - row.margin
    # The MLE of the same samples is efficient.
    mle = _verdict(seed_models.verdicts, "gamma", "mle", param, "efficient", theta)
    assert mle.verdict == "PASS", mle.detail


def test_gamma_mom_efficiency_matches_its_asymptotic_value(seed_models):
    """ARE of the gamma MoM shape estimator: Var_MoM = 2α(α+1)/n (Fisher 1922), so
    efficiency = [I⁻¹]_αα / (2α(α+1)) at large n."""
    table = seed_models.metrics
    for shape in (0.5, 2.0):
        theta = json.dumps({"shape": shape, "rate": 1.5}, separators=(",", ":"))
        rows = table[(table.model == "gamma") & (table.estimator == "mom")
                     & (table.theta == theta) & (table.n == 10000)
                     & (table.param == "shape")].set_index("metric")  # fmt: skip
        inv_fisher = rows.at["inv_fisher", "value"]
        are = inv_fisher / (2 * shape * (shape + 1))
        eff, eff_se = rows.at["efficiency", "value"], rows.at["efficiency", "mcse"]
        # Finite n = 10,000 leaves an O(1/n) gap, far below the MCSE (~0.3-0.9%).
        _within(eff, are, eff_se, f"gamma mom efficiency, shape {shape}")


def test_seed_model_mles_attain_the_crlb_at_the_largest_n(seed_models):
    table = seed_models.metrics
    eff = table[(table.estimator == "mle") & (table.n == 10000) & (table.metric == "efficiency")]
    assert len(eff) == 9
    z = (eff.value - 1.0) / eff.mcse
    assert (z.abs() <= K_MCSE).all(), eff[["model", "theta", "param", "value", "mcse"]]


def test_wald_coverage_at_the_largest_n_is_nominal_within_mcse(seed_models):
    table = seed_models.metrics
    cov = table[(table.estimator == "mle") & (table.n == 10000) & (table.metric == "coverage")]
    assert len(cov) == 9
    z = (cov.value - 0.95) / cov.mcse
    assert (z.abs() <= K_MCSE).all(), cov[["model", "theta", "param", "value", "mcse"]]


@pytest.mark.parametrize("n", [1000, 10000])
def test_wilks_rejection_rate_is_nominal_for_mles(seed_models, n):
    """2[ℓ(θ̂) - ℓ(θ₀)] -> χ²_k: P(lr_stat > χ²_k,0.95) = 0.05 within 3 MCSE at large n."""
    table = seed_models.metrics
    rows = table[(table.estimator == "mle") & (table.n == n) & (table.metric == "wilks_rejection")]
    assert len(rows) == 6  # one joint row per (model, θ)
    z = (rows.value - 0.05) / rows.mcse
    assert (z.abs() <= K_MCSE).all(), rows[["model", "theta", "value", "mcse"]]


def test_mahalanobis_distribution_separates_mle_from_mom(seed_models):
    """T = n(θ̂-θ)ᵀI(θ)(θ̂-θ) is χ²_2 for the efficient MLE; the MoM's T is stochastically
    larger (its covariance exceeds I⁻¹/n), which a KS test on 10,000 values detects."""
    table = seed_models.metrics
    rows = table[(table.n == 10000) & (table.metric == "mahalanobis_ks_p")]
    mle = rows[rows.estimator.isin(["mle", "unbiased"])]
    mom = rows[rows.estimator == "mom"]
    assert len(mle) == 4 and len(mom) == 2  # normal (mle, unbiased), gamma x 2 θ
    assert (mle.value > 1e-3).all(), mle[["model", "estimator", "theta", "value"]]
    assert (mom.value < 1e-10).all(), mom[["model", "theta", "value"]]


# ============================================================================================
# Planted defects: power (the defect FAILs its property) and specificity (the rest PASS)

PLANTED = {
    "name": "planted-defects",
    "seed": 31415926,
    "replications": R,
    # Up to 3000: every planted defect is large; the upper half of six sizes gives the slope.
    "sample_sizes": [10, 30, 100, 300, 1000, 3000],
    "models": [
        {"model": "exponential", "params": {"rate": 1.5},
         "estimators": ["mle", {"plugin": "planted:exponential_shifted", "name": "shifted"}]},
        {"model": "poisson", "params": {"rate": 3.0},
         "estimators": ["mle",
                        {"plugin": "planted:poisson_se_half_info", "name": "half_info_se"},
                        {"plugin": "planted:poisson_se_double_info", "name": "double_info_se"}]},
        {"model": "normal", "params": {"mu": 1.0, "sigma2": 4.0},
         "estimators": ["mle",
                        {"plugin": "planted:normal_first_two_thirds", "name": "two_thirds"}]},
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def planted(plugins_on_path, tmp_path_factory):
    return simstudy.run(PLANTED, out=tmp_path_factory.mktemp("planted"), report=False)


def test_planted_estimators_ran_through_the_plugin_mechanism(planted):
    sources = {label: info["source"] for cell in planted.cells
               for label, info in cell["estimators"].items()}  # fmt: skip
    assert sources["shifted"] == "planted:exponential_shifted"
    assert sources["half_info_se"] == "planted:poisson_se_half_info"
    assert sources["two_thirds"] == "planted:normal_first_two_thirds"
    assert (planted.metrics.n_failed == 0).all()


def test_shifted_estimator_fails_consistent_and_asymptotically_unbiased(planted):
    v = planted.verdicts
    for prop in ("consistent", "asymptotically_unbiased"):
        row = _verdict(v, "exponential", "shifted", "rate", prop)
        assert row.verdict == "FAIL", row.detail
    # The RMSE levels off at the shift instead of falling like n^-1/2.
    slope = _verdict(v, "exponential", "shifted", "rate", "consistent").statistic
    assert slope > -0.5 + 0.2
    # Its spread is the MLE's (same samples, constant shift): efficiency and shape are intact.
    for prop in ("efficient", "asymptotically_normal"):
        assert _verdict(v, "exponential", "shifted", "rate", prop).verdict == "PASS"
    # The MLE of the same samples passes both.
    for prop in ("consistent", "asymptotically_unbiased"):
        assert _verdict(v, "exponential", "mle", "rate", prop).verdict == "PASS"


def test_shifted_estimator_bias_equals_the_shift(planted):
    table = planted.metrics
    rows = table[(table.model == "exponential") & (table.n == 3000) & (table.metric == "bias")]
    mle = rows[rows.estimator == "mle"].iloc[0]
    shifted = rows[rows.estimator == "shifted"].iloc[0]
    # Common random numbers: the difference of the biases is the shift, to rounding.
    assert shifted.value - mle.value == pytest.approx(0.1, abs=1e-12)


@pytest.mark.parametrize(
    "estimator, se_factor",
    # half_info_se: SE from half the information, Var = 1/(n·I/2), so SE is √2 too large and
    # the interval over-covers; double_info_se: SE/√2, under-covers. Both must FAIL.
    [("half_info_se", math.sqrt(2.0)), ("double_info_se", 1 / math.sqrt(2.0))],
)
def test_wrong_standard_error_fails_wald_coverage(planted, estimator, se_factor):
    v = planted.verdicts
    row = _verdict(v, "poisson", estimator, "rate", "wald_coverage")
    assert row.verdict == "FAIL", row.detail
    # The coverage statistic is the one a Wald interval with the scaled SE has: 2Φ(1.96·f) - 1.
    expected = 2 * stats.norm.cdf(stats.norm.ppf(0.975) * se_factor) - 1
    _within(row.statistic, expected, row.mcse, f"{estimator} coverage")
    # The estimate is the MLE: every other property still PASSes.
    for prop in ("consistent", "asymptotically_unbiased", "efficient", "asymptotically_normal"):
        other = _verdict(v, "poisson", estimator, "rate", prop)
        assert other.verdict == "PASS", (prop, other.detail)
    assert _verdict(v, "poisson", "mle", "rate", "wald_coverage").verdict == "PASS"


def test_modse_flags_the_wrong_standard_error(planted):
    """rel_err_modse = 100(ModSE/EmpSE - 1): ≈ +41% for SE·√2, ≈ -29% for SE/√2."""
    table = planted.metrics
    for estimator, factor in (("half_info_se", math.sqrt(2)), ("double_info_se", 1 / math.sqrt(2)),
                              ("mle", 1.0)):  # fmt: skip
        value, se = _metric(table, "poisson", estimator, 3000, "rate", "rel_err_modse")
        _within(value, 100 * (factor - 1), se, f"{estimator} rel_err_modse")


def test_two_thirds_sample_mean_fails_efficient(planted):
    v = planted.verdicts
    row = _verdict(v, "normal", "two_thirds", "mu", "efficient")
    assert row.verdict == "FAIL", row.detail
    # Var = σ²/m with m = floor(2n/3): efficiency m/n at n = 3000 is exactly 2/3.
    _within(row.statistic, 2000 / 3000, row.mcse, "two_thirds efficiency")
    # √n-consistent, unbiased, normal, with a correct SE: everything else PASSes, and so does
    # the full-sample sigma2 it reports.
    for prop in ("consistent", "asymptotically_unbiased", "asymptotically_normal", "wald_coverage"):
        other = _verdict(v, "normal", "two_thirds", "mu", prop)
        assert other.verdict == "PASS", (prop, other.detail)
    for prop in PROPERTIES:
        assert _verdict(v, "normal", "two_thirds", "sigma2", prop).verdict == "PASS", prop
    assert _verdict(v, "normal", "mle", "mu", "efficient").verdict == "PASS"


def test_two_thirds_rel_precision_against_the_mle(planted):
    """100[(EmpSE_mle/EmpSE)² - 1] -> 100(m/n - 1) = -33.3% (common random numbers)."""
    value, se = _metric(planted.metrics, "normal", "two_thirds", 3000, "mu", "rel_precision")
    _within(value, 100 * (2000 / 3000 - 1), se, "rel_precision")


def test_planted_study_mles_pass_everything(planted):
    v = planted.verdicts
    mle = v[v.estimator == "mle"]
    assert len(mle) == (1 + 1 + 2) * len(PROPERTIES)
    not_pass = mle[mle.verdict != "PASS"]
    assert not_pass.empty, _describe(not_pass)


def test_planted_verdicts_are_reproducible(plugins_on_path, tmp_path):
    """Same config, fresh folder: identical verdict table (fixed seed, deterministic)."""
    small = dict(PLANTED, replications=500, sample_sizes=[30, 100, 300])
    a = simstudy.run(small, out=tmp_path / "a").verdicts
    b = simstudy.run(small, out=tmp_path / "b").verdicts
    cols = ["model", "estimator", "param", "property", "verdict", "statistic"]
    assert a[cols].equals(b[cols])
    assert np.isfinite(a.statistic.astype(float)).all()
