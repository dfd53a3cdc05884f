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
    as_fit_kernel,
    ensure_compiled,
    jit,
)
from simstudy.models._base import BOUNDARY, NO_DESIGN, NOT_CONVERGED, OK, se_slots

#: Chunks per thread: > 1 so that cells whose fits vary in cost (Newton) still balance.
CHUNKS_PER_THREAD = 4


@jit
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
                status[j, i] = code
                n_iter[j, i] = iters
                usable = code == OK or code == BOUNDARY
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
    #: (E,) fits that returned ok or boundary with a non-finite estimate, stored as not_converged
    nonfinite: np.ndarray | None = None
    #: (E, R) why each fit failed, or None: Python estimators only (the ``message`` column)
    messages: list | None = None


class KernelFailure(Exception):
    """A fit kernel raised inside the driver: ``rep`` and ``estimator`` (its index) locate the
    first replication that raises when refitted one at a time (None if none does), and
    ``error`` is that exception (or the driver's)."""

    def __init__(self, rep: int | None, estimator: int | None, error: BaseException):
        super().__init__(f"{type(error).__name__}: {error}")
        self.rep, self.estimator, self.error = rep, estimator, error


def prepare_model(model) -> None:
    """Compile (or load from cache) the model's kernels: its sampler and log-likelihood."""
    ensure_compiled(model.sample, SAMPLE_SIG)
    ensure_compiled(model.loglik, LOGLIK_SIG)
    if model.n_suff > 0:
        ensure_compiled(model.suff_stats, SUFF_SIG)
        ensure_compiled(model.suff_loglik, LOGLIK_SIG)


def prepare(model, fits) -> list:
    """Compile (or load from cache) every kernel a cell needs, before running; returns the fit
    kernels as the driver takes them (see :func:`simstudy._jit.as_fit_kernel`)."""
    prepare_model(model)
    kernels = [as_fit_kernel(fit) for fit in fits]
    _driver(len(fits))
    return kernels


def lr_kernels(model) -> tuple:
    """(log-likelihood kernel, sufficient-statistics kernel, their count) as the driver takes
    them: the model's sufficient statistics if it declares them, else ``loglik`` on x."""
    if model.n_suff > 0:
        return model.suff_loglik, model.suff_stats, model.n_suff
    ensure_compiled(no_suff_stats, SUFF_SIG)
    return model.loglik, no_suff_stats, 0


def run_block(model, fits, key0: int, key1: int, theta: np.ndarray, n: int,
              start: int, stop: int, design: np.ndarray = NO_DESIGN) -> BlockResult:  # fmt: skip
    """Run replications [start, stop) of one cell for the given estimator kernels.

    A fit that returns ``ok`` or ``boundary`` with a non-finite estimate did not converge: its
    status becomes ``not_converged`` (counted in ``nonfinite``) and its ``lr_stat`` NaN. A fit
    kernel that raises makes the block fail with :class:`KernelFailure`.
    """
    n_est, n_rep, k = len(fits), stop - start, model.k
    est = np.full((n_est, n_rep, k), np.nan)
    se = np.full((n_est, n_rep, se_slots(k)), np.nan)
    lr = np.full((n_est, n_rep), np.nan)
    status = np.zeros((n_est, n_rep), dtype=np.int64)
    n_iter = np.zeros((n_est, n_rep), dtype=np.int64)
    n_chunks = max(1, min(n_rep, numba.get_num_threads() * CHUNKS_PER_THREAD))
    kernels = prepare(model, fits)
    theta = np.ascontiguousarray(theta, dtype=np.float64)
    design = np.ascontiguousarray(design, dtype=np.float64)
    try:
        _driver(n_est)(
            model.sample, *lr_kernels(model), tuple(kernels),
            np.uint64(key0), np.uint64(key1), start, theta, design,
            n * model.data_width, n_chunks,
            est, se, lr, status, n_iter,
        )  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - Numba reports a kernel's exception as SystemError
        rep, j, error = first_failure(model, kernels, key0, key1, theta, n, start, stop, design)
        raise KernelFailure(rep, j, error if error is not None else exc) from None
    usable = (status == OK) | (status == BOUNDARY)
    bad = usable & ~np.isfinite(est).all(axis=2)
    status[bad] = NOT_CONVERGED
    lr[bad] = np.nan
    return BlockResult(start, stop, est, se, lr, status, n_iter, bad.sum(axis=1))


def first_failure(model, fits, key0: int, key1: int, theta: np.ndarray, n: int, start: int,
                  stop: int, design: np.ndarray):  # fmt: skip
    """(replication, estimator index, exception) of the first fit in [start, stop) that raises
    when the replications are refitted one at a time from Python (exactly the driver's samples:
    the same sample kernel on the same stream); (None, None, None) if none raises."""
    state = np.empty(rng.STATE_SIZE, dtype=np.uint64)
    x = np.empty(n * model.data_width, dtype=np.float64)
    est = np.empty(model.k)
    se = np.empty(se_slots(model.k))
    for rep in range(start, stop):
        rng.init_stream(state, np.uint64(key0), np.uint64(key1), rep, 0)
        model.sample(state, theta, design, x)
        for j, fit in enumerate(fits):
            try:
                fit(x, est, se)
            except Exception as exc:  # noqa: BLE001 - the user's exception, reported as such
                return rep, j, exc
    return None, None, None
