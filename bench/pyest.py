"""Item 9 -- Python estimators: simstudy's cost on top of the user's function, and 2 workers.

The function is the Huber M-estimator of location written in NumPy of
``configs/python_estimators.py`` (~0.2-0.5 ms a fit at n = 1000), on a normal cell. The baseline is what a
user would write without simstudy: a plain Python loop that draws the same samples with NumPy
(``Generator(Philox)`` at each replication's stream, the model's NumPy sampler) and calls the
same function. simstudy runs the same study (``simstudy.run``, a fresh store each time, only the
Python estimator) with 1 and with 2 worker processes.

A run has fixed costs (planning, the probe, starting the workers, writing the manifest) that a
longer study amortizes; what it costs per replication is the marginal time, (wall(R_large) -
wall(R_small)) / (R_large - R_small), and the fixed cost is what is left at R_small. The
overhead is marginal time per replication at 1 worker / the loop's time per replication - 1
(target ≤ 10%); the speed-up is marginal time at 1 worker / at 2 (target ≥ 1.8×).
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

import numba
import numpy as np

from bench.timing import Stats

SEED = 20261202
CONFIGS = Path(__file__).resolve().parent.parent / "configs"
MODEL = {"model": "normal", "params": {"mu": 1.0, "sigma2": 4.0}}


def _function():
    """The example's Huber estimator, imported as simstudy's workers import it (``configs/``
    on ``sys.path``, which the workers inherit)."""
    if str(CONFIGS) not in sys.path:
        sys.path.insert(0, str(CONFIGS))
    from python_estimators import huber

    return huber


def _config(reps: int, n: int) -> dict:
    return {"name": "bench-python", "seed": SEED, "replications": reps, "sample_sizes": [n],
            "models": [{**MODEL, "estimators": [{"python": "python_estimators:huber", "name": "huber"}]}]}  # fmt: skip


def _study(reps: int, n: int, workers: int) -> float:
    """Wall seconds of ``simstudy.run`` of the study into a fresh folder."""
    import simstudy

    out = Path(tempfile.mkdtemp(prefix="bench-python-"))
    before = numba.get_num_threads()
    try:
        t0 = time.perf_counter()
        simstudy.run(_config(reps, n), out=out, threads=workers, report=False)
        return time.perf_counter() - t0
    finally:
        numba.set_num_threads(before)
        shutil.rmtree(out, ignore_errors=True)


def _loop(reps: int, n: int) -> float:
    """Wall seconds of the plain loop: the same samples, the same function."""
    from simstudy import rng
    from simstudy.config import parse_config
    from simstudy.plan import make_plan

    (cell,) = make_plan(parse_config(_config(reps, n))).cells
    model, theta, huber = cell.model, cell.theta_array, _function()
    t0 = time.perf_counter()
    for rep in range(reps):
        x = model.numpy_sample(rng.numpy_generator(cell.seed, cell.key1, rep, 0), theta, n)
        huber(x)
    return time.perf_counter() - t0


def run(cfg) -> list[dict]:
    n, (small, large), repeats = cfg.python_n, cfg.python_reps, cfg.python_repeats
    if numba.config.NUMBA_NUM_THREADS < 2:
        return [{"section": "python", "name": "python estimator: 1 vs 2 workers",
                 "status": "only 1 core"}]  # fmt: skip
    _function()
    _study(small, n, 1)  # warm-up: imports, the kernels the workers load
    loop, marginal, fixed = [], {1: [], 2: []}, []
    for _ in range(repeats):
        loop.append(_loop(large, n) / large)
        for workers in (1, 2):
            short, long = _study(small, n, workers), _study(large, n, workers)
            marginal[workers].append((long - short) / (large - small))
            if workers == 1:
                fixed.append(short - small * marginal[1][-1])
    base, one, two = Stats(tuple(loop)), Stats(tuple(marginal[1])), Stats(tuple(marginal[2]))
    overheads = [a / b - 1 for a, b in zip(one.values, base.values)]
    speedups = [a / b for a, b in zip(one.values, two.values)]
    common = {"section": "python", "status": "ok", "n": n, "replications": [small, large],
              "function": "configs/python_estimators.py:huber (NumPy Huber M-estimator)"}  # fmt: skip
    return [
        {**common, "name": "python estimator: overhead per replication over a plain loop (1 worker)",
         "value": one.as_dict(), "baseline": base.as_dict(),
         "overhead": float(np.median(overheads)), "overhead_range": [min(overheads), max(overheads)],
         "fixed_seconds": Stats(tuple(fixed)).as_dict()},
        {**common, "name": "python estimator: 1 vs 2 workers",
         "value": two.as_dict(), "baseline": one.as_dict(),
         "speedup": float(np.median(speedups)), "speedup_range": [min(speedups), max(speedups)]},
    ]  # fmt: skip
