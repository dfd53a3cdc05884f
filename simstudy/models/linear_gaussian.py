"""Linear Gaussian regression: y = xᵀβ + ε, ε ~ N(0, σ²); the MLE of β is least squares.

Formulas (Seber & Lee, *Linear Regression Analysis*, 2nd ed., §3.1-3.3):
ℓ = -n/2 log(2πσ²) - Σ(y - xᵀβ)²/(2σ²); score = (Σ(y - xᵀβ)x/σ², -n/(2σ²) + RSS/(2σ⁴));
per-observation information I = diag(E[xxᵀ]/σ², 1/(2σ⁴)) under the design (E[xxᵀ] exact
from the covariates' moments, or (1/n)XᵀX at each n for a fixed design); MLE
β̂ = (XᵀX)⁻¹Xᵀy (Cholesky), σ̂² = RSS/n (biased: E = (n-p)σ²/n); SEs from the observed
information: σ̂²(XᵀX)⁻¹ and σ̂²·sqrt(2/n).
This is "MSE = the Gaussian MLE" of the reference texts.
"""

from __future__ import annotations

import math

import numpy as np

from simstudy import rng
from simstudy._jit import fit_kernel, jit
from simstudy._lazy import lazy_import
from simstudy.models._base import NO_MLE, OK, POSITIVE, REAL, REALS, Estimator, Model, Param
from simstudy.models._design import (
    DEFAULT_DESIGN,
    FixedDesign,
    covariate_generator,
    covariate_rows,
    design_from_spec,
    linear_predictor,
    linear_predictor_numpy,
)
from simstudy.models._linalg import cholesky, cholesky_inverse, cholesky_solve

stats = lazy_import("scipy.stats")

_LOG_2PI = math.log(2.0 * math.pi)


@jit
def sample(state, theta, design, out):
    p, width, n = covariate_rows(state, design, out)
    sigma = np.sqrt(theta[p])
    for i in range(n):
        out[i * width] = linear_predictor(out, i, width, theta) + sigma * rng.standard_normal(state)


@jit
def _rss(x, theta, p):
    width = p + 1
    n = x.size // width
    rss = 0.0
    for i in range(n):
        r = x[i * width] - linear_predictor(x, i, width, theta)
        rss += r * r
    return rss


@jit
def loglik(x, theta):
    p = theta.size - 1
    n = x.size // (p + 1)
    s2 = theta[p]
    return -0.5 * n * (_LOG_2PI + np.log(s2)) - _rss(x, theta, p) / (2.0 * s2)


@jit
def score(x, theta, out):
    p = theta.size - 1
    width = p + 1
    n = x.size // width
    s2 = theta[p]
    for j in range(p + 1):
        out[j] = 0.0
    rss = 0.0
    for i in range(n):
        r = x[i * width] - linear_predictor(x, i, width, theta)
        rss += r * r
        for j in range(p):
            out[j] += r * x[i * width + 1 + j] / s2
    out[p] = -0.5 * n / s2 + rss / (2.0 * s2 * s2)


@jit
def _normal_equations(x, p, xtx, xty):
    width = p + 1
    n = x.size // width
    for a in range(p):
        xty[a] = 0.0
        for b in range(p):
            xtx[a, b] = 0.0
    for i in range(n):
        y = x[i * width]
        for a in range(p):
            xa = x[i * width + 1 + a]
            xty[a] += xa * y
            for b in range(a + 1):
                xtx[a, b] += xa * x[i * width + 1 + b]
    for a in range(p):
        for b in range(a):
            xtx[b, a] = xtx[a, b]


@fit_kernel
def fit_mle(x, out_theta, out_se):
    p = out_theta.size - 1
    n = x.size // (p + 1)
    xtx = np.empty((p, p))
    xty = np.empty(p)
    chol = np.empty((p, p))
    _normal_equations(x, p, xtx, xty)
    if n <= p or not cholesky(xtx, chol):
        for j in range(out_theta.size):
            out_theta[j] = np.nan
        return (NO_MLE, 0)
    beta = np.empty(p)
    cholesky_solve(chol, xty, beta)
    for j in range(p):
        out_theta[j] = beta[j]
    out_theta[p] = 0.0
    rss = _rss(x, out_theta, p)
    s2 = rss / n
    out_theta[p] = s2
    if not s2 > 0.0:
        out_theta[p] = np.nan
        return (NO_MLE, 0)
    inv = np.empty((p, p))
    cholesky_inverse(chol, inv)
    k = p + 1
    for j in range(p):
        out_se[j] = np.sqrt(s2 * inv[j, j])
    out_se[p] = s2 * np.sqrt(2.0 / n)
    slot = k
    for a in range(k):
        for b in range(a + 1, k):
            # corr(β_a, β_b) from (XᵀX)⁻¹; β̂ and σ̂² are independent (correlation 0).
            out_se[slot] = inv[a, b] / np.sqrt(inv[a, a] * inv[b, b]) if b < p else 0.0
            slot += 1
    return (OK, 0)


class _RowDensity:
    """log f(y_i | x_i) per observation of a flat (y, x...) buffer, SciPy-style."""

    def __init__(self, beta, sigma2):
        self.beta, self.sigma = np.asarray(beta), math.sqrt(sigma2)
        self.dist = stats.norm

    def logpdf(self, x):
        rows = np.asarray(x, dtype=np.float64).reshape(-1, self.beta.size + 1)
        eta = linear_predictor_numpy(rows[:, 1:], self.beta)
        return stats.norm.logpdf(rows[:, 0], eta, self.sigma)


def make_model(spec=None) -> Model:
    """The linear Gaussian model for a design (the config's ``design:``; default if None)."""
    design = design_from_spec(spec)
    p = design.p
    moments = design.second_moments()

    # Per-observation information (Seber & Lee, §3.3): diag(E[xxᵀ]/σ², 1/(2σ⁴)).
    def _information(theta, second_moments, out):
        s2 = theta[p]
        out[:, :] = 0.0
        out[:p, :p] = second_moments / s2
        out[p, p] = 1.0 / (2.0 * s2 * s2)

    def fisher(theta, out):
        _information(theta, moments, out)

    def fisher_at(theta, n):
        out = np.zeros((p + 1, p + 1))
        _information(theta, design.second_moments_at(n), out)
        return out

    def numpy_sample(gen, theta, n, design_array=None):
        covariates = design.draw_numpy(covariate_generator(gen), n)
        y = linear_predictor_numpy(covariates, theta[:p]) + math.sqrt(theta[p]) * gen.standard_normal(n)
        return np.column_stack([y, covariates]).ravel()

    def reference_mle(x):
        """statsmodels' OLS (QR/pinv), σ̂² = RSS/n (test-time dependency, [dev] extra)."""
        import statsmodels.api as sm

        rows = np.asarray(x).reshape(-1, p + 1)
        res = sm.OLS(rows[:, 0], rows[:, 1:]).fit()
        return np.append(np.asarray(res.params), res.ssr / rows.shape[0])

    params = tuple(
        Param(name, REAL, typical=(-1.0, 1.0), doc=f"coefficient of column {j} of X")
        for j, name in enumerate(design.coefficient_names())
    ) + (Param("sigma2", POSITIVE, typical=(0.25, 4.0), doc="error variance σ²"),)
    return Model(
        name="linear_gaussian",
        params=params,
        support=REALS,  # of y; covariates are finite reals
        sample=sample,
        loglik=loglik,
        score=score,
        fisher=fisher,
        # n <= p rows never identify β (XᵀX is singular): min_n = p + 1.
        estimators={"mle": Estimator("mle", fit_mle, "least squares; σ² = RSS/n", min_n=p + 1)},
        numpy_sample=numpy_sample,
        scipy_dist=lambda theta: _RowDensity(theta[:p], theta[p]),
        reference_mle=reference_mle,
        tags={"closed_form_mle": True, "regression": True},
        doc=f"y = xᵀβ + N(0, σ²) with x = {design.describe()}",
        data_width=p + 1,
        specialize=make_model,
        design=design,
        fisher_at=fisher_at if isinstance(design, FixedDesign) else None,
    )


MODEL = make_model(DEFAULT_DESIGN)
