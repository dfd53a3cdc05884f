"""Python estimators for the example studies ``configs/python_*.yaml``.

Each is a plain function ``f(data, **options)`` called on every replication's sample (what
``StudyResult.sample`` returns) and returning the estimates by parameter name, with standard
errors where it has them (see the README, "Python estimators").
"""

from __future__ import annotations

import numpy as np

import simstudy


def statsmodels_logit(data):
    """Logistic regression by statsmodels' Newton-Raphson: the same MLE as the built-in ``mle``.

    ``data`` holds the rows (y, x_0, x_1, x_2) flat, x_0 the intercept's column of ones."""
    import statsmodels.api as sm

    rows = data.reshape(-1, 4)
    fit = sm.Logit(rows[:, 0], rows[:, 1:]).fit(method="newton", tol=1e-12, maxiter=100, disp=0)
    names = ("b0", "b1", "b2")
    return {
        "estimate": dict(zip(names, fit.params)),
        "se": dict(zip(names, fit.bse)),
        "status": "ok" if fit.mle_retvals["converged"] else "not_converged",
    }


def scipy_gamma(x):
    """``scipy.stats.gamma.fit`` with the location fixed at 0: SciPy's gamma MLE (no SEs)."""
    from scipy import stats

    shape, _loc, scale = stats.gamma.fit(x, floc=0)
    return {"shape": shape, "rate": 1.0 / scale}


def huber(x, k=1.345, tol=1e-10, max_iter=100):
    """Huber's M-estimator of location (scale: the normalized MAD), by iteratively reweighted
    means, with its sandwich standard error; ``sigma2`` is the variance MLE."""
    n = x.size
    scale = 1.482602218505602 * np.median(np.abs(x - np.median(x)))
    mu = np.median(x)
    for i in range(1, max_iter + 1):
        r = (x - mu) / scale
        w = np.minimum(1.0, k / np.maximum(np.abs(r), 1e-300))
        step = np.sum(w * (x - mu)) / np.sum(w)
        mu += step
        if abs(step) <= tol * scale:
            break
    r = (x - mu) / scale
    psi = np.clip(r, -k, k)
    slope = np.mean(np.abs(r) <= k)
    sigma2 = np.mean((x - x.mean()) ** 2)
    return simstudy.FitResult(
        estimate={"mu": mu, "sigma2": sigma2},
        se={"mu": scale * np.sqrt(np.mean(psi**2)) / slope / np.sqrt(n),
            "sigma2": sigma2 * np.sqrt(2.0 / n)},
        status="ok" if i < max_iter else "not_converged",
        n_iter=i,
    )
