"""How many replications a target Monte Carlo SE needs (Morris, White & Crowther 2019, §5.3).

Every MCSE here shrinks like R^-1/2, so from an MCSE s measured at R replications the target t
needs R·(s/t)² (for bias this is Var(θ̂)/t², Morris eq. 5). Coverage uses the nominal level c:
R = c(1-c)/t², since a pilot's coverage estimate at small R is too noisy to plan with.
"""

from __future__ import annotations

import math

import pandas as pd


def replications_needed(metrics: pd.DataFrame, targets: dict[str, float], replications: int,
                        level: float) -> pd.DataFrame:  # fmt: skip
    """One row per targeted metric: the largest R needed over cells, and the cell needing it.

    Columns: ``metric, target, replications_needed, model, estimator, theta, n, param, mcse``.
    """
    rows = []
    per_n = metrics[metrics.n.notna()]
    for metric, target in targets.items():
        sub = per_n[(per_n.metric == metric) & per_n.mcse.notna()]
        if metric == "coverage":
            need = math.ceil(level * (1.0 - level) / target**2)
            worst = sub.iloc[0] if len(sub) else None
            rows.append(_row(metric, target, need, worst))
            continue
        if sub.empty:
            rows.append(_row(metric, target, None, None))
            continue
        scaled = replications * (sub.mcse / target) ** 2
        worst = sub.loc[scaled.idxmax()]
        rows.append(_row(metric, target, math.ceil(float(scaled.max())), worst))
    return pd.DataFrame(rows)


def _row(metric, target, need, worst):
    base = {"metric": metric, "target": target, "replications_needed": need}
    if worst is None:
        return base | {k: None for k in ("model", "estimator", "theta", "n", "param", "mcse")}
    return base | {k: worst[k] for k in ("model", "estimator", "theta", "n", "param", "mcse")}
