"""simstudy.special against scipy.special, from Python, from jitted code, and from Numba's cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numba
import numpy as np
import pytest
import scipy.special as sc

from simstudy._jit import jit
from simstudy.special import digamma, gammaln, ndtri, trigamma

RTOL = 1e-13
ATOL_NEAR_ZERO = 1e-13
DIGAMMA_ZERO = 1.4616321449683622  # the positive root of psi (DLMF 5.4.iii)
REPO_ROOT = Path(__file__).resolve().parents[1]


def _trigamma_reference(x):
    return sc.polygamma(1, x)


CASES = {
    "digamma": (digamma, sc.psi),
    "trigamma": (trigamma, _trigamma_reference),
    "gammaln": (gammaln, sc.gammaln),
}


@jit
def _apply(func, x):
    """Evaluate ``func`` elementwise inside a jitted loop (the functions as kernels see them)."""
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = func(x[i])
    return out


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_scipy_on_log_grid(name):
    ours, reference = CASES[name]
    x = np.logspace(-3, 6, 600)
    np.testing.assert_allclose(_apply(ours, x), reference(x), rtol=RTOL, atol=0)


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_scipy_on_negative_non_integers(name):
    ours, reference = CASES[name]
    x = -np.linspace(0.05, 20.95, 200)  # no negative integers (the poles are tested below)
    x = x[np.abs(x - np.round(x)) > 1e-3]
    np.testing.assert_allclose(_apply(ours, x), reference(x), rtol=1e-12, atol=0)


def test_digamma_near_its_zero_absolute():
    # Relative error is meaningless at a root; psi's condition there allows only absolute.
    x = DIGAMMA_ZERO + np.linspace(-1e-3, 1e-3, 201)
    np.testing.assert_allclose(_apply(digamma, x), sc.psi(x), rtol=0, atol=ATOL_NEAR_ZERO)
    assert abs(digamma(DIGAMMA_ZERO)) < ATOL_NEAR_ZERO


def test_ndtri_matches_scipy_inside_the_unit_interval():
    p = np.concatenate(
        [
            np.logspace(-12, np.log10(0.5), 300),  # lower tail up to the median
            0.5 + np.linspace(-0.49, 0.49, 99),
            1.0 - np.logspace(-12, -1, 100),  # upper tail
            [0.5, 1e-12, 1.0 - 1e-12],
        ]
    )
    np.testing.assert_allclose(_apply(ndtri, p), sc.ndtri(p), rtol=RTOL, atol=0)
    assert ndtri(0.5) == 0.0


def test_ndtri_endpoints_and_outside():
    assert ndtri(0.0) == -np.inf
    assert ndtri(1.0) == np.inf
    for p in (-0.1, 1.1, np.nan, -np.inf, np.inf):
        assert np.isnan(ndtri(p)), p


@pytest.mark.parametrize("name", sorted(CASES))
def test_poles_infinities_and_nan_like_scipy(name):
    ours, reference = CASES[name]
    x = np.array([0.0, -0.0, -1.0, -2.0, -7.0, -1.5, np.nan, np.inf, -np.inf, 1e-300, 5e-324])
    np.testing.assert_array_equal(_apply(ours, x), reference(x))  # nan == nan here


def test_named_edge_values():
    assert digamma(0.0) == -np.inf
    assert np.isnan(digamma(-1.0))
    assert gammaln(-1.5) == pytest.approx(np.log(4.0 * np.sqrt(np.pi) / 3.0), rel=RTOL)
    assert trigamma(0.0) == np.inf
    assert digamma(1.0) == pytest.approx(-np.euler_gamma, rel=RTOL)
    assert trigamma(1.0) == pytest.approx(np.pi**2 / 6.0, rel=RTOL)
    assert gammaln(1.0) == 0.0 and gammaln(2.0) == 0.0


def test_accepts_integer_arguments():
    assert digamma(1) == digamma(1.0)
    assert trigamma(3) == trigamma(3.0)
    assert gammaln(5) == pytest.approx(np.log(24.0), rel=RTOL)


def test_callable_inside_jitted_function():
    @jit
    def gamma_shape_newton_step(shape, mean_log, log_mean):
        # One Newton step on the gamma shape equation log(a) - psi(a) = log(mean) - mean(log x).
        g = np.log(shape) - digamma(shape) - (log_mean - mean_log)
        return shape - g / (1.0 / shape - trigamma(shape))

    @jit
    def combine(x, p):
        return digamma(x) + trigamma(x) + gammaln(x) + ndtri(p)

    got = combine(2.5, 0.975)
    want = sc.psi(2.5) + sc.polygamma(1, 2.5) + sc.gammaln(2.5) + sc.ndtri(0.975)
    assert got == pytest.approx(want, rel=RTOL)
    a = gamma_shape_newton_step(2.0, 0.1, 0.5)
    g = np.log(2.0) - sc.psi(2.0) - 0.4
    assert a == pytest.approx(2.0 - g / (0.5 - sc.polygamma(1, 2.0)), rel=RTOL)


def test_thread_safe_under_prange():
    @jit(parallel=True)
    def all_four(x, p, out):
        for i in numba.prange(x.size):
            out[i, 0] = digamma(x[i])
            out[i, 1] = trigamma(x[i])
            out[i, 2] = gammaln(x[i])
            out[i, 3] = ndtri(p[i])

    x = np.logspace(-3, 6, 20_000)
    p = np.linspace(1e-9, 1.0 - 1e-9, x.size)
    out = np.empty((x.size, 4))
    all_four(x, p, out)
    want = np.column_stack([sc.psi(x), sc.polygamma(1, x), sc.gammaln(x), sc.ndtri(p)])
    np.testing.assert_allclose(out, want, rtol=RTOL, atol=0)


_CACHE_SCRIPT = textwrap.dedent(
    """
    import json

    from numba.core import event

    from simstudy._jit import jit
    from simstudy.special import digamma, gammaln, ndtri, trigamma

    @jit
    def kernel(x, p):
        return digamma(x) + 2.0 * trigamma(x) + 3.0 * gammaln(x) + 4.0 * ndtri(p)

    with event.install_recorder("numba:compile") as recorder:
        value = kernel(2.5, 0.3)
    compiled = sorted({e.data["dispatcher"].py_func.__qualname__
                       for _, e in recorder.buffer if e.is_start})
    print(json.dumps({
        "value": value.hex(),
        "cache_hits": sum(kernel.stats.cache_hits.values()),
        "cache_misses": sum(kernel.stats.cache_misses.values()),
        "compiled": compiled,
    }))
    """
)


def test_kernel_using_all_four_loads_from_cache_in_a_new_process(tmp_path):
    script = tmp_path / "cached_kernel.py"
    script.write_text(_CACHE_SCRIPT)
    env = {
        **os.environ,
        "NUMBA_CACHE_DIR": str(tmp_path / "numba_cache"),
        "PYTHONPATH": os.pathsep.join([str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]),
    }

    def run():
        done = subprocess.run(
            [sys.executable, str(script)],
            env=env, cwd=tmp_path, capture_output=True, text=True, check=True, timeout=300,
        )  # fmt: skip
        # Numba warns "Cannot cache ... as it uses dynamic globals" and carries on uncached.
        assert "cannot cache" not in done.stderr.lower(), done.stderr
        return json.loads(done.stdout.strip().splitlines()[-1])

    cold, warm = run(), run()
    assert (cold["cache_hits"], cold["cache_misses"]) == (0, 1)
    assert {"kernel", "digamma", "trigamma", "gammaln", "ndtri"} <= set(cold["compiled"])
    assert (warm["cache_hits"], warm["cache_misses"]) == (1, 0)
    assert warm["compiled"] == []  # nothing compiled: the kernel and its callees came from disk
    assert warm["value"] == cold["value"]
    want = sc.psi(2.5) + 2.0 * sc.polygamma(1, 2.5) + 3.0 * sc.gammaln(2.5) + 4.0 * sc.ndtri(0.3)
    assert float.fromhex(warm["value"]) == pytest.approx(want, rel=RTOL)


def test_ufunc_loop_lookup_refuses_a_missing_type_signature():
    from simstudy.special import _ufunc_loop

    loop, data = _ufunc_loop(sc._ufuncs._zeta, "dd->d")
    assert loop and data
    with pytest.raises(ImportError, match="'ii->i'"):
        _ufunc_loop(sc._ufuncs._zeta, "ii->i")
