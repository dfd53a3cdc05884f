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
