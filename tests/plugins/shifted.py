"""Test-only plugin estimators (Numba kernels with the fit signature)."""

import numba
import numpy as np

SHIFT = 0.1


@numba.njit(cache=True)
def shifted_mean(x, out_theta, out_se):
    """Exponential-rate MLE plus a constant: inconsistent by design."""
    out_theta[0] = x.size / x.sum() + SHIFT
    out_se[0] = out_theta[0] / np.sqrt(x.size)
    return (0, 0)
