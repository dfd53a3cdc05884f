"""Performance measures with their Monte Carlo standard errors.

Formulas: Morris, White & Crowther (2019), "Using simulation studies to evaluate statistical
methods", Statistics in Medicine 38:2074-2102, Table 6 (the same as R's rsimsum, including its
fixed issue #45: the ModSE MCSE divides by 4·R·ModSE², and the relative error in ModSE uses
that same term). Every function takes replicate arrays (usable fits only, in replication
order) and returns ``(value, mcse)``. Variances of efficiency-type ratios are kurtosis-robust:
Var(s²) ≈ σ⁴(κ - 1)/R, with κ the sample kurtosis, instead of the normal-theory 2σ⁴/R.
"""

from __future__ import annotations

import math

import numpy as np

Pair = tuple[float, float]


def _ss(x: np.ndarray) -> float:
    """Sum of squared deviations from the mean (two-pass)."""
    return float(np.sum((x - x.mean()) ** 2))


def mean(est: np.ndarray) -> Pair:
    r = est.size
    return float(est.mean()), math.sqrt(_ss(est) / (r - 1)) / math.sqrt(r)


def bias(est: np.ndarray, theta: float) -> Pair:
    # Morris Table 6: MCSE(bias) = sqrt(Σ(θ̂ - θ̄)² / (R(R-1))).
    r = est.size
    return float(est.mean() - theta), math.sqrt(_ss(est) / (r * (r - 1)))


def rel_bias(est: np.ndarray, theta: float) -> Pair:
    b, se = bias(est, theta)
    return b / theta, se / abs(theta)


def empse(est: np.ndarray) -> Pair:
    # Morris Table 6: EmpSE = sqrt(Σ(θ̂ - θ̄)²/(R-1)), MCSE = EmpSE / sqrt(2(R-1)).
    r = est.size
    value = math.sqrt(_ss(est) / (r - 1))
    return value, value / math.sqrt(2.0 * (r - 1))


def mse(est: np.ndarray, theta: float) -> Pair:
    # Morris Table 6: MCSE(MSE) = sqrt(Σ[(θ̂ - θ)² - MSE]² / (R(R-1))).
    r = est.size
    sq = (est - theta) ** 2
    value = float(sq.mean())
    return value, math.sqrt(float(np.sum((sq - value) ** 2)) / (r * (r - 1)))


def rmse(est: np.ndarray, theta: float) -> Pair:
    # Delta method: d sqrt(m) = dm / (2 sqrt(m)).
    value, se = mse(est, theta)
    root = math.sqrt(value)
    return root, (se / (2.0 * root) if root > 0 else math.nan)


def modse(se: np.ndarray) -> Pair:
    # Morris Table 6: ModSE = sqrt(mean SE²), MCSE = sqrt(Var(SE²) / (4 R ModSE²)).
    r = se.size
    se2 = se**2
    value = math.sqrt(float(se2.mean()))
    var_se2 = _ss(se2) / (r - 1)
    return value, math.sqrt(var_se2 / (4.0 * r * value**2)) if value > 0 else math.nan


def rel_err_modse(est: np.ndarray, se: np.ndarray) -> Pair:
    # Morris Table 6: 100(ModSE/EmpSE - 1),
    # MCSE = 100 (ModSE/EmpSE) sqrt(Var(SE²)/(4 R ModSE⁴) + 1/(2(R-1))).
    r = est.size
    m, _ = modse(se)
    e, _ = empse(est)
    var_se2 = _ss(se**2) / (r - 1)
    ratio = m / e
    mc = 100.0 * ratio * math.sqrt(var_se2 / (4.0 * r * m**4) + 1.0 / (2.0 * (r - 1)))
    return 100.0 * (ratio - 1.0), mc


def kurtosis(est: np.ndarray) -> float:
    """Sample kurtosis κ = m4/m2² (not excess; 3 for the normal)."""
    d = est - est.mean()
    m2 = float(np.mean(d**2))
    return float(np.mean(d**4)) / (m2 * m2) if m2 > 0 else math.nan


def efficiency(est: np.ndarray, crlb_var: float) -> Pair:
    # crlb_se² / EmpSE²; relative MCSE of a sample variance is sqrt((κ-1)/R) (delta method).
    r = est.size
    e, _ = empse(est)
    value = crlb_var / (e * e)
    return value, value * math.sqrt(max(kurtosis(est) - 1.0, 0.0) / r)


def n_var(est: np.ndarray, n: int) -> Pair:
    r = est.size
    e, _ = empse(est)
    value = n * e * e
    return value, value * math.sqrt(max(kurtosis(est) - 1.0, 0.0) / r)


def proportion(hits: np.ndarray) -> Pair:
    """A Monte Carlo proportion (coverage, rejection or failure rate): sqrt(p(1-p)/R)."""
    r = hits.size
    p = float(np.mean(hits))
    return p, math.sqrt(p * (1.0 - p) / r)


def rel_precision(est: np.ndarray, ref: np.ndarray) -> Pair:
    """Relative % gain in precision of ``est`` over the reference ``ref`` (paired by rep).

    Morris Table 6: 100[(EmpSE_ref/EmpSE)² - 1], MCSE = 200 (EmpSE_ref/EmpSE)² sqrt((1-ρ²)/(R-1))
    with ρ the correlation of the two estimators across replications.
    """
    r = est.size
    e, _ = empse(est)
    e_ref, _ = empse(ref)
    if e == 0 or e_ref == 0:
        return math.nan, math.nan
    ratio2 = (e_ref / e) ** 2
    rho = float(np.corrcoef(est, ref)[0, 1])
    return 100.0 * (ratio2 - 1.0), 200.0 * ratio2 * math.sqrt(max(1.0 - rho * rho, 0.0) / (r - 1))


def skewness(z: np.ndarray) -> Pair:
    # Sample skewness g1 with its normal-theory SE sqrt(6R(R-1)/((R-2)(R+1)(R+3))).
    r = z.size
    d = z - z.mean()
    m2 = float(np.mean(d**2))
    g1 = float(np.mean(d**3)) / m2**1.5 if m2 > 0 else math.nan
    return g1, _se_skew(r)


def excess_kurtosis(z: np.ndarray) -> Pair:
    # g2 = κ - 3 with its normal-theory SE sqrt(4(R²-1) SES² / ((R-3)(R+5))).
    r = z.size
    ses = _se_skew(r)
    return kurtosis(z) - 3.0, math.sqrt(4.0 * (r * r - 1) * ses * ses / ((r - 3) * (r + 5)))


def _se_skew(r: int) -> float:
    return math.sqrt(6.0 * r * (r - 1) / ((r - 2) * (r + 1) * (r + 3)))
