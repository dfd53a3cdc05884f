"""Item 7 -- compile time and start-up, each in a fresh subprocess.

* cold vs warm ``simstudy run configs/quickstart.yaml`` (report included, fresh ``--out``):
  cold = an empty ``NUMBA_CACHE_DIR``, warm = the cache the cold run left;
* compile time of every seed model's kernels (``engine.prepare`` per cell) from an empty cache;
* time for a warm process, from spawn, to finish its first replication of the quickstart study;
* the number of compilations in the warm run: Numba's ``numba:compile`` events (fired only when
  a dispatcher really compiles, not when it loads from cache) and dispatcher cache misses.

The child modes run as ``python -m bench.startup --child MODE``. Each child reports simstudy's
source fingerprint (the cache folder's key): if it changed between a cold and a warm run (the
source was edited meanwhile), the warm run was not warm and the pair is redone.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

from bench.timing import ROOT, Stats


def _cache_key() -> str:
    """The source fingerprint this process's kernels are cached under (fixed at import: a
    fingerprint recomputed later would miss an edit made while the process ran)."""
    import numba

    return os.path.basename(numba.config.CACHE_DIR)

QUICKSTART = ROOT / "configs" / "quickstart.yaml"
SEED = ROOT / "configs" / "seed_models.yaml"


# ---------------------------------------------------------------------------------------------
# Children
# ---------------------------------------------------------------------------------------------
class _CompileCounter:
    def __init__(self):
        from numba.core import event

        self.count = 0
        self.names = []

        class Listener(event.Listener):
            def on_start(listener, ev):
                self.count += 1
                self.names.append(str(ev.data.get("dispatcher", "?"))[:80])

            def on_end(listener, ev):
                pass

        event.register("numba:compile", Listener())


def _cache_stats() -> dict:
    import gc

    from numba.core.dispatcher import Dispatcher

    hits = misses = 0
    for obj in gc.get_objects():
        if isinstance(obj, Dispatcher):
            hits += sum(obj._cache_hits.values())
            misses += sum(obj._cache_misses.values())
    return {"cache_hits": hits, "cache_misses": misses}


def child_run(out: str, stop_after_first: bool, cli_args: list[str]) -> dict:
    """``simstudy run configs/quickstart.yaml`` in this process, counting compilations."""
    counter = _CompileCounter()
    from simstudy import cli, engine

    first = {}
    original = engine.run_block

    def run_block(*args, **kwargs):
        result = original(*args, **kwargs)
        if "t" not in first:
            first["t"] = time.time()
            if stop_after_first:
                print(json.dumps({"first_replication_epoch": first["t"],
                                  "fingerprint": _cache_key()}), flush=True)  # fmt: skip
                os._exit(0)
        return result

    engine.run_block = run_block
    argv = ["run", str(QUICKSTART), "--out", out, "--quiet", *cli_args]
    code = cli.main(argv)
    return {"exit_code": code, "compiles": counter.count, "compiled": counter.names[:40],
            "first_replication_epoch": first.get("t"), "fingerprint": _cache_key(),
            **_cache_stats()}  # fmt: skip


def child_compile() -> dict:
    """Import simstudy, plan the seed study and prepare every cell's kernels, timed.

    Built-in fit kernels have explicit signatures and compile (or load) when their model is
    imported, i.e. during planning; ``engine.prepare`` then compiles the samplers, likelihoods
    and the driver. With an empty cache the total is import + compile; with a warm one it is
    import + cache loads. Their difference is the compile time.
    """
    t0 = time.perf_counter()
    counter = _CompileCounter()
    from simstudy import engine
    from simstudy.config import load_config
    from simstudy.plan import make_plan

    t_import = time.perf_counter() - t0
    plan = make_plan(load_config(SEED), replications=2)
    t_plan = time.perf_counter() - t0 - t_import
    per_model = {}
    for cell in plan.cells:
        fits = [e.fit for e in cell.estimators]
        t1 = time.perf_counter()
        engine.prepare(cell.model, fits)
        per_model[cell.model.name] = per_model.get(cell.model.name, 0.0) + time.perf_counter() - t1
    return {"import_s": t_import, "plan_s": t_plan, "prepare_s": sum(per_model.values()),
            "total_s": time.perf_counter() - t0, "prepare_per_model_s": per_model,
            "compiles": counter.count, "fingerprint": _cache_key()}  # fmt: skip


# ---------------------------------------------------------------------------------------------
# Parent
# ---------------------------------------------------------------------------------------------
def _spawn(mode: str, cache: str, *extra: str) -> tuple[dict, float, float]:
    """(child's JSON, spawn epoch, wall seconds) of a child with NUMBA_CACHE_DIR = cache."""
    cmd = [sys.executable, "-m", "bench.startup", "--child", mode, *extra]
    env = {**os.environ, "NUMBA_CACHE_DIR": cache, "PYTHONPATH": str(ROOT)}
    spawn = time.time()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"bench.startup child {mode} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1]), spawn, wall


def _quickstart_pair(cli_args: str):
    """A cold then a warm quickstart run sharing one fresh cache (retried if the source
    fingerprint changed in between)."""
    for _ in range(3):
        cache = tempfile.mkdtemp(prefix="bench-cache-")
        outs = [tempfile.mkdtemp(prefix="bench-out-") for _ in range(2)]
        try:
            extra = (f"--cli-args={cli_args}",) if cli_args else ()
            cold, _, cold_wall = _spawn("run", cache, "--out", outs[0], *extra)
            warm, _, warm_wall = _spawn("run", cache, "--out", outs[1], *extra)
            outs.append(tempfile.mkdtemp(prefix="bench-out-"))
            first, spawn, _ = _spawn("first", cache, "--out", outs[2], *extra)
        finally:
            for path in [cache, *outs]:
                shutil.rmtree(path, ignore_errors=True)
        if cold["fingerprint"] == warm["fingerprint"] == first["fingerprint"]:
            return cold, cold_wall, warm, warm_wall, first["first_replication_epoch"] - spawn
    raise RuntimeError("simstudy's source kept changing during the cold/warm measurement")


def run(cfg) -> list[dict]:
    cold_walls, warm_walls, firsts, warm_compiles, cold_compiles = [], [], [], [], []
    warm_misses = []
    for _ in range(cfg.startup_repeats):
        cold, cold_wall, warm, warm_wall, first = _quickstart_pair(cfg.quickstart_args)
        cold_walls.append(cold_wall)
        warm_walls.append(warm_wall)
        firsts.append(first)
        cold_compiles.append(cold["compiles"])
        warm_compiles.append(warm["compiles"])
        warm_misses.append(warm["cache_misses"])
        last_warm = warm
    compile_s, cold_totals, warm_totals, per_model, compiles = [], [], [], [], []
    # --quick skips the second cold compile: the quickstart pair above already measures one.
    while not cfg.quick and len(compile_s) < cfg.startup_repeats:
        cache = tempfile.mkdtemp(prefix="bench-cache-")
        try:
            cold_c, _, _ = _spawn("compile", cache)
            warm_c, _, _ = _spawn("compile", cache)
        finally:
            shutil.rmtree(cache, ignore_errors=True)
        if cold_c["fingerprint"] != warm_c["fingerprint"]:
            continue  # the source changed in between: the second run was not warm
        compile_s.append(cold_c["total_s"] - warm_c["total_s"])
        cold_totals.append(cold_c["total_s"])
        warm_totals.append(warm_c["total_s"])
        per_model.append(cold_c["prepare_per_model_s"])
        compiles.append(cold_c["compiles"])
    cold, warm, first = Stats(tuple(cold_walls)), Stats(tuple(warm_walls)), Stats(tuple(firsts))
    compile_row = {"section": "startup", "name": "compile all seed models' kernels (empty cache)",
                   "status": "not available in --quick mode (a second cold compile)"}  # fmt: skip
    if compile_s:
        comp, models = Stats(tuple(compile_s)), sorted(per_model[0])
        compile_row.update(
            status="ok", unit="s", value=comp.as_dict(),
            cold_total_s=Stats(tuple(cold_totals)).as_dict(),
            warm_total_s=Stats(tuple(warm_totals)).as_dict(), compiles=compiles,
            prepare_per_model_s={m: float(np.median([p[m] for p in per_model])) for m in models},
        )  # fmt: skip
    return [
        {"section": "startup", "name": "quickstart: cold vs warm `simstudy run`", "status": "ok",
         "unit": "s", "value": cold.as_dict(),
         "anchor": {"name": "warm (Numba cache filled by the cold run)", **warm.as_dict()},
         "ratio": cold.median / warm.median, "ratio_meaning": "cold time / warm time",
         "cold_compiles": cold_compiles, "warm_compiles": warm_compiles,
         "warm_cache_misses": warm_misses,
         "warm_cache_hits": last_warm["cache_hits"], "cli_args": cfg.quickstart_args},
        compile_row,
        {"section": "startup", "name": "warm process: spawn to first replication", "status": "ok",
         "unit": "s", "value": first.as_dict()},
        {"section": "startup", "name": "warm run: compilations", "status": "ok",
         "unit": "numba:compile events", "value": {"median": float(max(warm_compiles)),
                                                   "min": float(min(warm_compiles)),
                                                   "max": float(max(warm_compiles)),
                                                   "repeats": len(warm_compiles)},
         "cold_compiles": cold_compiles, "warm_cache_misses": warm_misses,
         "compiled_in_warm_run": last_warm["compiled"]},
    ]  # fmt: skip


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", choices=["run", "first", "compile"], required=True)
    parser.add_argument("--out", default=None)
    parser.add_argument("--cli-args", default="", help="extra `simstudy run` arguments")
    args = parser.parse_args(argv)
    if args.child == "compile":
        result = child_compile()
    else:
        result = child_run(args.out, args.child == "first", args.cli_args.split())
    print(json.dumps(result))


if __name__ == "__main__":
    main()
