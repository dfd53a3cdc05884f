"""Verdicts: PASS / FAIL / INCONCLUSIVE per (model, θ, estimator, parameter, property).

Properties are asymptotic, so each is judged on the trend over the n grid or at the largest n,
never on one p-value at a small n. Interval verdicts are equivalence tests (two one-sided
tests at level ``alpha``, Schuirmann 1987): with CI = statistic ± z_{1-α}·MCSE and the
acceptable band [low, high], PASS if the CI lies inside the band, FAIL if it lies wholly
outside, INCONCLUSIVE otherwise, with the R that would shrink the CI enough to decide
(R' = R·(z·MCSE/d)², d the distance from the statistic to the band's nearer edge).

- ``consistent``: the weighted log-log slope of RMSE on n (upper half of the grid) lies within
  ``rate_margin`` of the model's rate (-1/2 unless tagged), and RMSE is smallest at the
  largest n. When the RMSEs are significantly not a power law over that range (an estimator
  whose RMSE levels off), the slope between the two largest n is judged instead.
- ``asymptotically_unbiased``: bias/EmpSE at the largest n within ±``bias_margin``.
- ``efficient``: CRLB/Var at the largest n within 1 ± ``efficiency_margin``.
- ``asymptotically_normal``: KS test of the shape of the estimates (centred at their mean,
  scaled by EmpSE) at the largest n, Holm-corrected across the study, not rejected at
  ``alpha``. Location and scale are the other verdicts' business, so an inefficient but
  asymptotically normal estimator (method of moments) is not called non-normal.
- ``wald_coverage``: coverage of the Wald interval at the largest n within
  ±``coverage_margin`` of ``coverage_level``.
Non-regular models (tag ``regular: false``) get SKIPPED for ``efficient`` and
``asymptotically_normal``, with the reason.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
from scipy.special import ndtri

from simstudy.config import PROPERTIES, StudyConfig
from simstudy.metrics.asymptotic import holm
from simstudy.metrics.precision import MIN_SIZES_FOR_RATE, too_few_sizes_reason
from simstudy.metrics.summarise import JOINT

COLUMNS = [
    "model", "estimator", "theta", "param", "property", "verdict", "expected", "met",
    "statistic", "margin", "mcse", "replications_needed", "detail",
]  # fmt: skip
PASS, FAIL, INCONCLUSIVE, SKIPPED = "PASS", "FAIL", "INCONCLUSIVE", "SKIPPED"
NON_REGULAR_REASON = (
    "skipped: the model is non-regular (tag regular: false), so the Cramér-Rao bound and "
    "asymptotic normality do not apply"
)


def equivalence(stat: float, se: float, low: float, high: float, z: float, reps: int):
    """(verdict, replications needed) of the interval test described in the module doc."""
    if not (math.isfinite(stat) and math.isfinite(se)):
        return INCONCLUSIVE, None
    lo_ci, hi_ci = stat - z * se, stat + z * se
    if low <= lo_ci and hi_ci <= high:
        return PASS, None
    if hi_ci < low or lo_ci > high:
        return FAIL, None
    d = min(stat - low, high - stat) if low <= stat <= high else min(abs(stat - low), abs(stat - high))
    # On a band edge (up to rounding) no finite R decides: say so rather than R ~ 1e31.
    if d <= 1e-9 * max(1.0, abs(low), abs(high)) or se <= 0:
        return INCONCLUSIVE, None
    return INCONCLUSIVE, math.ceil(reps * (z * se / d) ** 2)


def compute_verdicts(metrics: pd.DataFrame, manifest: dict, config: StudyConfig) -> pd.DataFrame:
    """The verdict table from the metrics long table (no replicate access needed)."""
    checks = config.checks
    z = float(ndtri(1.0 - checks.alpha))  # one-sided z_{1-α}: Φ⁻¹, what scipy.stats.norm.ppf evaluates
    reps = int(manifest["replications"])
    tags = {c["model"]: (c["regular"], c["rate"]) for c in manifest["cells"]}
    entries = _entries(config, manifest)
    per_n = metrics[metrics.n.notna() & (metrics.param != JOINT)]
    trends = metrics[metrics.n.isna()]
    grid_sizes = len(set(config.sample_sizes))
    rows = []
    families = per_n.groupby(["model", "estimator", "theta", "param"], sort=False)
    for (model, est, theta, param), fam in families:
        regular, rate = tags[model]
        last_n = fam.n.max()
        at = fam[fam.n == last_n].set_index("metric")
        first = fam[fam.n == fam.n.min()].set_index("metric")

        def value(name, frame=at):
            # np.float64, so that an undefined ratio below is NaN/inf (and INCONCLUSIVE),
            # not a ZeroDivisionError.
            if name not in frame.index:
                return np.float64(np.nan), np.float64(np.nan)
            return np.float64(frame.at[name, "value"]), np.float64(frame.at[name, "mcse"])

        entry = entries.get((model, theta))
        true = json.loads(theta)

        def add(prop, verdict, stat, margin, se, needed, detail, model=model, est=est,
                theta=theta, param=param, entry=entry, true=true):  # fmt: skip
            expected = "pass" if entry is None else entry.expected_verdict(est, true, param, prop)
            met = verdict == SKIPPED or verdict.lower() == expected
            rows.append((model, est, theta, param, prop, verdict, expected, met, stat, margin, se,
                         needed, detail))  # fmt: skip

        fail_last, _ = value("fail_rate")
        if fail_last >= 1.0:
            # Nothing to judge: say why instead of reporting NaN statistics.
            why = (f"every fit at n={last_n} failed (fail_rate 100%), so there is no estimate to "
                   "judge; see the failed fits' status in the replicates or `simstudy replay`")  # fmt: skip
            for prop in PROPERTIES:
                add(prop, INCONCLUSIVE, math.nan, math.nan, math.nan, None, why)
            continue

        # consistent
        slope_row = trends[(trends.model == model) & (trends.estimator == est)
                           & (trends.theta == theta) & (trends.param == param)]  # fmt: skip
        rmse = fam[fam.metric == "rmse"].sort_values("n")
        if grid_sizes < MIN_SIZES_FOR_RATE:
            add("consistent", SKIPPED, math.nan, checks.rate_margin, math.nan, None,
                "skipped: " + too_few_sizes_reason(grid_sizes))  # fmt: skip
        elif slope_row.empty or rmse.empty:
            add("consistent", INCONCLUSIVE, math.nan, checks.rate_margin, math.nan, None,
                f"fewer than {MIN_SIZES_FOR_RATE} of the study's {grid_sizes} sample sizes have "
                f"a finite, positive RMSE with an MCSE ({fam.n.nunique()} have all their "
                "replications stored; too many failed fits, or a run that stopped early?)")  # fmt: skip
        else:
            main = slope_row[slope_row.metric == "rmse_slope"]
            dof_row = slope_row[slope_row.metric == "rmse_slope_dof"]
            tail_row = slope_row[slope_row.metric == "rmse_tail_slope"]
            dof = float(dof_row.value.iloc[0]) if len(dof_row) else math.inf
            slope, slope_se = float(main.value.iloc[0]), float(main.mcse.iloc[0])
            note = f"weighted log-log slope over the upper n grid {slope:.3f}"
            if math.isfinite(dof) and len(tail_row):
                # Not a power law over that range: read the rate at the two largest n.
                slope, slope_se = float(tail_row.value.iloc[0]), float(tail_row.mcse.iloc[0])
                note = (f"RMSE is not a power law over the upper n grid (lack of fit), so the "
                        f"slope between the two largest n, {slope:.3f}")  # fmt: skip
            verdict, needed = equivalence(slope, slope_se, rate - checks.rate_margin,
                                          rate + checks.rate_margin, z, reps)  # fmt: skip
            last, best = rmse.iloc[-1], rmse.value.min()
            detail = f"{note} ± {z * slope_se:.3f} vs rate {rate:g}"
            if last.value > best + 2 * last.mcse:
                verdict, needed = FAIL, None
                detail += f"; RMSE at n={last_n} ({last.value:.4g}) is not the smallest ({best:.4g})"
            add("consistent", verdict, slope, checks.rate_margin, slope_se, needed, detail)

        # asymptotically_unbiased
        bias, bias_se = value("bias")
        emp, _ = value("empse")
        with np.errstate(divide="ignore", invalid="ignore"):
            b, b_se = bias / emp, bias_se / emp
        verdict, needed = equivalence(b, b_se, -checks.bias_margin, checks.bias_margin, z, reps)
        add("asymptotically_unbiased", verdict, b, checks.bias_margin, b_se, needed,
            f"bias/EmpSE at n={last_n}: {b:.4f} (bias {bias:.4g})")  # fmt: skip

        # efficient
        if not regular:
            add("efficient", SKIPPED, math.nan, checks.efficiency_margin, math.nan, None, NON_REGULAR_REASON)
        else:
            eff, eff_se = value("efficiency")
            m = checks.efficiency_margin
            verdict, needed = equivalence(eff, eff_se, 1 - m, 1 + m, z, reps)
            add("efficient", verdict, eff, m, eff_se, needed,
                f"CRLB/Var at n={last_n}: {eff:.4f} ± {z * eff_se:.4f}")  # fmt: skip

        # asymptotically_normal (p-values Holm-adjusted below)
        if not regular:
            add("asymptotically_normal", SKIPPED, math.nan, checks.alpha, math.nan, None, NON_REGULAR_REASON)
        else:
            ks_last, _ = value("shape_ks_stat")
            p_last, _ = value("shape_ks_p")
            ks_first, _ = value("shape_ks_stat", first)
            add("asymptotically_normal", "pending", ks_last, checks.alpha, p_last, None,
                f"KS distance of the standardized estimates {ks_first:.4f} at n={fam.n.min()} "
                f"-> {ks_last:.4f} at n={last_n}")  # fmt: skip

        # wald_coverage
        cov, cov_se = value("coverage")
        level, cm = checks.coverage_level, checks.coverage_margin
        if "coverage" not in at.index and "empse" in at.index:
            # Estimates to judge but (almost) no finite SEs: there is no interval to cover.
            add("wald_coverage", SKIPPED, math.nan, cm, math.nan, None,
                no_se_reason(manifest, est, param, last_n))  # fmt: skip
        else:
            verdict, needed = equivalence(cov, cov_se, level - cm, level + cm, z, reps)
            add("wald_coverage", verdict, cov, cm, cov_se, needed,
                f"coverage at n={last_n}: {cov:.4f} vs nominal {level:g}")  # fmt: skip

    frame = pd.DataFrame(rows, columns=COLUMNS)
    return _resolve_normality(frame, checks.alpha)


def no_se_reason(manifest: dict, estimator: str, param: str, n) -> str:
    """Why ``wald_coverage`` is SKIPPED when the usable fits at the largest n carry fewer than 4
    finite standard errors (the coverage metrics need them): a table analysed by
    ``simstudy analyse`` without a ``<param>_se`` column, or an estimator (e.g. a plugin) that
    writes NaN standard errors."""
    if manifest.get("external"):
        who = (f"the table has no standard errors for {param} at n={n} (no finite values in a "
               f"{param}_se column)")  # fmt: skip
    else:
        who = (f"estimator {estimator!r} returned no finite standard errors for {param} at "
               f"n={n} (NaN)")  # fmt: skip
    return f"skipped: {who}, so the Wald interval and its coverage cannot be computed"


def _resolve_normality(frame: pd.DataFrame, alpha: float) -> pd.DataFrame:
    pending = frame.verdict == "pending"
    if not pending.any():
        return frame
    raw = frame.loc[pending, "mcse"].to_numpy(dtype=float)
    finite = np.isfinite(raw)
    adjusted = np.full(raw.size, np.nan)
    adjusted[finite] = holm(raw[finite])
    verdicts = np.where(~finite, INCONCLUSIVE, np.where(adjusted > alpha, PASS, FAIL))
    frame.loc[pending, "verdict"] = verdicts
    frame.loc[pending, "detail"] = [
        f"{d}; KS p = {p:.3g}, Holm-adjusted over {finite.sum()} tests: {a:.3g} (alpha {alpha:g})"
        for d, p, a in zip(frame.loc[pending, "detail"], raw, adjusted)
    ]
    frame.loc[pending, "mcse"] = np.nan
    expected = frame.loc[pending, "expected"].to_numpy()
    frame.loc[pending, "met"] = [v.lower() == e for v, e in zip(verdicts, expected)]
    return frame


def _entries(config: StudyConfig, manifest: dict) -> dict[tuple[str, str], object]:
    """{(model name as in the tables, θ JSON): the config entry whose cells they are}, from the
    manifest's cells (a plugin model names itself), for the entry's expectations."""
    out = {}
    for cell in manifest["cells"]:
        index = cell.get("entry")
        if index is None:  # a cell without its entry index: the entry of that built-in model
            index = next((i for i, e in enumerate(config.models) if e.model == cell["model"]), None)
        if index is not None and index < len(config.models):
            out[(cell["model"], cell["theta"])] = config.models[index]
    return out


def all_met(verdicts: pd.DataFrame) -> bool:
    return bool(verdicts["met"].all()) if len(verdicts) else True


__all__ = ["PROPERTIES", "all_met", "compute_verdicts", "equivalence"]
