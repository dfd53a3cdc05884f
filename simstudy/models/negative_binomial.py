"""Negative binomial, parameterised by the mean μ and the size r (both estimated).

P(X = x) = Γ(x + r) / (Γ(r) x!) · (r/(r+μ))^r (μ/(r+μ))^x, x = 0, 1, ...; Var X = μ + μ²/r.
This is NumPy's and SciPy's (n, p) = (r, r/(r+μ)): x failures before the r-th success, real
r > 0 (a gamma-Poisson mixture). (μ, r) is chosen over (r, p) because it is orthogonal: the
information is diagonal and μ̂ = x̄ exactly, so only r needs iteration (the profile in r).

Formulas (Lawless 1987, "Negative binomial and mixed Poisson regression", Can. J. Stat. 15(3);
Piegorsch 1990, Biometrics 46): ℓ = Σ[log Γ(x+r) - log Γ(r) - log x!] + nr log(r/(r+μ))
+ Σx log(μ/(r+μ)); score = (Σ(x - μ) r/(μ(r+μ)), Σ[ψ(x+r) - ψ(r)] + n log(r/(r+μ))
+ Σ(μ - x)/(r+μ)); I(μ, r) = diag(r/(μ(r+μ)), E[Σ_{j<X} (r+j)⁻²] - μ/(r(r+μ))) per
observation (the second entry summed over the pmf until the tail is negligible).

MLE: μ̂ = x̄; r̂ solves the profile score g(r) = Σ_j N_j/(r + j) - n log(1 + x̄/r) = 0, with
N_j = #{x_i > j} (this is Σ[ψ(x_i + r) - ψ(r)] summed exactly). It exists, and is unique,
iff the sample variance (divisor n) exceeds the mean (Aragón, Eberly & Eberly 1992, Stat.
Probab. Lett. 15): otherwise ℓ increases towards the Poisson limit r -> inf and the status is
``no_mle`` (frequent at small n when r is large, i.e. near-Poisson data). Safeguarded Newton in
log r (Numerical Recipes ``rtsafe``: the sign of g keeps a bracket, steps leaving it bisect,
and until both ends are known a step moves log r by at most ``NB_MAX_LOG_STEP``),
started from the method of moments r = x̄²/(s² - x̄); stops when |Δ log r| <= ``NB_RTOL``.
SEs from the observed information at θ̂, which is diagonal there (Σ(x - x̄) = 0):
se(μ̂) = sqrt(μ̂(r̂+μ̂)/(n r̂)), se(r̂) = 1/sqrt(-g'(r̂)); correlation 0.
An all-zero sample has μ̂ = 0 on the edge and no r̂: ``no_mle``.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import special

from simstudy import rng
from simstudy._jit import fit_kernel, jit
from simstudy._lazy import lazy_import
from simstudy.models._base import (
    COUNTS,
    NO_MLE,
    NOT_CONVERGED,
    OK,
    POSITIVE,
    Estimator,
    Model,
    Param,
)
from simstudy.models._common import bracketed_newton_step, fail
from simstudy.special import digamma, gammaln

optimize = lazy_import("scipy.optimize")
stats = lazy_import("scipy.stats")

NB_RTOL = 1e-12
NB_MAX_ITER = 200
#: largest step in log r (a factor e² in r) while the root is not yet bracketed on both sides
NB_MAX_LOG_STEP = 2.0
#: Fisher information: stop summing the pmf once past the mean and a term is below this,
#: or after this many terms (a guard for extreme θ, e.g. a mean of 10^7)
_PMF_NEGLIGIBLE = 1e-20
_PMF_MAX_TERMS = 10**7


@jit
def sample(state, theta, design, out):
    # NumPy: Generator.negative_binomial(r, r/(r + μ)).
    mu, r = theta[0], theta[1]
    p = r / (r + mu)
    for i in range(out.size):
        out[i] = float(rng.negative_binomial(state, r, p))


@jit
def loglik(x, theta):
    mu, r = theta[0], theta[1]
    log_p = -np.log1p(mu / r)  # log(r/(r+μ))
    log_q = -np.log1p(r / mu)  # log(μ/(r+μ))
    total = 0.0
    for v in x:
        total += gammaln(v + r) - gammaln(v + 1.0) + v * log_q
    return total + x.size * (r * log_p - gammaln(r))


@jit
def score(x, theta, out):
    mu, r = theta[0], theta[1]
    n = x.size
    s = x.sum()
    psi_r = digamma(r)
    dpsi = 0.0
    for v in x:
        dpsi += digamma(v + r) - psi_r
    out[0] = (s - n * mu) * r / (mu * (r + mu))
    out[1] = dpsi - n * np.log1p(mu / r) + (n * mu - s) / (r + mu)


@jit
def fisher(theta, out):
    mu, r = theta[0], theta[1]
    # E[h(X)], h(k) = Σ_{j<k} 1/(r+j)², by the pmf recursion in logs (no underflow at the start)
    log_pmf = -r * np.log1p(mu / r)
    log_ratio = -np.log1p(r / mu)
    h = 0.0
    e_h = 0.0
    k = 0
    while True:
        pmf = np.exp(log_pmf)
        e_h += pmf * h
        if (k > mu and pmf < _PMF_NEGLIGIBLE) or k >= _PMF_MAX_TERMS:
            break
        h += 1.0 / ((r + k) * (r + k))
        log_pmf += np.log((k + r) / (k + 1.0)) + log_ratio
        k += 1
    out[0, 0] = r / (mu * (r + mu))
    out[0, 1] = 0.0
    out[1, 0] = 0.0
    out[1, 1] = e_h - mu / (r * (r + mu))


@jit
def _profile(exceed, n, mean, r):
    """(g(r), r·g'(r)): the profile score in r and its derivative in log r."""
    g = 0.0
    dg = 0.0
    for j in range(exceed.size):
        c = exceed[j]
        if c > 0:
            t = 1.0 / (r + j)
            g += c * t
            dg -= c * t * t
    g -= n * np.log1p(mean / r)
    dg += n * mean / (r * (r + mean))
    return g, r * dg


@fit_kernel
def fit_mle(x, out_theta, out_se):
    n = x.size
    s = 0.0
    ss = 0.0
    top = 0.0
    for v in x:
        if not (v >= 0.0 and v == np.floor(v)):
            return fail(out_theta, out_se, NO_MLE, 0)  # not a count
        s += v
        ss += v * v
        top = max(top, v)
    mean = s / n
    # Existence: s² > x̄ with s² = Σx²/n - x̄², i.e. nΣx² - (Σx)² > nΣx: exact for counts
    # whose sums stay below 2**53.
    if x.min() == x.max() or not n * ss - s * s > n * s:
        return fail(out_theta, out_se, NO_MLE, 0)
    # N_j = #{x > j}, j = 0 .. max - 1, from the counts of each value.
    m = int(top)
    exceed = np.zeros(m + 1, dtype=np.int64)
    for v in x:
        exceed[int(v)] += 1
    running = 0
    for j in range(m, -1, -1):
        c = exceed[j]
        exceed[j] = running  # #{x > j}
        running += c
    var = ss / n - mean * mean
    t = np.log(mean * mean / (var - mean))
    if not np.isfinite(t):
        t = 0.0  # s² - x̄ lost to rounding: start at r = 1, the bracket does the rest
    lo, hi = -np.inf, np.inf  # g > 0 at lo, g < 0 at hi (in log r)
    n_iter = 0
    converged = False
    while n_iter < NB_MAX_ITER:
        n_iter += 1
        g, dg = _profile(exceed, n, mean, np.exp(t))
        # Near the minimum of g beyond the root, g' is tiny and a Newton step can jump
        # hundreds of units of log r: outside the bracket (or longer than NB_MAX_LOG_STEP) the
        # step is a bisection, or a bounded move towards the root while the bracket is open.
        t_new, lo, hi = bracketed_newton_step(t, g, dg, lo, hi, NB_MAX_LOG_STEP, NB_MAX_LOG_STEP)
        if abs(t_new - t) <= NB_RTOL:
            t = t_new
            converged = True
            break
        t = t_new
    r = np.exp(t)
    out_theta[0] = mean
    out_theta[1] = r
    g, dg = _profile(exceed, n, mean, r)
    h_rr = dg / r  # g'(r) = ∂²ℓ/∂r² at μ = x̄
    out_se[0] = np.sqrt(mean * (r + mean) / (n * r))
    out_se[2] = 0.0
    if not (converged and h_rr < 0.0 and np.isfinite(r)):
        out_se[1] = np.nan
        return (NOT_CONVERGED, n_iter)
    out_se[1] = 1.0 / np.sqrt(-h_rr)
    return (OK, n_iter)


def _numpy_sample(gen: np.random.Generator, theta: np.ndarray, n: int, design=None) -> np.ndarray:
    mu, r = theta
    return gen.negative_binomial(r, r / (r + mu), n).astype(np.float64)


def _reference_mle(x: np.ndarray) -> np.ndarray:
    """μ̂ = x̄ and Brent's method on Σ[ψ(x+r) - ψ(r)] - n log(1 + x̄/r) with SciPy's digamma
    (SciPy's discrete distributions have no ``fit``)."""
    x = np.asarray(x, dtype=float)
    mean = x.mean()

    def g(log_r):
        r = math.exp(log_r)
        return np.sum(special.digamma(x + r) - special.digamma(r)) - x.size * math.log1p(mean / r)

    lo, hi = -1.0, 1.0
    while g(lo) <= 0.0:
        lo -= 1.0
    while g(hi) >= 0.0:
        hi += 1.0
    log_r = optimize.brentq(g, lo, hi, xtol=1e-14, rtol=4 * np.finfo(float).eps)
    return np.array([mean, math.exp(log_r)])


MODEL = Model(
    name="negative_binomial",
    params=(
        # Typical: clearly over-dispersed counts. Near the Poisson limit (large r, small μ) the
        # information about r is tiny: r̂ is erratic and often does not exist (see the tag).
        Param("mean", POSITIVE, typical=(2.0, 10.0), doc="mean μ"),
        Param("r", POSITIVE, typical=(0.5, 3.0), doc="size r (Var = μ + μ²/r; r -> inf: Poisson)"),
    ),
    support=COUNTS,
    sample=sample,
    loglik=loglik,
    score=score,
    fisher=fisher,
    estimators={
        # r̂ needs a sample variance above the mean: never for one value, so n >= 2.
        "mle": Estimator(
            "mle", fit_mle, "x̄, and safeguarded Newton on the profile in log r", min_n=2
        ),
    },
    numpy_sample=_numpy_sample,
    scipy_dist=lambda theta: stats.nbinom(theta[1], theta[1] / (theta[1] + theta[0])),
    reference_mle=_reference_mle,
    tags={
        "closed_form_mle": False,
        "discrete": True,
        "mle_always_exists": False,
        "mle_always_exists_reason": (
            "the MLE of r exists iff the sample variance (divisor n) exceeds the mean; "
            "under-dispersed samples, frequent at small n, are no_mle"
        ),
    },
    doc="Over-dispersed counts with mean μ and size r (gamma-Poisson mixture).",
)
