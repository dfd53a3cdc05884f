"""Item 4 -- the whole seed study: ``simstudy.run(configs/seed_models.yaml, report=False)``
against ``bench/baseline_numpy_scipy.py``, and simstudy's time over pure sampling time.

simstudy runs in this process after one warm-up run (kernels loaded from Numba's cache), each
timed run into a fresh ``out`` folder, on all threads and on one. The baseline (one thread:
NumPy and SciPy do not parallelise this) runs at a reduced R and is scaled linearly to the
study's R (its cost is linear in R: chunked sampling plus one fit per sample). Pure sampling
time is the time to draw the study's samples alone -- every cell's sampler, fresh stream per
replication, one thread, measured on a fraction of R -- divided by the threads; the runs, the
baseline and this probe alternate within every repeat so that they see the same machine load.
The issue's formula, Σ R·n / item 1's in-kernel rate / threads, is reported next to it.

Where the time goes is measured, not guessed: every cell's sample, fits and lr_stat are
timed separately on one thread (:func:`bench.cells.components`) and scaled to the study.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numba
import numpy as np
import pandas as pd
import yaml

from bench import baseline_numpy_scipy as baseline
from bench import loops
from bench.cells import components
from bench.sampling import MODEL_VARIATE
from bench.timing import ROOT, Stats, alternating

CONFIG = ROOT / "configs" / "seed_models.yaml"


def study_config(cfg) -> dict:
    with open(CONFIG) as f:
        config = yaml.safe_load(f)
    if cfg.study_reps is not None:
        config["replications"] = cfg.study_reps
    if cfg.study_sample_sizes is not None:
        config["sample_sizes"] = list(cfg.study_sample_sizes)
    return config


def cell_variate(model: str, theta: dict) -> str:
    if model == "gamma":
        return f"gamma({theta['shape']:g})"
    return MODEL_VARIATE[model]


def _run_simstudy(config, keep=None, threads=None):
    import simstudy

    out = Path(tempfile.mkdtemp(prefix="bench-study-"))
    before = numba.get_num_threads()
    try:
        result = simstudy.run(copy.deepcopy(config), out=out, report=False, threads=threads)
    finally:
        numba.set_num_threads(before)
    if keep is not None:
        keep.append(result)
    else:
        shutil.rmtree(out, ignore_errors=True)
    return result


def store_write_seconds(result) -> tuple[float, int]:
    """(seconds, blocks): one thread re-encoding and writing every block of a finished run into
    a scratch store, i.e. the work simstudy's writer thread did alongside the engine."""
    from simstudy.store import Store

    tables = [(key, start, stop, result.store.read_block(path))
              for key in sorted(d.name for d in result.store.blocks_dir.iterdir() if d.is_dir())
              for start, stop, path in result.store.blocks(key)]  # fmt: skip
    scratch = Path(tempfile.mkdtemp(prefix="bench-store-"))
    try:
        store = Store(scratch)
        t0 = time.perf_counter()
        for key, start, stop, table in tables:
            store.write_block(key, start, stop, table)
        return time.perf_counter() - t0, len(tables)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def why_missed(outside_s: float, write_s: float, blocks: int, cores: int, n_threads: int) -> str:
    """What a missed item 4 is left with outside the engine, from this run's measurements."""
    shared = (
        f"on {n_threads} threads it shares the {cores} cores with the Numba threads, so it adds "
        "to the engine's time" if n_threads >= cores else
        f"with {n_threads} Numba thread(s) on {cores} cores it has a core of its own"
    )
    return (
        f"Outside the engine, {outside_s:.2f} s of the first timed run (all threads) stayed "
        "serial on the driver: planning, per-block bookkeeping, waiting for the writer thread "
        f"when a write outlasts the next block, and the manifest. Encoding and writing the "
        f"{blocks} Parquet blocks ({write_s:.2f} s on one core, re-measured after the run) runs "
        f"on a background thread while the next block computes; {shared}"
    )


def agreement(result, summary: pd.DataFrame) -> dict:
    """Per (cell, estimator, parameter): z = difference of mean estimates / its SE."""
    reps = result.replicates()
    rows = []
    for (model, estimator, theta, n), group in reps.groupby(["model", "estimator", "theta", "n"]):
        for param in json.loads(theta):
            ok = group[group["status"].isin(["ok", "boundary"])][param].dropna()
            base = summary[(summary.model == model) & (summary.estimator == estimator)
                           & (summary.n == n) & (summary.param == param)
                           & (summary.theta.map(json.loads) == json.loads(theta))]  # fmt: skip
            if base.empty or len(ok) < 2:
                continue
            b = base.iloc[0]
            se = np.sqrt(ok.var() / len(ok) + b["var"] / b["replications"])
            rows.append(abs(ok.mean() - b["mean"]) / se if se > 0 else 0.0)
    z = np.array(rows)
    return {"compared": int(z.size), "max_abs_z": float(z.max()) if z.size else float("nan"),
            "beyond_4": int(np.sum(z > 4.0))}  # fmt: skip


def sampling_probe(plan, reps: int, fraction: float) -> float:
    """Single-thread seconds to draw every sample of the study (each cell's sampler through the
    engine's function pointer, fresh stream per replication), estimated from ``fraction`` of
    the replications of every cell."""
    from bench import loops

    total = 0.0
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        for cell in plan.cells:
            sub = max(2, int(np.ceil(reps * fraction)))
            theta = np.ascontiguousarray(cell.theta_array)
            design = cell.model.design_array
            width = cell.n * cell.model.data_width
            t0 = time.perf_counter()
            loops.sample_loop(cell.model.sample, np.uint64(cell.key0), np.uint64(cell.key1),
                              theta, design, width, sub)  # fmt: skip
            total += (time.perf_counter() - t0) * reps / sub
    finally:
        numba.set_num_threads(threads)
    return total


def breakdown(config, cfg) -> dict:
    """Single-thread seconds of the study's sampling, fits and lr_stat, per component."""
    from simstudy.config import parse_config
    from simstudy.plan import make_plan

    plan = make_plan(parse_config(copy.deepcopy(config)), replications=config["replications"])
    totals = {"sample": 0.0, "fits": 0.0, "lr_stat": 0.0}
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        for cell in plan.cells:
            fits = [e.fit for e in cell.estimators]
            reps = max(2, min(200, cfg.profile_work // cell.n))
            parts = components(cell.model, fits, cell.theta_array, cell.n, reps,
                               cfg.profile_repeats, cfg.profile_min_time)  # fmt: skip
            scale = config["replications"]
            totals["sample"] += scale * parts["sample"]
            totals["fits"] += scale * sum(parts[f"fit{j}"] for j in range(len(fits)))
            totals["lr_stat"] += scale * parts["lr_stat"]
    finally:
        numba.set_num_threads(threads)
    return totals


def run(cfg, kernel_rates: dict) -> list[dict]:
    from simstudy.config import parse_config
    from simstudy.plan import make_plan

    config = study_config(cfg)
    reps = config["replications"]
    threads = numba.get_num_threads()
    warm = copy.deepcopy(config)
    warm["replications"] = min(reps, 20)
    _run_simstudy(warm)  # load every kernel (Numba cache) before timing

    plan = make_plan(parse_config(copy.deepcopy(config)), replications=reps)
    sampling_probe(plan, reps, cfg.study_probe_fraction)  # load the samplers
    base_cfg = copy.deepcopy(config)
    base_reps = min(reps, cfg.baseline_reps)
    kept, probes, summaries = [], [], []

    def control(n_threads):
        def call():
            before = numba.get_num_threads()
            numba.set_num_threads(n_threads)
            try:
                loops.parallel_sampling(np.uint64(1), np.uint64(2), 8, 2_000_000)
            finally:
                numba.set_num_threads(before)

        return call

    control(threads)()  # compile / load
    runs = alternating({
        "control 1": control(1),
        f"control {threads}": control(threads),
        "all": lambda: _run_simstudy(config, keep=kept if not kept else None),
        "1": lambda: _run_simstudy(config, threads=1),
        "probe": lambda: probes.append(sampling_probe(plan, reps, cfg.study_probe_fraction)),
        "baseline": lambda: summaries.append(baseline.run(base_cfg, base_reps)),
    }, cfg.study_repeats)  # fmt: skip
    ours, ours_1, base = runs["all"], runs["1"], runs["baseline"]
    control_speedup = runs["control 1"].median / runs[f"control {threads}"].median
    probe = Stats(tuple(probes))
    result = kept[0]
    # The executor's own per-cell timings (engine.run_block calls) of the first timed run: what
    # the rest of its wall time went to is planning, the Parquet store and the manifest.
    engine_wall = float(sum(c.get("seconds", 0.0) for c in result.manifest["cells"]))
    outside_engine = {"run_wall_s": ours.values[0], "engine_wall_s": engine_wall,
                      "outside_engine_s": ours.values[0] - engine_wall}  # fmt: skip
    base_scaled = base.scaled(reps / base_reps)
    agree = agreement(result, summaries[-1])
    write_s, n_blocks = store_write_seconds(result)
    outside_engine.update(store_write_s=write_s, blocks_written=n_blocks)
    shutil.rmtree(result.root.parent, ignore_errors=True)

    samples = {}
    pure_1 = 0.0
    for cell in plan.cells:
        variate = cell_variate(cell.model.name, cell.theta)
        samples[variate] = samples.get(variate, 0) + reps * cell.n
        pure_1 += reps * cell.n / kernel_rates[variate]
    measured_1 = probe.median
    parts = breakdown(config, cfg)
    engine_1thread = sum(parts.values())

    def versus_pure(label, stats, n_threads):
        pure_s = measured_1 / n_threads
        return {
            "section": "study", "name": f"seed study vs pure sampling time, {label}",
            "status": "ok", "unit": "s", "value": stats.as_dict(), "threads": n_threads,
            "anchor": {"name": f"the study's samples drawn alone (1 thread, measured between "
                               f"the runs on {cfg.study_probe_fraction:.0%} of R) / {n_threads}",
                       **probe.scaled(1.0 / n_threads).as_dict()},
            "ratio": stats.median / pure_s,
            "ratio_meaning": "simstudy time / pure sampling time (lower is better)",
            "pure_from_item1_rates_s": pure_1 / n_threads,
            "ratio_vs_item1_rates": stats.median / (pure_1 / n_threads),
            "samples_by_variate": samples,
            "control_speedup": control_speedup,
            "compile_seconds": 0.0,
            "breakdown_1thread_s": parts,
            "breakdown_share": {k: v / engine_1thread for k, v in parts.items()},
            "engine_estimate_s": engine_1thread / n_threads,
            "non_engine_s": max(stats.median - engine_1thread / n_threads, 0.0),
            "why_missed": why_missed(outside_engine["outside_engine_s"], write_s, n_blocks,
                                     os.cpu_count() or 1, n_threads),
        }  # fmt: skip

    return [
        {
            "section": "study", "name": "seed study: simstudy vs NumPy/SciPy baseline",
            "status": "ok", "unit": "s", "value": ours.as_dict(), "threads": threads,
            "replications": reps, "sample_sizes": config["sample_sizes"],
            "anchor": {"name": f"bench/baseline_numpy_scipy.py (1 thread) at R = {base_reps}, "
                               f"scaled x{reps / base_reps:g}", **base_scaled.as_dict(),
                       "measured_replications": base_reps,
                       "measured": base.as_dict()},
            "ratio": base_scaled.median / ours.median,
            "ratio_meaning": "baseline time / simstudy time (speed-up)",
            "estimate_agreement": agree,
            "first_run_timings": outside_engine,
            "control_speedup": control_speedup,
        },
        versus_pure(f"{threads} threads", ours, threads),
        versus_pure("1 thread (immune to load on the other core)", ours_1, 1),
    ]  # fmt: skip
