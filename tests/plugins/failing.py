"""Plugin estimators of the exponential rate that fail the way user code does (used by
tests/test_newcomer.py). Not cached: ``raises_at_marker`` freezes the marker it reads from the
environment at compile time, and a test must not leave cache files behind."""

import os

import numba
import numpy as np

#: ``raises_at_marker`` raises on the sample whose first value is exactly this (set by a test
#: to the first value of one replication's sample, so it fails at that replication only).
MARKER = float(os.environ.get("SIMSTUDY_TEST_MARKER", "nan"))


@numba.njit
def mle(x, out_theta, out_se):
    out_theta[0] = x.size / x.sum()
    out_se[0] = out_theta[0] / np.sqrt(x.size)
    return 0, 0


@numba.njit
def raises_always(x, out_theta, out_se):
    raise ValueError("negative variance estimate")


@numba.njit
def raises_at_marker(x, out_theta, out_se):
    if x[0] == MARKER:
        raise ValueError("planted failure")
    out_theta[0] = x.size / x.sum()
    out_se[0] = out_theta[0] / np.sqrt(x.size)
    return 0, 0


@numba.njit
def status_7(x, out_theta, out_se):
    out_theta[0] = x.size / x.sum()
    return 7, 0


@numba.njit
def nan_with_status_ok(x, out_theta, out_se):
    out_theta[0] = np.nan
    out_se[0] = np.nan
    return 0, 0


@numba.njit
def status_7_at_marker(x, out_theta, out_se):
    out_theta[0] = x.size / x.sum()
    out_se[0] = out_theta[0] / np.sqrt(x.size)
    return (7 if x[0] == MARKER else 0), 0
