"""Small kernels the estimators share: the failure exit, SEs from a 2×2 information matrix and
the safeguarded Newton step of the 1-D profile equations."""

from __future__ import annotations

import numpy as np

from simstudy._jit import jit


@jit
def fail(out_theta, out_se, status, n_iter):
    """NaN estimates and SEs; returns ``(status, n_iter)`` (the fit kernels' failure exit)."""
    for j in range(out_theta.size):
        out_theta[j] = np.nan
    for j in range(out_se.size):
        out_se[j] = np.nan
    return (status, n_iter)


@jit
def write_se_2x2(a, b, c, out_se):
    """SEs and correlation of two estimates from their total information [[a, b], [b, c]]
    (= -Hessian of ℓ at θ̂): Cov = [[c, -b], [-b, a]]/det. Returns False (SEs untouched) when
    the matrix is not positive definite."""
    det = a * c - b * b
    if not (a > 0.0 and det > 0.0):
        return False
    out_se[0] = np.sqrt(c / det)
    out_se[1] = np.sqrt(a / det)
    out_se[2] = -b / np.sqrt(a * c)
    return True


@jit
def bracketed_newton_step(t, f, fprime, lo, hi, max_step, expand):
    """One step of safeguarded Newton-Raphson for a root of a decreasing f (Press et al.,
    *Numerical Recipes* 3rd ed. §9.4, ``rtsafe``): the sign of f(t) moves one end of the
    bracket (lo, hi) to t; a Newton step t - f/f' that leaves the bracket or is longer than
    ``max_step`` is replaced by bisection when both ends are finite, else by a move of
    ``expand`` towards the root. Returns ``(t_new, lo, hi)``."""
    if f > 0.0:
        lo = t
    else:
        hi = t
    t_new = t - f / fprime if fprime != 0.0 else np.nan
    if not (lo < t_new < hi and abs(t_new - t) <= max_step):
        if np.isfinite(lo) and np.isfinite(hi):
            t_new = 0.5 * (lo + hi)
        elif f > 0.0:
            t_new = t + expand
        else:
            t_new = t - expand
    return t_new, lo, hi
