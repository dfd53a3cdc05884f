"""The Numba engine: sample -> fit every estimator -> record, in parallel over replications.

One driver serves every model. The model's ``sample`` and ``loglik`` kernels and the cell's
estimators are passed in as first-class function pointers (signatures in :mod:`simstudy._jit`),
so the driver is compiled once per number of estimators and then loaded from Numba's cache:
adding a model or a plugin estimator never recompiles it.

``lr_stat`` = 2[ℓ(θ̂) - ℓ(θ₀)] needs ℓ at 1 + E points per replication. A model that declares
sufficient statistics (``suff_stats``, ``suff_loglik``, ``n_suff``; see
:mod:`simstudy.models._base`) has them computed once per replication and ℓ evaluated from them
(θ-free terms dropped: they cancel); otherwise ``loglik`` runs on the sample 1 + E times.

Parallelism is over replications only. The replication range is split into chunks; each chunk
(one thread at a time) owns one sample buffer of n observations and one stream-state buffer, so memory
is O(threads x n + R x k) and R x n samples are never held. Replication ``r`` always draws from
its own Philox stream (seed, cell key, rep r): results do not depend on threads or chunking.
"""

from __future__ import annotations

from dataclasses import dataclass

import numba
import numpy as np

from simstudy import rng
from simstudy._jit import (
    _OPTIONS,
    FIT_SIG,
    LOGLIK_SIG,
    SAMPLE_SIG,
    SUFF_SIG,
    ensure_compiled,
    jit_sig,
)
from simstudy.models._base import BOUNDARY, NO_DESIGN, NOT_CONVERGED, OK, se_slots

#: Chunks per thread: > 1 so that cells whose fits vary in cost (Newton) still balance.
CHUNKS_PER_THREAD = 4


@jit_sig(SUFF_SIG)
def no_suff_stats(x, out):
    """The ``suff_stats`` placeholder of models without sufficient statistics (never called:
    the driver gets ``n_suff`` = 0 and evaluates ``loglik`` on the sample)."""


def _drive(sample, loglik, suff_stats, n_suff, fits, key0, key1, rep_start, theta, design,
           n_values, n_chunks, est, se, lr, status, n_iter):  # fmt: skip
    n_est = len(fits)
    n_rep = est.shape[1]
    for c in numba.prange(n_chunks):
        lo = c * n_rep // n_chunks
        hi = (c + 1) * n_rep // n_chunks
        state = np.empty(rng.STATE_SIZE, dtype=np.uint64)
        x = np.empty(n_values, dtype=np.float64)
        stats = np.empty(max(n_suff, 1), dtype=np.float64)
        for i in range(lo, hi):
            rng.init_stream(state, key0, key1, rep_start + i, 0)
            sample(state, theta, design, x)
            # ℓ's argument: the sufficient statistics (computed once) or the sample itself.
            data = x
            if n_suff > 0:
                suff_stats(x, stats)
                data = stats
            ll0 = loglik(data, theta)
            for j in range(n_est):
                code, iters = fits[j](x, est[j, i], se[j, i])
                usable = code == OK or code == BOUNDARY
                if usable:
                    for q in range(est.shape[2]):
                        if not np.isfinite(est[j, i, q]):
                            # An "ok" fit with a non-finite estimate did not converge.
                            code = NOT_CONVERGED
                            usable = False
                status[j, i] = code
                n_iter[j, i] = iters
                lr[j, i] = 2.0 * (loglik(data, est[j, i]) - ll0) if usable else np.nan


_DRIVERS: dict[int, object] = {}


def _driver(n_estimators: int):
    """The driver compiled (or loaded from cache) for a given number of estimators."""
    if n_estimators not in _DRIVERS:
        fit_t = numba.types.FunctionType(FIT_SIG)
        sig = numba.types.void(
            numba.types.FunctionType(SAMPLE_SIG),
            numba.types.FunctionType(LOGLIK_SIG),
            numba.types.FunctionType(SUFF_SIG),
            numba.types.int64,
            numba.types.UniTuple(fit_t, n_estimators),
            numba.types.uint64,
            numba.types.uint64,
            numba.types.int64,
            numba.types.float64[::1],
            numba.types.float64[::1],
            numba.types.int64,
            numba.types.int64,
            numba.types.float64[:, :, ::1],
            numba.types.float64[:, :, ::1],
            numba.types.float64[:, ::1],
            numba.types.int64[:, ::1],
            numba.types.int64[:, ::1],
        )
        _DRIVERS[n_estimators] = numba.njit(sig, parallel=True, **_OPTIONS)(_drive)
    return _DRIVERS[n_estimators]


@dataclass
class BlockResult:
    """Per-estimator outputs of replications [start, stop) of one cell (arrays indexed by rep)."""

    start: int
    stop: int
    estimates: np.ndarray  # (E, R, k)
    se: np.ndarray  # (E, R, k + k(k-1)/2): SEs then correlations
    lr_stat: np.ndarray  # (E, R)
    status: np.ndarray  # (E, R) int64
    n_iter: np.ndarray  # (E, R) int64


def prepare(model, fits) -> None:
    """Compile (or load from cache) every kernel a cell needs, on the driver, before running."""
    ensure_compiled(model.sample, SAMPLE_SIG)
    ensure_compiled(model.loglik, LOGLIK_SIG)
    if model.n_suff > 0:
        ensure_compiled(model.suff_stats, SUFF_SIG)
        ensure_compiled(model.suff_loglik, LOGLIK_SIG)
    for fit in fits:
        ensure_compiled(fit, FIT_SIG)
    _driver(len(fits))


def lr_kernels(model) -> tuple:
    """(log-likelihood kernel, sufficient-statistics kernel, their count) as the driver takes
    them: the model's sufficient statistics if it declares them, else ``loglik`` on x."""
    if model.n_suff > 0:
        return model.suff_loglik, model.suff_stats, model.n_suff
    return model.loglik, no_suff_stats, 0


def run_block(model, fits, key0: int, key1: int, theta: np.ndarray, n: int,
              start: int, stop: int, design: np.ndarray = NO_DESIGN) -> BlockResult:  # fmt: skip
    """Run replications [start, stop) of one cell for the given estimator kernels."""
    n_est, n_rep, k = len(fits), stop - start, model.k
    est = np.full((n_est, n_rep, k), np.nan)
    se = np.full((n_est, n_rep, se_slots(k)), np.nan)
    lr = np.full((n_est, n_rep), np.nan)
    status = np.zeros((n_est, n_rep), dtype=np.int64)
    n_iter = np.zeros((n_est, n_rep), dtype=np.int64)
    n_chunks = max(1, min(n_rep, numba.get_num_threads() * CHUNKS_PER_THREAD))
    prepare(model, fits)
    _driver(n_est)(
        model.sample, *lr_kernels(model), tuple(fits),
        np.uint64(key0), np.uint64(key1), start,
        np.ascontiguousarray(theta, dtype=np.float64), np.ascontiguousarray(design, dtype=np.float64),
        n * model.data_width, n_chunks,
        est, se, lr, status, n_iter,
    )  # fmt: skip
    return BlockResult(start, stop, est, se, lr, status, n_iter)
