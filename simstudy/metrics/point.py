"""Per-parameter performance measures of one cell x estimator (value, MCSE), by metric name."""

from __future__ import annotations

import math

import numpy as np
from scipy.special import ndtri

from simstudy.metrics import asymptotic, mcse

Pair = tuple[float, float]
_UNDEFINED = (math.nan, math.nan)


def _safe(metric, *args) -> Pair:
    """A metric's (value, MCSE), or NaNs where it is undefined for this sample (a zero
    variance or zero SE in a denominator, as for tiny n or boundary fits)."""
    try:
        return metric(*args)
    except (ZeroDivisionError, ValueError, FloatingPointError):
        return _UNDEFINED


def param_metrics(est: np.ndarray, se: np.ndarray, theta: float, n: int, inv_fisher_jj: float,
                  *, level: float, epsilon: float,
                  inv_fisher_mcse: float = 0.0) -> dict[str, Pair]:  # fmt: skip
    """Every single-parameter metric of the metrics table (README "What it verifies") for usable
    replications.

    ``est``/``se``: estimates and model-based SEs of the usable fits in replication order;
    ``inv_fisher_jj``: [I(θ)^-1]_jj per observation; ``level``: Wald-interval level;
    ``epsilon``: the tolerance of P(|θ̂ - θ| > ε); ``inv_fisher_mcse``: the Monte Carlo
    standard error of ``inv_fisher_jj`` when the information is itself a Monte Carlo estimate
    (0 when it is exact). Its relative error δ enters, independently of the replicates' own
    error, the MCSEs of ``inv_fisher`` (δ·[I⁻¹]_jj), ``crlb_se`` (δ/2 relative, the delta method
    for a square root) and ``efficiency`` (δ·efficiency, added in quadrature). The distribution
    tests of z = (θ̂ - θ)/crlb_se treat crlb_se as exact: a relative error δ moves their
    statistics by about δ/4, far below their own resolution ~1/sqrt(R) while δ <= 1e-2.
    """
    out: dict[str, Pair] = {}
    if est.size < 4:
        return out
    out["mean"] = _safe(mcse.mean, est)
    out["bias"] = _safe(mcse.bias, est, theta)
    if theta != 0:
        out["rel_bias"] = _safe(mcse.rel_bias, est, theta)
    out["empse"] = _safe(mcse.empse, est)
    out["mse"] = _safe(mcse.mse, est, theta)
    out["rmse"] = _safe(mcse.rmse, est, theta)
    out["p_exceed"] = _safe(mcse.proportion, np.abs(est - theta) > epsilon)
    out["n_var"] = _safe(mcse.n_var, est, n)

    finite_se = np.isfinite(se)
    if finite_se.sum() >= 4:
        out["modse"] = _safe(mcse.modse, se[finite_se])
        out["rel_err_modse"] = _safe(mcse.rel_err_modse, est[finite_se], se[finite_se])
        # Wald interval θ̂ ± z_{(1+level)/2} SE (coverage of θ and of the mean estimate θ̄).
        z = float(ndtri(0.5 + level / 2.0))  # Φ⁻¹, what scipy.stats.norm.ppf evaluates
        lo = est[finite_se] - z * se[finite_se]
        hi = est[finite_se] + z * se[finite_se]
        out["coverage"] = _safe(mcse.proportion, (lo <= theta) & (theta <= hi))
        centre = est.mean()
        out["be_coverage"] = _safe(mcse.proportion, (lo <= centre) & (centre <= hi))

    if np.isfinite(inv_fisher_jj) and inv_fisher_jj > 0:
        crlb_se = math.sqrt(inv_fisher_jj / n)
        rel = float(inv_fisher_mcse) / inv_fisher_jj if np.isfinite(inv_fisher_mcse) else 0.0
        out["crlb_se"] = (crlb_se, 0.5 * rel * crlb_se)
        out["inv_fisher"] = (inv_fisher_jj, rel * inv_fisher_jj)
        eff, eff_se = _safe(mcse.efficiency, est, crlb_se * crlb_se)
        out["efficiency"] = (eff, math.hypot(eff_se, rel * eff) if rel else eff_se)
        z = (est - theta) / crlb_se
        out["skewness"] = _safe(mcse.skewness, z)
        out["excess_kurtosis"] = _safe(mcse.excess_kurtosis, z)
        ks_stat, ks_p = asymptotic.ks(z)
        ad_stat, ad_p = asymptotic.anderson_darling(z)
        out["ks_stat"] = (ks_stat, math.nan)
        out["ks_p"] = (ks_p, math.nan)
        out["ad_stat"] = (ad_stat, math.nan)
        out["ad_p"] = (ad_p, math.nan)
        out["cvm_p"] = (asymptotic.cvm_p(z), math.nan)

    # Shape only: centred at θ̄ and scaled by EmpSE, so that location (bias) and scale
    # (efficiency) are judged by their own verdicts and an inefficient estimator can still be
    # asymptotically normal.
    empse = out["empse"][0]
    if empse > 0:
        shape_stat, shape_p = asymptotic.ks((est - est.mean()) / empse)
        out["shape_ks_stat"] = (shape_stat, math.nan)
        out["shape_ks_p"] = (shape_p, math.nan)
    return out
