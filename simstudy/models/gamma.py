"""Gamma(shape α, rate β): f(x | α, β) = β^α x^{α-1} e^{-βx} / Γ(α), x > 0.

Formulas (Johnson, Kotz & Balakrishnan, *Continuous Univariate Distributions* Vol. 1, §17.7;
Choi & Wette 1969): ℓ = nα log β - n logΓ(α) + (α-1)Σ log x - βΣx;
score = (n log β - nψ(α) + Σ log x, nα/β - Σx);
I(α, β) = [[ψ'(α), -1/β], [-1/β, α/β²]] per observation (the Hessian does not depend on x,
so observed and expected information coincide).

MLE: β̂ = α̂/x̄, and α̂ solves the profile equation log α - ψ(α) = s, s = log x̄ - mean(log x) > 0
(Jensen; s = 0 only for a constant sample, where no MLE exists). One pass over x gives Σx,
Σ log x, min and max (:func:`simstudy.models._reduce.total_log_min_max`). Newton-Raphson on
f(α) = log α - ψ(α) - s, f'(α) = 1/α - ψ'(α), started from Minka's approximation
α₀ = (3 - s + sqrt((s - 3)² + 24s))/(12s) (Minka 2002, "Estimating a Gamma distribution",
§1; within 1.5% of the root). f is decreasing and convex, so Newton from the left of the
root increases monotonically to it; a step from the right that would leave (0, inf) is replaced
by halving α. Stops when |Δα| <= ``GAMMA_RTOL``·α (quadratic convergence: ~3-4 iterations), at
most ``GAMMA_MAX_ITER``.

MoM: α̃ = x̄²/v, β̃ = x̄/v with v = Σ(x-x̄)²/n; its SE is the delta method applied to
(x̄, v), whose asymptotic covariance is [[μ₂, μ₃], [μ₃, μ₄ - μ₂²]]/n (sample central moments).
"""

from __future__ import annotations

import numpy as np

from simstudy import rng
from simstudy._jit import fit_kernel, jit
from simstudy._lazy import lazy_import
from simstudy.models import _reduce
from simstudy.models._base import (
    NO_MLE,
    NOT_CONVERGED,
    OK,
    POSITIVE,
    POSITIVE_REALS,
    Estimator,
    Model,
    Param,
)
from simstudy.models._common import fail
from simstudy.models._sample_stats import central_moments, moment_delta_se
from simstudy.special import digamma, gammaln, trigamma

stats = lazy_import("scipy.stats")

GAMMA_RTOL = 1e-12
GAMMA_MAX_ITER = 100


@jit
def sample(state, theta, design, out):
    # NumPy Generator.gamma(shape, scale) returns scale * standard_gamma(shape).
    shape = theta[0]
    scale = 1.0 / theta[1]
    for i in range(out.size):
        out[i] = scale * rng.standard_gamma(state, shape)


@jit
def loglik(x, theta):
    a, b = theta[0], theta[1]
    n = x.size
    total, total_log, _, _ = _reduce.total_log_min_max(x)
    return n * (a * np.log(b) - gammaln(a)) + (a - 1.0) * total_log - b * total


@jit
def suff_stats(x, out):
    """(n, Σx, Σ log x) in one pass."""
    out[0] = x.size
    out[1], out[2], _, _ = _reduce.total_log_min_max(x)


@jit
def suff_loglik(stats, theta):
    """ℓ without the θ-free -Σ log x."""
    a, b = theta[0], theta[1]
    return stats[0] * (a * np.log(b) - gammaln(a)) + a * stats[2] - b * stats[1]


@jit
def score(x, theta, out):
    a, b = theta[0], theta[1]
    n = x.size
    total, total_log, _, _ = _reduce.total_log_min_max(x)
    out[0] = n * (np.log(b) - digamma(a)) + total_log
    out[1] = n * a / b - total


@jit
def fisher(theta, out):
    a, b = theta[0], theta[1]
    out[0, 0] = trigamma(a)
    out[0, 1] = -1.0 / b
    out[1, 0] = -1.0 / b
    out[1, 1] = a / (b * b)


@fit_kernel
def fit_mle(x, out_theta, out_se):
    n = x.size
    total, total_log, lo, hi = _reduce.total_log_min_max(x)
    # Data outside (0, inf) have no MLE. A constant sample has s = 0 exactly in exact
    # arithmetic but ±ε after rounding: test it exactly (no MLE: the likelihood grows without
    # bound along α/β = x̄).
    if not lo > 0.0 or lo == hi:
        return fail(out_theta, out_se, NO_MLE, 0)
    mean = total / n
    s = np.log(mean) - total_log / n
    if not s > 0.0:
        return fail(out_theta, out_se, NO_MLE, 0)
    # Start: Minka (2002), "Estimating a Gamma distribution" (Microsoft Research note), §1's
    # closed-form approximation to the root of log α - ψ(α) = s, within 1.5% of it.
    a = (3.0 - s + np.sqrt((s - 3.0) * (s - 3.0) + 24.0 * s)) / (12.0 * s)
    if not (a > 0.0 and np.isfinite(a)):
        # log α - ψ(α) ≈ 1/(2α) for large α (Stirling), a safe start when s underflows.
        a = 0.5 / s
    n_iter = 0
    converged = False
    while n_iter < GAMMA_MAX_ITER:
        n_iter += 1
        f = np.log(a) - digamma(a) - s
        fprime = 1.0 / a - trigamma(a)
        a_new = a - f / fprime
        if not a_new > 0.0:
            a_new = 0.5 * a
        if abs(a_new - a) <= GAMMA_RTOL * a_new:
            a = a_new
            converged = True
            break
        a = a_new
    b = a / mean
    out_theta[0] = a
    out_theta[1] = b
    # Inverse of the observed information n·I(α, β): det = n²(αψ'(α) - 1)/β².
    psi1 = trigamma(a)
    denom = n * (a * psi1 - 1.0)
    out_se[0] = np.sqrt(a / denom)
    out_se[1] = np.sqrt(b * b * psi1 / denom)
    # corr(α̂, β̂) from the same inverse: (1/β) / sqrt((α/β²) ψ'(α)) = 1/sqrt(α ψ'(α)).
    out_se[2] = 1.0 / np.sqrt(a * psi1)
    if not converged or not np.isfinite(a):
        return (NOT_CONVERGED, n_iter)
    return (OK, n_iter)


@fit_kernel
def fit_mom(x, out_theta, out_se):
    n = x.size
    mean, m2, m3, m4, lo, hi = central_moments(x)
    if lo == hi or not (m2 > 0.0 and mean > 0.0):
        return fail(out_theta, out_se, NO_MLE, 0)
    a = mean * mean / m2
    b = mean / m2
    out_theta[0] = a
    out_theta[1] = b
    # Delta method: gradients of α = x̄²/v and β = x̄/v with respect to (x̄, v).
    moment_delta_se(n, m2, m3, m4, 2.0 * mean / m2, -mean * mean / (m2 * m2),
                    1.0 / m2, -mean / (m2 * m2), out_se)  # fmt: skip
    return (OK, 0)


def _numpy_sample(gen: np.random.Generator, theta: np.ndarray, n: int, design=None) -> np.ndarray:
    return gen.gamma(theta[0], 1.0 / theta[1], n)


def _reference_mle(x: np.ndarray) -> np.ndarray:
    shape, _, scale = stats.gamma.fit(x, floc=0)
    return np.array([shape, 1.0 / scale])


MODEL = Model(
    name="gamma",
    params=(
        Param("shape", POSITIVE, typical=(0.5, 10.0), doc="shape α"),
        Param("rate", POSITIVE, typical=(0.2, 5.0), doc="rate β (mean α/β)"),
    ),
    support=POSITIVE_REALS,
    sample=sample,
    loglik=loglik,
    suff_stats=suff_stats,
    suff_loglik=suff_loglik,
    n_suff=3,
    score=score,
    fisher=fisher,
    estimators={
        # A constant sample (so any one value) has no MLE and no moment estimate: n >= 2.
        "mle": Estimator(
            "mle", fit_mle, "Newton-Raphson on the profile equation, MoM start", min_n=2
        ),
        "mom": Estimator(
            "mom", fit_mom, "method of moments (x̄²/v, x̄/v); not efficient", min_n=2
        ),
    },
    numpy_sample=_numpy_sample,
    scipy_dist=lambda theta: stats.gamma(theta[0], scale=1.0 / theta[1]),
    reference_mle=_reference_mle,
    tags={"closed_form_mle": False},
    doc="Gamma with shape and rate; the MLE has no closed form.",
)
