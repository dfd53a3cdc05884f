"""Poisson regression with log link: y | x ~ Poisson(e^{xᵀβ}).

Kernels, Newton-Raphson and the non-existence certificate are in :mod:`simstudy.models._glm`.
The per-observation information E[e^η x xᵀ] is a cached Monte Carlo average over
``FISHER_DRAWS`` design draws (relative MCSE ~1e-3).
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import stats

from simstudy import rng
from simstudy._jit import fit_kernel, jit
from simstudy.models import _glm
from simstudy.models._base import REAL, Estimator, Model, Param
from simstudy.models._design import (
    DEFAULT_DESIGN,
    FISHER_DRAWS,
    Design,
    covariate_generator,
    design_from_spec,
    draw_covariates,
    exact_exp,
    linear_predictor,
    linear_predictor_numpy,
)

FAMILY = _glm.POISSON
GA_RATE, GA_MAX_ITER, GA_TOL = 0.1, 10_000, 1e-8


@jit
def sample(state, theta, design, out):
    p = int(design[0])
    width = p + 1
    n = out.size // width
    draw_covariates(state, design, out, n, width)
    for i in range(n):
        out[i * width] = float(rng.poisson(state, np.exp(linear_predictor(out, i, width, theta))))


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


class _RowPmf:
    def __init__(self, beta):
        self.beta = np.asarray(beta)
        self.dist = stats.poisson

    def logpdf(self, x):
        rows = np.asarray(x, dtype=np.float64).reshape(-1, self.beta.size + 1)
        mu = np.exp(linear_predictor_numpy(rows[:, 1:], self.beta))
        return stats.poisson.logpmf(rows[:, 0], mu)


def make_model(spec=None) -> Model:
    """Poisson regression for a design (the config's ``design:``; default if None)."""
    design: Design = spec if isinstance(spec, Design) else design_from_spec(spec)
    p = design.p

    @functools.lru_cache(maxsize=64)
    def _fisher(beta: tuple) -> np.ndarray:
        return _glm.monte_carlo_fisher(design, np.array(beta), FAMILY, FISHER_DRAWS)

    def fisher(theta, out):
        out[:, :] = _fisher(tuple(float(b) for b in theta[:p]))

    def numpy_sample(gen, theta, n, design_array=None):
        covariates = design.draw_numpy(covariate_generator(gen), n)
        y = gen.poisson(exact_exp(linear_predictor_numpy(covariates, theta[:p]))).astype(np.float64)
        return np.column_stack([y, covariates]).ravel()

    def reference_mle(x):
        """statsmodels' Poisson GLM by Newton to 1e-12 (test-time dependency, [dev] extra)."""
        import statsmodels.api as sm

        rows = np.asarray(x).reshape(-1, p + 1)
        res = sm.Poisson(rows[:, 0], rows[:, 1:]).fit(method="newton", tol=1e-12, maxiter=200, disp=0)
        return np.asarray(res.params)

    params = tuple(
        Param(name, REAL, typical=(-0.5, 0.5), doc=f"log-rate coefficient of column {j} of X")
        for j, name in enumerate(design.coefficient_names())
    )
    return Model(
        name="poisson_regression",
        params=params,
        support="y in {0, 1, ...} given x",
        sample=sample,
        loglik=loglik,
        score=score,
        fisher=fisher,
        estimators={
            "mle": Estimator("mle", fit_mle, "Newton-Raphson, log link, step halving"),
            "gradient_ascent": Estimator(
                "gradient_ascent", fit_gradient_ascent,
                f"gradient ascent on ℓ/n, rate {GA_RATE:g}, at most {GA_MAX_ITER} steps",
                options={"rate": GA_RATE, "max_iter": GA_MAX_ITER, "tol": GA_TOL},
                factory=_glm.gradient_ascent_factory(FAMILY),
            ),
        },  # fmt: skip
        numpy_sample=numpy_sample,
        scipy_dist=lambda theta: _RowPmf(theta[:p]),
        reference_mle=reference_mle,
        tags={"closed_form_mle": False, "regression": True, "fisher_monte_carlo_draws": FISHER_DRAWS},
        doc=f"y ~ Poisson(exp(xᵀβ)) with x = {design.describe()}",
        data_width=p + 1,
        specialize=make_model,
        design=design,
    )


MODEL = make_model(DEFAULT_DESIGN)
