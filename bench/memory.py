"""Item 6 -- peak memory of a large cell, measured in a fresh subprocess.

The child runs one exponential cell (MLE) of size n through ``simstudy.run`` (store included,
report off) and prints ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` (and Linux's VmHWM as a
cross-check); it is started through a small launcher process, because Linux carries ru_maxrss
across fork + exec and a child forked straight from the benchmark would inherit its RSS. The same cell at R and
10·R must give the same peak: the engine holds one buffer of n per thread, never R x n samples.
A child with R = 2 gives the floor (interpreter, libraries, kernels).

    python -m bench.memory --child --n 1000000 --replications 10000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from bench.timing import ROOT


def child(n: int, replications: int) -> dict:
    import resource

    from bench.startup import _CompileCounter

    counter = _CompileCounter()  # a compilation (stale cache) would dominate the peak
    import simstudy

    config = {
        "name": "memory", "seed": 20261121, "replications": replications, "sample_sizes": [n],
        "models": [{"model": "exponential", "params": {"rate": 1.5}, "estimators": ["mle"]}],
    }  # fmt: skip
    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        simstudy.run(config, out=out, report=False)
        seconds = time.perf_counter() - t0
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    hwm_kib = None
    try:  # Linux's own peak-RSS counter of this process image, as a cross-check
        with open("/proc/self/status") as f:
            hwm_kib = next(int(line.split()[1]) for line in f if line.startswith("VmHWM"))
    except (OSError, StopIteration):
        pass
    return {"n": n, "replications": replications, "peak_rss_bytes": rss_kib * 1024,
            "vm_hwm_bytes": hwm_kib * 1024 if hwm_kib else None, "seconds": seconds,
            "compiles": counter.count}  # fmt: skip


def measure(n: int, replications: int) -> dict:
    """The child's result; rerun (up to 3 times) while it had to compile: the cache went stale
    (simstudy's source changed) and LLVM's memory would be measured instead of the cell's."""
    # Linux carries ru_maxrss across fork + exec: a child forked from this (large) process would
    # report at least this process's RSS. A small launcher process in between starts it clean.
    launcher = [sys.executable, "-c", "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))"]
    cmd = [*launcher, sys.executable, "-m", "bench.memory", "--child", "--n", str(n),
           "--replications", str(replications)]  # fmt: skip
    for _ in range(3):
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})  # fmt: skip
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        if result["compiles"] == 0:
            break
    return result


def run(cfg) -> list[dict]:
    n = cfg.memory_n
    measure(n, 2)  # warm the Numba cache for the child processes
    floor = measure(n, 2)
    small, large = (measure(n, r) for r in cfg.memory_reps)
    growth = large["peak_rss_bytes"] - small["peak_rss_bytes"]
    return [{
        "section": "memory", "name": f"peak RSS, exponential cell n = {n:,}", "status": "ok",
        "unit": "bytes", "n": n,
        "value": {"median": large["peak_rss_bytes"], "min": large["peak_rss_bytes"],
                  "max": large["peak_rss_bytes"], "repeats": 1},
        "anchor": {"name": f"same cell at R = {cfg.memory_reps[0]:,}",
                   "median": small["peak_rss_bytes"],
                   "min": small["peak_rss_bytes"], "max": small["peak_rss_bytes"], "repeats": 1},
        "ratio": large["peak_rss_bytes"] / small["peak_rss_bytes"],
        "ratio_meaning": f"peak RSS at R = {cfg.memory_reps[1]:,} / at R = {cfg.memory_reps[0]:,}",
        "replications": cfg.memory_reps[1], "growth_bytes": growth,
        "floor_bytes": floor["peak_rss_bytes"],
        "runs": {"floor": floor, "small": small, "large": large},
        "samples_held_if_naive_bytes": 8 * n * cfg.memory_reps[1],
    }]  # fmt: skip


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", action="store_true")
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--replications", type=int, default=10_000)
    args = parser.parse_args(argv)
    print(json.dumps(child(args.n, args.replications)))


if __name__ == "__main__":
    main()
