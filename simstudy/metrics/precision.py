"""How many replications a study needs (Morris, White & Crowther 2019, §5.3).

Every MCSE here shrinks like R^-1/2, so from an MCSE s measured at R replications the target t
needs R·(s/t)² (for bias this is Var(θ̂)/t², Morris eq. 5). Coverage uses the nominal level c:
R = c(1-c)/t², since a pilot's coverage estimate at small R is too noisy to plan with.
:func:`ideal_precision` answers the question before any run: the R from which each verdict's
margin can be decided at all, for a perfect estimator. This module imports no pandas until a
pilot's table is built, so that ``simstudy validate`` and ``plan`` stay light.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from simstudy.metrics.asymptotic import slope_sizes


def ceil_count(value: float) -> int:
    """The least whole R >= ``value``, ignoring rounding error in ``value`` (0.95·0.05/0.001²
    is 47500.000000000004 in floating point, and needs R = 47,500, not 47,501)."""
    return math.ceil(value * (1.0 - 1e-12))


#: The rate of convergence is a slope over at least this many sample sizes.
MIN_SIZES_FOR_RATE = 3


def replications_needed(metrics, targets: dict[str, float], replications: int,
                        level: float):  # fmt: skip
    """One row per targeted metric: the largest R needed over the cells that decide a verdict,
    and the cell needing it.

    A verdict is judged at the largest n of each sweep (and the rate of convergence on the
    sizes its slope is fitted on, :func:`~simstudy.metrics.asymptotic.slope_sizes`), so only
    those cells count: an MCSE at a small n that no verdict reads does not drive R. ``mse``
    targets count every size of the slope fit; the others the largest n.

    Columns: ``metric, target, replications_needed, model, estimator, theta, n, param, mcse``.
    """
    import pandas as pd

    rows = []
    per_n = metrics[metrics.n.notna()]
    family = ["model", "estimator", "theta", "param"]
    largest = per_n.n == per_n.groupby(family, sort=False).n.transform("max")
    sizes = sorted({int(v) for v in per_n.n.dropna()})
    in_slope = per_n.n.isin(slope_sizes(sizes)) if len(sizes) >= 3 else largest
    for metric, target in targets.items():
        deciding = in_slope if metric == "mse" else largest
        sub = per_n[deciding & (per_n.metric == metric) & per_n.mcse.notna()]
        if metric == "coverage":
            need = ceil_count(level * (1.0 - level) / target**2)
            worst = sub.iloc[0] if len(sub) else None
            rows.append(_row(metric, target, need, worst))
            continue
        if sub.empty:
            rows.append(_row(metric, target, None, None))
            continue
        scaled = replications * (sub.mcse / target) ** 2
        worst = sub.loc[scaled.idxmax()]
        rows.append(_row(metric, target, ceil_count(float(scaled.max())), worst))
    return pd.DataFrame(rows)


def _row(metric, target, need, worst):
    base = {"metric": metric, "target": target, "replications_needed": need}
    if worst is None:
        return base | {k: None for k in ("model", "estimator", "theta", "n", "param", "mcse")}
    return base | {k: worst[k] for k in ("model", "estimator", "theta", "n", "param", "mcse")}


def too_few_sizes_reason(count: int) -> str:
    """Why ``consistent`` cannot be judged on a grid of ``count`` sample sizes."""
    return (
        f"the study has {count} sample size{'s' if count != 1 else ''}, and `consistent` reads "
        f"the rate of convergence as a slope over at least {MIN_SIZES_FOR_RATE} (give "
        "sample_sizes such as [100, 300, 1000])"
    )


#: "R decides a property" means: an exactly efficient, unbiased, normal estimator with exact
#: Wald coverage PASSes it with at least this probability.
DECIDE_PROBABILITY = 0.99


@dataclass(frozen=True)
class Precision:
    """How precisely R replications measure one verdict's statistic for a perfect estimator."""

    property: str
    statistic: str
    margin_name: str
    margin: float
    mcse: float  # MCSE of the statistic at R
    replications: int
    needed: int  # the R from which the property is decided (DECIDE_PROBABILITY)
    factor: float  # z_{1-α} + z_p: the MCSEs that must fit in the margin

    @property
    def decided(self) -> bool:
        return self.replications >= self.needed


def ideal_precision(checks, replications: int, sample_sizes) -> list[Precision]:
    """The MCSE of each interval verdict's statistic for a perfect estimator at R replications,
    and the R from which such an estimator PASSes with probability DECIDE_PROBABILITY.

    Normal-theory MCSEs (Morris, White & Crowther 2019, Table 6): bias/EmpSE has MCSE 1/sqrt(R);
    efficiency = CRLB/Var(θ̂) has MCSE sqrt(2/(R-1)) (the relative SE of a normal sample
    variance); coverage sqrt(c(1-c)/R); log RMSE has variance 1/(2R) at every n, so the
    least-squares slope over the fitted sizes x_i = log n_i has SE sqrt(1/(2R·Σ(x_i - x̄)²)).
    A statistic at its target is decided when (z_{1-α} + z_p)·MCSE <= margin, p =
    DECIDE_PROBABILITY (the equivalence test's CI must fit in the band, and the estimate may
    stray z_p MCSEs from the target).
    """
    r = int(replications)
    # Φ⁻¹ by Wichura's AS 241 (statistics.NormalDist), to about 1e-16: no SciPy import here.
    quantile = NormalDist().inv_cdf
    factor = quantile(1.0 - checks.alpha) + quantile(1.0 - (1.0 - DECIDE_PROBABILITY) / 2)
    level = checks.coverage_level
    out = [
        Precision("asymptotically_unbiased", "bias/EmpSE", "bias_margin", checks.bias_margin,
                  1.0 / math.sqrt(r), r, ceil_count((factor / checks.bias_margin) ** 2), factor),
        Precision("efficient", "efficiency", "efficiency_margin", checks.efficiency_margin,
                  math.sqrt(2.0 / max(r - 1, 1)), r,
                  ceil_count(2.0 * (factor / checks.efficiency_margin) ** 2 + 1), factor),
        Precision("wald_coverage", "Wald coverage", "coverage_margin", checks.coverage_margin,
                  math.sqrt(level * (1 - level) / r), r,
                  ceil_count(level * (1 - level) * (factor / checks.coverage_margin) ** 2), factor),
    ]  # fmt: skip
    if len(set(sample_sizes)) >= MIN_SIZES_FOR_RATE:
        x = np.log(np.array(slope_sizes(sample_sizes), dtype=float))
        sxx = float(np.sum((x - x.mean()) ** 2))
        out.insert(0, Precision(
            "consistent", "RMSE slope", "rate_margin", checks.rate_margin,
            math.sqrt(1.0 / (2.0 * r * sxx)), r,
            ceil_count(factor**2 / (2.0 * checks.rate_margin**2 * sxx)), factor,
        ))  # fmt: skip
    return out


def precision_warnings(checks, replications: int, sample_sizes) -> list[str]:
    """One line per verdict that R replications cannot decide even for a perfect estimator,
    and one if the grid is too short to judge ``consistent``."""
    lines = []
    if len(set(sample_sizes)) < MIN_SIZES_FOR_RATE:
        lines.append(
            "`consistent` cannot be judged (its verdicts will be SKIPPED): "
            + too_few_sizes_reason(len(set(sample_sizes)))
        )
    for p in ideal_precision(checks, replications, sample_sizes):
        if not p.decided:
            lines.append(
                f"R = {p.replications:,} is too small to decide `{p.property}` even for a perfect "
                f"estimator: the {p.statistic} has MCSE {p.mcse:.3g} at this R, and "
                f"{p.factor:.2f} MCSE = {p.factor * p.mcse:.3g} exceeds checks.{p.margin_name} "
                f"= {p.margin:g}; from R = {p.needed:,} a perfect estimator PASSes with "
                f"probability {DECIDE_PROBABILITY:.0%} (or widen checks.{p.margin_name})"
            )
    return lines


def study_warnings(config) -> list[str]:
    """:func:`precision_warnings` of a study config, at its R (``until_mcse``: its ``max``)."""
    adaptive = config.adaptive
    reps = adaptive.max if adaptive is not None else config.initial_replications
    return precision_warnings(config.checks, reps, config.sample_sizes)
