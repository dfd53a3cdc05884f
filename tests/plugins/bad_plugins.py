"""Plugin estimators that must be rejected before anything runs (used by tests/test_cli.py).

Each attribute breaks one rule of the plugin contract (README "Plugin estimators"): a Numba-jitted
``f(x, out_theta, out_se) -> (status, n_iter)``. Deliberately not ``cache=True``: they never
compile, and a test must not leave cache files behind.
"""

import fractions

import numba


def not_jitted(x, out_theta, out_se):
    """A plain Python function: the engine cannot call it from a kernel."""
    out_theta[0] = 1.0 / x.mean()
    return 0, 0


@numba.njit
def one_argument(x):
    """Wrong arity: the engine passes (x, out_theta, out_se)."""
    return 0, 0


@numba.njit
def returns_float(x, out_theta, out_se):
    """Wrong return type: must return the (status, n_iter) pair of integers."""
    out_theta[0] = 1.0 / x.mean()
    return out_theta[0]



@numba.njit
def untypable(x, out_theta, out_se):
    """Runs as Python (its py_func) but Numba cannot type it: a Fraction is a Python object."""
    out_theta[0] = float(fractions.Fraction(x.size, 3))
    return 0, 0
