"""Item 5 -- scaling: 1 vs 2 threads on a cell, and replications per second against n.

Cells run through ``engine.run_block``. The n sweep picks R so that every point does about the
same work (R·n ≈ ``scaling_work``); cost linear in n·R shows as a log-log slope of -1 of
replications/s against n (flat samples/s) once per-replication overheads stop mattering.
"""

from __future__ import annotations

import numba
import numpy as np

from bench import loops
from bench.timing import interleaved
from simstudy import engine

KEY0, KEY1 = 20261121, 0x13198A2E03707344
THREAD_CELLS = {"gamma(2, 1.5) mle + mom": ("gamma", [2.0, 1.5], ["mle", "mom"]),
                "exponential(1.5) mle": ("exponential", [1.5], ["mle"])}  # fmt: skip
SWEEP_MODELS = {"exponential mle": ("exponential", [1.5], ["mle"]),
                "gamma mle": ("gamma", [2.0, 1.5], ["mle"])}  # fmt: skip


def _cell(name, theta, estimators):
    from simstudy.models._registry import get_model

    model = get_model(name)
    fits = [model.estimators[e].fit for e in estimators]
    return model, fits, np.array(theta)


def _threads(n_threads, fn):
    def call():
        numba.set_num_threads(n_threads)
        fn()

    return call


def threads_rows(cfg) -> list[dict]:
    rows = []
    available = numba.config.NUMBA_NUM_THREADS
    if available < 2:
        return [{"section": "scaling", "name": "1 vs 2 threads", "status": "only 1 core"}]
    n, reps = cfg.cell_n, cfg.cell_reps
    before = numba.get_num_threads()
    try:
        # Control: the same amount of pure sampling under prange, no engine.
        chunks = 8
        size = max(1, reps * n // chunks)

        def control():
            loops.parallel_sampling(np.uint64(KEY0), np.uint64(KEY1), chunks, size)

        secs = interleaved({"1": _threads(1, control), "2": _threads(2, control)}, cfg.repeats,
                           cfg.min_time)  # fmt: skip
        control_speedup = secs["1"].median / secs["2"].median
        rows.append({
            "section": "scaling", "name": "threads: control (pure sampling under prange)",
            "status": "ok", "n": size, "replications": chunks, "unit": "chunks/s",
            "value": secs["2"].inverted(chunks).as_dict(),
            "anchor": {"name": "1 thread", **secs["1"].inverted(chunks).as_dict()},
            "ratio": control_speedup, "ratio_meaning": "speed-up of 2 threads over 1",
        })  # fmt: skip
        for label, spec in THREAD_CELLS.items():
            model, fits, theta = _cell(*spec)

            def run(model=model, fits=fits, theta=theta):
                engine.run_block(model, fits, KEY0, KEY1, theta, n, 0, reps)

            run()
            secs = interleaved({"1": _threads(1, run), "2": _threads(2, run)}, cfg.repeats,
                               cfg.min_time)  # fmt: skip
            rows.append({
                "section": "scaling", "name": f"threads: {label}", "status": "ok",
                "n": n, "replications": reps, "unit": "replications/s",
                "value": secs["2"].inverted(reps).as_dict(),
                "anchor": {"name": "1 thread", **secs["1"].inverted(reps).as_dict()},
                "ratio": secs["1"].median / secs["2"].median,
                "ratio_meaning": "speed-up of 2 threads over 1",
                "relative_to_control": secs["1"].median / secs["2"].median / control_speedup,
            })  # fmt: skip
    finally:
        numba.set_num_threads(before)
    return rows


def sweep(cfg) -> dict:
    """{model label: {"n": [...], "reps_per_s": Stats dicts}} at the default thread count."""
    out = {}
    for label, spec in SWEEP_MODELS.items():
        model, fits, theta = _cell(*spec)
        points = []
        for n in cfg.scaling_ns:
            reps = int(np.clip(cfg.scaling_work // n, cfg.scaling_min_reps, cfg.scaling_max_reps))
            engine.run_block(model, fits, KEY0, KEY1, theta, n, 0, min(reps, 2))

            def cell(model=model, fits=fits, theta=theta, n=n, reps=reps):
                engine.run_block(model, fits, KEY0, KEY1, theta, n, 0, reps)

            secs = interleaved({"cell": cell}, cfg.repeats, cfg.min_time)["cell"]
            rate = secs.inverted(reps)
            points.append({"n": n, "replications": reps, **rate.as_dict()})
        ns = np.array([p["n"] for p in points], dtype=float)
        rates = np.array([p["median"] for p in points])
        big = ns >= 1000
        slope = float(np.polyfit(np.log(ns[big]), np.log(rates[big]), 1)[0]) if big.sum() >= 2 \
            else float("nan")
        out[label] = {"points": points, "slope_n_ge_1000": slope,
                      "threads": numba.get_num_threads()}  # fmt: skip
    return out


def figure(sweeps: dict, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    for label, data in sweeps.items():
        ns = np.array([p["n"] for p in data["points"]], dtype=float)
        med = np.array([p["median"] for p in data["points"]])
        lo = np.array([p["min"] for p in data["points"]])
        hi = np.array([p["max"] for p in data["points"]])
        line = axes[0].errorbar(ns, med, yerr=[med - lo, hi - med], marker="o", capsize=3,
                                label=f"{label} (slope {data['slope_n_ge_1000']:.2f}, n ≥ 1000)")
        axes[0].plot(ns, med[-1] * ns[-1] / ns, ls=":", color=line[0].get_color(), lw=1)
        axes[1].errorbar(ns, med * ns, yerr=[(med - lo) * ns, (hi - med) * ns], marker="o",
                         capsize=3, label=label)  # fmt: skip
    axes[0].set(xscale="log", yscale="log", xlabel="n (observations per replication)",
                ylabel="replications / s", title="Cost is linear in n (dotted: slope -1)")
    axes[1].set(xscale="log", yscale="log", xlabel="n", ylabel="samples / s (replications × n)",
                title="Throughput: flat once n amortises per-replication work")
    for ax in axes:
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8)
    threads = next(iter(sweeps.values()))["threads"] if sweeps else "?"
    fig.suptitle(f"simstudy engine.run_block, {threads} threads (median, min-max of repeats)",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(cfg) -> tuple[list[dict], dict]:
    rows = threads_rows(cfg)
    sweeps = sweep(cfg)
    for label, data in sweeps.items():
        rows.append({"section": "scaling", "name": f"n sweep: {label}", "status": "ok",
                     "unit": "replications/s", "points": data["points"],
                     "slope_n_ge_1000": data["slope_n_ge_1000"], "threads": data["threads"]})
    return rows, sweeps
