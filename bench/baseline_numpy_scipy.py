"""The seed study written the way a competent NumPy/SciPy user would write it.

For every cell (model, θ, n) of the config: draw the R samples in chunks of about
``CHUNK_VALUES`` values as one (chunk, n) array with NumPy's default generator (PCG64),
compute each estimator vectorised along axis 1 where a closed form exists, call
``scipy.stats.gamma.fit(x, floc=0)`` per sample for the gamma MLE, and summarise the estimates
with pandas (mean, bias, empirical SE, MSE per cell, estimator and parameter).

It computes the same estimates as ``simstudy run configs/seed_models.yaml`` (not the same
random numbers, so the two agree within Monte Carlo error, not bit for bit) and none of the
extras simstudy computes and stores: model-based SEs, the likelihood-ratio statistic, fit
statuses, a resumable store, MCSEs, verdicts.

    python bench/baseline_numpy_scipy.py configs/seed_models.yaml --replications 1000
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import time

import numpy as np
import pandas as pd
import yaml
from scipy import stats

CHUNK_VALUES = 2_000_000  # values per sampled chunk (16 MB of float64)


def draw(gen, model, theta, size):
    if model == "bernoulli":
        return (gen.random(size) < theta["p"]).astype(np.float64)
    if model == "normal":
        return gen.normal(theta["mu"], math.sqrt(theta["sigma2"]), size)
    if model == "exponential":
        return gen.exponential(1.0 / theta["rate"], size)
    if model == "poisson":
        return gen.poisson(theta["rate"], size).astype(np.float64)
    if model == "gamma":
        return gen.gamma(theta["shape"], 1.0 / theta["rate"], size)
    raise ValueError(f"the baseline does not know model {model!r}")


def estimate(model, estimator, x):
    """{parameter: estimates (one per row of x)}."""
    mean = x.mean(axis=1)
    if model == "bernoulli":
        return {"p": mean}
    if model == "normal":
        ddof = {"mle": 0, "unbiased": 1}[estimator]
        return {"mu": mean, "sigma2": x.var(axis=1, ddof=ddof)}
    if model == "exponential":
        return {"rate": 1.0 / mean}
    if model == "poisson":
        return {"rate": mean}
    if model == "gamma":
        if estimator == "mom":
            var = x.var(axis=1)
            return {"shape": mean**2 / var, "rate": mean / var}
        fits = np.array([stats.gamma.fit(row, floc=0) for row in x])
        return {"shape": fits[:, 0], "rate": 1.0 / fits[:, 2]}
    raise ValueError(f"the baseline does not know model {model!r}")


def cells(config):
    """(model, θ dict, estimators) for every combination of swept parameters."""
    for entry in config["models"]:
        names = list(entry["params"])
        values = [v if isinstance(v, list) else [v] for v in entry["params"].values()]
        for combo in itertools.product(*values):
            yield entry["model"], dict(zip(names, combo)), entry.get("estimators", ["mle"])


def run(config, replications=None):
    """The summary table (pandas) of the study ``config`` (a dict or a YAML path)."""
    if not isinstance(config, dict):
        with open(config) as f:
            config = yaml.safe_load(f)
    reps = replications or config["replications"]
    gen = np.random.default_rng(config["seed"])
    frames = []
    for model, theta, estimators in cells(config):
        theta_key = json.dumps(theta, separators=(",", ":"))
        for n in config["sample_sizes"]:
            chunk = max(1, CHUNK_VALUES // n)
            for start in range(0, reps, chunk):
                x = draw(gen, model, theta, (min(chunk, reps - start), n))
                for estimator in estimators:
                    for param, values in estimate(model, estimator, x).items():
                        frames.append(pd.DataFrame({
                            "model": model, "theta": theta_key, "n": n, "estimator": estimator,
                            "param": param, "truth": theta[param], "estimate": values,
                        }))  # fmt: skip
    df = pd.concat(frames, ignore_index=True)
    df["sq_error"] = (df["estimate"] - df["truth"]) ** 2
    keys = ["model", "theta", "n", "estimator", "param"]
    summary = df.groupby(keys, sort=False).agg(
        truth=("truth", "first"), mean=("estimate", "mean"), var=("estimate", "var"),
        mse=("sq_error", "mean"), replications=("estimate", "size"),
    ).reset_index()  # fmt: skip
    summary["bias"] = summary["mean"] - summary["truth"]
    summary["empse"] = np.sqrt(summary["var"])
    return summary


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config")
    parser.add_argument("--replications", type=int, default=None)
    parser.add_argument("--out", default=None, help="write the summary table here (CSV)")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    summary = run(args.config, args.replications)
    print(f"{time.perf_counter() - t0:.2f} s")
    if args.out:
        summary.to_csv(args.out, index=False)
    else:
        print(summary.to_string())


if __name__ == "__main__":
    main()
