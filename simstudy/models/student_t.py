"""Student t location-scale with FIXED degrees of freedom ν = 5 (``DF``): parameters (mu, sigma).

f(x | μ, σ) = Γ((ν+1)/2) / (Γ(ν/2) sqrt(νπ) σ) · (1 + d²/ν)^{-(ν+1)/2}, d = (x - μ)/σ.
ν is part of the model, not estimated (estimating ν too is a different, harder problem: its
likelihood is flat for large ν). Use this model as "student_t, df = 5".

Formulas (Lange, Little & Taylor 1989, "Robust statistical modeling using the t distribution",
JASA 84(408)): with u = x - μ and q = νσ² + u², ℓ = Σ[c + ν log σ - (ν+1)/2 log q];
score = (Σ(ν+1)u/q, Σ ν(u² - σ²)/(σq)); I(μ, σ) = diag((ν+1)/((ν+3)σ²), 2ν/((ν+3)σ²)) per
observation.

MLE by EM with the parameter-expanded scale step (Kent, Tyler & Vardi 1994, "A curious
likelihood identity for the multivariate t-distribution"; Liu & Rubin 1995): weights
w = (ν+1)σ²/q, then μ = Σwx/Σw and σ² = Σw(x-μ)²/Σw. Each step increases ℓ; the fixed points
are the stationary points of ℓ. The likelihood can be multimodal in small samples, so the
start is robust: the median and MAD/t_ν⁻¹(3/4). Stops when |Δμ| and |Δσ| are both <=
``T_RTOL``·σ, at most ``T_MAX_ITER`` steps (then ``not_converged``). A constant sample has no
MLE (σ -> 0). SEs and the correlation from the inverse observed information (analytic
Hessian) at θ̂.

MoM (``mom``): μ̃ = x̄, σ̃ = sqrt(v (ν-2)/ν) (Var X = σ²ν/(ν-2)); efficiency of x̄ is
(ν-2)(ν+3)/(ν(ν+1)) = 0.8 at ν = 5. SEs by the delta method with sample moments.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from simstudy import rng
from simstudy._jit import fit_kernel, jit
from simstudy._lazy import lazy_import
from simstudy.models._base import (
    NO_MLE,
    NOT_CONVERGED,
    OK,
    POSITIVE,
    REAL,
    REALS,
    Estimator,
    Model,
    Param,
)
from simstudy.models._common import fail, write_se_2x2
from simstudy.models._sample_stats import central_moments, moment_delta_se

optimize = lazy_import("scipy.optimize")
stats = lazy_import("scipy.stats")

#: The fixed degrees of freedom ν of this model.
DF = 5.0
T_RTOL = 1e-11
T_MAX_ITER = 2000
#: log of the normalising constant Γ((ν+1)/2) / (Γ(ν/2) sqrt(νπ))
_LOG_NORM = float(special.gammaln((DF + 1.0) / 2.0) - special.gammaln(DF / 2.0)
                  - 0.5 * math.log(DF * math.pi))  # fmt: skip
#: t_ν quantile at 3/4: MAD / this is a consistent start for σ
_T_Q75 = float(special.stdtrit(DF, 0.75))


@jit
def sample(state, theta, design, out):
    # NumPy: mu + sigma * Generator.standard_t(df).
    mu, sigma = theta[0], theta[1]
    for i in range(out.size):
        out[i] = mu + sigma * rng.standard_t(state, DF)


@jit
def loglik(x, theta):
    mu, sigma = theta[0], theta[1]
    total = 0.0
    for v in x:
        d = (v - mu) / sigma
        total += np.log1p(d * d / DF)
    return x.size * (_LOG_NORM - np.log(sigma)) - 0.5 * (DF + 1.0) * total


@jit
def _derivatives(x, mu, sigma):
    """(score_μ, score_σ, H_μμ, H_μσ, H_σσ): total score and Hessian of ℓ."""
    s2 = sigma * sigma
    g0 = 0.0
    g1 = 0.0
    h00 = 0.0
    h01 = 0.0
    h11 = 0.0
    for v in x:
        u = v - mu
        u2 = u * u
        q = DF * s2 + u2
        g0 += (DF + 1.0) * u / q
        g1 += DF * (u2 - s2) / (sigma * q)
        q2 = q * q
        h00 += (DF + 1.0) * (u2 - DF * s2) / q2
        h01 += -2.0 * (DF + 1.0) * DF * sigma * u / q2
        h11 += -(DF + 1.0) * DF * (u2 - DF * s2) / q2
    h11 -= x.size * DF / s2
    return g0, g1, h00, h01, h11


@jit
def score(x, theta, out):
    g0, g1, _, _, _ = _derivatives(x, theta[0], theta[1])
    out[0] = g0
    out[1] = g1


@jit
def fisher(theta, out):
    s2 = theta[1] * theta[1]
    out[0, 0] = (DF + 1.0) / ((DF + 3.0) * s2)
    out[0, 1] = 0.0
    out[1, 0] = 0.0
    out[1, 1] = 2.0 * DF / ((DF + 3.0) * s2)


@fit_kernel
def fit_mle(x, out_theta, out_se):
    n = x.size
    if x.min() == x.max():
        return fail(out_theta, out_se, NO_MLE, 0)
    mu = np.median(x)
    sigma = np.median(np.abs(x - mu)) / _T_Q75
    if not sigma > 0.0:
        # More than half the sample sits at the median: start from the mean |x - median|.
        sigma = np.abs(x - mu).sum() / n
    n_iter = 0
    converged = False
    while n_iter < T_MAX_ITER:
        n_iter += 1
        s2 = sigma * sigma
        sw = 0.0
        swx = 0.0
        for v in x:
            u = v - mu
            w = (DF + 1.0) * s2 / (DF * s2 + u * u)
            sw += w
            swx += w * v
        mu_new = swx / sw
        sw = 0.0
        swu2 = 0.0
        for v in x:
            u = v - mu
            w = (DF + 1.0) * s2 / (DF * s2 + u * u)
            d = v - mu_new
            sw += w
            swu2 += w * d * d
        sigma_new = np.sqrt(swu2 / sw)
        if not (sigma_new > 0.0 and np.isfinite(sigma_new)):
            # σ collapsing to 0: the likelihood is unbounded (too many tied observations).
            return fail(out_theta, out_se, NO_MLE, n_iter)
        done = abs(mu_new - mu) <= T_RTOL * sigma_new and abs(sigma_new - sigma) <= T_RTOL * sigma_new
        mu, sigma = mu_new, sigma_new
        if done:
            converged = True
            break
    out_theta[0] = mu
    out_theta[1] = sigma
    _, _, h00, h01, h11 = _derivatives(x, mu, sigma)
    if not (converged and write_se_2x2(-h00, -h01, -h11, out_se)):
        # Not a strict local maximum (or not reached): no model-based SE.
        out_se[0] = np.nan
        out_se[1] = np.nan
        return (NOT_CONVERGED, n_iter)
    return (OK, n_iter)


@fit_kernel
def fit_mom(x, out_theta, out_se):
    n = x.size
    mean, m2, m3, m4, lo, hi = central_moments(x)
    if lo == hi:
        return fail(out_theta, out_se, NO_MLE, 0)
    factor = (DF - 2.0) / DF
    sigma = np.sqrt(m2 * factor)
    out_theta[0] = mean
    out_theta[1] = sigma
    # Delta method on (x̄, v): μ̃ = x̄, and dσ/dv = factor/(2σ).
    moment_delta_se(n, m2, m3, m4, 1.0, 0.0, 0.0, factor / (2.0 * sigma), out_se)
    return (OK, 0)


def _numpy_sample(gen: np.random.Generator, theta: np.ndarray, n: int, design=None) -> np.ndarray:
    return theta[0] + theta[1] * gen.standard_t(DF, n)


def _reference_mle(x: np.ndarray) -> np.ndarray:
    """SciPy's ``t.fit`` with ν fixed (Nelder-Mead, which stops at ~1e-5), polished by SciPy's
    hybrid root finder on the score equations written in NumPy."""
    x = np.asarray(x, dtype=float)
    _, loc, scale = stats.t.fit(x, f0=DF)

    def score_(params):
        mu, log_sigma = params
        sigma = math.exp(log_sigma)
        u = x - mu
        q = DF * sigma * sigma + u * u
        return [np.sum((DF + 1.0) * u / q) * sigma, np.sum(DF * (u * u - sigma * sigma) / q)]

    root = optimize.root(score_, [loc, math.log(scale)], method="hybr", tol=1e-14)
    return np.array([root.x[0], math.exp(root.x[1])])


MODEL = Model(
    name="student_t",
    params=(
        Param("mu", REAL, typical=(-3.0, 3.0), doc="location μ"),
        Param("sigma", POSITIVE, typical=(0.5, 3.0), doc="scale σ (sd = σ sqrt(ν/(ν-2)))"),
    ),
    support=REALS,
    sample=sample,
    loglik=loglik,
    score=score,
    fisher=fisher,
    estimators={
        # A constant sample (so any one value) has no scale estimate: n >= 2.
        "mle": Estimator("mle", fit_mle, "EM (parameter-expanded), median/MAD start", min_n=2),
        "mom": Estimator(
            "mom", fit_mom, "method of moments (x̄, sd sqrt((ν-2)/ν)); not efficient", min_n=2
        ),
    },
    numpy_sample=_numpy_sample,
    scipy_dist=lambda theta: stats.t(DF, theta[0], theta[1]),
    reference_mle=_reference_mle,
    tags={"closed_form_mle": False, "df": DF},
    doc=f"Student t location-scale with fixed ν = {DF:g} degrees of freedom.",
)
