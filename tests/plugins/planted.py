"""Planted estimators: each breaks exactly one asymptotic property, by a known amount.

Used by tests/slow/test_properties.py through the plugin mechanism
(``{plugin: "planted:<function>", name: ...}``) to check that the verdicts have power (each
planted defect FAILs its property) and specificity (the properties the estimator keeps still
PASS). Every function is a Numba kernel ``f(x, out_theta, out_se) -> (status, n_iter)`` that
writes the model's parameters in declared order, like a model's ``fit_mle``.
"""

import numba
import numpy as np

#: Constant added to the exponential-rate MLE by :func:`exponential_shifted`.
SHIFT = 0.1
#: The "known" variance of :func:`normal_known_sigma2`.
KNOWN_SIGMA2 = 4.0


@numba.njit(cache=True)
def exponential_shifted(x, out_theta, out_se):
    """Exponential (rate): the MLE n/Σx plus 0.1.

    Inconsistent (converges to λ + 0.1), so RMSE levels off at 0.1 instead of falling like
    n^-1/2, and bias/EmpSE grows like 0.1·√n/λ. The SE is the MLE's observed-information SE
    λ̃/√n evaluated at the shifted value (irrelevant to the two properties it breaks).
    """
    out_theta[0] = x.size / x.sum() + SHIFT
    out_se[0] = out_theta[0] / np.sqrt(x.size)
    return (0, 0)


@numba.njit(cache=True)
def poisson_se_half_info(x, out_theta, out_se):
    """Poisson (rate): the MLE x̄ with its SE computed from *half* the Fisher information.

    Interpretation: "SE from half the information" means the variance is taken as
    1/(n·I(λ̂)/2) = 2λ̂/n, so the reported SE is √2 times the correct sqrt(λ̂/n). The Wald
    interval is then too wide: coverage -> P(|Z| <= 1.96·√2) = 0.9944 instead of 0.95, above
    the coverage band. Everything else (bias, variance, normality, rate) is the MLE's.
    """
    n = x.size
    lam = x.sum() / n
    out_theta[0] = lam
    out_se[0] = np.sqrt(2.0 * lam / n)
    return (0, 0)


@numba.njit(cache=True)
def poisson_se_double_info(x, out_theta, out_se):
    """Poisson (rate): the MLE x̄ with its SE from *twice* the information (SE/√2).

    The opposite error of :func:`poisson_se_half_info`: the interval is too narrow, coverage
    -> P(|Z| <= 1.96/√2) = 0.834, below the coverage band.
    """
    n = x.size
    lam = x.sum() / n
    out_theta[0] = lam
    out_se[0] = np.sqrt(0.5 * lam / n)
    return (0, 0)


@numba.njit(cache=True)
def normal_first_two_thirds(x, out_theta, out_se):
    """Normal (mu, sigma2): mu from the mean of the first m = floor(2n/3) observations.

    √n-consistent, unbiased and exactly normal, but Var = σ²/m ≈ 1.5 σ²/n: efficiency m/n ->
    2/3, below 1 - efficiency_margin. Its SE sqrt(s²/m) (s² the MLE of σ² from all n) is the
    correct one, so Wald coverage holds. sigma2 is the full-sample MLE with the MLE's SE.
    """
    n = x.size
    m = max((2 * n) // 3, 1)  # integer arithmetic: FRACTION·3000 rounds to 1999.999...
    head = 0.0
    for i in range(m):
        head += x[i]
    mu_head = head / m
    mean = x.sum() / n
    ss = 0.0
    for v in x:
        ss += (v - mean) ** 2
    s2 = ss / n
    out_theta[0] = mu_head
    out_theta[1] = s2
    out_se[0] = np.sqrt(s2 / m)
    out_se[1] = s2 * np.sqrt(2.0 / n)
    return (0, 0)


@numba.njit(cache=True)
def normal_known_sigma2(x, out_theta, out_se):
    """Normal (mu, sigma2): mu by x̄ with sigma2 *known* (= 4.0, not estimated).

    A legitimate user estimator (the MLE of mu when σ² is known) whose sigma2 "estimate" is a
    constant with SE 0: its EmpSE and ModSE for sigma2 are exactly zero, a degenerate case the
    metrics must survive (NaN or inf, not an exception).
    """
    n = x.size
    out_theta[0] = x.sum() / n
    out_theta[1] = KNOWN_SIGMA2
    out_se[0] = np.sqrt(KNOWN_SIGMA2 / n)
    out_se[1] = 0.0
    return (0, 0)
