"""Shared fixtures: draw a model's sample through its Numba kernel at a fixed stream address."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from simstudy import rng

# Subprocesses (the CLI, Dask workers, the benchmarks) import the simstudy of this checkout,
# whatever an editable install elsewhere points at.
_ROOT = str(Path(__file__).resolve().parents[1])
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [_ROOT, os.environ.get("PYTHONPATH")]))

#: Study seed (Philox key word 0) of every test stream; tests pick distinct ``rep`` indices.
TEST_SEED = 20261121
#: Philox key word 1 (the data-spec hash in a study); any 64-bit value, here hex digits of pi.
TEST_CELL_KEY = 0x243F6A8885A308D3


def _kernel_sample(model, theta, n, rep, *, key0=TEST_SEED, key1=TEST_CELL_KEY, substream=0,
                   python=False):  # fmt: skip
    """``n`` draws of ``model`` at ``theta`` from the stream (key0, key1, rep, substream).

    ``python=True`` runs the sample kernel's pure-Python ``py_func`` instead of the jitted one
    (slow: use small ``n``). The stream is the one the engine uses for replication ``rep``.
    """
    state = np.empty(rng.STATE_SIZE, dtype=np.uint64)
    rng.init_stream(state, np.uint64(key0), np.uint64(key1), rep, substream)
    out = np.empty(n * model.data_width, dtype=np.float64)
    kernel = model.sample.py_func if python else model.sample
    kernel(state, np.ascontiguousarray(theta, dtype=np.float64), model.design_array, out)
    return out


@pytest.fixture
def kernel_sample():
    """``kernel_sample(model, theta, n, rep, *, key0, key1, substream, python=False)``."""
    return _kernel_sample


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Under ``--dist loadgroup``, the tests of a module that share a module-scoped fixture run
    on one worker, so that each such fixture (a whole study, a benchmark) is computed once, not
    once per worker. Tests that name their own ``xdist_group`` keep it."""
    for item in items:
        if item.get_closest_marker("xdist_group") is not None:
            continue
        defs = getattr(item, "_fixtureinfo", None)
        shared = defs is not None and any(
            d.scope == "module" for fdefs in defs.name2fixturedefs.values() for d in fdefs
        )
        if shared:
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    """Before pytest-xdist starts its workers (the controller only), compile the engine kernels
    of every built-in model once, in one process per worker (tests/warm_cache.py): otherwise
    every worker compiles them all. A failure here is left to the tests that use the kernels."""
    config = session.config
    workers = getattr(config.option, "numprocesses", None)
    if hasattr(config, "workerinput") or not workers:
        return
    import subprocess
    import sys

    parts = 2 if workers == "auto" else max(1, int(workers))
    parts = min(parts, os.cpu_count() or 1)
    script = str(Path(__file__).with_name("warm_cache.py"))
    procs = [subprocess.Popen([sys.executable, script, str(i), str(parts)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for i in range(parts)]  # fmt: skip
    for proc in procs:
        proc.wait()
