"""Beta(a, b): f(x | a, b) = x^{a-1} (1-x)^{b-1} / B(a, b), 0 < x < 1.

Formulas (Johnson, Kotz & Balakrishnan, *Continuous Univariate Distributions* Vol. 2, §25.4):
ℓ = (a-1) Σ log x + (b-1) Σ log(1-x) - n log B(a, b);
score = n (ψ(a+b) - ψ(a) + mean log x, ψ(a+b) - ψ(b) + mean log(1-x));
I(a, b) = [[ψ'(a) - ψ'(a+b), -ψ'(a+b)], [-ψ'(a+b), ψ'(b) - ψ'(a+b)]] per observation. The
Hessian does not depend on x (a two-parameter exponential family), so observed and expected
information coincide and ℓ is strictly concave: the MLE is unique when it exists, which is
whenever the sample has two distinct values inside (0, 1) (the sufficient statistic then lies
inside its convex support: Barndorff-Nielsen 1978, *Information and Exponential Families*, Ch. 9).

MLE: Newton-Raphson on the two score equations (they depend on the data only through
s₁ = mean log x and s₂ = mean log(1-x), so an iteration costs a few digamma/trigamma calls),
started from the method of moments a = x̄c, b = (1-x̄)c with c = x̄(1-x̄)/v - 1. A step that
leaves the domain or lowers ℓ is halved (at most ``BETA_MAX_HALVINGS`` times). Stops when
every Newton step |Δ| <= ``BETA_RTOL`` of its parameter, at most ``BETA_MAX_ITER`` iterations. SEs and the
correlation come from (n I(θ̂))⁻¹.
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
    UNIT_INTERVAL,
    Estimator,
    Model,
    Param,
)
from simstudy.models._common import fail, write_se_2x2
from simstudy.special import digamma, gammaln, trigamma

stats = lazy_import("scipy.stats")

BETA_RTOL = 1e-12
BETA_MAX_ITER = 100
BETA_MAX_HALVINGS = 60
#: rounding allowance, relative to the size of ℓ/n's terms, in the step-halving test
_LL_ROUNDING = 1e-13


@jit
def sample(state, theta, design, out):
    a, b = theta[0], theta[1]
    for i in range(out.size):
        out[i] = rng.beta(state, a, b)


@jit
def _log_sums(x):
    """(Σ log x, Σ log(1 - x))."""
    s1 = 0.0
    s2 = 0.0
    for v in x:
        s1 += np.log(v)
        s2 += np.log1p(-v)
    return s1, s2


@jit
def _log_beta(a, b):
    return gammaln(a) + gammaln(b) - gammaln(a + b)


@jit
def loglik(x, theta):
    a, b = theta[0], theta[1]
    s1, s2 = _log_sums(x)
    return (a - 1.0) * s1 + (b - 1.0) * s2 - x.size * _log_beta(a, b)


@jit
def score(x, theta, out):
    a, b = theta[0], theta[1]
    n = x.size
    s1, s2 = _log_sums(x)
    dab = digamma(a + b)
    out[0] = n * (dab - digamma(a)) + s1
    out[1] = n * (dab - digamma(b)) + s2


@jit
def fisher(theta, out):
    a, b = theta[0], theta[1]
    tab = trigamma(a + b)
    out[0, 0] = trigamma(a) - tab
    out[0, 1] = -tab
    out[1, 0] = -tab
    out[1, 1] = trigamma(b) - tab


@fit_kernel
def fit_mle(x, out_theta, out_se):
    n = x.size
    # Exact tests: data on or outside the edges of (0, 1), or a constant sample, have no MLE
    # (ℓ is unbounded or the sufficient statistic lies on the boundary of its convex support).
    total, lo, hi = _reduce.total_min_max(x)
    if not (lo > 0.0 and hi < 1.0) or lo == hi:
        return fail(out_theta, out_se, NO_MLE, 0)
    s1, s2 = _log_sums(x)
    s1 /= n
    s2 /= n
    mean = total / n
    _, var = _reduce.centered_moments(x, mean)
    var /= n
    c = mean * (1.0 - mean) / var - 1.0
    a, b = mean * c, (1.0 - mean) * c
    if not (a > 0.0 and b > 0.0 and np.isfinite(a) and np.isfinite(b)):
        a, b = 1.0, 1.0  # the moment equations failed to rounding: start at the uniform
    ll = (a - 1.0) * s1 + (b - 1.0) * s2 - _log_beta(a, b)  # ℓ/n
    n_iter = 0
    converged = False
    while n_iter < BETA_MAX_ITER:
        n_iter += 1
        dab = digamma(a + b)
        g0 = dab - digamma(a) + s1
        g1 = dab - digamma(b) + s2
        tab = trigamma(a + b)
        i00, i01, i11 = trigamma(a) - tab, -tab, trigamma(b) - tab
        det = i00 * i11 - i01 * i01
        # Newton: θ + I⁻¹ g (I = -Hessian/n, positive definite).
        da = (i11 * g0 - i01 * g1) / det
        db = (i00 * g1 - i01 * g0) / det
        if abs(da) <= BETA_RTOL * a and abs(db) <= BETA_RTOL * b:
            a, b = a + da, b + db
            converged = a > 0.0 and b > 0.0
            break
        # ℓ is concave, but a full step from far away can overshoot or leave the domain.
        # Accept any step that does not lower ℓ/n beyond the rounding of its terms, which
        # cancel heavily when a and b are large (ℓ/n = O(1) from terms of O(a + b)).
        step = 1.0
        accepted = False
        for _ in range(BETA_MAX_HALVINGS):
            a_new, b_new = a + step * da, b + step * db
            if a_new > 0.0 and b_new > 0.0:
                log_b = _log_beta(a_new, b_new)
                ll_new = (a_new - 1.0) * s1 + (b_new - 1.0) * s2 - log_b
                size = abs((a_new - 1.0) * s1) + abs((b_new - 1.0) * s2) + abs(log_b)
                if ll_new >= ll - _LL_ROUNDING * max(1.0, size):
                    accepted = True
                    break
            step *= 0.5
        if not accepted:
            break  # no uphill step although the Newton step is not small: give up
        a, b, ll = a_new, b_new, ll_new
    out_theta[0] = a
    out_theta[1] = b
    tab = trigamma(a + b)
    # Total information n·I(a, b) (observed = expected: the Hessian does not depend on x).
    if not write_se_2x2(n * (trigamma(a) - tab), -n * tab, n * (trigamma(b) - tab), out_se):
        out_se[0] = np.nan
        out_se[1] = np.nan
    if not converged:
        return (NOT_CONVERGED, n_iter)
    return (OK, n_iter)


def _numpy_sample(gen: np.random.Generator, theta: np.ndarray, n: int, design=None) -> np.ndarray:
    return gen.beta(theta[0], theta[1], n)


def _reference_mle(x: np.ndarray) -> np.ndarray:
    a, b, _, _ = stats.beta.fit(x, floc=0, fscale=1)
    return np.array([a, b])


MODEL = Model(
    name="beta",
    params=(
        Param("a", POSITIVE, typical=(0.5, 5.0), doc="shape a (the exponent of x)"),
        Param("b", POSITIVE, typical=(0.5, 5.0), doc="shape b (the exponent of 1 - x)"),
    ),
    support=UNIT_INTERVAL,
    sample=sample,
    loglik=loglik,
    score=score,
    fisher=fisher,
    estimators={
        # A constant sample (so any one value) has no MLE: n >= 2.
        "mle": Estimator(
            "mle", fit_mle, "Newton-Raphson with digamma/trigamma, MoM start", min_n=2
        ),
    },
    numpy_sample=_numpy_sample,
    scipy_dist=lambda theta: stats.beta(theta[0], theta[1]),
    reference_mle=_reference_mle,
    tags={"closed_form_mle": False},
    doc="Beta proportions with shapes a and b; Newton on the digamma score equations.",
)
