"""Laplace(mu, b): f(x | μ, b) = exp(-|x - μ|/b) / (2b).

Formulas (Kotz, Kozubowski & Podgórski, *The Laplace Distribution and Generalizations*, 2001,
§2.6; Norton 1984, "The double exponential distribution: using calculus to find a maximum
likelihood estimator", Am. Stat. 38(2)): ℓ = -n log(2b) - Σ|x - μ|/b;
score = (Σ sign(x - μ)/b, -n/b + Σ|x - μ|/b²) (the μ-derivative exists except at the data
points, where the one-sided derivatives differ: ℓ is piecewise linear in μ);
I(μ, b) = diag(1/b², 1/b²) per observation (E[sign²] = 1; Var|X - μ| = b²).

MLE (closed form): μ̂ = the sample median (for even n any point between the two middle order
statistics maximises ℓ; the midpoint is taken, as ``scipy.stats.laplace.fit`` does) and
b̂ = Σ|x - μ̂|/n. The median is asymptotically N(μ, 1/(4 f(μ)² n)) = N(μ, b²/n) = 1/(n I_μμ):
it attains the Cramér-Rao bound although ℓ has no second derivative in μ, because the model is
differentiable in quadratic mean (Le Cam), which is all the asymptotics need. Standard errors:
b̂/√n for both, from the information at θ̂; the observed information in μ is 0 almost
everywhere, so it cannot give μ's SE. The correlation is 0 (diagonal information, and the
cross-derivative Σ sign(x - μ̂)/b̂² vanishes at the median).

MoM (``mom``: least squares instead of least absolute deviations): μ̃ = x̄, b̃ = sqrt(v/2),
v = Σ(x - x̄)²/n. Var(x̄) = 2b²/n, twice the bound (efficiency 1/2), and Var(b̃) ≈ 5b²/(4n)
(μ₄ = 24b⁴; efficiency 4/5); SEs by the delta method on (x̄, v) with sample moments.

Tag ``differentiable: false``: the generic checks that need a Hessian in μ (-E[Hessian] = I,
observed-information SEs) are skipped, with ``differentiable_reason``. The model stays
``regular`` so that the efficiency and normality verdicts are judged, and pass.
"""

from __future__ import annotations

import numpy as np

from simstudy import rng
from simstudy._jit import fit_kernel, jit
from simstudy._lazy import lazy_import
from simstudy.models._base import NO_MLE, OK, POSITIVE, REAL, REALS, Estimator, Model, Param
from simstudy.models._common import fail
from simstudy.models._sample_stats import central_moments, moment_delta_se

stats = lazy_import("scipy.stats")


@jit
def sample(state, theta, design, out):
    mu, b = theta[0], theta[1]
    for i in range(out.size):
        out[i] = rng.laplace(state, mu, b)


@jit
def _abs_dev(x, mu):
    total = 0.0
    for v in x:
        total += abs(v - mu)
    return total


@jit
def loglik(x, theta):
    mu, b = theta[0], theta[1]
    return -x.size * np.log(2.0 * b) - _abs_dev(x, mu) / b


@jit
def score(x, theta, out):
    mu, b = theta[0], theta[1]
    signs = 0.0
    for v in x:
        if v > mu:
            signs += 1.0
        elif v < mu:
            signs -= 1.0
    out[0] = signs / b
    out[1] = -x.size / b + _abs_dev(x, mu) / (b * b)


@jit
def fisher(theta, out):
    b = theta[1]
    out[0, 0] = 1.0 / (b * b)
    out[0, 1] = 0.0
    out[1, 0] = 0.0
    out[1, 1] = 1.0 / (b * b)


@fit_kernel
def fit_mle(x, out_theta, out_se):
    n = x.size
    # A constant sample has b̂ = 0: the likelihood grows without bound as b -> 0 (exact test).
    if x.min() == x.max():
        return fail(out_theta, out_se, NO_MLE, 0)
    mu = np.median(x)
    b = _abs_dev(x, mu) / n
    out_theta[0] = mu
    out_theta[1] = b
    out_se[0] = b / np.sqrt(n)
    out_se[1] = b / np.sqrt(n)
    out_se[2] = 0.0
    return (OK, 0)


@fit_kernel
def fit_mom(x, out_theta, out_se):
    n = x.size
    mean, m2, m3, m4, lo, hi = central_moments(x)
    if lo == hi:
        return fail(out_theta, out_se, NO_MLE, 0)
    b = np.sqrt(0.5 * m2)
    out_theta[0] = mean
    out_theta[1] = b
    # Delta method on (x̄, v): μ̃ = x̄, and db/dv = 1/(4b).
    moment_delta_se(n, m2, m3, m4, 1.0, 0.0, 0.0, 1.0 / (4.0 * b), out_se)
    return (OK, 0)


def _numpy_sample(gen: np.random.Generator, theta: np.ndarray, n: int, design=None) -> np.ndarray:
    return gen.laplace(theta[0], theta[1], n)


def _reference_mle(x: np.ndarray) -> np.ndarray:
    loc, scale = stats.laplace.fit(x)
    return np.array([loc, scale])


MODEL = Model(
    name="laplace",
    params=(
        Param("mu", REAL, typical=(-3.0, 3.0), doc="location μ (the median)"),
        Param("b", POSITIVE, typical=(0.5, 3.0), doc="scale b (mean absolute deviation)"),
    ),
    support=REALS,
    sample=sample,
    loglik=loglik,
    score=score,
    fisher=fisher,
    estimators={
        # A constant sample (so any one value) has b̂ = 0, no MLE: n >= 2.
        "mle": Estimator("mle", fit_mle, "closed form (median, mean |x - median|)", min_n=2),
        "mom": Estimator(
            "mom", fit_mom, "method of moments (x̄, sqrt(v/2)); not efficient", min_n=2
        ),
    },
    numpy_sample=_numpy_sample,
    scipy_dist=lambda theta: stats.laplace(theta[0], theta[1]),
    reference_mle=_reference_mle,
    tags={
        "closed_form_mle": True,
        "differentiable": False,
        "differentiable_reason": (
            "ℓ is piecewise linear in μ with a kink at every observation: its second derivative "
            "in μ is 0 almost everywhere, so -E[Hessian] and observed-information SEs do not "
            "exist for μ (the score, E[score] = 0 and Var(score) = I still hold)"
        ),
    },
    doc="Laplace (double exponential); the MLE of the location is the median.",
)
