"""Small dense linear algebra for estimator kernels (p ≲ 20), without exceptions.

NumPy's ``linalg`` in Numba raises on a singular matrix, and an exception inside the engine's
parallel loop would abort the whole block. These routines report failure as a return value, so
a fit can say ``no_mle`` (singular X'X) and the study goes on.
"""

from __future__ import annotations

import numpy as np

from simstudy._jit import jit

#: A pivot below this fraction of the matrix's largest diagonal entry counts as singular.
SINGULAR_RTOL = 1e-12


@jit
def cholesky(a, out):
    """Lower-triangular L with L Lᵀ = a (a symmetric p×p) into ``out``; False if a is not
    numerically positive definite (Cholesky-Banachiewicz; Golub & Van Loan, Alg. 4.2.1)."""
    p = a.shape[0]
    scale = 0.0
    for i in range(p):
        scale = max(scale, abs(a[i, i]))
    for i in range(p):
        for j in range(i + 1):
            s = a[i, j]
            for k in range(j):
                s -= out[i, k] * out[j, k]
            if i == j:
                if not s > SINGULAR_RTOL * scale:
                    return False
                out[i, i] = np.sqrt(s)
            else:
                out[i, j] = s / out[j, j]
        for j in range(i + 1, p):
            out[i, j] = 0.0
    return True


@jit
def cholesky_solve(chol, b, out):
    """Solve (L Lᵀ) x = b by forward and back substitution."""
    p = chol.shape[0]
    for i in range(p):
        s = b[i]
        for k in range(i):
            s -= chol[i, k] * out[k]
        out[i] = s / chol[i, i]
    for i in range(p - 1, -1, -1):
        s = out[i]
        for k in range(i + 1, p):
            s -= chol[k, i] * out[k]
        out[i] = s / chol[i, i]


@jit
def cholesky_inverse(chol, out):
    """(L Lᵀ)⁻¹ into ``out``, column by column."""
    p = chol.shape[0]
    e = np.zeros(p)
    col = np.empty(p)
    for j in range(p):
        e[:] = 0.0
        e[j] = 1.0
        cholesky_solve(chol, e, col)
        for i in range(p):
            out[i, j] = col[i]
