"""Sample statistics shared by estimator kernels."""

from __future__ import annotations

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
