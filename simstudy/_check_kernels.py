"""Per-observation log-likelihoods and scores through a model's own kernels, for the model
checks of :mod:`simstudy.model_checks`.

An observation is ``width`` consecutive values of the sample buffer (a regression row
(y, x...)); the model's kernel is called on each one-observation slice. The kernel comes in as
a first-class function of an explicit signature, as the engine's driver takes its kernels: one
compiled loop serves every model and is cached on disk (a loop typed on each model's dispatcher
would hold those dispatchers in Numba's cache index, and a plugin's, built anew in each
process, are gone when the index is written again).
"""

from __future__ import annotations

import numpy as np
from numba import types

from simstudy._jit import LOGLIK_SIG, ensure_compiled, jit_sig

_F64 = types.float64[::1]
#: score(x, theta, out): the total score of the sample x written to out
SCORE_SIG = types.void(_F64, _F64, _F64)


@jit_sig(_F64(types.FunctionType(LOGLIK_SIG), _F64, _F64, types.int64))
def _loglik_each(loglik, x, theta, width):
    m = x.size // width
    out = np.empty(m)
    for i in range(m):
        out[i] = loglik(x[i * width : (i + 1) * width], theta)
    return out


@jit_sig(types.float64[:, ::1](types.FunctionType(SCORE_SIG), _F64, _F64, types.int64, types.int64))
def _score_each(score, x, theta, k, width):
    m = x.size // width
    out = np.zeros((m, k))
    for i in range(m):
        score(x[i * width : (i + 1) * width], theta, out[i])
    return out


def loglik_each(model, x: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """ℓ(x_i; θ) of each observation (m,)."""
    ensure_compiled(model.loglik, LOGLIK_SIG)
    return _loglik_each(model.loglik, x, np.ascontiguousarray(theta, dtype=np.float64), model.data_width)


def score_each(model, x: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """s(x_i; θ) of each observation (m, k)."""
    ensure_compiled(model.score, SCORE_SIG)
    return _score_each(model.score, x, np.ascontiguousarray(theta, dtype=np.float64), model.k,
                       model.data_width)  # fmt: skip
