"""A deliberately slow but deterministic plugin (used to interrupt a run between blocks)."""

import numba
import numpy as np

#: Busy-loop length per fit: ~10 ms, so a small study lasts a few seconds.
SPIN = 5_000_000


@numba.njit(cache=True)
def slow_mle(x, out_theta, out_se):
    """The exponential-rate MLE, after a fixed amount of arithmetic."""
    acc = 0.0
    for i in range(SPIN):
        acc += np.sqrt(i + x[0])
    out_theta[0] = x.size / x.sum()
    out_se[0] = out_theta[0] / np.sqrt(x.size)
    return (0, int(acc) % 7)
