"""Categorical with K = 3 categories: P(X = j) = p_j, j = 0, 1, 2; data are category indices.

Parameterisation: the K - 1 = 2 free probabilities (p0, p1), with p2 = 1 - p0 - p1 (the last
category is the reference). Chosen over softmax logits η_j = log(p_j/p_K) because the MLE in
probabilities exists for every sample (an empty category gives p̂_j = 0, a valid MLE on the
domain's edge: status ``boundary``), whereas the logit MLE is infinite whenever a category is
unobserved, as in separated logistic regression. By invariance the softmax MLE is
η̂_j = log(p̂_j/p̂_K) when it exists; the frequencies below minimise the softmax cross-entropy
-Σ_j n_j log p_j. The simplex constraint p0 + p1 < 1 is checked with the per-parameter domains.

Formulas (Agresti, *Categorical Data Analysis* 3rd ed., Ch. 1, the multinomial MLE):
ℓ = Σ_j n_j log p_j (n_j the count of category j, 0·log 0 = 0);
score_j = n_j/p_j - n_K/p_K (j < K); I_jl = δ_jl/p_j + 1/p_K per observation, whose inverse is
diag(p) - ppᵀ. MLE p̂_j = n_j/n (closed form), SE sqrt(p̂_j(1-p̂_j)/n), correlation
-sqrt(p̂_i p̂_j / ((1-p̂_i)(1-p̂_j))): the observed information at p̂ equals n I(p̂).

Sampling is ``Generator.choice(3, p=[p0, p1, 1 - p0 - p1])`` bit for bit (see
:func:`simstudy.rng.categorical`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simstudy import rng
from simstudy._jit import fit_kernel, jit
from simstudy._lazy import lazy_import
from simstudy.models._base import (
    BOUNDARY,
    NO_MLE,
    OK,
    UNIT_OPEN,
    Estimator,
    Model,
    ModelError,
    Param,
    Support,
)

stats = lazy_import("scipy.stats")

#: Number of categories.
K = 3


@jit
def _probabilities(theta):
    """(p_0, ..., p_{K-1}) with p_{K-1} = 1 - Σ free, subtracted left to right as in NumPy."""
    p = np.empty(theta.size + 1)
    last = 1.0
    for j in range(theta.size):
        p[j] = theta[j]
        last -= theta[j]
    p[theta.size] = last
    return p


@jit
def sample(state, theta, design, out):
    p = _probabilities(theta)
    # Generator.choice: cdf = cumsum(p); cdf /= cdf[-1].
    cdf = np.empty(p.size)
    running = 0.0
    for j in range(p.size):
        running += p[j]
        cdf[j] = running
    total = cdf[p.size - 1]
    for j in range(p.size):
        cdf[j] /= total
    for i in range(out.size):
        out[i] = float(rng.categorical(state, cdf))


@jit
def _counts(x, size):
    """Counts of categories 0 .. size - 1; -1 in slot 0 if some value is not a category."""
    counts = np.zeros(size)
    for v in x:
        j = int(v)
        if not (v == j and 0 <= j < size):
            counts[0] = -1.0
            return counts
        counts[j] += 1.0
    return counts


@jit
def loglik(x, theta):
    p = _probabilities(theta)
    counts = _counts(x, p.size)
    if counts[0] < 0.0:
        return -np.inf
    total = 0.0
    for j in range(p.size):
        if counts[j] > 0.0:
            total += counts[j] * np.log(p[j])
    return total


@jit
def score(x, theta, out):
    p = _probabilities(theta)
    counts = _counts(x, p.size)
    last = p.size - 1
    for j in range(theta.size):
        out[j] = counts[j] / p[j] - counts[last] / p[last]


@jit
def fisher(theta, out):
    p = _probabilities(theta)
    last = 1.0 / p[p.size - 1]
    for i in range(theta.size):
        for j in range(theta.size):
            out[i, j] = last
        out[i, i] += 1.0 / p[i]


@fit_kernel
def fit_mle(x, out_theta, out_se):
    k = out_theta.size
    n = x.size
    counts = _counts(x, k + 1)
    if counts[0] < 0.0:
        for j in range(k):
            out_theta[j] = np.nan
        for j in range(out_se.size):
            out_se[j] = np.nan
        return (NO_MLE, 0)
    for j in range(k):
        p = counts[j] / n
        out_theta[j] = p
        out_se[j] = np.sqrt(p * (1.0 - p) / n)
    slot = k
    for i in range(k):
        for j in range(i + 1, k):
            pi, pj = out_theta[i], out_theta[j]
            denom = (1.0 - pi) * (1.0 - pj)
            # Undefined (left NaN) when a category has frequency 0 or 1: both SEs are 0.
            if pi > 0.0 and pj > 0.0 and denom > 0.0:
                out_se[slot] = -np.sqrt(pi * pj / denom)
            slot += 1
    for j in range(k + 1):
        if counts[j] == 0.0:
            return (BOUNDARY, 0)  # an empty category: p̂_j = 0 is the MLE, on the edge
    return (OK, 0)


def _full_p(theta) -> np.ndarray:
    theta = np.asarray(theta, dtype=np.float64)
    last = 1.0
    for value in theta:
        last -= float(value)
    return np.append(theta, last)


def _numpy_sample(gen: np.random.Generator, theta: np.ndarray, n: int, design=None) -> np.ndarray:
    return gen.choice(K, size=n, p=_full_p(theta)).astype(np.float64)


def _reference_mle(x: np.ndarray) -> np.ndarray:
    return np.bincount(np.asarray(x, dtype=np.int64), minlength=K)[: K - 1] / len(x)


@dataclass(frozen=True)
class _SimplexModel(Model):
    """A model whose free probabilities must also leave the last category a positive share."""

    def check_theta(self, theta) -> None:
        super().check_theta(theta)
        total = sum(float(theta[name]) for name in self.param_names)
        if not total < 1.0:
            shown = " + ".join(repr(name) for name in self.param_names)
            raise ModelError(
                f"parameters {shown} of model {self.name!r} are probabilities of categories "
                f"0..{K - 2} and must sum to less than 1 (category {K - 1} gets the rest); "
                f"got a sum of {total:g}"
            )


MODEL = _SimplexModel(
    name="categorical",
    params=(
        Param("p0", UNIT_OPEN, typical=(0.1, 0.3), doc="P(X = 0)"),
        Param("p1", UNIT_OPEN, typical=(0.1, 0.3), doc="P(X = 1); P(X = 2) = 1 - p0 - p1"),
    ),
    support=Support.integers(0, K - 1),  # category indices
    sample=sample,
    loglik=loglik,
    score=score,
    fisher=fisher,
    estimators={
        "mle": Estimator("mle", fit_mle, "closed form frequencies n_j/n (softmax cross-entropy)"),
    },
    numpy_sample=_numpy_sample,
    scipy_dist=lambda theta: stats.rv_discrete(values=(np.arange(K), _full_p(theta))),
    reference_mle=_reference_mle,
    tags={"closed_form_mle": True, "discrete": True, "categories": K},
    doc="Three categories with probabilities (p0, p1, 1 - p0 - p1); data are indices 0..2.",
    absent_estimators={"mom": "the method-of-moments estimator equals the MLE; use mle"},
)
