"""Poisson(rate λ): P(X = x) = λ^x e^{-λ} / x!, x = 0, 1, ...

Formulas (Casella & Berger, 2nd ed., Ex. 7.2.x): ℓ(λ) = Σx log λ - nλ - Σ log x!;
score = Σx/λ - n;  I(λ) = 1/λ;  MLE λ̂ = x̄ (unbiased, variance λ/n at the CRLB), SE sqrt(λ̂/n).
λ̂ = 0 (an all-zero sample) lies on the domain's edge: status ``boundary``.
"""

from __future__ import annotations

import numpy as np

from simstudy import rng
from simstudy._jit import fit_kernel, jit
from simstudy._lazy import lazy_import
from simstudy.models import _reduce
from simstudy.models._base import BOUNDARY, COUNTS, OK, POSITIVE, Estimator, Model, Param
from simstudy.special import gammaln

stats = lazy_import("scipy.stats")


@jit
def sample(state, theta, design, out):
    lam = theta[0]
    for i in range(out.size):
        out[i] = float(rng.poisson(state, lam))


@jit
def _kernel(total, n, lam):
    """Σx log λ - nλ, with 0·log 0 = 0 (xlogy) so that the boundary λ̂ = 0 has ℓ = 0."""
    return (total * np.log(lam) if total > 0.0 else 0.0) - n * lam


@jit
def loglik(x, theta):
    log_factorials = 0.0
    for v in x:
        # log x! = gammaln(x + 1): never log(factorial(x)), which overflows at x = 171.
        log_factorials += gammaln(v + 1.0)
    return _kernel(_reduce.total(x), x.size, theta[0]) - log_factorials


@jit
def suff_loglik(stats, theta):
    return _kernel(stats[1], stats[0], theta[0])


@jit
def score(x, theta, out):
    out[0] = _reduce.total(x) / theta[0] - x.size


@jit
def fisher(theta, out):
    out[0, 0] = 1.0 / theta[0]


@fit_kernel
def fit_mle(x, out_theta, out_se):
    n = x.size
    lam = _reduce.total(x) / n
    out_theta[0] = lam
    out_se[0] = np.sqrt(lam / n)
    if lam == 0.0:
        return (BOUNDARY, 0)
    return (OK, 0)


def _numpy_sample(gen: np.random.Generator, theta: np.ndarray, n: int, design=None) -> np.ndarray:
    return gen.poisson(theta[0], n).astype(np.float64)


MODEL = Model(
    name="poisson",
    params=(Param("rate", POSITIVE, typical=(0.5, 30.0), doc="mean count λ"),),
    support=COUNTS,
    sample=sample,
    loglik=loglik,
    suff_stats=_reduce.count_and_total,
    suff_loglik=suff_loglik,
    n_suff=2,
    score=score,
    fisher=fisher,
    estimators={"mle": Estimator("mle", fit_mle, "closed form x̄")},
    numpy_sample=_numpy_sample,
    scipy_dist=lambda theta: stats.poisson(theta[0]),
    reference_mle=lambda x: np.array([np.mean(x)]),
    tags={"closed_form_mle": True, "discrete": True},
    doc="Counts with mean λ.",
    absent_estimators={"mom": "the method-of-moments estimator x̄ equals the MLE; use mle"},
)
