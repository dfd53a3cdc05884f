"""Exponential(rate λ): f(x | λ) = λ exp(-λ x), x >= 0.

Formulas (Casella & Berger, *Statistical Inference*, 2nd ed., Ex. 7.2.x and 7.3.x):
ℓ(λ) = n log λ - λ Σx;  score = n/λ - Σx;  I(λ) = 1/λ² per observation;
MLE λ̂ = n / Σx with observed-information SE λ̂/√n; E[λ̂] = nλ/(n-1) (biased upwards).
"""

from __future__ import annotations

import numpy as np

from simstudy import rng
from simstudy._jit import fit_kernel, jit
from simstudy._lazy import lazy_import
from simstudy.models import _reduce
from simstudy.models._base import (
    NO_MLE,
    NON_NEGATIVE_REALS,
    OK,
    POSITIVE,
    Estimator,
    Model,
    Param,
)

stats = lazy_import("scipy.stats")


@jit
def sample(state, theta, design, out):
    # NumPy Generator.exponential(scale) returns scale * standard_exponential.
    scale = 1.0 / theta[0]
    for i in range(out.size):
        out[i] = scale * rng.standard_exponential(state)


@jit
def loglik(x, theta):
    lam = theta[0]
    return x.size * np.log(lam) - lam * _reduce.total(x)


@jit
def suff_loglik(stats, theta):
    lam = theta[0]
    return stats[0] * np.log(lam) - lam * stats[1]


@jit
def score(x, theta, out):
    out[0] = x.size / theta[0] - _reduce.total(x)


@jit
def fisher(theta, out):
    out[0, 0] = 1.0 / (theta[0] * theta[0])


@fit_kernel
def fit_mle(x, out_theta, out_se):
    total = _reduce.total(x)
    if not total > 0.0:
        out_theta[0] = np.nan
        out_se[0] = np.nan
        return (NO_MLE, 0)
    lam = x.size / total
    out_theta[0] = lam
    out_se[0] = lam / np.sqrt(x.size)
    return (OK, 0)


@fit_kernel
def fit_unbiased(x, out_theta, out_se):
    # (n-1)/Σx is unbiased because Σx ~ Gamma(n, λ) and E[1/Σx] = λ/(n-1); Var = λ²/(n-2).
    n = x.size
    total = _reduce.total(x)
    if not total > 0.0 or n < 3:
        out_theta[0] = np.nan
        out_se[0] = np.nan
        return (NO_MLE, 0)
    lam = (n - 1) / total
    out_theta[0] = lam
    out_se[0] = lam / np.sqrt(n - 2.0)
    return (OK, 0)


def _numpy_sample(gen: np.random.Generator, theta: np.ndarray, n: int, design=None) -> np.ndarray:
    return gen.exponential(1.0 / theta[0], n)


MODEL = Model(
    name="exponential",
    params=(Param("rate", POSITIVE, typical=(0.2, 5.0), doc="rate λ (mean 1/λ)"),),
    # x = 0 has density λ > 0 (a sample with zeros has an MLE unless Σx = 0).
    support=NON_NEGATIVE_REALS,
    sample=sample,
    loglik=loglik,
    suff_stats=_reduce.count_and_total,
    suff_loglik=suff_loglik,
    n_suff=2,
    score=score,
    fisher=fisher,
    estimators={
        "mle": Estimator("mle", fit_mle, "closed form n/Σx"),
        "unbiased": Estimator(
            "unbiased", fit_unbiased, "(n-1)/Σx, unbiased; SE λ/sqrt(n-2) needs n >= 3", min_n=3
        ),
    },
    numpy_sample=_numpy_sample,
    scipy_dist=lambda theta: stats.expon(scale=1.0 / theta[0]),
    reference_mle=lambda x: np.array([1.0 / np.mean(x)]),
    tags={"closed_form_mle": True},
    doc="Exponential waiting times with rate λ.",
    absent_estimators={"mom": "the method-of-moments estimator 1/x̄ equals the MLE; use mle"},
)
