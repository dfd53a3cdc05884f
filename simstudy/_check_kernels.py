"""Per-observation log-likelihoods and scores through a model's own kernels, for the model
checks of :mod:`simstudy.model_checks` (compiled on first use, like every kernel).

An observation is ``width`` consecutive values of the sample buffer (a regression row
(y, x...)); the model's kernel is called on each one-observation slice.

Not cached on disk: the model's kernel is an argument, and Numba's cache index would then hold
the types of other processes' kernels (a plugin's are built anew in each process), whose
objects are gone when the index is written again ("ReferenceError: underlying object has
vanished"). Each process compiles these loops once per model kernel (a fraction of a second).
"""

from __future__ import annotations

import numpy as np

from simstudy._jit import jit


@jit(cache=False)
def loglik_each(loglik, x, theta, width):
    """ℓ(x_i; θ) of each observation (m,)."""
    m = x.size // width
    out = np.empty(m)
    for i in range(m):
        out[i] = loglik(x[i * width : (i + 1) * width], theta)
    return out


@jit(cache=False)
def score_each(score, x, theta, k, width):
    """s(x_i; θ) of each observation (m, k)."""
    m = x.size // width
    out = np.zeros((m, k))
    for i in range(m):
        score(x[i * width : (i + 1) * width], theta, out[i])
    return out
