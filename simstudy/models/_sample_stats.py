"""Sample statistics shared by estimator kernels."""

from __future__ import annotations

import numpy as np

from simstudy._jit import jit
from simstudy.models import _reduce


@jit
def central_moments(x):
    """(x̄, m2, m3, m4, min x, max x): the mean and the central moments with divisor n (two
    passes, the second about x̄: Chan, Golub & LeVeque 1983) and the range, for the exact
    constant-sample test min == max; x non-empty."""
    n = x.size
    total, lo, hi = _reduce.total_min_max(x)
    mean = total / n
    m2, m3, m4 = _reduce.central_moments_3_4(x, mean)
    return mean, m2 / n, m3 / n, m4 / n, lo, hi


@jit
def moment_delta_se(n, m2, m3, m4, g0, g1, h0, h1, out_se):
    """SEs of two estimators f(x̄, v) and g(x̄, v), and their correlation, into ``out_se[:3]``
    by the delta method: (x̄, v) has asymptotic covariance [[μ₂, μ₃], [μ₃, μ₄ - μ₂²]]/n
    (Serfling 1980, §2.2.3), estimated by the sample moments (m2, m3, m4); (g0, g1) and
    (h0, h1) are the gradients of f and g in (x̄, v)."""
    c00, c01, c11 = m2, m3, m4 - m2 * m2
    var_f = g0 * g0 * c00 + 2.0 * g0 * g1 * c01 + g1 * g1 * c11
    var_g = h0 * h0 * c00 + 2.0 * h0 * h1 * c01 + h1 * h1 * c11
    cov = g0 * h0 * c00 + (g0 * h1 + g1 * h0) * c01 + g1 * h1 * c11
    out_se[0] = np.sqrt(max(var_f, 0.0) / n)
    out_se[1] = np.sqrt(max(var_g, 0.0) / n)
    if var_f > 0.0 and var_g > 0.0:
        out_se[2] = cov / np.sqrt(var_f * var_g)
