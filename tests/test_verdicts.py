"""Verdicts on fixed, hand-built metrics tables: every property PASSes inside its band, FAILs
wholly outside it and is INCONCLUSIVE across an edge with R' = ceil(R·(z·MCSE/d)²) > R; the
normality verdicts are Holm-adjusted KS p-values.

Every expected verdict is decided here by hand from the numbers in the table: the one-sided
z_{1-α} comes from ``scipy.stats.norm.ppf`` (not from simstudy), the bands from the check
defaults of the README (rate -1/2 ± 0.1, bias/EmpSE within ±0.1, efficiency 1 ± 0.1, coverage
0.95 ± 0.015, α = 0.01) and Holm's step-down adjustment is written out (Holm 1979).
No Numba kernel runs: these tests take milliseconds.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from simstudy.config import parse_config
from simstudy.metrics.summarise import COLUMNS
from simstudy.verdicts import FAIL, INCONCLUSIVE, PASS, SKIPPED, compute_verdicts

REPS = 1000
N_SMALL, N_LARGE = 100, 1000
#: A third grid size with no rows here: the rate verdict needs a grid of three sizes or more.
N_TINY = 10
MODEL, ESTIMATOR, THETA = "toy", "mle", '{"theta":1.0}'
ALPHA = 0.01
Z = stats.norm.ppf(1 - ALPHA)  # one-sided z_{1-α} = 2.326...
RATE, RATE_MARGIN = -0.5, 0.1
BIAS_MARGIN, EFFICIENCY_MARGIN = 0.1, 0.1
LEVEL, COVERAGE_MARGIN = 0.95, 0.015

#: A family whose every verdict PASSes with room to spare: (metric, value, MCSE) at the
#: largest n; the smaller n only carries the RMSE (for the "smallest at the largest n" rule).
PASSING = {
    "rmse": (0.0316, 0.0006),
    "bias": (0.0, 0.001),  # bias/EmpSE = 0 ± 0.01
    "empse": (0.1, 0.002),
    "efficiency": (1.0, 0.01),
    "coverage": (0.95, 0.002),
    "shape_ks_stat": (0.02, math.nan),
    "shape_ks_p": (0.5, math.nan),
}
PASSING_TRENDS = {
    "rmse_slope": (-0.5, 0.01),
    "rmse_slope_dof": (math.inf, math.nan),
    "rmse_tail_slope": (-0.5, 0.02),
}


#: What the smaller n holds: values that would FAIL every interval verdict, so a verdict that
#: read the wrong n would show (the properties are asymptotic: only the largest n counts).
AT_SMALL_N = {
    "bias": (0.05, 0.001),
    "empse": (0.1, 0.002),
    "efficiency": (0.5, 0.01),
    "coverage": (0.6, 0.002),
    "shape_ks_stat": (0.1, math.nan),
    "shape_ks_p": (1e-9, math.nan),
}


def family(param, *, trends=None, small_rmse=0.1, theta=THETA, estimator=ESTIMATOR, model=MODEL,
           **at_large):  # fmt: skip
    """Metric rows of one (model, estimator, θ, param) series; keyword arguments replace
    ``(value, mcse)`` of a metric at the largest n (``None`` removes it), ``trends`` the
    trend rows."""
    key = (model, estimator, theta)
    rows = [key + (N_SMALL, param, "rmse", small_rmse, 0.002)]
    rows += [key + (N_SMALL, param, m, v, s) for m, (v, s) in AT_SMALL_N.items()]
    metrics = {**PASSING, **at_large}
    rows += [
        key + (N_LARGE, param, m, v, s)
        for m, vs in metrics.items()
        if vs is not None
        for v, s in [vs]
    ]
    for m, vs in {**PASSING_TRENDS, **(trends or {})}.items():
        if vs is not None:
            rows.append(key + (pd.NA, param, m, vs[0], vs[1]))
    # Joint rows (param "(joint)") are no parameter's: no verdicts of their own.
    rows += [key + (n, "(joint)", "wilks_rejection", 0.05, 0.007) for n in (N_SMALL, N_LARGE)]
    return rows


def verdicts(*families, regular=True, alpha=ALPHA, expect=None, estimators=None,
             config_model=MODEL, order=None):  # fmt: skip
    """compute_verdicts on the families' rows (``order``: a permutation of the rows), with
    a one-entry config naming ``config_model`` and a manifest whose cells say ``MODEL``."""
    rows = [r + (REPS, 0) for fam in families for r in fam]
    metrics = pd.DataFrame(rows, columns=COLUMNS)
    metrics["n"] = metrics["n"].astype("Int64")
    if order is not None:
        metrics = metrics.iloc[order].reset_index(drop=True)
    params = sorted({r[4] for r in rows} - {"(joint)"})
    models = list(dict.fromkeys(r[0] for r in rows))
    entries, cells = [], []
    for i, model in enumerate(models):
        entry = {"model": config_model if model == MODEL else model,
                 "params": {p: 1.0 for p in params}}  # fmt: skip
        if expect:
            entry["expect"] = expect
        if estimators:
            entry["estimators"] = estimators
        entries.append(entry)
        cells += [{"model": model, "theta": theta, "entry": i, "regular": regular, "rate": RATE}
                  for theta in dict.fromkeys(r[2] for r in rows if r[0] == model)]  # fmt: skip
    config = parse_config(
        {"name": "verdicts", "seed": 1, "replications": REPS, "sample_sizes": [N_TINY, N_SMALL, N_LARGE],
         "models": entries, "checks": {"alpha": alpha}},
        check_models=False,
    )  # fmt: skip
    manifest = {"replications": REPS, "cells": cells}
    return compute_verdicts(metrics, manifest, config)


def row(frame, param, prop):
    hit = frame[(frame.param == param) & (frame.property == prop)]
    assert len(hit) == 1, (param, prop)
    return hit.iloc[0]


def needed(reps, se, d, z=Z):
    """R' = ceil(R·(z·MCSE/d)²): the R at which the CI half-width z·MCSE·sqrt(R/R') is d."""
    return math.ceil(reps * (z * se / d) ** 2)


def assert_inconclusive(r, se, d, z=Z):
    assert r.verdict == INCONCLUSIVE, r.to_dict()
    expected = needed(REPS, se, d, z)
    assert expected > REPS
    assert int(r.replications_needed) == expected, (r.replications_needed, expected)


# --------------------------------------------------------------------------------------------
# One property at a time: inside / across an edge / wholly outside


def test_consistent_inside_edge_outside():
    # Band [-0.6, -0.4]. -0.5 ± z·0.01 = [-0.523, -0.477]: inside.
    # -0.58 ± z·0.02 = [-0.627, -0.533] crosses -0.6: d = 0.02 to the nearer edge.
    # -1.0 ± z·0.01 = [-1.023, -0.977] wholly below.
    out = verdicts(
        family("inside"),
        family("edge", trends={"rmse_slope": (-0.58, 0.02)}),
        family("outside", trends={"rmse_slope": (-1.0, 0.01)}),
        family("above", trends={"rmse_slope": (-0.33, 0.01)}),  # [-0.353, -0.307] > -0.4
    )
    assert row(out, "inside", "consistent").verdict == PASS
    assert_inconclusive(row(out, "edge", "consistent"), 0.02, -0.58 - (RATE - RATE_MARGIN))
    assert f"-0.580 ± {Z * 0.02:.3f} vs rate -0.5" in row(out, "edge", "consistent").detail
    assert row(out, "outside", "consistent").verdict == FAIL
    assert row(out, "above", "consistent").verdict == FAIL
    edge = row(out, "edge", "consistent")
    assert edge.statistic == -0.58 and edge.mcse == 0.02 and edge.margin == RATE_MARGIN


def test_consistent_reads_the_tail_slope_when_the_power_law_does_not_fit():
    """A finite ``rmse_slope_dof`` (lack of fit) switches to ``rmse_tail_slope``."""
    # The main slope passes but is not a power law: the tail slope (-0.1 ± z·0.02) fails.
    levels_off = {"rmse_slope_dof": (1.0, math.nan), "rmse_tail_slope": (-0.1, 0.02)}
    # The main slope fails but the points fit a power law: the tail slope is not read.
    fits = {"rmse_slope": (-0.2, 0.01), "rmse_tail_slope": (-0.5, 0.01)}
    # Lack of fit and a tail slope across the edge -0.4: -0.41 ± z·0.03 -> INCONCLUSIVE.
    tail_edge = {"rmse_slope_dof": (2.0, math.nan), "rmse_tail_slope": (-0.41, 0.03)}
    out = verdicts(family("levels_off", trends=levels_off), family("fits", trends=fits),
                   family("tail_edge", trends=tail_edge))
    levels_off = row(out, "levels_off", "consistent")
    assert levels_off.verdict == FAIL and levels_off.statistic == -0.1 and levels_off.mcse == 0.02
    assert row(out, "fits", "consistent").verdict == FAIL
    assert_inconclusive(row(out, "tail_edge", "consistent"), 0.03,
                        (RATE + RATE_MARGIN) - (-0.41))  # fmt: skip


def test_consistent_fails_when_rmse_is_not_smallest_at_the_largest_n():
    # RMSE 0.05 (MCSE 0.001) at n = 1000 against 0.03 at n = 100: 0.05 > 0.03 + 2·0.001.
    out = verdicts(
        family("rises", small_rmse=0.03, rmse=(0.05, 0.001)),
        # Within two MCSEs of the smallest (1.5 MCSEs above it): the slope decides (PASS).
        family("tie", small_rmse=0.03185, rmse=(0.0320, 0.0001)),
    )
    rises = row(out, "rises", "consistent")
    assert rises.verdict == FAIL and pd.isna(rises.replications_needed)
    # Dyadic RMSEs: exactly 2 MCSEs above the smallest is not yet "not the smallest"; 2.5 is.
    exact = verdicts(family("two", small_rmse=0.25, rmse=(0.375, 0.0625)),
                     family("two_and_a_half", small_rmse=0.25, rmse=(0.40625, 0.0625)))
    assert row(exact, "two", "consistent").verdict == PASS
    assert row(exact, "two_and_a_half", "consistent").verdict == FAIL
    assert "not the smallest" in rises.detail
    assert row(out, "tie", "consistent").verdict == PASS


def test_consistent_without_a_slope_is_inconclusive():
    out = verdicts(family("noslope", trends={"rmse_slope": None, "rmse_slope_dof": None,
                                             "rmse_tail_slope": None}))  # fmt: skip
    assert row(out, "noslope", "consistent").verdict == INCONCLUSIVE


def test_asymptotically_unbiased_inside_edge_outside():
    # Statistic bias/EmpSE with MCSE(bias)/EmpSE; EmpSE = 0.1, band [-0.1, 0.1].
    out = verdicts(
        family("inside", bias=(0.002, 0.001)),  # 0.02 ± z·0.01 = [-0.003, 0.043]
        family("edge", bias=(0.009, 0.001)),  # 0.09 ± 0.023 crosses 0.1: d = 0.01
        family("low_edge", bias=(-0.0095, 0.0012)),  # -0.095 ± 0.028 crosses -0.1: d = 0.005
        family("outside", bias=(0.03, 0.001)),  # 0.3 ± 0.023
        family("below", bias=(-0.03, 0.001)),  # -0.3 ± 0.023
    )
    inside = row(out, "inside", "asymptotically_unbiased")
    assert inside.verdict == PASS
    assert inside.statistic == pytest.approx(0.02, rel=1e-12)
    assert inside.mcse == pytest.approx(0.01, rel=1e-12)
    assert_inconclusive(row(out, "edge", "asymptotically_unbiased"), 0.001 / 0.1,
                        BIAS_MARGIN - 0.009 / 0.1)  # fmt: skip
    assert_inconclusive(row(out, "low_edge", "asymptotically_unbiased"), 0.0012 / 0.1,
                        -0.0095 / 0.1 + BIAS_MARGIN)  # fmt: skip
    assert row(out, "outside", "asymptotically_unbiased").verdict == FAIL
    assert row(out, "below", "asymptotically_unbiased").verdict == FAIL


def test_efficient_inside_edge_outside():
    # Band [0.9, 1.1].
    out = verdicts(
        family("inside", efficiency=(1.02, 0.02)),  # [0.973, 1.067]
        family("edge", efficiency=(0.92, 0.02)),  # [0.873, 0.967]: d = 0.02
        family("high_edge", efficiency=(1.09, 0.015)),  # [1.055, 1.125]: d = 0.01
        family("outside", efficiency=(0.6, 0.02)),  # the method of moments' kind of value
        family("above", efficiency=(1.3, 0.02)),
    )
    assert row(out, "inside", "efficient").verdict == PASS
    assert_inconclusive(row(out, "edge", "efficient"), 0.02, 0.92 - (1 - EFFICIENCY_MARGIN))
    assert f"0.9200 ± {Z * 0.02:.4f}" in row(out, "edge", "efficient").detail
    assert_inconclusive(row(out, "high_edge", "efficient"), 0.015, (1 + EFFICIENCY_MARGIN) - 1.09)
    assert row(out, "outside", "efficient").verdict == FAIL
    assert row(out, "above", "efficient").verdict == FAIL


def test_wald_coverage_inside_edge_outside():
    # Band [0.935, 0.965].
    out = verdicts(
        family("inside", coverage=(0.951, 0.003)),  # [0.944, 0.958]
        family("edge", coverage=(0.94, 0.004)),  # [0.9307, 0.9493]: d = 0.005
        family("high_edge", coverage=(0.962, 0.0025)),  # [0.9562, 0.9678]: d = 0.003
        family("outside", coverage=(0.80, 0.01)),  # [0.777, 0.823]
        family("above", coverage=(0.99, 0.002)),  # [0.9853, 0.9947]
    )
    assert row(out, "inside", "wald_coverage").verdict == PASS
    assert_inconclusive(row(out, "edge", "wald_coverage"), 0.004, 0.94 - (LEVEL - COVERAGE_MARGIN))
    assert_inconclusive(row(out, "high_edge", "wald_coverage"), 0.0025,
                        (LEVEL + COVERAGE_MARGIN) - 0.962)  # fmt: skip
    assert row(out, "outside", "wald_coverage").verdict == FAIL
    assert row(out, "above", "wald_coverage").verdict == FAIL


def test_asymptotically_normal_pass_fail_inconclusive():
    # Three KS tests: Holm's smallest adjusted p is 3·p_min. 1e-6·3 < α: FAIL; NaN: undecided
    # (and not counted); 0.5 -> min(1, 2·0.5) = 1: PASS.
    out = verdicts(
        family("normal", shape_ks_p=(0.5, math.nan)),
        family("skewed", shape_ks_p=(1e-6, math.nan)),
        family("undefined", shape_ks_p=(math.nan, math.nan)),
    )
    assert row(out, "normal", "asymptotically_normal").verdict == PASS
    assert row(out, "skewed", "asymptotically_normal").verdict == FAIL
    undefined = row(out, "undefined", "asymptotically_normal")
    assert undefined.verdict == INCONCLUSIVE and pd.isna(undefined.replications_needed)
    # The statistic column holds the KS distance at the largest n, the detail both ends.
    normal = row(out, "normal", "asymptotically_normal")
    assert normal.statistic == 0.02
    assert "0.1000 at n=100 -> 0.0200 at n=1000" in normal.detail
    assert [bool(row(out, p, "asymptotically_normal").met) for p in ("normal", "skewed")] == [
        True, False]  # fmt: skip
    assert out[out.property == "asymptotically_normal"].mcse.isna().all()


def test_z_follows_alpha():
    """At α = 0.05 the interval is narrower (z = 1.645): what α = 0.01 leaves undecided is
    decided, and R' uses z_{0.95}."""
    fam = family("eff", efficiency=(0.95, 0.025))  # d = 0.05 to 0.9
    # α = 0.01: 0.95 ± 2.326·0.025 = [0.892, 1.008] crosses 0.9.
    at_01 = row(verdicts(fam, alpha=0.01), "eff", "efficient")
    assert_inconclusive(at_01, 0.025, 0.95 - 0.9)
    # α = 0.05: 0.95 ± 1.645·0.025 = [0.909, 0.991]: PASS.
    assert row(verdicts(fam, alpha=0.05), "eff", "efficient").verdict == PASS
    fam = family("eff", efficiency=(0.93, 0.025))  # d = 0.03; [0.889, 0.971] at α = 0.05
    z05 = stats.norm.ppf(0.95)
    assert_inconclusive(row(verdicts(fam, alpha=0.05), "eff", "efficient"), 0.025, 0.93 - 0.9, z05)


def test_replications_needed_decide_the_verdict():
    """With R' replications the MCSE shrinks by sqrt(R/R'), and the same statistic is decided."""
    out = verdicts(family("edge", efficiency=(0.92, 0.02)), family("out", efficiency=(0.88, 0.02)))
    for param, decided in (("edge", PASS), ("out", FAIL)):
        r = row(out, param, "efficient")
        assert r.verdict == INCONCLUSIVE
        r_new = int(r.replications_needed)
        se_new = 0.02 * math.sqrt(REPS / r_new)
        lo, hi = r.statistic - Z * se_new, r.statistic + Z * se_new
        inside = 0.9 <= lo and hi <= 1.1
        outside = hi < 0.9 or lo > 1.1
        assert (PASS if inside else FAIL if outside else INCONCLUSIVE) == decided


# --------------------------------------------------------------------------------------------
# Holm across the study's KS tests


def _normality(p_values, alpha=ALPHA):
    fams = [family(f"p{i}", shape_ks_p=(p, math.nan)) for i, p in enumerate(p_values)]
    out = verdicts(*fams, alpha=alpha)
    return [row(out, f"p{i}", "asymptotically_normal") for i in range(len(p_values))]


def _holm_by_hand(p):
    """Holm (1979) step-down: sorted p_(i)·(m - i + 1), running maximum, capped at 1."""
    order = np.argsort(p, kind="stable")
    m = len(p)
    adjusted = np.empty(m)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[i]))
        adjusted[i] = running
    return adjusted


def test_holm_passes_one_small_p_among_four():
    # Adjusted: 0.005·4 = 0.02 > 0.01, the others min(1, 3·0.5) = 1: all PASS.
    rows = _normality([0.005, 0.5, 0.5, 0.5])
    assert [r.verdict for r in rows] == [PASS] * 4
    assert "Holm-adjusted over 4 tests: 0.02 " in rows[0].detail
    assert _holm_by_hand([0.005, 0.5, 0.5, 0.5]).tolist() == pytest.approx([0.02, 1, 1, 1])


def test_only_holm_decides():
    """Unadjusted, 0.006 and 0.008 are below α = 0.01 (FAIL); Holm: 4·0.006 = 0.024 and
    max(0.024, 3·0.008) = 0.024, both PASS."""
    p = [0.006, 0.008, 0.5, 0.5]
    assert all(q < ALPHA for q in p[:2])
    rows = _normality(p)
    assert [r.verdict for r in rows] == [PASS] * 4
    assert _holm_by_hand(p)[:2].tolist() == pytest.approx([0.024, 0.024])


def test_holm_is_step_down_not_bonferroni():
    """p = [0.001, 0.003, 0.004, 0.5]: Holm 0.004, 0.009, max(0.009, 0.008) = 0.009, 0.5 -> three
    FAILs; Bonferroni (4p: 0.004, 0.012, 0.016) would FAIL only the first."""
    p = [0.001, 0.003, 0.004, 0.5]
    expected = _holm_by_hand(p)
    assert expected.tolist() == pytest.approx([0.004, 0.009, 0.009, 0.5])
    rows = _normality(p)
    assert [r.verdict for r in rows] == [FAIL, FAIL, FAIL, PASS]


def test_holm_counts_only_finite_p_values():
    # Two finite p-values: 2·0.004 = 0.008 < 0.01 FAILs; counting the NaN (3·0.004) would PASS.
    rows = _normality([0.004, 0.5, math.nan])
    assert [r.verdict for r in rows] == [FAIL, PASS, INCONCLUSIVE]
    assert "over 2 tests" in rows[0].detail


# --------------------------------------------------------------------------------------------
# Non-regular models, expectations


def test_non_regular_model_skips_efficiency_and_normality():
    out = verdicts(family("x", efficiency=(0.2, 0.01), shape_ks_p=(1e-9, math.nan)),
                   regular=False)  # fmt: skip
    assert row(out, "x", "efficient").verdict == SKIPPED
    assert row(out, "x", "asymptotically_normal").verdict == SKIPPED
    assert out.met.all()
    assert row(out, "x", "wald_coverage").verdict == PASS


def test_expected_fail_is_met_by_a_fail_only():
    out = verdicts(family("x", efficiency=(0.6, 0.02)), family("y"),
                   expect={"mle": {"efficient": "fail"}})  # fmt: skip
    x, y = row(out, "x", "efficient"), row(out, "y", "efficient")
    assert (x.verdict, x.expected, bool(x.met)) == (FAIL, "fail", True)
    assert (y.verdict, y.expected, bool(y.met)) == (PASS, "fail", False)
    # Normality, decided after the Holm step, against an expectation too.
    normal = verdicts(family("x"), family("y"), expect={"mle": {"asymptotically_normal": "fail"}})
    for param in ("x", "y"):
        r = row(normal, param, "asymptotically_normal")
        assert (r.verdict, r.expected, bool(r.met)) == (PASS, "fail", False)
    # Properties without an expectation expect "pass".
    assert row(out, "x", "wald_coverage").expected == "pass"
    assert bool(row(out, "x", "wald_coverage").met)


def test_equivalence_edges_exactly():
    """Dyadic numbers, so the CI ends are exact: a CI ending on an edge from outside is not
    wholly outside (INCONCLUSIVE), a CI whose ends are the edges is inside (PASS)."""
    from simstudy.verdicts import equivalence

    low, high = 0.5, 1.25
    assert equivalence(1.5, 0.25, low, high, 1.0, 100)[0] == INCONCLUSIVE  # lo_ci = high
    assert equivalence(0.25, 0.25, low, high, 1.0, 100)[0] == INCONCLUSIVE  # hi_ci = low
    assert equivalence(0.875, 0.375, low, high, 1.0, 100) == (PASS, None)  # [low, high]
    assert equivalence(1.5, 0.125, low, high, 1.0, 100) == (FAIL, None)
    assert equivalence(0.25, 0.125, low, high, 1.0, 100) == (FAIL, None)


def test_holm_adjusted_p_equal_to_alpha_rejects():
    """Normality PASSes only when the adjusted p exceeds α: 4·0.0625 = 0.25 = α FAILs."""
    rows = _normality([0.0625, 0.5, 0.5, 0.5], alpha=0.25)
    assert [r.verdict for r in rows] == [FAIL, PASS, PASS, PASS]


def test_each_theta_and_estimator_reads_its_own_trend_rows():
    """Several θ and estimators of one model: the slope of each is its own. The θ in the
    middle (string order) comes last, so a slope taken from a neighbour's rows would show."""
    a, b, c = '{"theta":0.5}', '{"theta":1.0}', '{"theta":2.0}'
    out = verdicts(
        family("p", theta=a, trends={"rmse_slope": (-1.0, 0.01)}),
        family("p", theta=c, trends={"rmse_slope": (-1.0, 0.01)}),
        family("p", theta=b, trends={"rmse_slope": (-0.5, 0.01)}),
    )
    got = out[out.property == "consistent"].set_index("theta").verdict.to_dict()
    assert got == {a: FAIL, c: FAIL, b: PASS}
    # "mom" sorts after "mle": each comes first in the table once.
    mom = family("p", estimator="mom", trends={"rmse_slope": (-1.0, 0.01)})
    mle = family("p", estimator="mle", trends={"rmse_slope": (-0.5, 0.01)})
    for fams in ((mom, mle), (mle, mom)):
        out = verdicts(*fams, estimators=["mle", "mom"])
        got = out[out.property == "consistent"].set_index("estimator").verdict.to_dict()
        assert got == {"mom": FAIL, "mle": PASS}


def test_verdicts_do_not_depend_on_the_order_of_the_rows():
    lack_of_fit = {"rmse_slope_dof": (1.0, math.nan), "rmse_tail_slope": (-0.1, 0.02)}
    fams = [
        family("edge", trends={"rmse_slope": (-0.58, 0.02)}, efficiency=(0.92, 0.02)),
        family("out", coverage=(0.8, 0.01), bias=(0.03, 0.001)),
        family("lack_of_fit", trends=lack_of_fit),
    ]
    base = verdicts(*fams)
    size = sum(len(f) for f in fams)
    for seed in range(3):
        order = np.random.default_rng(seed).permutation(size)
        shuffled = verdicts(*fams, order=order)
        key = ["param", "property"]
        pd.testing.assert_frame_equal(
            shuffled.sort_values(key).reset_index(drop=True),
            base.sort_values(key).reset_index(drop=True),
        )


def test_rows_follow_the_table_order_and_joint_rows_have_no_verdicts():
    out = verdicts(family("z"), family("a"), family("m"))
    assert list(dict.fromkeys(out.param)) == ["z", "a", "m"]
    assert "(joint)" not in set(out.param)
    assert len(out) == 3 * 5


def test_edge_tolerance_scales_with_the_band():
    """A statistic within 1e-9·max(1, |low|, |high|) of an edge cannot be decided by any R."""
    from simstudy.verdicts import equivalence

    assert equivalence(0.9 + 1e-9, 0.01, 0.9, 1.1, Z, REPS) == (INCONCLUSIVE, None)
    assert equivalence(10 + 1.5e-8, 0.01, 10.0, 20.0, Z, REPS) == (INCONCLUSIVE, None)
    verdict, needed = equivalence(10 + 3e-8, 0.01, 10.0, 20.0, Z, REPS)
    assert verdict == INCONCLUSIVE and needed == needed_reps(0.01, 10 + 3e-8 - 10.0)


def needed_reps(se, d):
    return needed(REPS, se, d)


def test_expectations_follow_the_manifest_model_name():
    """A config entry whose model names itself otherwise in the manifest (plugin models): the
    expectations of the entry apply to the manifest's name."""
    out = verdicts(family("x", efficiency=(0.6, 0.02)), config_model="alias",
                   expect={"mle": {"efficient": "fail"}})  # fmt: skip
    x = row(out, "x", "efficient")
    assert (x.verdict, x.expected, bool(x.met)) == (FAIL, "fail", True)


def test_all_met():
    from simstudy.verdicts import all_met

    assert all_met(verdicts(family("x")))
    assert not all_met(verdicts(family("x", efficiency=(0.6, 0.02))))
    assert all_met(pd.DataFrame({"met": []}))


def test_edge_tolerance_boundaries():
    """The tolerance is 1e-9·max(1, |low|, |high|), inclusive: 1e-9 on a band inside [-1, 1],
    1.1e-9 on [0.9, 1.1]."""
    from simstudy.verdicts import equivalence

    assert equivalence(1e-9, 0.01, 0.0, 1.0, Z, REPS) == (INCONCLUSIVE, None)  # d = 1e-9 exactly
    verdict, needed = equivalence(0.1 - 5e-10, 0.01, -0.1, 0.1, Z, REPS)  # 5e-10 < 1e-9
    assert (verdict, needed) == (INCONCLUSIVE, None)
    verdict, needed = equivalence(0.9 + 1.5e-9, 0.01, 0.9, 1.1, Z, REPS)  # 1.5e-9 > 1.1e-9
    assert verdict == INCONCLUSIVE and needed == needed_reps(0.01, 0.9 + 1.5e-9 - 0.9)


def test_rmse_rule_reads_the_largest_of_three_sizes():
    """n = 100, 300, 1000: the RMSE is smallest at 300 and rises at 1000: FAIL (reading the
    middle size instead of the last would pass it)."""
    rows = family("p", small_rmse=0.1, rmse=(0.05, 0.001))
    rows.append((MODEL, ESTIMATOR, THETA, 300, "p", "rmse", 0.03, 0.0005))
    out = verdicts(rows)
    assert row(out, "p", "consistent").verdict == FAIL
    assert "RMSE at n=1000 (0.05) is not the smallest (0.03)" in row(out, "p", "consistent").detail


def test_each_model_reads_its_own_trend_rows():
    """Two models in one study ("toy" sorts after "alpha", "zeta" after "toy")."""
    out = verdicts(
        family("p", model="zeta", trends={"rmse_slope": (-1.0, 0.01)}),
        family("p", model="alpha", trends={"rmse_slope": (-1.0, 0.01)}),
        family("p", trends={"rmse_slope": (-0.5, 0.01)}),
    )
    got = out[out.property == "consistent"].set_index("model").verdict.to_dict()
    assert got == {"zeta": FAIL, "alpha": FAIL, MODEL: PASS}
