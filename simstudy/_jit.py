"""The one place that owns Numba's options.

Every kernel in simstudy is compiled through :func:`jit` (lazy, cached) or :func:`jit_sig`
(eager, one explicit signature, used for functions that are passed as first-class function
pointers into the engine's driver). ``cache=True`` keeps compile time a one-off cost per machine;
``error_model="numpy"`` lets a division by zero give inf/nan, which the fit status codes report,
instead of raising inside a parallel loop. Fast-math is never enabled: the random variates must
be bit-identical to NumPy's, which depends on IEEE ``exp``/``log``.
"""

from __future__ import annotations

import warnings

import numba
from numba.core.errors import NumbaExperimentalFeatureWarning

# First-class function types (function pointers passed to the driver) are stable in practice
# for the plain (array, array, array) -> tuple signatures used here; the warning is noise.
warnings.filterwarnings("ignore", category=NumbaExperimentalFeatureWarning)

_OPTIONS = dict(cache=True, nogil=True, error_model="numpy")


def jit(func=None, **extra):
    """Lazily compiled, cached ``numba.njit``; ``extra`` may add e.g. ``inline="always"``."""
    options = {**_OPTIONS, **extra}
    if func is None:
        return numba.njit(**options)
    return numba.njit(**options)(func)


def jit_sig(signature, **extra):
    """Eagerly compiled ``numba.njit`` with one explicit signature (first-class function use)."""
    return numba.njit(signature, **{**_OPTIONS, **extra})


# Kernel signatures of the first-class functions the engine's driver calls (see
# simstudy/models/_base.py for the contracts). All arrays are C-contiguous.
_F64 = numba.types.float64[::1]
#: fit(x, out_theta, out_se) -> (status, n_iter)
FIT_SIG = numba.types.UniTuple(numba.types.int64, 2)(_F64, _F64, _F64)
#: sample(stream_state, theta, out)
SAMPLE_SIG = numba.types.void(numba.types.uint64[::1], _F64, _F64)
#: loglik(x, theta) -> total log-likelihood
LOGLIK_SIG = numba.types.float64(_F64, _F64)
