"""Plugin models with exact pieces (used by tests/test_plugin_models.py and
tests/test_check_suite.py), and variants with pieces removed one by one (so that simstudy's
fallbacks stand in) or planted wrong (each breaks the checks its docstring names).

- ``Pareto``: Pareto(α) with scale 1, f(x) = α x^(-α-1) on x > 1. Per observation
  ℓ = log α - (α+1) log x, score 1/α - log x, I(α) = 1/α²; MLE α̂ = n/Σ log x with SE α̂/√n
  (Arnold, *Pareto Distributions*, 2nd ed., §5.2). X = 1 + expm1(E/α), E ~ Exp(1): NumPy's
  ``Generator.pareto(α)`` is expm1(E/α) on the same exponential draw.
- ``ZeroInflatedPoisson``: P(0) = π + (1-π)e^{-λ}, P(k) = (1-π)e^{-λ}λ^k/k! for k >= 1
  (Lambert 1992, Technometrics 34:1-14); the information in closed form below.
- ``ShiftedNormal``: rows (y, x), x ~ N(0, 1), y | x ~ N(βx, 1): two values per observation,
  so simstudy can only estimate its information (I = E[x²] = 1) by Monte Carlo.
"""

import math

import numba
import numpy as np

from simstudy import rng
from simstudy.models import POSITIVE, UNIT_OPEN, Param, Support
from simstudy.models._base import NO_MLE, OK


@numba.njit(cache=True)
def _sum_log(x):
    """Σ log x_i: the Pareto's sufficient statistic."""
    total = 0.0
    for v in x:
        total += np.log(v)
    return total


class Pareto:
    """Pareto(α), scale 1."""

    name = "pareto"
    params = (Param("alpha", POSITIVE, typical=(1.5, 5.0), doc="shape α"),)
    support = Support(1.0)

    @staticmethod
    @numba.njit(cache=True)
    def logpdf(x, theta):
        if x <= 1.0:
            return -np.inf
        return np.log(theta[0]) - (theta[0] + 1.0) * np.log(x)

    @staticmethod
    @numba.njit(cache=True)
    def sample(state, theta, out):
        for i in range(out.size):
            out[i] = 1.0 + np.expm1(rng.standard_exponential(state) / theta[0])

    @staticmethod
    @numba.njit(cache=True)
    def score(x, theta, out):
        total = _sum_log(x)
        out[0] = x.size / theta[0] - total

    @staticmethod
    def fisher(theta, out):
        out[0, 0] = 1.0 / theta[0] ** 2

    @staticmethod
    @numba.njit(cache=True)
    def fit_mle(x, out_theta, out_se):
        total = _sum_log(x)
        if not total > 0.0:
            out_theta[0] = np.nan
            return NO_MLE, 0
        out_theta[0] = x.size / total
        out_se[0] = out_theta[0] / np.sqrt(x.size)
        return OK, 0

    @staticmethod
    def numpy_sample(gen, theta, n):
        return 1.0 + gen.pareto(theta[0], n)

    @staticmethod
    @numba.njit(cache=True)
    def suff_stats(x, out):
        total = _sum_log(x)
        out[0] = x.size
        out[1] = total

    @staticmethod
    @numba.njit(cache=True)
    def suff_loglik(stats, theta):
        return stats[0] * np.log(theta[0]) - (theta[0] + 1.0) * stats[1]

    n_suff = 2


def zip_fisher(pi: float, lam: float) -> np.ndarray:
    """The zero-inflated Poisson's information, Σ_x p(x) s(x) s(x)ᵀ in closed form, with
    p0 = π + (1-π)e^{-λ}: s(0) = ((1-e^{-λ})/p0, -(1-π)e^{-λ}/p0) and s(k) = (-1/(1-π),
    k/λ - 1) for k >= 1."""
    e = math.exp(-lam)
    p0 = pi + (1.0 - pi) * e
    i_pp = (1.0 - e) ** 2 / p0 + (1.0 - e) / (1.0 - pi)
    i_pl = -(1.0 - e) * (1.0 - pi) * e / p0 - e
    i_ll = (1.0 - pi) ** 2 * e * e / p0 + (1.0 - pi) * (1.0 / lam - e)
    return np.array([[i_pp, i_pl], [i_pl, i_ll]])


class ZeroInflatedPoisson:
    """Zero-inflated Poisson(π, λ)."""

    name = "zip"
    params = (Param("pi", UNIT_OPEN, typical=(0.1, 0.5), doc="extra zeros π"),
              Param("lam", POSITIVE, typical=(1.0, 6.0), doc="Poisson mean λ"))  # fmt: skip
    support = Support.integers(0)
    start = (0.3, 2.0)

    @staticmethod
    @numba.njit(cache=True)
    def logpdf(x, theta):
        pi, lam = theta[0], theta[1]
        if x < 0 or x != np.floor(x) or not 0.0 < pi < 1.0 or not lam > 0.0:
            return -np.inf
        if x == 0.0:
            return np.log(pi + (1.0 - pi) * np.exp(-lam))
        return np.log1p(-pi) - lam + x * np.log(lam) - math.lgamma(x + 1.0)

    @staticmethod
    @numba.njit(cache=True)
    def sample(state, theta, out):
        for i in range(out.size):
            if rng.next_double(state) < theta[0]:
                out[i] = 0.0
            else:
                out[i] = rng.poisson(state, theta[1])

    @staticmethod
    @numba.njit(cache=True)
    def score(x, theta, out):
        pi, lam = theta[0], theta[1]
        e = np.exp(-lam)
        p0 = pi + (1.0 - pi) * e
        s_pi = 0.0
        s_lam = 0.0
        for v in x:
            if v == 0.0:
                s_pi += (1.0 - e) / p0
                s_lam += -(1.0 - pi) * e / p0
            else:
                s_pi += -1.0 / (1.0 - pi)
                s_lam += v / lam - 1.0
        out[0] = s_pi
        out[1] = s_lam

    @staticmethod
    def fisher(theta, out):
        out[:, :] = zip_fisher(theta[0], theta[1])


def _without(base, *names, suffix):
    """A subclass of ``base`` with the optional pieces ``names`` removed."""
    return type(base.__name__ + suffix, (base,), {n: None for n in names})


# Pieces removed one by one (simstudy's fallbacks stand in for them).
ParetoNoFisher = _without(Pareto, "fisher", suffix="NoFisher")
ParetoNoScore = _without(Pareto, "score", suffix="NoScore")
ParetoLogpdfOnly = _without(Pareto, "fisher", "score", "fit_mle", "numpy_sample", "suff_stats",
                            "suff_loglik", "n_suff", suffix="LogpdfOnly")  # fmt: skip
ZipNoFisher = _without(ZeroInflatedPoisson, "fisher", suffix="NoFisher")
ZipLogpdfOnly = _without(ZeroInflatedPoisson, "fisher", "score", suffix="LogpdfOnly")


# Planted errors: a check must fail.
class ParetoWrongScore(Pareto):
    """The score 10% too large."""

    @staticmethod
    @numba.njit(cache=True)
    def score(x, theta, out):
        total = _sum_log(x)
        out[0] = 1.1 * (x.size / theta[0] - total)


class ParetoWrongFisher(Pareto):
    """The information 20% too large."""

    @staticmethod
    def fisher(theta, out):
        out[0, 0] = 1.2 / theta[0] ** 2


class ParetoBiasedScore(Pareto):
    """The score of 1.1 α instead of α in its first term: E[score] = 0.1/α per observation, not 0,
    and score(α̂) ≠ 0 at the (correct) MLE; Var(score) stays within 1% of I."""

    @staticmethod
    @numba.njit(cache=True)
    def score(x, theta, out):
        total = _sum_log(x)
        out[0] = 1.1 * x.size / theta[0] - total


class ParetoWrongReplay(Pareto):
    """``numpy_sample`` draws exp(E/α) (the same law as 1 + expm1(E/α), but not the same bits):
    only the replay guarantee breaks."""

    @staticmethod
    def numpy_sample(gen, theta, n):
        return np.exp(gen.standard_exponential(n) / theta[0])


class ZipWrongFisher(ZeroInflatedPoisson):
    """The off-diagonal information with the wrong sign."""

    @staticmethod
    def fisher(theta, out):
        info = zip_fisher(theta[0], theta[1])
        info[0, 1] = info[1, 0] = -info[0, 1]
        out[:, :] = info


class Unnormalized(Pareto):
    """A density that integrates to 2: no information can be right."""

    fisher = None

    @staticmethod
    @numba.njit(cache=True)
    def logpdf(x, theta):
        if x <= 1.0:
            return -np.inf
        return np.log(2.0 * theta[0]) - (theta[0] + 1.0) * np.log(x)


class ShiftedNormal:
    """Rows (y, x): x ~ N(0, 1), y | x ~ N(βx, 1); I(β) = E[x²] = 1."""

    name = "rows"
    params = (Param("beta", POSITIVE, typical=(0.5, 2.0), doc="slope β"),)
    data_width = 2
    start = (1.0,)

    @staticmethod
    @numba.njit(cache=True)
    def logpdf(row, theta):
        r = row[0] - theta[0] * row[1]
        return -0.5 * r * r - 0.9189385332046727

    @staticmethod
    @numba.njit(cache=True)
    def sample(state, theta, out):
        for i in range(out.size // 2):
            x = rng.standard_normal(state)
            out[2 * i + 1] = x
            out[2 * i] = theta[0] * x + rng.standard_normal(state)
