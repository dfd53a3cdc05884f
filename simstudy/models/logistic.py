"""Logistic regression: P(y = 1 | x) = σ(xᵀβ), σ(η) = 1/(1 + e^{-η}); the MLE minimises binary
cross-entropy (the reference texts' "BCE is the Bernoulli MLE").

Kernels and the Newton/separation machinery are in :mod:`simstudy.models._glm` (formulas and
sources there). Estimators: ``mle`` (Newton-Raphson with step halving; ``no_mle`` on certified
(quasi-)complete separation), ``mse_loss`` (least squares on the probabilities, Σ(y - σ(η))²,
"what if we use MSE for binary labels": consistent, but not efficient), and
``gradient_ascent`` (plain gradient ascent, configurable step: iteration counts and
non-convergence become visible). The per-observation information E[σ(1-σ) x xᵀ] has no closed
form under a random design: it is integrated over the covariate law to about 1e-13 relative
(:func:`simstudy.models._information.glm_information`), once per (β, design), and a Monte Carlo
average with its MCSE only for designs with too many Bernoulli or uniform covariates; under a
fixed design (a file of rows) it is exact at each n.
"""

from __future__ import annotations

import numpy as np

from simstudy import rng
from simstudy._jit import fit_kernel, jit
from simstudy.models import _glm
from simstudy.models._base import BINARY, NO_MLE, NOT_CONVERGED, OK, Estimator, Model
from simstudy.models._design import (
    DEFAULT_DESIGN,
    covariate_rows,
    design_from_spec,
    exact_exp,
    linear_predictor,
)
from simstudy.models._linalg import cholesky, cholesky_inverse, cholesky_solve

FAMILY = _glm.LOGISTIC
#: Gradient ascent defaults: rate on ℓ/n, iteration cap, tolerance on ‖∇ℓ/n‖∞.
GA_RATE, GA_MAX_ITER, GA_TOL = 1.0, 10_000, 1e-8


@jit
def sample(state, theta, design, out):
    _, width, n = covariate_rows(state, design, out)
    for i in range(n):
        prob = 1.0 / (1.0 + np.exp(-linear_predictor(out, i, width, theta)))
        out[i * width] = 1.0 if rng.next_double(state) < prob else 0.0


@jit
def loglik(x, theta):
    return _glm.total_loglik(x, theta, FAMILY)


@jit
def score(x, theta, out):
    _glm.total_score(x, theta, FAMILY, out)


@fit_kernel
def fit_mle(x, out_theta, out_se):
    return _glm.newton(x, out_theta, out_se, FAMILY)


@fit_kernel
def fit_gradient_ascent(x, out_theta, out_se):
    return _glm.gradient_ascent(x, out_theta, out_se, FAMILY, GA_RATE, GA_MAX_ITER, GA_TOL)


@jit
def _sq_loss(x, beta):
    width = beta.size + 1
    n = x.size // width
    total = 0.0
    for i in range(n):
        r = x[i * width] - _glm.mean_of(_glm.eta_at(x, i, width, beta), FAMILY)
        total += r * r
    return total


@jit
def _gauss_newton_system(x, beta, jtj, jtr, exact):
    """Gradient Σ r d x of -S/2 and either JᵀJ = Σ d² xxᵀ (Gauss-Newton) or the exact Hessian
    of S/2, Σ [d² - r d (1 - 2μ)] xxᵀ (d = μ(1-μ), d' = d(1-2μ): binary y never gives small
    residuals, so Gauss-Newton alone converges only linearly)."""
    p = beta.size
    width = p + 1
    n = x.size // width
    jtj[:, :] = 0.0
    jtr[:] = 0.0
    for i in range(n):
        mu = _glm.mean_of(_glm.eta_at(x, i, width, beta), FAMILY)
        d = mu * (1.0 - mu)
        r = x[i * width] - mu
        w = d * d - (r * d * (1.0 - 2.0 * mu) if exact else 0.0)
        for a in range(p):
            xa = x[i * width + 1 + a]
            jtr[a] += d * xa * r
            for b in range(a + 1):
                jtj[a, b] += w * xa * x[i * width + 1 + b]
    for a in range(p):
        for b in range(a):
            jtj[b, a] = jtj[a, b]


@jit
def _sandwich(x, beta, chol, out_se):
    p = beta.size
    width = p + 1
    n = x.size // width
    meat = np.zeros((p, p))
    for i in range(n):
        mu = _glm.mean_of(_glm.eta_at(x, i, width, beta), FAMILY)
        d = mu * (1.0 - mu)
        r = x[i * width] - mu
        for a in range(p):
            ja = d * x[i * width + 1 + a]
            for b in range(p):
                meat[a, b] += r * r * ja * d * x[i * width + 1 + b]
    bread = np.empty((p, p))
    cholesky_inverse(chol, bread)
    cov = bread @ meat @ bread
    _glm.write_covariance_se(cov, out_se)


@fit_kernel
def fit_mse_loss(x, out_theta, out_se):
    """Newton (Gauss-Newton where the exact Hessian is not positive definite) with step halving
    on S(β) = Σ(y - σ(η))², from β = 0; SE by the sandwich
    A⁻¹BA⁻¹, A = Σ J Jᵀ, B = Σ r² J Jᵀ, J = σ(1-σ)x (an M-estimator: its model-based SE is not
    the inverse information; Huber 1967, White 1982)."""
    p = out_theta.size
    width = p + 1
    n = x.size // width
    if n <= p or _glm._degenerate_response(x, width, FAMILY):
        return _glm.fail(out_theta, out_se, NO_MLE, 0)
    beta = np.zeros(p)
    trial = np.empty(p)
    jtr = np.empty(p)
    jtj = np.empty((p, p))
    chol = np.empty((p, p))
    step = np.empty(p)
    loss = _sq_loss(x, beta)
    for it in range(1, _glm.MAX_ITER + 1):
        _gauss_newton_system(x, beta, jtj, jtr, True)
        if not cholesky(jtj, chol):
            _gauss_newton_system(x, beta, jtj, jtr, False)
            if not cholesky(jtj, chol):
                status = NO_MLE if _glm.certified_divergence(x, beta, FAMILY) else NOT_CONVERGED
                return _glm.fail(out_theta, out_se, status, it)
        cholesky_solve(chol, jtr, step)
        decrement = 0.0
        for j in range(p):
            decrement += step[j] * jtr[j]
        if decrement <= _glm.NEWTON_TOL * max(1.0, loss):
            for j in range(p):
                out_theta[j] = beta[j] + step[j]  # the last, tiny step (as in _glm.newton)
            beta[:] = out_theta
            _gauss_newton_system(x, beta, jtj, jtr, False)  # the sandwich's bread is JᵀJ
            if not cholesky(jtj, chol):
                return _glm.fail(out_theta, out_se, NOT_CONVERGED, it)
            _sandwich(x, beta, chol, out_se)
            return (OK, it)
        t = 1.0
        accepted = False
        for _ in range(_glm.MAX_HALVINGS):
            for j in range(p):
                trial[j] = beta[j] + t * step[j]
            new_loss = _sq_loss(x, trial)
            if new_loss < loss or (new_loss == loss and t == 1.0):
                accepted = True
                break
            t *= 0.5
        if not accepted:
            return _glm.fail(out_theta, out_se, NOT_CONVERGED, it)
        beta[:] = trial
        loss = new_loss
        if _glm._max_abs_eta(x, beta) > _glm.DIVERGENCE_ETA and _glm.certified_divergence(
            x, beta, FAMILY
        ):
            return _glm.fail(out_theta, out_se, NO_MLE, it)
    return _glm.fail(out_theta, out_se, NOT_CONVERGED, _glm.MAX_ITER)


def _draw_y(gen, eta):
    prob = 1.0 / (1.0 + exact_exp(-eta))
    return (gen.random(eta.size) < prob).astype(np.float64)


def _row_logpmf(y, eta):
    out = y * eta - np.logaddexp(0.0, eta)
    return np.where((y == 0.0) | (y == 1.0), out, -np.inf)


def make_model(spec=None) -> Model:
    """Logistic regression for a design (the config's ``design:``; default if None)."""
    design = design_from_spec(spec)
    return _glm.glm_model(
        name="logistic", family=FAMILY, design=design, make_model=make_model, sample=sample,
        loglik=loglik, score=score, fit_mle=fit_mle, fit_gradient_ascent=fit_gradient_ascent,
        ga_defaults=(GA_RATE, GA_MAX_ITER, GA_TOL), draw_y=_draw_y, row_logpmf=_row_logpmf,
        statsmodels_family="Logit", typical=(-1.0, 1.0), response_support=BINARY,
        extra_estimators={
            # n <= p: no_mle, as for the other estimators (fit_mse_loss)
            "mse_loss": Estimator("mse_loss", fit_mse_loss, "least squares on σ(xᵀβ); sandwich SE",
                                  min_n=design.p + 1),
        },
        coefficient_doc="log-odds coefficient", doc="P(y=1|x) = σ(xᵀβ) with x = {design}",
    )  # fmt: skip


MODEL = make_model(DEFAULT_DESIGN)
