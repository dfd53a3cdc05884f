"""Bernoulli(p): P(X = 1) = p, P(X = 0) = 1 - p.

Formulas (Casella & Berger, 2nd ed., Ex. 7.2.7): ℓ(p) = k log p + (n-k) log(1-p), k = Σx;
score = k/p - (n-k)/(1-p);  I(p) = 1/(p(1-p));  MLE p̂ = k/n (unbiased, variance at the CRLB),
SE sqrt(p̂(1-p̂)/n). p̂ = 0 or 1 is a valid MLE on the domain's edge: status ``boundary``.
"""

from __future__ import annotations

import numpy as np

from simstudy import rng
from simstudy._jit import fit_kernel, jit
from simstudy._lazy import lazy_import
from simstudy.models import _reduce
from simstudy.models._base import BINARY, BOUNDARY, OK, UNIT_OPEN, Estimator, Model, Param

stats = lazy_import("scipy.stats")


@jit
def sample(state, theta, design, out):
    # NumPy: Generator.random(n) < p, as 0.0 / 1.0.
    p = theta[0]
    for i in range(out.size):
        out[i] = float(rng.bernoulli(state, p))


@jit
def _kernel(k, n, p):
    # xlogy convention 0·log 0 = 0 so that boundary MLEs have a finite log-likelihood.
    total = 0.0
    if k > 0.0:
        total += k * np.log(p)
    if n - k > 0.0:
        total += (n - k) * np.log1p(-p)
    return total


@jit
def loglik(x, theta):
    return _kernel(_reduce.total(x), x.size, theta[0])


@jit
def suff_loglik(stats, theta):
    return _kernel(stats[1], stats[0], theta[0])


@jit
def score(x, theta, out):
    p = theta[0]
    k = _reduce.total(x)
    out[0] = k / p - (x.size - k) / (1.0 - p)


@jit
def fisher(theta, out):
    p = theta[0]
    out[0, 0] = 1.0 / (p * (1.0 - p))


@fit_kernel
def fit_mle(x, out_theta, out_se):
    n = x.size
    p = _reduce.total(x) / n
    out_theta[0] = p
    out_se[0] = np.sqrt(p * (1.0 - p) / n)
    if p == 0.0 or p == 1.0:
        return (BOUNDARY, 0)
    return (OK, 0)


def _numpy_sample(gen: np.random.Generator, theta: np.ndarray, n: int, design=None) -> np.ndarray:
    return (gen.random(n) < theta[0]).astype(np.float64)


MODEL = Model(
    name="bernoulli",
    params=(Param("p", UNIT_OPEN, typical=(0.1, 0.9), doc="success probability p"),),
    support=BINARY,
    sample=sample,
    loglik=loglik,
    suff_stats=_reduce.count_and_total,
    suff_loglik=suff_loglik,
    n_suff=2,
    score=score,
    fisher=fisher,
    estimators={"mle": Estimator("mle", fit_mle, "closed form k/n (binary cross-entropy)")},
    numpy_sample=_numpy_sample,
    scipy_dist=lambda theta: stats.bernoulli(theta[0]),
    reference_mle=lambda x: np.array([np.mean(x)]),
    tags={"closed_form_mle": True, "discrete": True},
    doc="Coin flips; the MLE minimises binary cross-entropy.",
    absent_estimators={"mom": "the method-of-moments estimator equals the MLE; use mle"},
)
