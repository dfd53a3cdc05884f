"""Example plugin estimators for configs/plugin_example.yaml.

Each is a Numba kernel ``f(x, out_theta, out_se) -> (status, n_iter)`` writing the model's
parameters in declared order (normal: mu, sigma2; exponential: rate).
"""

import numba
import numpy as np

#: Asymptotic variance of the sample median at the normal, in units of σ²/n: π/2
#: (Laplace; Serfling, Approximation Theorems of Mathematical Statistics, §2.3.3).
MEDIAN_AVAR = np.pi / 2.0


@numba.njit(cache=True)
def median(x, out_theta, out_se):
    """Normal: the sample median for mu (efficiency 2/π ≈ 0.64), the MLE for sigma2."""
    n = x.size
    mean = x.mean()
    ss = 0.0
    for v in x:
        ss += (v - mean) ** 2
    s2 = ss / n
    out_theta[0] = np.median(x)
    out_theta[1] = s2
    out_se[0] = np.sqrt(MEDIAN_AVAR * s2 / n)
    out_se[1] = s2 * np.sqrt(2.0 / n)
    return (0, 0)


@numba.njit(cache=True)
def shifted(x, out_theta, out_se):
    """Exponential: the MLE plus 0.1, a deliberately inconsistent estimator."""
    out_theta[0] = x.size / x.sum() + 0.1
    out_se[0] = out_theta[0] / np.sqrt(x.size)
    return (0, 0)
