"""Normal(mu, sigma2): f(x | μ, σ²) = (2πσ²)^{-1/2} exp(-(x-μ)²/(2σ²)).

Formulas (Casella & Berger, 2nd ed., Ex. 7.2.11; Lehmann & Casella, TPE Table 2.5.1):
ℓ = -n/2 log(2πσ²) - Σ(x-μ)²/(2σ²);  score = (Σ(x-μ)/σ², -n/(2σ²) + Σ(x-μ)²/(2σ⁴));
I(μ, σ²) = diag(1/σ², 1/(2σ⁴)) per observation;  MLE (x̄, Σ(x-x̄)²/n), biased for σ²:
E[σ̂²] = (n-1)σ²/n.  ``unbiased`` divides by n-1.
"""

from __future__ import annotations

import math

import numpy as np

from simstudy import rng
from simstudy._jit import fit_kernel, jit
from simstudy._lazy import lazy_import
from simstudy.models import _reduce
from simstudy.models._base import NO_MLE, OK, POSITIVE, REAL, REALS, Estimator, Model, Param

stats = lazy_import("scipy.stats")

_LOG_2PI = math.log(2.0 * math.pi)
#: Redo Σ(x - x̄)² by two passes when n(x̄ - c)² exceeds this × the shifted estimate (at most
#: ~1.2 decimal digits lost to the shift; P(z² > 16) ≈ 6e-5 for a normal sample value c).
_SHIFT_REPASS = 16.0


@jit
def sample(state, theta, design, out):
    # NumPy Generator.normal(loc, scale) returns loc + scale * standard_normal.
    mu = theta[0]
    sigma = np.sqrt(theta[1])
    for i in range(out.size):
        out[i] = mu + sigma * rng.standard_normal(state)


@jit
def loglik(x, theta):
    mu, s2 = theta[0], theta[1]
    _, ss = _reduce.centered_moments(x, mu)
    return -0.5 * x.size * (_LOG_2PI + np.log(s2)) - ss / (2.0 * s2)


@jit
def suff_stats(x, out):
    """(n, c, Σ(x-c), Σ(x-c)²) with the shift c = x₁, one pass (the shifted form of Chan,
    Golub & LeVeque 1983: stable while |x̄ - c| is of the order of the spread, as for a sample
    value c)."""
    c = x[0] if x.size > 0 else 0.0
    out[0] = x.size
    out[1] = c
    out[2], out[3] = _reduce.centered_moments(x, c)


@jit
def suff_loglik(stats, theta):
    """ℓ without -n/2 log 2π: Σ(x-μ)² = Σ(x-c)² - 2(μ-c)Σ(x-c) + n(μ-c)²."""
    mu, s2 = theta[0], theta[1]
    n = stats[0]
    d = mu - stats[1]
    ss = stats[3] - 2.0 * d * stats[2] + n * d * d
    return -0.5 * n * np.log(s2) - ss / (2.0 * s2)


@jit
def score(x, theta, out):
    mu, s2 = theta[0], theta[1]
    total, ss = _reduce.centered_moments(x, mu)
    out[0] = total / s2
    out[1] = -0.5 * x.size / s2 + ss / (2.0 * s2 * s2)


@jit
def fisher(theta, out):
    s2 = theta[1]
    out[0, 0] = 1.0 / s2
    out[0, 1] = 0.0
    out[1, 0] = 0.0
    out[1, 1] = 1.0 / (2.0 * s2 * s2)


@jit
def _no_variance(mean, out_theta, out_se):
    """A sample without spread: x̄ is kept, σ² has no MLE."""
    out_theta[0] = mean
    out_theta[1] = np.nan
    out_se[0] = np.nan
    out_se[1] = np.nan
    return (NO_MLE, 0)


@jit
def _fit_divisor(x, out_theta, out_se, ddof):
    n = x.size
    # One pass of sums about the first value c (the shifted algorithm of Chan, Golub & LeVeque
    # 1983, "Algorithms for computing the sample variance"): robust to |x̄| >> sd.
    c = x[0] if n > 0 else 0.0
    shifted, sq = _reduce.centered_moments(x, c)
    mean = c + shifted / n
    # An exact test for a constant sample (x - c == 0 iff x == c in IEEE arithmetic), not
    # through ss, which is rounding noise of x̄ there.
    if not sq > 0.0 or n - ddof < 1:
        return _no_variance(mean, out_theta, out_se)
    between = shifted * (shifted / n)  # n(x̄ - c)²
    ss = sq - between
    # The shifted form loses about log10(1 + n(x̄ - c)²/ss) digits (same source): when c lies
    # far out, recompute Σ(x - x̄)² about the mean (two-pass; rare for a sample value c).
    if between > _SHIFT_REPASS * ss:
        _, ss = _reduce.centered_moments(x, mean)
    if not ss > 0.0:
        return _no_variance(mean, out_theta, out_se)
    s2 = ss / (n - ddof)
    out_theta[0] = mean
    out_theta[1] = s2
    out_se[0] = np.sqrt(s2 / n)
    # Var(σ̂²) = 2σ⁴/n from the observed information at the MLE; 2σ⁴/(n-1) for s².
    out_se[1] = s2 * np.sqrt(2.0 / (n - ddof))
    # x̄ and Σ(x-x̄)² are independent for normal data (Cochran's theorem): correlation 0.
    out_se[2] = 0.0
    return (OK, 0)


@fit_kernel
def fit_mle(x, out_theta, out_se):
    return _fit_divisor(x, out_theta, out_se, 0)


@fit_kernel
def fit_unbiased(x, out_theta, out_se):
    return _fit_divisor(x, out_theta, out_se, 1)


def _numpy_sample(gen: np.random.Generator, theta: np.ndarray, n: int, design=None) -> np.ndarray:
    return gen.normal(theta[0], math.sqrt(theta[1]), n)


MODEL = Model(
    name="normal",
    params=(
        Param("mu", REAL, typical=(-3.0, 3.0), doc="mean μ"),
        Param("sigma2", POSITIVE, typical=(0.25, 4.0), doc="variance σ²"),
    ),
    support=REALS,
    sample=sample,
    loglik=loglik,
    suff_stats=suff_stats,
    suff_loglik=suff_loglik,
    n_suff=4,
    score=score,
    fisher=fisher,
    estimators={
        # One value has no spread: σ̂² needs n >= 2.
        "mle": Estimator("mle", fit_mle, "closed form (x̄, Σ(x-x̄)²/n)", min_n=2),
        "unbiased": Estimator("unbiased", fit_unbiased, "(x̄, Σ(x-x̄)²/(n-1))", min_n=2),
    },
    numpy_sample=_numpy_sample,
    scipy_dist=lambda theta: stats.norm(theta[0], math.sqrt(theta[1])),
    reference_mle=lambda x: np.array([np.mean(x), np.var(x)]),
    tags={"closed_form_mle": True},
    doc="Normal with unknown mean and variance.",
    absent_estimators={"mom": "the method-of-moments estimator equals the MLE; use mle"},
)
