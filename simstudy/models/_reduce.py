"""One-pass reductions over a sample with four independent accumulators.

Fast-math is never enabled (see :mod:`simstudy._jit`), so LLVM may not reassociate a float
reduction: ``for v in x: s += v`` runs at one add per FP-add latency (~4 cycles) and is not
vectorised. Four partial sums over the lanes i mod 4, combined as (s0 + s1) + (s2 + s3), are a
fixed reassociation (Higham, *Accuracy and Stability of Numerical Algorithms*, 2nd ed., §4.2:
the error bound of a sum split into independent partial sums is no worse than the serial one's;
NumPy's pairwise sum unrolls its leaves the same way), so the CPU overlaps the adds and the
result is still deterministic. Estimates may differ from a serial sum in the last bits.

Every function makes one pass over ``x``; the tail (n mod 4 values) goes to lane 0.
"""

from __future__ import annotations

import numpy as np
from numba.core import types
from numba.extending import intrinsic

from simstudy._jit import jit

#: Products of a run of values are logged once per run while they stay inside these bounds
#: (far from the over- and underflow of float64, 1.8e308 and 2.2e-308 / 4.9e-324 subnormal).
_RUN_HI = 1e150
_RUN_LO = 1e-150


@intrinsic
def fma(typingctx, a, b, c):
    """a·b + c rounded once: IEEE 754-2008 fusedMultiplyAdd (LLVM's ``llvm.fma``, exact on
    every target: one instruction with FMA hardware, else libm's correctly rounded fma), so
    results do not depend on the machine; one operation instead of two in the sums below."""
    if not all(isinstance(t, types.Float) for t in (a, b, c)):
        return None
    sig = types.float64(types.float64, types.float64, types.float64)

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return sig, codegen


@jit
def total(x):
    """Σx."""
    n = x.size
    m = n - n % 4
    s0 = s1 = s2 = s3 = 0.0
    for i in range(0, m, 4):
        s0 += x[i]
        s1 += x[i + 1]
        s2 += x[i + 2]
        s3 += x[i + 3]
    for i in range(m, n):
        s0 += x[i]
    return (s0 + s1) + (s2 + s3)


@jit
def count_and_total(x, out):
    """``suff_stats`` of the models whose ℓ depends on the sample through (n, Σx) only."""
    out[0] = x.size
    out[1] = total(x)


@jit
def _add_sum_min_max(s, lo, hi, v):
    return s + v, min(lo, v), max(hi, v)


@jit
def total_min_max(x):
    """(Σx, min x, max x); min and max are NaN for an empty x."""
    total_x, _, lo, hi = _sums_and_range(x, False)
    return total_x, lo, hi


@jit
def centered_moments(x, c):
    """(Σ(x-c), Σ(x-c)²): with c = x̄ the second is the two-pass sum of squares (Chan, Golub &
    LeVeque 1983, "Algorithms for computing the sample variance"); with c a sample value it is
    their shifted one-pass form, accurate while |x̄ - c| is of the order of the spread."""
    n = x.size
    m = n - n % 4
    s0 = s1 = s2 = s3 = 0.0
    q0 = q1 = q2 = q3 = 0.0
    for i in range(0, m, 4):
        d0, d1, d2, d3 = x[i] - c, x[i + 1] - c, x[i + 2] - c, x[i + 3] - c
        s0 += d0
        s1 += d1
        s2 += d2
        s3 += d3
        q0 = fma(d0, d0, q0)
        q1 = fma(d1, d1, q1)
        q2 = fma(d2, d2, q2)
        q3 = fma(d3, d3, q3)
    for i in range(m, n):
        d = x[i] - c
        s0 += d
        q0 = fma(d, d, q0)
    return (s0 + s1) + (s2 + s3), (q0 + q1) + (q2 + q3)


@jit
def central_moments_3_4(x, c):
    """(Σ(x-c)², Σ(x-c)³, Σ(x-c)⁴)."""
    n = x.size
    m = n - n % 4
    a0 = a1 = a2 = a3 = 0.0
    b0 = b1 = b2 = b3 = 0.0
    e0 = e1 = e2 = e3 = 0.0
    for i in range(0, m, 4):
        d0, d1, d2, d3 = x[i] - c, x[i + 1] - c, x[i + 2] - c, x[i + 3] - c
        p0, p1, p2, p3 = d0 * d0, d1 * d1, d2 * d2, d3 * d3
        a0 += p0
        a1 += p1
        a2 += p2
        a3 += p3
        b0 = fma(p0, d0, b0)
        b1 = fma(p1, d1, b1)
        b2 = fma(p2, d2, b2)
        b3 = fma(p3, d3, b3)
        e0 = fma(p0, p0, e0)
        e1 = fma(p1, p1, e1)
        e2 = fma(p2, p2, e2)
        e3 = fma(p3, p3, e3)
    for i in range(m, n):
        d = x[i] - c
        p = d * d
        a0 += p
        b0 = fma(p, d, b0)
        e0 = fma(p, p, e0)
    return (a0 + a1) + (a2 + a3), (b0 + b1) + (b2 + b3), (e0 + e1) + (e2 + e3)


@jit
def run_product_step(log_sum, run, v):
    """Extend the run product by v, or log the run and start a new one at v when the product
    would leave [_RUN_LO, _RUN_HI] (or is not finite)."""
    q = run * v
    if _RUN_LO <= q <= _RUN_HI:
        return log_sum, q
    return log_sum + np.log(run), v


@jit
def total_log_min_max(x):
    """(Σx, Σ log x, min x, max x) in one pass. Σ log x is the sum of the logs of run products
    (log Π = Σ log, one libm log per run of ~100-300 values instead of one per value; each run
    product is exact to (run length)·ε relative, so Σ log x is exact to about that many ε
    absolute, as a sum of per-value logs is). A value <= 0 gives a non-finite Σ log x; callers
    test min x first (NaN for an empty x)."""
    return _sums_and_range(x, True)


@jit
def _sums_and_range(x, with_log):
    """The pass behind :func:`total_min_max` and (``with_log``) :func:`total_log_min_max`; the
    flag is loop-invariant, so LLVM compiles a loop without the products when it is off."""
    n = x.size
    m = n - n % 4
    s0 = s1 = s2 = s3 = 0.0
    g0 = g1 = g2 = g3 = 0.0
    r0 = r1 = r2 = r3 = 1.0
    first = x[0] if n > 0 else np.nan
    lo0 = lo1 = lo2 = lo3 = first
    hi0 = hi1 = hi2 = hi3 = first
    for i in range(0, m, 4):
        v0, v1, v2, v3 = x[i], x[i + 1], x[i + 2], x[i + 3]
        s0, lo0, hi0 = _add_sum_min_max(s0, lo0, hi0, v0)
        s1, lo1, hi1 = _add_sum_min_max(s1, lo1, hi1, v1)
        s2, lo2, hi2 = _add_sum_min_max(s2, lo2, hi2, v2)
        s3, lo3, hi3 = _add_sum_min_max(s3, lo3, hi3, v3)
        if with_log:
            g0, r0 = run_product_step(g0, r0, v0)
            g1, r1 = run_product_step(g1, r1, v1)
            g2, r2 = run_product_step(g2, r2, v2)
            g3, r3 = run_product_step(g3, r3, v3)
    for i in range(m, n):
        s0, lo0, hi0 = _add_sum_min_max(s0, lo0, hi0, x[i])
        if with_log:
            g0, r0 = run_product_step(g0, r0, x[i])
    log_total = 0.0
    if with_log:
        lane01 = (g0 + np.log(r0)) + (g1 + np.log(r1))
        log_total = lane01 + ((g2 + np.log(r2)) + (g3 + np.log(r3)))
    return (
        (s0 + s1) + (s2 + s3),
        log_total,
        min(min(lo0, lo1), min(lo2, lo3)),
        max(max(hi0, hi1), max(hi2, hi3)),
    )
