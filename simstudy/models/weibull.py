"""Weibull(shape k, scale λ): f(x | k, λ) = (k/λ)(x/λ)^{k-1} exp(-(x/λ)^k), x > 0.

Formulas (Johnson, Kotz & Balakrishnan, *Continuous Univariate Distributions* Vol. 1, §21.4;
Cohen 1965, "Maximum likelihood estimation in the Weibull distribution based on complete and
on censored samples", Technometrics 7(4)). With z = x/λ:
ℓ = n log k - n log λ + (k-1) Σ log z - Σ z^k;
score = (n/k + Σ log z - Σ z^k log z, (k/λ)(Σ z^k - n));
I(k, λ) = [[((1-γ)² + π²/6)/k², -(1-γ)/λ], [-(1-γ)/λ, k²/λ²]] per observation (γ: Euler's
constant; z^k ~ Exp(1), E[E log E] = 1-γ, E[E log² E] = (1-γ)² + π²/6 - 1).

MLE by the profile equation in k (λ^k = Σx^k/n given k): with y = log x,
f(k) = 1/k + mean(y) - Σ y x^k / Σ x^k = 0. f is strictly decreasing (f' = -1/k² - Var_w(y),
a variance under the weights x^k), +inf at 0+ and mean(y) - max(y) < 0 at infinity, so the
root is unique whenever the sample is not constant (a constant sample has no MLE: k -> inf).
Safeguarded Newton-Raphson (Press et al., *Numerical Recipes* 3rd ed. §9.4 ``rtsafe``): the sign
of f keeps a bracket, a Newton step leaving it is replaced by bisection; started from the
log-moment estimate k = π/(√6 sd(log x)) (Var log X = π²/(6k²)); stops when
|Δk| <= ``WEIBULL_RTOL``·k. The weights use y - max(y) so x^k never overflows.
SEs and correlation from the inverse observed information (analytic Hessian) at θ̂, whose sums
follow from the last profile pass: with w = e^{k(y - max y)}, c = max y - log λ̂ and the
weighted moments m1 = Σwd/Σw, m2 = Σwd²/Σw of d = y - max y, z^k = w·n/Σw gives
Σz^k = n, Σz^k log z = n(m1 + c), Σz^k log² z = n(m2 + 2c·m1 + c²).
"""

from __future__ import annotations

import math

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
from simstudy.models._common import bracketed_newton_step, fail, write_se_2x2

optimize = lazy_import("scipy.optimize")
stats = lazy_import("scipy.stats")

WEIBULL_RTOL = 1e-12
WEIBULL_MAX_ITER = 200
_EULER_GAMMA = 0.5772156649015329
_ONE_MINUS_GAMMA = 1.0 - _EULER_GAMMA
_PI2_OVER_6 = math.pi**2 / 6.0
#: sd(log X) = π/(√6 k) for Weibull data: the start k = _LOG_SD_TO_SHAPE / sd(log x)
_LOG_SD_TO_SHAPE = math.pi / math.sqrt(6.0)


@jit
def sample(state, theta, design, out):
    # NumPy: Generator.weibull(shape) * scale.
    shape, scale = theta[0], theta[1]
    for i in range(out.size):
        out[i] = rng.weibull(state, shape) * scale


@jit
def loglik(x, theta):
    k, lam = theta[0], theta[1]
    total = 0.0
    for v in x:
        z = v / lam
        total += (k - 1.0) * np.log(z) - z**k
    return x.size * (np.log(k) - np.log(lam)) + total


@jit
def _sums(x, k, lam):
    """(Σ log z, Σ z^k, Σ z^k log z, Σ z^k log² z) with z = x/λ."""
    s_log = 0.0
    s_pow = 0.0
    s_pow_log = 0.0
    s_pow_log2 = 0.0
    for v in x:
        lz = np.log(v / lam)
        p = np.exp(k * lz)
        s_log += lz
        s_pow += p
        s_pow_log += p * lz
        s_pow_log2 += p * lz * lz
    return s_log, s_pow, s_pow_log, s_pow_log2


@jit
def score(x, theta, out):
    k, lam = theta[0], theta[1]
    n = x.size
    s_log, s_pow, s_pow_log, _ = _sums(x, k, lam)
    out[0] = n / k + s_log - s_pow_log
    out[1] = (k / lam) * (s_pow - n)


@jit
def fisher(theta, out):
    k, lam = theta[0], theta[1]
    out[0, 0] = (_ONE_MINUS_GAMMA * _ONE_MINUS_GAMMA + _PI2_OVER_6) / (k * k)
    out[0, 1] = -_ONE_MINUS_GAMMA / lam
    out[1, 0] = -_ONE_MINUS_GAMMA / lam
    out[1, 1] = k * k / (lam * lam)


@jit
def _profile(y, top, mean, k):
    """(f(k), f'(k), log(Σw/n), m1, m2) of the profile equation, y = log x, mean = ȳ - top:
    w = e^{k(y - top)}, m1 and m2 the w-weighted first and second moments of y - top."""
    n = y.size
    s0 = 0.0
    s1 = 0.0
    s2 = 0.0
    for v in y:
        d = v - top
        w = np.exp(k * d)
        s0 += w
        s1 += w * d
        s2 += w * d * d
    m1 = s1 / s0
    m2 = s2 / s0
    var_w = max(m2 - m1 * m1, 0.0)
    return 1.0 / k + mean - m1, -1.0 / (k * k) - var_w, np.log(s0 / n), m1, m2


@fit_kernel
def fit_mle(x, out_theta, out_se):
    n = x.size
    _, x_lo, x_hi = _reduce.total_min_max(x)
    if not x_lo > 0.0 or x_lo == x_hi:
        return fail(out_theta, out_se, NO_MLE, 0)
    y = np.log(x)
    total, _, top = _reduce.total_min_max(y)
    mean = total / n
    _, ss = _reduce.centered_moments(y, mean)
    k = _LOG_SD_TO_SHAPE / np.sqrt(ss / n)
    if not (k > 0.0 and np.isfinite(k)):
        return fail(out_theta, out_se, NO_MLE, 0)
    mean -= top
    lo, hi = 0.0, np.inf  # f(lo) > 0 > f(hi): the root lies between
    n_iter = 0
    converged = False
    log_mean_w = m1 = m2 = 0.0
    while n_iter < WEIBULL_MAX_ITER:
        n_iter += 1
        f, fprime, log_mean_w, m1, m2 = _profile(y, top, mean, k)
        # Newton inside the bracket, else bisection, or doubling k while hi is still open.
        k_new, lo, hi = bracketed_newton_step(k, f, fprime, lo, hi, np.inf, k)
        if abs(k_new - k) <= WEIBULL_RTOL * k_new:
            # Carry this pass' sums to k_new by a first-order Taylor step instead of another
            # pass: d log(Σw/n)/dk = m1 and dm1/dk = m2 - m1², so the error is O(Δk²) with
            # |Δk| <= WEIBULL_RTOL·k, below rounding (m2 moves by O(Δk): only the SEs use it).
            dk = k_new - k
            log_mean_w += m1 * dk
            m1 += (m2 - m1 * m1) * dk
            k = k_new
            converged = True
            break
        k = k_new
    if not converged:
        _, _, log_mean_w, m1, m2 = _profile(y, top, mean, k)
    lam = np.exp(top + log_mean_w / k)
    out_theta[0] = k
    out_theta[1] = lam
    # Observed information -H at θ̂ (total over the sample) from the last profile pass
    # (module docstring): Σz^k = n, so the (s_pow - n) terms of H vanish.
    c = -log_mean_w / k  # max y - log λ̂
    s_pow_log = n * (m1 + c)
    s_pow_log2 = n * (m2 + 2.0 * c * m1 + c * c)
    info_kk = n / (k * k) + s_pow_log2
    info_kl = -(k / lam) * s_pow_log
    info_ll = n * k * k / (lam * lam)
    if not (converged and np.isfinite(lam) and write_se_2x2(info_kk, info_kl, info_ll, out_se)):
        out_se[0] = np.nan
        out_se[1] = np.nan
        return (NOT_CONVERGED, n_iter)
    return (OK, n_iter)


def _numpy_sample(gen: np.random.Generator, theta: np.ndarray, n: int, design=None) -> np.ndarray:
    return gen.weibull(theta[0], n) * theta[1]


def _reference_mle(x: np.ndarray) -> np.ndarray:
    """Brent's method on the same profile equation, written independently in NumPy (SciPy's
    ``weibull_min.fit(floc=0)`` stops at a Nelder-Mead tolerance of ~1e-5; see test_zoo)."""
    y = np.log(x)
    d = y - y.max()

    def f(k):
        w = np.exp(k * d)
        return 1.0 / k + d.mean() - np.dot(w, d) / w.sum()

    lo, hi = 1.0, 1.0
    while f(lo) <= 0.0:
        lo /= 2.0
    while f(hi) >= 0.0:
        hi *= 2.0
    k = optimize.brentq(f, lo, hi, xtol=1e-300, rtol=4 * np.finfo(float).eps, maxiter=500)
    lam = np.exp(y.max() + np.log(np.mean(np.exp(k * d))) / k)
    return np.array([k, lam])


MODEL = Model(
    name="weibull",
    params=(
        Param("shape", POSITIVE, typical=(0.5, 5.0), doc="shape k"),
        Param("scale", POSITIVE, typical=(0.5, 5.0), doc="scale λ"),
    ),
    support=POSITIVE_REALS,
    sample=sample,
    loglik=loglik,
    score=score,
    fisher=fisher,
    estimators={
        # A constant sample (so any one value) has no MLE: n >= 2.
        "mle": Estimator(
            "mle", fit_mle, "safeguarded Newton on the profile equation in k", min_n=2
        ),
    },
    numpy_sample=_numpy_sample,
    scipy_dist=lambda theta: stats.weibull_min(theta[0], scale=theta[1]),
    reference_mle=_reference_mle,
    tags={"closed_form_mle": False},
    doc="Weibull lifetimes with shape k and scale λ.",
)
