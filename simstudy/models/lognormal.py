"""Lognormal(mu, sigma2): log X ~ Normal(μ, σ²); f(x) = (x sqrt(2πσ²))⁻¹ exp(-(log x - μ)²/(2σ²)).

Formulas (Johnson, Kotz & Balakrishnan, *Continuous Univariate Distributions* Vol. 1, §14.3):
ℓ = -Σ log x - n/2 log(2πσ²) - Σ(log x - μ)²/(2σ²); the score and the information are the
normal model's on log x: I(μ, σ²) = diag(1/σ², 1/(2σ⁴)) per observation. MLE (closed form on
y = log x): μ̂ = ȳ, σ̂² = Σ(y - ȳ)²/n, SEs sqrt(σ̂²/n) and σ̂² sqrt(2/n), correlation 0.

MoM (``mom``, JKB §14.5): matching E X = exp(μ + σ²/2) and Var X = (exp(σ²) - 1) exp(2μ + σ²)
gives σ̃² = log(1 + v/x̄²), μ̃ = log x̄ - σ̃²/2 (v = Σ(x - x̄)²/n). Not efficient (its efficiency
falls quickly as σ² grows); its SE is the delta method on (x̄, v), whose asymptotic covariance
is [[μ₂, μ₃], [μ₃, μ₄ - μ₂²]]/n (sample central moments).
"""

from __future__ import annotations

import math

import numpy as np

from simstudy import rng
from simstudy._jit import fit_kernel, jit
from simstudy._lazy import lazy_import
from simstudy.models._base import (
    NO_MLE,
    OK,
    POSITIVE,
    POSITIVE_REALS,
    REAL,
    Estimator,
    Model,
    Param,
)
from simstudy.models._common import fail
from simstudy.models._sample_stats import central_moments, moment_delta_se
from simstudy.models.normal import fisher as normal_fisher

stats = lazy_import("scipy.stats")

_LOG_2PI = math.log(2.0 * math.pi)


@jit
def sample(state, theta, design, out):
    # NumPy Generator.lognormal(mean, sigma) returns exp(mean + sigma * standard_normal).
    mu = theta[0]
    sigma = np.sqrt(theta[1])
    for i in range(out.size):
        out[i] = rng.lognormal(state, mu, sigma)


@jit
def _log_moments(x, mu):
    """(Σ log x, Σ (log x - μ)²)."""
    total = 0.0
    ss = 0.0
    for v in x:
        y = np.log(v)
        total += y
        d = y - mu
        ss += d * d
    return total, ss


@jit
def loglik(x, theta):
    mu, s2 = theta[0], theta[1]
    total, ss = _log_moments(x, mu)
    return -total - 0.5 * x.size * (_LOG_2PI + np.log(s2)) - ss / (2.0 * s2)


@jit
def score(x, theta, out):
    mu, s2 = theta[0], theta[1]
    total, ss = _log_moments(x, mu)
    out[0] = (total - x.size * mu) / s2
    out[1] = -0.5 * x.size / s2 + ss / (2.0 * s2 * s2)


@fit_kernel
def fit_mle(x, out_theta, out_se):
    n = x.size
    # A constant sample (tested exactly, not through rounding noise of the variance) or data
    # outside (0, inf) has no MLE: the likelihood grows without bound as σ² -> 0, or is 0.
    if x.min() == x.max() or not x.min() > 0.0:
        return fail(out_theta, out_se, NO_MLE, 0)
    total, _ = _log_moments(x, 0.0)
    mu = total / n
    _, ss = _log_moments(x, mu)  # two-pass variance (Chan, Golub & LeVeque 1983)
    if not ss > 0.0:
        return fail(out_theta, out_se, NO_MLE, 0)
    s2 = ss / n
    out_theta[0] = mu
    out_theta[1] = s2
    out_se[0] = np.sqrt(s2 / n)
    out_se[1] = s2 * np.sqrt(2.0 / n)
    out_se[2] = 0.0  # ȳ and Σ(y - ȳ)² are independent (Cochran's theorem)
    return (OK, 0)


@fit_kernel
def fit_mom(x, out_theta, out_se):
    n = x.size
    mean, m2, m3, m4, lo, hi = central_moments(x)
    if lo == hi or not lo > 0.0 or not m2 > 0.0:
        return fail(out_theta, out_se, NO_MLE, 0)
    s2 = np.log1p(m2 / (mean * mean))
    mu = np.log(mean) - 0.5 * s2
    out_theta[0] = mu
    out_theta[1] = s2
    # Delta method: gradients of (μ̃, σ̃²) with respect to (x̄, v); w = x̄² + v.
    w = mean * mean + m2
    gs0, gs1 = -2.0 * m2 / (mean * w), 1.0 / w
    gm0, gm1 = 1.0 / mean - 0.5 * gs0, -0.5 * gs1
    moment_delta_se(n, m2, m3, m4, gm0, gm1, gs0, gs1, out_se)
    return (OK, 0)


def _numpy_sample(gen: np.random.Generator, theta: np.ndarray, n: int, design=None) -> np.ndarray:
    return gen.lognormal(theta[0], math.sqrt(theta[1]), n)


def _reference_mle(x: np.ndarray) -> np.ndarray:
    s, _, scale = stats.lognorm.fit(x, floc=0)
    return np.array([math.log(scale), s * s])


MODEL = Model(
    name="lognormal",
    params=(
        Param("mu", REAL, typical=(-1.0, 2.0), doc="mean μ of log X"),
        Param("sigma2", POSITIVE, typical=(0.1, 1.0), doc="variance σ² of log X"),
    ),
    support=POSITIVE_REALS,
    sample=sample,
    loglik=loglik,
    score=score,
    # (μ, σ²) are the normal parameters of log X and the Jacobian 1/x of x -> log x is free of
    # θ, so the information per observation is the normal model's, diag(1/σ², 1/(2σ⁴)).
    fisher=normal_fisher,
    estimators={
        # A constant sample (so any one value) has no σ̂²: n >= 2.
        "mle": Estimator("mle", fit_mle, "closed form (mean, variance /n) of log x", min_n=2),
        "mom": Estimator("mom", fit_mom, "method of moments on x; not efficient", min_n=2),
    },
    numpy_sample=_numpy_sample,
    scipy_dist=lambda theta: stats.lognorm(math.sqrt(theta[1]), scale=math.exp(theta[0])),
    reference_mle=_reference_mle,
    tags={"closed_form_mle": True},
    doc="Lognormal with log-mean μ and log-variance σ²; the MLE is the normal MLE on log x.",
)
