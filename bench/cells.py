"""Item 2 -- closed-form cells end to end through ``engine.run_block`` (sample + fit + the
likelihood-ratio statistic, R = 10^4, n = 10^3, one thread), in replications x n per second,
against the pure in-kernel sampling rate of the same variate (item 1's loop, timed interleaved
in the same process).

Each cell is also broken into its parts, timed separately per replication with the engine's own
function pointers (:mod:`bench.loops`): the sample (fresh stream + fill of an L1-resident
buffer), the fit, and ``lr_stat``'s log-likelihoods, which the driver evaluates 1 + E times per
replication (at θ₀ once, at each estimator's θ̂), from the sufficient statistics computed once
when the model declares them, else on the sample.
"""

from __future__ import annotations

import numba
import numpy as np

from bench import loops
from bench.sampling import MODEL_VARIATE, VARIATES
from bench.timing import interleaved
from simstudy import engine, rng
from simstudy.models._base import se_slots

KEY0, KEY1 = 20261121, 0x243F6A8885A308D3
#: The seed study's closed-form cells.
CELLS = {"exponential": [1.5], "normal": [0.0, 4.0], "poisson": [3.0], "bernoulli": [0.3]}
_POOL = 64  # precomputed samples the fit and log-likelihood timings cycle over


def components(model, fits, theta, n, reps, repeats, min_time):
    """Seconds per replication of: sample, each fit, and ``lr_stat`` (the sufficient
    statistics if any and 1 + E log-likelihoods, as the engine computes it; 1 thread)."""
    theta = np.ascontiguousarray(theta, dtype=np.float64)
    engine.prepare(model, fits)
    design = model.design_array
    width = n * model.data_width
    pool = np.empty((_POOL, width))
    loops.sample_into(model.sample, np.uint64(KEY0), np.uint64(KEY1), theta, design, pool)
    k, n_se = model.k, se_slots(model.k)
    fns = {"sample": lambda: loops.sample_loop(model.sample, np.uint64(KEY0), np.uint64(KEY1),
                                               theta, design, width, reps)}  # fmt: skip
    for j, fit in enumerate(fits):
        fns[f"fit{j}"] = lambda fit=fit: loops.fit_loop(fit, pool, k, n_se, reps)
    loglik, suff_stats, n_suff = engine.lr_kernels(model)
    fns["lr_stat"] = lambda: loops.lr_loop(loglik, suff_stats, n_suff, pool, theta, 1 + len(fits),
                                           reps)  # fmt: skip
    secs = interleaved(fns, repeats, min_time)
    return {name: s.median / reps for name, s in secs.items()}


def run(cfg, kernel_rates=None) -> list[dict]:
    from simstudy.models._registry import get_model

    variates = {v.name: v for v in VARIATES}
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    rows = []
    try:
        state = np.empty(rng.STATE_SIZE, dtype=np.uint64)
        rng.init_stream(state, np.uint64(KEY0), np.uint64(KEY1), 0, 0)
        for name, theta in CELLS.items():
            model = get_model(name)
            fit = model.estimators["mle"].fit
            theta = np.array(theta)
            n, reps = cfg.cell_n, cfg.cell_reps
            variate = variates[MODEL_VARIATE[name]]
            engine.run_block(model, [fit], KEY0, KEY1, theta, n, 0, 2)  # load kernels
            def cell(model=model, fit=fit, theta=theta, n=n, reps=reps):
                engine.run_block(model, [fit], KEY0, KEY1, theta, n, 0, reps)

            sampling_fill = variate.kernel_call(state, cfg.sample_size)
            secs = interleaved({"cell": cell, "sampling": sampling_fill}, cfg.repeats,
                               cfg.min_time)  # fmt: skip
            cell = secs["cell"].inverted(reps * n)
            sampling = secs["sampling"].inverted(cfg.sample_size)
            parts = components(model, [fit], theta, n, max(1, reps // 10), cfg.repeats,
                               cfg.min_time)  # fmt: skip
            per_rep = {"sample": parts["sample"], "fit": parts["fit0"],
                       "lr_stat": parts["lr_stat"]}  # fmt: skip
            total = sum(per_rep.values())
            rows.append({
                "section": "cells", "name": f"{name} mle", "model": name, "status": "ok",
                "theta": theta.tolist(), "n": n, "replications": reps, "threads": 1,
                "unit": "samples/s (replications x n)", "value": cell.as_dict(),
                "anchor": {"name": f"in-kernel {variate.name} draws/s (item 1 loop)",
                           **sampling.as_dict()},
                "ratio": cell.median / sampling.median, "ratio_range": cell.paired_ratio(sampling),
                "ratio_meaning": "cell rate / pure sampling rate",
                "per_replication_us": {k: v * 1e6 for k, v in per_rep.items()},
                "share": {k: v / total for k, v in per_rep.items()},
                "in_cell_sampling_ratio": (n / parts["sample"]) / sampling.median,
            })  # fmt: skip
    finally:
        numba.set_num_threads(threads)
    return rows
