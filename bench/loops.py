"""Jitted loops that call a model's kernels many times, so that per-call Python overhead is not
what is measured.

The kernels are passed as first-class function pointers with the engine's own signatures
(:data:`simstudy._jit.SAMPLE_SIG`, ``LOGLIK_SIG``, ``FIT_SIG``, ``SUFF_SIG``), exactly as the engine's driver
receives them: an indirect call per sample, per fit or per log-likelihood, nothing inlined that
the engine would not inline.
"""

from __future__ import annotations

import numba
import numpy as np

from simstudy import rng
from simstudy._jit import FIT_SIG, LOGLIK_SIG, SAMPLE_SIG, SUFF_SIG, jit, jit_sig

_SAMPLE = numba.types.FunctionType(SAMPLE_SIG)
_LOGLIK = numba.types.FunctionType(LOGLIK_SIG)
_FIT = numba.types.FunctionType(FIT_SIG)
_SUFF = numba.types.FunctionType(SUFF_SIG)
_F64 = numba.types.float64
_I64 = numba.types.int64
_U64 = numba.types.uint64
_VEC = numba.types.float64[::1]
_MAT = numba.types.float64[:, ::1]


@jit_sig(_F64(_SAMPLE, _U64, _U64, _VEC, _VEC, _I64, _I64))
def sample_loop(sample, key0, key1, theta, design, n_values, reps):
    """``reps`` replications' samples as the engine draws them (fresh stream per replication,
    one reused buffer); returns a checksum so nothing is optimised away."""
    state = np.empty(rng.STATE_SIZE, dtype=np.uint64)
    x = np.empty(n_values)
    acc = 0.0
    for i in range(reps):
        rng.init_stream(state, key0, key1, i, 0)
        sample(state, theta, design, x)
        acc += x[0]
    return acc


@jit_sig(_F64(_SAMPLE, _U64, _U64, _VEC, _VEC, _MAT))
def sample_into(sample, key0, key1, theta, design, out):
    """Row i of ``out`` = replication i's sample (the engine's streams); returns a checksum."""
    state = np.empty(rng.STATE_SIZE, dtype=np.uint64)
    acc = 0.0
    for i in range(out.shape[0]):
        rng.init_stream(state, key0, key1, i, 0)
        sample(state, theta, design, out[i])
        acc += out[i, 0]
    return acc


@jit_sig(_F64(_FIT, _MAT, _I64, _I64, _I64))
def fit_loop(fit, data, k, n_se, reps):
    """``reps`` fits cycling over the rows of ``data``; returns a checksum."""
    est = np.empty(k)
    se = np.empty(n_se)
    acc = 0.0
    for i in range(reps):
        fit(data[i % data.shape[0]], est, se)
        acc += est[0]
    return acc


@jit_sig(numba.types.void(_FIT, _MAT, _MAT, _MAT, numba.types.int64[::1],
                          numba.types.int64[::1]))
def fit_all(fit, data, est, se, status, n_iter):
    """Fit every row of ``data`` into ``est[i]``, ``se[i]``, ``status[i]``, ``n_iter[i]``."""
    for i in range(data.shape[0]):
        code, iters = fit(data[i], est[i], se[i])
        status[i] = code
        n_iter[i] = iters


@jit_sig(_F64(_LOGLIK, _MAT, _VEC, _I64))
def loglik_loop(loglik, data, theta, reps):
    """``reps`` log-likelihood evaluations cycling over the rows of ``data``."""
    acc = 0.0
    for i in range(reps):
        acc += loglik(data[i % data.shape[0]], theta)
    return acc


@jit_sig(_F64(_LOGLIK, _SUFF, _I64, _MAT, _VEC, _I64, _I64))
def lr_loop(loglik, suff_stats, n_suff, data, theta, n_evals, reps):
    """``reps`` replications' ``lr_stat`` work as the engine's driver does it (the arguments of
    :func:`simstudy.engine.lr_kernels`): the sufficient statistics once if the model has them,
    then ``n_evals`` (1 + E) log-likelihoods, cycling over the rows of ``data``."""
    stats = np.empty(max(n_suff, 1))
    acc = 0.0
    for i in range(reps):
        x = data[i % data.shape[0]]
        d = x
        if n_suff > 0:
            suff_stats(x, stats)
            d = stats
        for _ in range(n_evals):
            acc += loglik(d, theta)
    return acc


@jit
def gamma_sufficient_loop(data, reps):
    """The gamma model's one-pass floor: its sufficient statistics (Σx, Σlog x) per sample."""
    acc = 0.0
    for i in range(reps):
        x = data[i % data.shape[0]]
        total = 0.0
        total_log = 0.0
        for v in x:
            total += v
            total_log += np.log(v)
        acc += total + total_log
    return acc


@jit(parallel=True)
def parallel_sampling(key0, key1, n_chunks, size):
    """Control for thread scaling: ``n_chunks`` independent streams of ``size`` exponential
    draws under ``prange``, nothing else (what 2 threads can give on this machine right now)."""
    acc = np.zeros(n_chunks)
    for c in numba.prange(n_chunks):
        state = np.empty(rng.STATE_SIZE, dtype=np.uint64)
        rng.init_stream(state, key0, key1, c, 0)
        total = 0.0
        for _ in range(size):
            total += rng.standard_exponential(state)
        acc[c] = total
    return acc.sum()
