"""Asymptotic properties: normality of standardized estimates, Wilks, rates of convergence.

``scipy.stats`` is imported inside the functions that use it: importing it costs about half
a second, and :func:`holm` (all that the verdicts need from here) uses none of it, so that
``simstudy report`` after a margin edit does not pay for it.
"""

from __future__ import annotations

import math

import numpy as np


def ks(z: np.ndarray) -> tuple[float, float]:
    """Kolmogorov-Smirnov statistic and p-value of z against N(0, 1) (fully specified)."""
    from scipy import stats

    res = stats.kstest(z, "norm")
    return float(res.statistic), float(res.pvalue)


def cvm_p(z: np.ndarray) -> float:
    """Cramér-von Mises p-value of z against N(0, 1)."""
    from scipy import stats

    return float(stats.cramervonmises(z, "norm").pvalue)


def anderson_darling(z: np.ndarray) -> tuple[float, float]:
    """Anderson-Darling A² of z against the fully specified N(0, 1) and its p-value.

    A² = -R - (1/R) Σ (2i-1) [log Φ(z_(i)) + log(1 - Φ(z_(R+1-i)))] (Anderson & Darling
    1954); the p-value uses the asymptotic distribution ADinf of Marsaglia & Marsaglia (2004),
    "Evaluating the Anderson-Darling distribution", J. Stat. Software 9(2), accurate to about
    1e-6 for the sample sizes of a simulation study (R >= 100).
    """
    from scipy import stats

    x = np.sort(z)
    r = x.size
    i = np.arange(1, r + 1)
    log_cdf = stats.norm.logcdf(x)
    log_sf = stats.norm.logsf(x[::-1])
    a2 = -r - float(np.sum((2 * i - 1) * (log_cdf + log_sf))) / r
    return a2, 1.0 - ad_inf_cdf(a2)


def ad_inf_cdf(a2: float) -> float:
    """P(A² <= a2) in the limit R -> inf (Marsaglia & Marsaglia 2004, function ADinf)."""
    if a2 <= 0:
        return 0.0
    if a2 < 2.0:
        poly = 2.00012 + (
            0.247105 - (0.0649821 - (0.0347962 - (0.011672 - 0.00168691 * a2) * a2) * a2) * a2
        ) * a2
        return math.exp(-1.2337141 / a2) / math.sqrt(a2) * poly
    inner = 1.0776 - (
        2.30695 - (0.43424 - (0.082433 - (0.008056 - 0.0003146 * a2) * a2) * a2) * a2
    ) * a2
    return math.exp(-math.exp(inner))


def chi2_exceedance(stat: np.ndarray, df: int, level: float) -> np.ndarray:
    """Indicator that a χ²_df statistic exceeds its ``level`` quantile (Wilks' test rejects)."""
    from scipy import stats

    return stat > stats.chi2.ppf(level, df)


def mahalanobis(est: np.ndarray, theta: np.ndarray, fisher: np.ndarray, n: int) -> np.ndarray:
    """T = n (θ̂ - θ)ᵀ I(θ) (θ̂ - θ) per replication; asymptotically χ²_k for an efficient θ̂."""
    d = est - theta
    return n * np.einsum("ri,ij,rj->r", d, fisher, d)


def ks_chi2_p(t: np.ndarray, df: int) -> float:
    from scipy import stats

    return float(stats.kstest(t, stats.chi2(df).cdf).pvalue)


def slope_sizes(sample_sizes) -> list[int]:
    """The sample sizes the RMSE slope is fitted on: the upper half of the grid when it has at
    least 6 sizes, else its largest 3 (the asymptotic end, with enough points for a slope)."""
    sizes = sorted(sample_sizes)
    return sizes[len(sizes) // 2 :] if len(sizes) >= 6 else sizes[-3:]


def loglog_slope(n: np.ndarray, value: np.ndarray, mcse: np.ndarray, level: float,
                 lack_of_fit_alpha: float = 0.01):  # fmt: skip
    """Weighted least-squares slope of log(value) on log(n) with a ``level`` CI.

    Var(log value) ≈ (MCSE/value)² (delta method) gives the weights, so the slope's SE is
    known: 1/sqrt(Σw(x - x̄)²) with a normal quantile. Only when the points scatter
    significantly beyond their MCSEs (residual χ² above its 1 - ``lack_of_fit_alpha`` quantile:
    the rate is not yet the asymptotic one over this range) is the SE inflated by
    sqrt(χ²/df) and the CI taken from Student's t with df = points - 2, the usual rule for
    overdispersed weighted fits. Returns (slope, se, low, high, dof), dof = inf in the known-
    variance case; NaNs with fewer than 3 usable points.
    """
    from scipy import stats

    ok = (value > 0) & np.isfinite(value) & (mcse > 0) & np.isfinite(mcse)
    if ok.sum() < 3:
        return (math.nan,) * 5
    x = np.log(n[ok].astype(float))
    y = np.log(value[ok])
    w = (value[ok] / mcse[ok]) ** 2
    xm = np.sum(w * x) / np.sum(w)
    ym = np.sum(w * y) / np.sum(w)
    sxx = np.sum(w * (x - xm) ** 2)
    slope = float(np.sum(w * (x - xm) * (y - ym)) / sxx)
    resid = y - (ym + slope * (x - xm))
    dof = x.size - 2
    chi2 = float(np.sum(w * resid**2))
    if chi2 > stats.chi2.ppf(1.0 - lack_of_fit_alpha, dof):
        se = math.sqrt(chi2 / dof / sxx)
        dof_used = float(dof)
    else:
        se = math.sqrt(1.0 / sxx)
        dof_used = math.inf
    q = stats.t.ppf(0.5 + level / 2.0, dof_used)
    return slope, se, slope - q * se, slope + q * se, dof_used


def holm(pvalues: np.ndarray) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values (family-wise error control)."""
    p = np.asarray(pvalues, dtype=float)
    m = p.size
    order = np.argsort(p)
    adjusted = np.empty(m)
    running = 0.0
    for rank, idx in enumerate(order):
        running = max(running, min(1.0, (m - rank) * p[idx]))
        adjusted[idx] = running
    return adjusted
