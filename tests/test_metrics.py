"""Metrics and verdicts: formulas against hand computations, and the shape of the tables.

Every expected number is written out here from the published formula (Morris, White &
Crowther 2019, Table 6; Anderson & Darling 1954; Marsaglia & Marsaglia 2004; Holm 1979), in
plain NumPy or as exact fractions, never by calling the function under test.
"""

from __future__ import annotations

import json
import math
from fractions import Fraction
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

import simstudy
from simstudy.metrics import asymptotic, mcse
from simstudy.metrics.point import param_metrics
from simstudy.verdicts import FAIL, INCONCLUSIVE, PASS, equivalence

PLUGIN_DIR = Path(__file__).parent / "plugins"

# --------------------------------------------------------------------------------------------
# Fixed data sets

#: 1..8: small enough to do every sum by hand (θ = 4 below).
HAND = np.arange(1.0, 9.0)
HAND_THETA = 4.0

#: Ten irregular estimates, their model-based SEs, and a correlated reference estimator
#: (paired by replication) for the precision comparison.
EST = np.array([1.12, 0.87, 1.45, 0.98, 1.31, 0.76, 1.05, 1.22, 0.91, 1.17])
SE = np.array([0.21, 0.18, 0.25, 0.20, 0.23, 0.17, 0.19, 0.22, 0.20, 0.24])
REF = np.array([1.08, 0.95, 1.30, 1.01, 1.19, 0.88, 1.02, 1.15, 0.97, 1.10])
THETA = 1.0


def close(got, expected, rel=1e-12, abs_=1e-14):
    return got == pytest.approx(expected, rel=rel, abs=abs_)


# --------------------------------------------------------------------------------------------
# MCSE formulas on hand-computable data (exact fractions)


def test_mean_bias_empse_on_hand_data():
    # x = 1..8: mean 4.5, Σ(x - x̄)² = 2(0.25 + 2.25 + 6.25 + 12.25) = 42, s² = 42/7 = 6.
    r = 8
    assert mcse.mean(HAND) == pytest.approx((4.5, math.sqrt(6) / math.sqrt(r)), rel=1e-14)
    # MCSE(bias) = sqrt(42/(8·7)) = sqrt(3/4).
    assert mcse.bias(HAND, HAND_THETA) == pytest.approx((0.5, math.sqrt(0.75)), rel=1e-14)
    assert mcse.rel_bias(HAND, HAND_THETA) == pytest.approx(
        (0.125, math.sqrt(0.75) / 4), rel=1e-14
    )
    # EmpSE = sqrt(6), MCSE = sqrt(6)/sqrt(2·7) = sqrt(3/7).
    assert mcse.empse(HAND) == pytest.approx((math.sqrt(6), math.sqrt(3 / 7)), rel=1e-14)


def test_mse_rmse_on_hand_data():
    # (x - 4)² = 9, 4, 1, 0, 1, 4, 9, 16: MSE = 44/8 = 5.5; deviations from 5.5 squared sum to
    # 12.25 + 2.25 + 20.25 + 30.25 + 20.25 + 2.25 + 12.25 + 110.25 = 210; 210/(8·7) = 3.75.
    assert mcse.mse(HAND, HAND_THETA) == pytest.approx((5.5, math.sqrt(3.75)), rel=1e-14)
    # RMSE by the delta method: MCSE(MSE)/(2 RMSE).
    assert mcse.rmse(HAND, HAND_THETA) == pytest.approx(
        (math.sqrt(5.5), math.sqrt(3.75) / (2 * math.sqrt(5.5))), rel=1e-14
    )


def test_kurtosis_efficiency_and_n_var_on_hand_data():
    # d = ±0.5, ±1.5, ±2.5, ±3.5: m2 = 2·21/8 = 21/4, m4 = 2·194.25/8 = 777/16,
    # κ = m4/m2² = 777/441 = 37/21, κ - 1 = 16/21.
    kappa = Fraction(777, 16) / Fraction(21, 4) ** 2
    assert kappa == Fraction(37, 21)
    assert mcse.kurtosis(HAND) == pytest.approx(float(kappa), rel=1e-14)
    robust = math.sqrt(float(kappa - 1) / 8)  # sqrt((κ-1)/R)
    # efficiency = crlb_var / EmpSE² = 3/6, MCSE value·sqrt((κ-1)/R).
    assert mcse.efficiency(HAND, 3.0) == pytest.approx((0.5, 0.5 * robust), rel=1e-14)
    # n_var = n·EmpSE² = 10·6, same relative MCSE.
    assert mcse.n_var(HAND, 10) == pytest.approx((60.0, 60.0 * robust), rel=1e-14)


def test_skewness_and_kurtosis_normal_theory_ses_on_hand_data():
    r = 8
    # SES = sqrt(6R(R-1)/((R-2)(R+1)(R+3))) = sqrt(336/594); SEK = sqrt(4(R²-1)SES²/((R-3)(R+5))).
    ses2 = Fraction(6 * r * (r - 1), (r - 2) * (r + 1) * (r + 3))
    assert ses2 == Fraction(336, 594)
    sek2 = 4 * (r * r - 1) * ses2 / ((r - 3) * (r + 5))
    g1, se1 = mcse.skewness(HAND)
    assert g1 == pytest.approx(0.0, abs=1e-14)  # symmetric sample
    assert se1 == pytest.approx(math.sqrt(ses2), rel=1e-14)
    g2, se2 = mcse.excess_kurtosis(HAND)
    assert g2 == pytest.approx(float(Fraction(37, 21) - 3), rel=1e-14)
    assert se2 == pytest.approx(math.sqrt(sek2), rel=1e-14)


def test_proportion_hand():
    hits = np.array([1, 1, 1, 0, 1, 1, 1, 1, 0, 1], dtype=bool)
    assert mcse.proportion(hits) == pytest.approx((0.8, math.sqrt(0.8 * 0.2 / 10)), rel=1e-14)
    assert mcse.proportion(np.zeros(7, dtype=bool)) == (0.0, 0.0)


# --------------------------------------------------------------------------------------------
# MCSE formulas on irregular data (Table 6 written out in NumPy)

R = EST.size
DEV = EST - EST.mean()
SS = float(np.sum(DEV**2))
EMPSE = math.sqrt(SS / (R - 1))


def test_mean_and_bias_table6():
    assert close(mcse.mean(EST), (np.sum(EST) / R, EMPSE / math.sqrt(R)))
    assert close(mcse.bias(EST, THETA), (np.sum(EST) / R - THETA, math.sqrt(SS / (R * (R - 1)))))
    assert close(
        mcse.rel_bias(EST, 2.5),
        ((np.sum(EST) / R - 2.5) / 2.5, math.sqrt(SS / (R * (R - 1))) / 2.5),
    )
    # Negative θ: the MCSE divides by |θ|.
    _, se_neg = mcse.rel_bias(EST, -2.5)
    assert se_neg > 0 and close(se_neg, math.sqrt(SS / (R * (R - 1))) / 2.5)


def test_empse_table6():
    assert close(mcse.empse(EST), (EMPSE, EMPSE / math.sqrt(2 * (R - 1))))


def test_mse_and_rmse_table6():
    sq = (EST - THETA) ** 2
    m = np.sum(sq) / R
    m_se = math.sqrt(np.sum((sq - m) ** 2) / (R * (R - 1)))
    assert close(mcse.mse(EST, THETA), (m, m_se))
    assert close(mcse.rmse(EST, THETA), (math.sqrt(m), m_se / (2 * math.sqrt(m))))


def test_modse_table6():
    v = SE**2
    modse = math.sqrt(np.sum(v) / R)
    var_v = np.sum((v - v.mean()) ** 2) / (R - 1)
    assert close(mcse.modse(SE), (modse, math.sqrt(var_v / (4 * R * modse**2))))


def test_rel_err_modse_table6():
    v = SE**2
    modse = math.sqrt(np.sum(v) / R)
    var_v = np.sum((v - v.mean()) ** 2) / (R - 1)
    ratio = modse / EMPSE
    expected_value = 100 * (ratio - 1)
    expected_mcse = 100 * ratio * math.sqrt(var_v / (4 * R * modse**4) + 1 / (2 * (R - 1)))
    assert close(mcse.rel_err_modse(EST, SE), (expected_value, expected_mcse))


def test_kurtosis_efficiency_n_var_robust():
    m2 = np.sum(DEV**2) / R
    m4 = np.sum(DEV**4) / R
    kappa = m4 / m2**2
    assert close(mcse.kurtosis(EST), kappa)
    crlb_var = 0.035
    eff = crlb_var / EMPSE**2
    assert close(mcse.efficiency(EST, crlb_var), (eff, eff * math.sqrt((kappa - 1) / R)))
    nv = 50 * EMPSE**2
    assert close(mcse.n_var(EST, 50), (nv, nv * math.sqrt((kappa - 1) / R)))


def test_efficiency_mcse_is_robust_not_normal_theory():
    """For heavy tails the robust MCSE exceeds the normal-theory value·sqrt(2/R)."""
    heavy = np.array([0.0, 0.1, -0.1, 0.05, -0.05, 0.02, -0.02, 3.0, -3.0, 0.0])
    value, se = mcse.efficiency(heavy, 1.0)
    assert se > value * math.sqrt(2 / heavy.size)


def test_skewness_and_excess_kurtosis_table():
    z = (EST - THETA) / 0.2
    d = z - z.mean()
    m2, m3, m4 = (np.sum(d**k) / R for k in (2, 3, 4))
    ses = math.sqrt(6 * R * (R - 1) / ((R - 2) * (R + 1) * (R + 3)))
    sek = math.sqrt(4 * (R**2 - 1) * ses**2 / ((R - 3) * (R + 5)))
    assert close(mcse.skewness(z), (m3 / m2**1.5, ses))
    assert close(mcse.excess_kurtosis(z), (m4 / m2**2 - 3, sek))
    # Standardising does not change the shape statistics.
    assert close(mcse.skewness(EST)[0], m3 / m2**1.5)


def test_rel_precision_with_correlation():
    ref_dev = REF - REF.mean()
    empse_ref = math.sqrt(np.sum(ref_dev**2) / (R - 1))
    rho = np.sum(DEV * ref_dev) / math.sqrt(np.sum(DEV**2) * np.sum(ref_dev**2))
    assert 0.9 < rho < 1.0  # the data are built strongly correlated
    ratio2 = (empse_ref / EMPSE) ** 2
    expected = (100 * (ratio2 - 1), 200 * ratio2 * math.sqrt((1 - rho**2) / (R - 1)))
    assert close(mcse.rel_precision(EST, REF), expected)
    # The reference estimator is more precise here: a negative gain for EST.
    assert expected[0] < 0
    # Identical estimators: no gain, and a perfect correlation gives zero MCSE.
    value, se = mcse.rel_precision(EST, EST)
    assert value == pytest.approx(0.0, abs=1e-12) and se == pytest.approx(0.0, abs=1e-6)


def test_rel_precision_uncorrelated_matches_formula_with_rho_zero():
    a = np.array([1.0, -1.0, 1.0, -1.0])
    b = np.array([1.0, 1.0, -1.0, -1.0])  # orthogonal to a: ρ = 0, equal EmpSE
    assert mcse.rel_precision(a, b) == pytest.approx((0.0, 200 * math.sqrt(1 / 3)), abs=1e-12)


def test_rel_precision_of_a_constant_estimator_is_nan():
    value, se = mcse.rel_precision(np.full(6, 2.0), np.arange(6.0))
    assert math.isnan(value) and math.isnan(se)


def test_param_metrics_undefined_ratios_are_nan_not_errors():
    """A constant estimate (EmpSE = 0) and zero SEs: ratios with those denominators are NaN."""
    out = param_metrics(np.full(8, 2.0), np.zeros(8), 2.0, 10, 4.0, level=0.95, epsilon=0.1)
    assert out["empse"] == (0.0, 0.0)
    assert out["bias"] == (0.0, 0.0)
    for name in ("efficiency", "rel_err_modse", "skewness"):
        assert math.isnan(out[name][0]), name
    assert out["rmse"][0] == 0.0 and math.isnan(out["rmse"][1])  # delta method: 0/0
    assert out["modse"][0] == 0.0 and math.isnan(out["modse"][1])


# --------------------------------------------------------------------------------------------
# asymptotic.py


def _a2_direct(z):
    """A² = -R - (1/R) Σ_i (2i-1)[ln Φ(z_(i)) + ln(1 - Φ(z_(R+1-i)))], term by term."""
    x = sorted(z)
    r = len(x)
    total = 0.0
    for i in range(1, r + 1):
        total += (2 * i - 1) * (
            math.log(stats.norm.cdf(x[i - 1])) + math.log(1 - stats.norm.cdf(x[r - i]))
        )
    return -r - total / r


def test_anderson_darling_statistic_against_direct_formula():
    rng = np.random.default_rng(3)
    for z in (EST - 1.0, rng.standard_normal(50), rng.standard_normal(200) * 1.3 + 0.2):
        a2, p = asymptotic.anderson_darling(z)
        assert a2 == pytest.approx(_a2_direct(z), rel=1e-10)
        assert p == pytest.approx(1 - asymptotic.ad_inf_cdf(a2), abs=1e-15)
    # The alternative textbook form A² = -R - Σ (2i-1)/R [ln F_i + ln(1 - F_{R+1-i})] with
    # scipy's generic goodness-of-fit statistic agrees too (fully specified N(0, 1)).
    z = rng.standard_normal(40)
    res = stats.goodness_of_fit(
        stats.norm, z, known_params={"loc": 0.0, "scale": 1.0}, statistic="ad",
        n_mc_samples=10, rng=np.random.default_rng(0),
    )  # fmt: skip
    assert asymptotic.anderson_darling(z)[0] == pytest.approx(res.statistic, rel=1e-10)


@pytest.mark.parametrize(
    "a2, upper_tail",
    # Stephens (1974), case 0 (fully specified F): upper percentage points of A².
    [(1.933, 0.10), (2.492, 0.05), (3.070, 0.025), (3.857, 0.01)],
)
def test_ad_inf_cdf_at_stephens_case0_points(a2, upper_tail):
    assert 1 - asymptotic.ad_inf_cdf(a2) == pytest.approx(upper_tail, abs=1e-3)


def test_ad_inf_cdf_is_a_cdf():
    assert asymptotic.ad_inf_cdf(0.0) == 0.0
    grid = np.linspace(0.05, 12, 400)
    values = np.array([asymptotic.ad_inf_cdf(a) for a in grid])
    assert np.all(np.diff(values) > 0)
    assert 0 < values[0] and values[-1] < 1 and values[-1] > 1 - 1e-4
    # The two branches of Marsaglia & Marsaglia's approximation meet at 2.
    assert asymptotic.ad_inf_cdf(2 - 1e-9) == pytest.approx(asymptotic.ad_inf_cdf(2.0), abs=5e-6)


def test_ks_and_cvm_are_fully_specified_standard_normal():
    z = np.random.default_rng(5).standard_normal(300)
    stat, p = asymptotic.ks(z)
    ref = stats.kstest(z, stats.norm(0, 1).cdf)
    assert (stat, p) == pytest.approx((ref.statistic, ref.pvalue))
    cvm = stats.cramervonmises(z, stats.norm(0, 1).cdf)
    assert asymptotic.cvm_p(z) == pytest.approx(cvm.pvalue)
    # Shifted data are rejected: the reference is N(0, 1), not a fitted normal.
    assert asymptotic.ks(z + 1.0)[1] < 1e-10


def test_holm_hand_example():
    p = np.array([0.01, 0.04, 0.03, 0.005])
    # Sorted: 0.005·4 = 0.02; 0.01·3 = 0.03; 0.03·2 = 0.06; 0.04·1 = 0.04 -> running max 0.06.
    np.testing.assert_allclose(asymptotic.holm(p), [0.03, 0.06, 0.06, 0.02], rtol=1e-14)
    # Capped at 1; a single p-value is unchanged.
    np.testing.assert_allclose(asymptotic.holm(np.array([0.5, 0.4, 0.9])), [1.0, 1.0, 1.0])
    np.testing.assert_allclose(asymptotic.holm(np.array([0.2])), [0.2])


def test_holm_matches_statsmodels():
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    p = np.random.default_rng(11).uniform(0, 0.2, 25)
    expected = multitest.multipletests(p, method="holm")[1]
    np.testing.assert_allclose(asymptotic.holm(p), expected, rtol=1e-14)


def test_loglog_slope_recovers_exact_slope_and_has_a_ci():
    n = np.array([100, 300, 1000, 3000, 10000])
    value = 2.5 * n**-0.5
    rel = 0.02
    mc = rel * value
    slope, se, low, high, dof = asymptotic.loglog_slope(n, value, mc, 0.95)
    assert dof == math.inf  # the MCSEs explain the (zero) scatter: normal quantile
    assert slope == pytest.approx(-0.5, abs=1e-12)
    # Noiseless: no overdispersion, SE = 1/sqrt(Σ w (x - x̄)²) with w = (value/MCSE)² = 1/rel².
    x = np.log(n)
    w = 1 / rel**2
    expected_se = 1 / math.sqrt(w * np.sum((x - x.mean()) ** 2))
    assert se == pytest.approx(expected_se, rel=1e-12)
    q = stats.norm.ppf(0.975)
    assert (low, high) == pytest.approx((slope - q * se, slope + q * se), rel=1e-12)
    assert low < -0.5 < high


def test_loglog_slope_weighted_and_overdispersed():
    n = np.array([100.0, 300.0, 1000.0, 3000.0])
    value = np.array([0.30, 0.16, 0.095, 0.052])
    mc = np.array([0.003, 0.0015, 0.0011, 0.0004])
    x, y, w = np.log(n), np.log(value), (value / mc) ** 2
    xm, ym = np.sum(w * x) / np.sum(w), np.sum(w * y) / np.sum(w)
    sxx = np.sum(w * (x - xm) ** 2)
    b = np.sum(w * (x - xm) * (y - ym)) / sxx
    chi2 = np.sum(w * (y - ym - b * (x - xm)) ** 2)
    # These points scatter significantly more than their MCSEs allow (lack-of-fit test at 1%).
    assert chi2 > stats.chi2.ppf(0.99, 2)
    se = math.sqrt(chi2 / 2 / sxx)
    q = stats.t.ppf(0.975, 2)
    got = asymptotic.loglog_slope(n, value, mc, 0.95)
    assert got == pytest.approx((b, se, b - q * se, b + q * se, 2.0), rel=1e-10)


def test_loglog_slope_chance_scatter_keeps_the_known_variance_se():
    """Scatter within what the MCSEs allow does not switch to Student's t (df 1-2 would make
    every verdict INCONCLUSIVE): the SE stays 1/sqrt(Σ w (x - x̄)²)."""
    n = np.array([300.0, 1000.0, 3000.0])
    mc = np.array([0.002, 0.001, 0.0005])
    value = 2.0 * n**-0.5 + np.array([0.0015, -0.0012, 0.0004])  # ~1 MCSE off the line
    _slope, se, _low, _high, dof = asymptotic.loglog_slope(n, value, mc, 0.95)
    x, w = np.log(n), (value / mc) ** 2
    xm = np.sum(w * x) / np.sum(w)
    assert dof == math.inf
    assert se == pytest.approx(1 / math.sqrt(np.sum(w * (x - xm) ** 2)), rel=1e-12)


def test_loglog_slope_needs_three_usable_points():
    n = np.array([10, 100, 1000])
    out = asymptotic.loglog_slope(n, np.array([1.0, 0.0, 0.1]), np.array([0.01, 0.01, 0.01]), 0.95)
    assert all(math.isnan(v) for v in out)


def test_mahalanobis_against_a_loop():
    rng = np.random.default_rng(2)
    est = rng.normal(size=(25, 3)) + np.array([1.0, 2.0, 0.5])
    theta = np.array([1.0, 2.0, 0.5])
    a = rng.normal(size=(3, 3))
    fisher = a @ a.T + 3 * np.eye(3)
    n = 40
    expected = np.empty(25)
    for r in range(25):
        d = est[r] - theta
        total = 0.0
        for i in range(3):
            for j in range(3):
                total += d[i] * fisher[i, j] * d[j]
        expected[r] = n * total
    np.testing.assert_allclose(asymptotic.mahalanobis(est, theta, fisher, n), expected, rtol=1e-13)


def test_ks_chi2_p_and_chi2_exceedance():
    t = stats.chi2(2).ppf(np.linspace(0.01, 0.99, 99))
    assert asymptotic.ks_chi2_p(t, 2) > 0.99
    assert asymptotic.ks_chi2_p(t * 2, 2) < 1e-3
    q95 = stats.chi2.ppf(0.95, 3)
    hits = asymptotic.chi2_exceedance(np.array([q95 - 1e-9, q95 + 1e-9, 100.0]), 3, 0.95)
    assert hits.tolist() == [False, True, True]


# --------------------------------------------------------------------------------------------
# verdicts.equivalence

Z = stats.norm.ppf(0.99)


def test_equivalence_pass_fail_inconclusive():
    assert equivalence(1.0, 0.01, 0.9, 1.1, Z, 1000) == (PASS, None)
    assert equivalence(0.5, 0.01, 0.9, 1.1, Z, 1000) == (FAIL, None)  # wholly below
    assert equivalence(1.5, 0.01, 0.9, 1.1, Z, 1000) == (FAIL, None)  # wholly above
    verdict, needed = equivalence(0.95, 0.05, 0.9, 1.1, Z, 1000)
    assert verdict == INCONCLUSIVE and needed is not None
    # Outside the band, but the interval still reaches it: not yet a FAIL.
    verdict, needed = equivalence(0.88, 0.05, 0.9, 1.1, Z, 1000)
    assert verdict == INCONCLUSIVE and needed is not None
    # Non-finite inputs cannot be judged.
    assert equivalence(math.nan, 0.01, 0.9, 1.1, Z, 1000) == (INCONCLUSIVE, None)
    assert equivalence(1.0, math.inf, 0.9, 1.1, Z, 1000) == (INCONCLUSIVE, None)


def test_equivalence_interval_edges_are_inclusive():
    # CI [0.9, 1.1] exactly on the band: PASS (low <= lo_ci and hi_ci <= high).
    assert equivalence(1.0, 0.1 / Z, 0.9, 1.1, Z, 100)[0] == PASS
    # CI touching the band from below is not "wholly outside": INCONCLUSIVE, not FAIL.
    assert equivalence(0.8, 0.1 / Z, 0.9, 1.1, Z, 100)[0] == INCONCLUSIVE


@pytest.mark.parametrize("stat, se", [(0.95, 0.05), (1.08, 0.03), (0.88, 0.05), (1.15, 0.04)])
def test_replications_needed_formula(stat, se):
    """R' = R·(z·MCSE/d)², d = distance from the statistic to the band's nearer edge."""
    low, high, reps = 0.9, 1.1, 1000
    verdict, needed = equivalence(stat, se, low, high, Z, reps)
    assert verdict == INCONCLUSIVE
    d = min(abs(stat - low), abs(stat - high))
    expected = reps * (Z * se / d) ** 2
    assert needed == math.ceil(expected)
    # With R' replications the MCSE shrinks by sqrt(R/R') and the CI's half-width to <= d,
    # so the same statistic is then decided (PASS inside the band, FAIL outside).
    new_se = se * math.sqrt(reps / needed)
    decided = equivalence(stat, new_se, low, high, Z, needed)[0]
    assert decided == (PASS if low <= stat <= high else FAIL)


def test_replications_needed_undecidable_on_the_edge():
    # A statistic exactly on an edge can never be decided: no finite R.
    assert equivalence(0.9, 0.05, 0.9, 1.1, Z, 1000) == (INCONCLUSIVE, None)


def test_replications_needed_on_a_rounded_edge():
    """Coverage 187/200 = 0.935 against 0.95 - 0.015 = 0.9349999999999999: on the edge up to
    rounding, so undecidable (None), not R' ~ 1e31 from a distance of 1e-16."""
    level, margin, reps = 0.95, 0.015, 200
    cov = 187 / 200
    se = math.sqrt(cov * (1 - cov) / reps)
    assert equivalence(cov, se, level - margin, level + margin, Z, reps) == (INCONCLUSIVE, None)


# --------------------------------------------------------------------------------------------
# The long table and the verdict table of a tiny study

REPS = 200
SIZES = [20, 50, 100]
METRIC_COLUMNS = ["model", "estimator", "theta", "n", "param", "metric", "value", "mcse",
                  "n_ok", "n_failed"]  # fmt: skip
VERDICT_COLUMNS = ["model", "estimator", "theta", "param", "property", "verdict", "expected",
                   "statistic", "margin", "mcse", "detail"]  # fmt: skip
#: The metrics of every cell x estimator x parameter (regular model, nonzero θ; README "What it verifies").
PER_PARAM = {
    "mean", "bias", "rel_bias", "empse", "mse", "rmse", "modse", "rel_err_modse", "crlb_se",
    "efficiency", "n_var", "inv_fisher", "coverage", "be_coverage", "skewness",
    "excess_kurtosis", "ks_stat", "ks_p", "ad_stat", "ad_p", "cvm_p", "fail_rate",
}  # fmt: skip
PROPERTIES = {"consistent", "asymptotically_unbiased", "efficient", "asymptotically_normal",
              "wald_coverage"}  # fmt: skip
TINY = {
    "name": "tiny-metrics",
    "seed": 424242,
    "replications": REPS,
    "sample_sizes": SIZES,
    "models": [
        {"model": "gamma", "params": {"shape": 2.0, "rate": 1.5}, "estimators": ["mle", "mom"]},
        {"model": "normal", "params": {"mu": 1.0, "sigma2": 2.0},
         "estimators": ["mle", "unbiased"]},
        {"model": "exponential", "params": {"rate": 1.5}},
        {"model": "bernoulli", "params": {"p": 0.3}},
    ],
}


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    out = tmp_path_factory.mktemp("metrics")
    return simstudy.run(TINY, out=out, report=False)


@pytest.fixture(scope="module")
def table(tiny):
    return tiny.metrics


def test_long_table_columns_and_files(tiny, table):
    assert list(table.columns) == METRIC_COLUMNS
    root = tiny.root
    assert (root / "metrics.csv").is_file() and (root / "metrics.parquet").is_file()
    from_csv = pd.read_csv(root / "metrics.csv")
    assert list(from_csv.columns) == METRIC_COLUMNS
    assert len(from_csv) == len(table)
    from_parquet = pd.read_parquet(root / "metrics.parquet")
    pd.testing.assert_frame_equal(from_parquet, table)
    assert (table.n_ok + table.n_failed == REPS).all()
    # theta is compact JSON of the true parameters, in declared order.
    thetas = set(table.theta)
    assert '{"shape":2.0,"rate":1.5}' in thetas and '{"mu":1.0,"sigma2":2.0}' in thetas
    for t in thetas:
        assert json.loads(t) and " " not in t


def test_every_design_metric_for_every_cell(table):
    per_n = table[table.n.notna()]
    cells = per_n.groupby(["model", "estimator", "theta", "n"])
    expected_cells = 2 * 2 * len(SIZES) + 2 * len(SIZES)  # gamma, normal x 2 estimators; 2 more
    assert cells.ngroups == expected_cells
    for (model, est, theta, n), cell in cells:
        params = list(json.loads(theta))
        for p in params:
            found = set(cell[cell.param == p].metric)
            missing = PER_PARAM - found
            assert not missing, f"{model}/{est}/n={n}/{p}: missing {sorted(missing)}"
            if est in ("mom", "unbiased"):
                assert "rel_precision" in found, f"{model}/{est}/{p}: no rel_precision"
            else:
                assert "rel_precision" not in found  # the reference itself
        joint = set(cell[cell.param == "(joint)"].metric)
        assert "wilks_rejection" in joint
        if len(params) > 1:
            assert "mahalanobis_ks_p" in joint, f"{model}/{est}/n={n}: no mahalanobis_ks_p"
        else:
            assert "mahalanobis_ks_p" not in joint
    trend = table[table.n.isna()]
    assert set(trend.metric) == {"rmse_slope", "rmse_slope_dof", "rmse_tail_slope"}
    # One row of each trend metric per (model, estimator, θ, parameter) series.
    series = per_n[per_n.param != "(joint)"].drop_duplicates(
        ["model", "estimator", "theta", "param"]
    )
    for metric in ("rmse_slope", "rmse_slope_dof", "rmse_tail_slope"):
        assert (trend.metric == metric).sum() == len(series)


def _row(table, model, est, n, param, metric):
    hit = table[(table.model == model) & (table.estimator == est) & (table.n == n)
                & (table.param == param) & (table.metric == metric)]  # fmt: skip
    assert len(hit) == 1, (model, est, n, param, metric)
    return float(hit.value.iloc[0]), float(hit.mcse.iloc[0])


def test_table_values_recomputed_from_replicates(tiny, table):
    """The summariser wires the right arrays into the formulas (checked on raw replicates)."""
    reps = tiny.replicates(model="gamma", n=100)
    mle = reps[reps.estimator == "mle"].sort_values("rep")
    mom = reps[reps.estimator == "mom"].sort_values("rep")
    assert set(mle.status) <= {"ok", "boundary"} and set(mom.status) <= {"ok", "boundary"}
    shape, shape_se = mle["shape"].to_numpy(), mle["shape_se"].to_numpy()
    r = shape.size
    # bias with Morris' MCSE
    bias = (shape.mean() - 2.0, math.sqrt(np.sum((shape - shape.mean()) ** 2) / (r * (r - 1))))
    assert _row(table, "gamma", "mle", 100, "shape", "bias") == pytest.approx(bias, rel=1e-10)
    # CRLB from the inverse of the per-observation Fisher information of Gamma(α, β)
    a, b = 2.0, 1.5
    from scipy.special import polygamma

    info = np.array([[polygamma(1, a), -1 / b], [-1 / b, a / b**2]])
    inv = np.linalg.inv(info)
    crlb_se = math.sqrt(inv[0, 0] / 100)
    got = _row(table, "gamma", "mle", 100, "shape", "crlb_se")[0]
    assert got == pytest.approx(crlb_se, rel=1e-10)
    got = _row(table, "gamma", "mle", 100, "shape", "inv_fisher")[0]
    assert got == pytest.approx(inv[0, 0], rel=1e-10)
    var = np.sum((shape - shape.mean()) ** 2) / (r - 1)
    assert _row(table, "gamma", "mle", 100, "shape", "efficiency")[0] == pytest.approx(
        crlb_se**2 / var, rel=1e-10
    )
    # Wald coverage at 95%
    z = stats.norm.ppf(0.975)
    cov = np.mean((shape - z * shape_se <= 2.0) & (2.0 <= shape + z * shape_se))
    assert _row(table, "gamma", "mle", 100, "shape", "coverage") == pytest.approx(
        (cov, math.sqrt(cov * (1 - cov) / r)), rel=1e-12
    )
    # rel_precision of mom vs the mle on the same replications
    ref_var = var
    mom_shape = mom["shape"].to_numpy()
    mom_var = np.sum((mom_shape - mom_shape.mean()) ** 2) / (r - 1)
    assert _row(table, "gamma", "mom", 100, "shape", "rel_precision")[0] == pytest.approx(
        100 * (ref_var / mom_var - 1), rel=1e-10
    )
    # Mahalanobis KS p-value: T = n (θ̂-θ)ᵀ I(θ) (θ̂-θ) vs χ²_2
    d = np.column_stack([shape - a, mle["rate"].to_numpy() - b])
    t = 100 * np.einsum("ri,ij,rj->r", d, info, d)
    p = stats.kstest(t, stats.chi2(2).cdf).pvalue
    got = _row(table, "gamma", "mle", 100, "(joint)", "mahalanobis_ks_p")[0]
    assert got == pytest.approx(p, rel=1e-10)
    # Wilks: share of lr_stat above the χ²_2 95% quantile
    rej = np.mean(mle["lr_stat"].to_numpy() > stats.chi2.ppf(0.95, 2))
    assert _row(table, "gamma", "mle", 100, "(joint)", "wilks_rejection")[0] == pytest.approx(rej)


def test_rmse_slope_row(table):
    rmse = table[(table.model == "exponential") & (table.metric == "rmse")].sort_values("n")
    slope = table[(table.model == "exponential") & (table.metric == "rmse_slope")]
    assert len(slope) == 1 and pd.isna(slope.n.iloc[0])
    expected = asymptotic.loglog_slope(rmse.n.to_numpy(), rmse.value.to_numpy(),
                                       rmse.mcse.to_numpy(), 0.95)  # fmt: skip
    assert float(slope.value.iloc[0]) == pytest.approx(expected[0], rel=1e-12)
    assert float(slope.mcse.iloc[0]) == pytest.approx(expected[1], rel=1e-12)
    assert -1.0 < expected[0] < 0.0


def test_verdict_rows_have_design_columns(tiny):
    verdicts = tiny.verdicts
    assert set(VERDICT_COLUMNS) <= set(verdicts.columns)
    assert set(verdicts.verdict) <= {PASS, FAIL, INCONCLUSIVE, "SKIPPED"}
    assert set(verdicts.expected) <= {"pass", "fail", "inconclusive"}
    groups = verdicts.groupby(["model", "estimator", "theta", "param"])
    # One family per parameter series of the metrics table (gamma and normal: 2 estimators x
    # 2 parameters; exponential and bernoulli: 1 x 1).
    per_n = tiny.metrics[tiny.metrics.n.notna() & (tiny.metrics.param != "(joint)")]
    assert groups.ngroups == len(per_n.drop_duplicates(["model", "estimator", "theta", "param"]))
    assert groups.ngroups >= 2 * 2 * 2 + 1 + 1
    for key, g in groups:
        assert set(g.property) == PROPERTIES and len(g) == len(PROPERTIES), key
    files = {p.name for p in tiny.root.iterdir()}
    assert {"verdicts.json", "verdicts.csv"} <= files
    stored = json.loads((tiny.root / "verdicts.json").read_text())
    assert len(stored["verdicts"]) == len(verdicts)
    # Undecided equivalence verdicts say how many replications would decide them. R = 200 is
    # too few to decide many of them, so this loop cannot run zero times.
    undecided = verdicts[(verdicts.verdict == INCONCLUSIVE)
                         & (verdicts.property != "asymptotically_normal")]  # fmt: skip
    assert len(undecided) >= 5
    for _, row in undecided.iterrows():
        needed = row["replications_needed"]
        assert needed is None or pd.isna(needed) or needed > REPS, row.to_dict()


def _by_hand(stat, se, low, high):
    """The equivalence rule by hand: z_{1-α} from scipy, CI inside / wholly outside the band."""
    z = stats.norm.ppf(1 - 0.01)
    lo, hi = stat - z * se, stat + z * se
    if low <= lo and hi <= high:
        return PASS, None
    if hi < low or lo > high:
        return FAIL, None
    d = min(abs(stat - low), abs(stat - high))
    if d < 1e-9:  # on an edge (e.g. coverage 187/200 against 0.935): no R decides
        return INCONCLUSIVE, None
    return INCONCLUSIVE, math.ceil(REPS * (z * se / d) ** 2)


def test_tiny_study_interval_verdicts_follow_from_its_metrics(tiny):
    """Every bias, efficiency and coverage verdict of the tiny study, decided by hand from its
    metrics table at the largest n with the default margins (README: bias/EmpSE ±0.1,
    efficiency 1 ± 0.1, coverage 0.95 ± 0.015, α = 0.01)."""
    table, verdicts = tiny.metrics, tiny.verdicts
    n = max(SIZES)
    checked, counts = 0, {PASS: 0, FAIL: 0, INCONCLUSIVE: 0}
    for (model, est, theta, param), fam in verdicts.groupby(["model", "estimator", "theta", "param"]):
        def metric(name, model=model, est=est, theta=theta, param=param):
            hit = table[(table.model == model) & (table.estimator == est) & (table.theta == theta)
                        & (table.n == n) & (table.param == param) & (table.metric == name)]  # fmt: skip
            assert len(hit) == 1
            return float(hit.value.iloc[0]), float(hit.mcse.iloc[0])

        (bias, bias_se), (emp, _) = metric("bias"), metric("empse")
        eff, eff_se = metric("efficiency")
        cov, cov_se = metric("coverage")
        expected = {
            "asymptotically_unbiased": _by_hand(bias / emp, bias_se / emp, -0.1, 0.1),
            "efficient": _by_hand(eff, eff_se, 0.9, 1.1),
            "wald_coverage": _by_hand(cov, cov_se, 0.95 - 0.015, 0.95 + 0.015),
        }
        for prop, (verdict, needed) in expected.items():
            row = fam[fam.property == prop].iloc[0]
            assert row.verdict == verdict, (model, est, param, prop, row.to_dict())
            if verdict == INCONCLUSIVE:
                got = row.replications_needed
                assert (pd.isna(got) if needed is None else int(got) == needed), (row.to_dict(), needed)
            counts[verdict] += 1
            checked += 1
    assert checked == 3 * (2 * 2 * 2 + 1 + 1)
    # R = 200 decides some (the inefficient estimators FAIL) and leaves the others undecided.
    assert counts[FAIL] > 0 and counts[INCONCLUSIVE] > 0, counts
    # The gamma method of moments (efficiency about 0.6) is decided inefficient.
    mom = verdicts[(verdicts.model == "gamma") & (verdicts.estimator == "mom")
                   & (verdicts.property == "efficient")]  # fmt: skip
    assert set(mom.verdict) == {FAIL}


def test_study_with_a_known_parameter_estimator_survives_metrics(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(PLUGIN_DIR))
    cfg = {
        "name": "known-sigma2", "seed": 5, "replications": 40, "sample_sizes": [20, 40, 80],
        "models": [{
            "model": "normal", "params": {"mu": 1.0, "sigma2": 4.0},
            "estimators": ["mle", {"plugin": "planted:normal_known_sigma2", "name": "known"}],
        }],
    }  # fmt: skip
    result = simstudy.run(cfg, out=tmp_path)  # must not raise in compute_metrics
    table = result.metrics
    known = table[(table.estimator == "known") & (table.param == "sigma2")].set_index(
        ["n", "metric"]
    )
    for n in (20, 40, 80):
        assert known.at[(n, "empse"), "value"] == 0.0
        assert known.at[(n, "bias"), "value"] == 0.0
        # Ratios over EmpSE = 0 or ModSE = 0 are undefined: NaN rows, not exceptions.
        for metric in ("rel_precision", "efficiency", "rel_err_modse"):
            assert math.isnan(known.at[(n, metric), "value"]), (n, metric)
    verdicts = result.verdicts
    sigma2 = verdicts[(verdicts.estimator == "known") & (verdicts.param == "sigma2")]
    assert set(sigma2.property) == PROPERTIES
    # Undefined statistics are INCONCLUSIVE, never PASS.
    undefined = sigma2[sigma2.property.isin(["consistent", "asymptotically_unbiased", "efficient"])]
    assert (undefined.verdict == INCONCLUSIVE).all(), undefined[["property", "verdict"]]


# --------------------------------------------------------------------------------------------
# Trend rows on RMSEs given as numbers


def _rmse_frame(ns, values, mcses):
    from simstudy.metrics.summarise import COLUMNS

    rows = [("m", "mle", '{"t":1.0}', n, "t", "rmse", v, s, 100, 0)
            for n, v, s in zip(ns, values, mcses)]  # fmt: skip
    return pd.DataFrame(rows, columns=COLUMNS)


def _trend(frame, metric):
    from simstudy.metrics.summarise import _trends

    out = _trends(frame)
    hit = out[out.metric == metric]
    assert len(hit) == 1 and pd.isna(hit.n.iloc[0])
    return float(hit.value.iloc[0]), float(hit.mcse.iloc[0])


def test_rmse_tail_slope_and_its_delta_method_se():
    """Slope between the two largest n: log(r2/r1)/log(n2/n1); its SE by the delta method on
    log r (Var(log r) ≈ (MCSE/r)², the two cells independent):
    sqrt((s1/r1)² + (s2/r2)²)/log(n2/n1)."""
    ns, r, s = [100, 1000, 4000], [0.2, 0.06, 0.035], [0.004, 0.0012, 0.0005]
    slope, se = _trend(_rmse_frame(ns, r, s), "rmse_tail_slope")
    span = math.log(4000 / 1000)
    assert slope == pytest.approx(math.log(0.035 / 0.06) / span, rel=1e-12)
    assert slope < 0  # a falling RMSE has a negative slope
    assert se == pytest.approx(math.sqrt((0.0012 / 0.06) ** 2 + (0.0005 / 0.035) ** 2) / span,
                               rel=1e-12)  # fmt: skip
    # Exactly n^-1/2 between the last two sizes: slope -0.5; a rising RMSE: positive.
    assert _trend(_rmse_frame(ns, [0.3, 0.1, 0.05], s), "rmse_tail_slope")[0] == pytest.approx(-0.5)
    rising, _ = _trend(_rmse_frame(ns, [0.3, 0.1, 0.2], s), "rmse_tail_slope")
    assert rising == pytest.approx(math.log(2) / span, rel=1e-12)


def test_rmse_tail_slope_uses_the_two_largest_n_in_any_row_order():
    ns, r, s = [4000, 100, 1000], [0.035, 0.2, 0.06], [0.0005, 0.004, 0.0012]
    slope, _ = _trend(_rmse_frame(ns, r, s), "rmse_tail_slope")
    assert slope == pytest.approx(math.log(0.035 / 0.06) / math.log(4), rel=1e-12)


def test_rmse_slope_rows_from_numbers():
    """rmse_slope = the weighted log-log slope over the upper grid (here the last 3 of 4 sizes:
    fewer than 6 sizes use the last three); rmse_slope_dof is inf when the points fit."""
    ns = [10, 100, 1000, 10000]
    r = [1.0 * n**-0.5 for n in ns]
    s = [0.01 * v for v in r]
    slope, se = _trend(_rmse_frame(ns, r, s), "rmse_slope")
    assert slope == pytest.approx(-0.5, abs=1e-12)
    x = np.log(ns[1:])
    assert se == pytest.approx(1 / math.sqrt(np.sum((x - x.mean()) ** 2) / 0.01**2), rel=1e-9)
    assert _trend(_rmse_frame(ns, r, s), "rmse_slope_dof")[0] == math.inf
    # A zero RMSE has no log: no tail slope row (and no exception).
    from simstudy.metrics.summarise import _trends

    out = _trends(_rmse_frame([10, 100, 1000], [0.3, 0.1, 0.0], [0.01, 0.01, 0.0]))
    assert "rmse_tail_slope" not in set(out.metric)
