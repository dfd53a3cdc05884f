"""Uniform(0, θ): f(x | θ) = 1/θ on [0, θ]. The textbook non-regular model.

Formulas (Casella & Berger, *Statistical Inference* 2nd ed., Ch. 7, the uniform(0, θ) examples):
ℓ(θ) = -n log θ if max x <= θ, else -inf. The support depends on θ, so the regularity
conditions of Cramér-Rao fail: the per-observation "score" ∂/∂θ log f = -1/θ is constant with
E = -1/θ ≠ 0, and its second moment 1/θ² (``fisher``, the formal information) bounds nothing.

MLE θ̂ = max x (closed form). n(θ - θ̂)/θ -> Exp(1): the rate is n⁻¹, not n^-1/2, the limit law
is not normal, and E[θ̂] = nθ/(n+1), Var(θ̂) = nθ²/((n+1)²(n+2)) ≈ θ²/n², far below the
"CRLB" θ²/n. ``unbiased``: (n+1)/n · max x, Var = θ²/(n(n+2)) (the UMVU estimator).
``mom``: 2x̄, unbiased with Var = θ²/(3n): the ordinary n^-1/2 rate, so at rate -1 its
``consistent`` verdict fails, which is the point of including it. Each SE is that estimator's exact standard deviation evaluated at its own estimate.

Tags: ``regular: false`` (the harness skips the efficiency and normality verdicts, with
``regular_reason``) and ``rate: -1`` (consistency is judged against RMSE ~ n⁻¹).
"""

from __future__ import annotations

import numpy as np

from simstudy import rng
from simstudy._jit import fit_kernel, jit
from simstudy._lazy import lazy_import
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
    # NumPy Generator.uniform(0, θ) returns 0 + (θ - 0) * random().
    upper = theta[0]
    for i in range(out.size):
        out[i] = rng.uniform(state, 0.0, upper)


@jit
def loglik(x, theta):
    upper = theta[0]
    if x.min() < 0.0 or x.max() > upper:
        return -np.inf
    return -x.size * np.log(upper)


@jit
def score(x, theta, out):
    # d/dθ of -n log θ where the likelihood is positive (θ >= max x).
    out[0] = -x.size / theta[0]


@jit
def fisher(theta, out):
    # E[(∂ log f/∂θ)²] = 1/θ²: formal only (see the module docstring).
    out[0, 0] = 1.0 / (theta[0] * theta[0])


@jit
def _max_or_fail(x, out_theta, out_se):
    """max x, or -1 after writing NaNs when no MLE exists (negative data: zero likelihood for
    every θ; all zeros: θ^-n grows without bound as θ -> 0, outside the open domain)."""
    top = x.max()
    if x.min() < 0.0 or not top > 0.0:
        out_theta[0] = np.nan
        out_se[0] = np.nan
        return -1.0
    return top


@fit_kernel
def fit_mle(x, out_theta, out_se):
    n = x.size
    top = _max_or_fail(x, out_theta, out_se)
    if top < 0.0:
        return (NO_MLE, 0)
    out_theta[0] = top
    # sd(max x) = θ sqrt(n/((n+1)²(n+2))) at θ = θ̂.
    out_se[0] = top * np.sqrt(n / ((n + 1.0) * (n + 1.0) * (n + 2.0)))
    return (OK, 0)


@fit_kernel
def fit_unbiased(x, out_theta, out_se):
    n = x.size
    top = _max_or_fail(x, out_theta, out_se)
    if top < 0.0:
        return (NO_MLE, 0)
    est = (n + 1.0) / n * top
    out_theta[0] = est
    # sd((n+1)/n max x) = θ/sqrt(n(n+2)) at θ = the estimate.
    out_se[0] = est / np.sqrt(n * (n + 2.0))
    return (OK, 0)


@fit_kernel
def fit_mom(x, out_theta, out_se):
    n = x.size
    if _max_or_fail(x, out_theta, out_se) < 0.0:
        return (NO_MLE, 0)
    est = 2.0 * x.sum() / n
    out_theta[0] = est
    # sd(2x̄) = 2 sqrt(θ²/12)/sqrt(n) = θ/sqrt(3n) at θ = the estimate.
    out_se[0] = est / np.sqrt(3.0 * n)
    return (OK, 0)


def _numpy_sample(gen: np.random.Generator, theta: np.ndarray, n: int, design=None) -> np.ndarray:
    return gen.uniform(0.0, theta[0], n)


def _reference_mle(x: np.ndarray) -> np.ndarray:
    _, scale = stats.uniform.fit(x, floc=0)
    return np.array([scale])


MODEL = Model(
    name="uniform",
    params=(Param("upper", POSITIVE, typical=(0.5, 5.0), doc="upper end θ of the support [0, θ]"),),
    # [0, θ]: the upper end is the estimand, so data can only be checked against [0, inf).
    support=NON_NEGATIVE_REALS,
    sample=sample,
    loglik=loglik,
    score=score,
    fisher=fisher,
    estimators={
        "mle": Estimator("mle", fit_mle, "closed form max x (biased: E = nθ/(n+1))"),
        "unbiased": Estimator("unbiased", fit_unbiased, "(n+1)/n · max x (UMVU)"),
        "mom": Estimator("mom", fit_mom, "method of moments 2x̄ (rate n^-1/2)"),
    },
    numpy_sample=_numpy_sample,
    scipy_dist=lambda theta: stats.uniform(0.0, theta[0]),
    reference_mle=_reference_mle,
    tags={
        "closed_form_mle": True,
        "regular": False,
        "regular_reason": (
            "the support [0, θ] depends on θ: the score has mean -1/θ, not 0, the MLE converges "
            "at rate 1/n to a non-normal (exponential) limit, and its variance is far below the "
            "formal Cramér-Rao bound θ²/n"
        ),
        "rate": -1.0,
    },
    doc="Uniform on [0, θ]: the non-regular case (rate 1/n, no Cramér-Rao bound).",
)
