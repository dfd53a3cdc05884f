"""Sample statistics shared by estimator kernels."""

from __future__ import annotations

from simstudy._jit import jit


@jit
def central_moments(x):
    """(x̄, m2, m3, m4): the mean and the central moments with divisor n (two passes)."""
    n = x.size
    mean = x.sum() / n
    m2 = 0.0
    m3 = 0.0
    m4 = 0.0
    for v in x:
        d = v - mean
        d2 = d * d
        m2 += d2
        m3 += d2 * d
        m4 += d2 * d2
    return mean, m2 / n, m3 / n, m4 / n
