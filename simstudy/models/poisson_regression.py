"""Poisson regression with log link: y | x ~ Poisson(e^{xᵀβ}).

Kernels, Newton-Raphson and the non-existence certificate are in :mod:`simstudy.models._glm`.
The per-observation information E[e^η x xᵀ] is integrated over the covariate law
(:func:`simstudy.models._information.glm_information`, about 1e-13 relative; a Monte Carlo
average with its MCSE only for designs it cannot integrate); exact at each n under a fixed
design.
"""

from __future__ import annotations

import numpy as np

from simstudy import rng
from simstudy._jit import fit_kernel, jit
from simstudy._lazy import lazy_import
from simstudy.models import _glm
from simstudy.models._base import COUNTS, Model
from simstudy.models._design import (
    DEFAULT_DESIGN,
    covariate_rows,
    design_from_spec,
    exact_exp,
    linear_predictor,
)

stats = lazy_import("scipy.stats")

FAMILY = _glm.POISSON
GA_RATE, GA_MAX_ITER, GA_TOL = 0.1, 10_000, 1e-8


@jit
def sample(state, theta, design, out):
    _, width, n = covariate_rows(state, design, out)
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


def _draw_y(gen, eta):
    return gen.poisson(exact_exp(eta)).astype(np.float64)


def _row_logpmf(y, eta):
    return stats.poisson.logpmf(y, np.exp(eta))


def make_model(spec=None) -> Model:
    """Poisson regression for a design (the config's ``design:``; default if None)."""
    design = design_from_spec(spec)
    return _glm.glm_model(
        name="poisson_regression", family=FAMILY, design=design, make_model=make_model,
        sample=sample, loglik=loglik, score=score, fit_mle=fit_mle,
        fit_gradient_ascent=fit_gradient_ascent, ga_defaults=(GA_RATE, GA_MAX_ITER, GA_TOL),
        draw_y=_draw_y, row_logpmf=_row_logpmf, statsmodels_family="Poisson",
        typical=(-0.5, 0.5), coefficient_doc="log-rate coefficient", response_support=COUNTS,
        doc="y ~ Poisson(exp(xᵀβ)) with x = {design}",
    )  # fmt: skip


MODEL = make_model(DEFAULT_DESIGN)
