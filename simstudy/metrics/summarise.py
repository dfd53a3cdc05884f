"""The long metrics table: one row per cell x estimator x parameter x metric.

Columns: ``model, estimator, theta, n, param, metric, value, mcse, n_ok, n_failed``.
Per-n rows come from :mod:`simstudy.metrics.point`; joint rows (``param = "(joint)"``) hold
``wilks_rejection`` and ``mahalanobis_ks_p``; trend rows (``n`` empty) hold ``rmse_slope``, the
weighted least-squares slope of log RMSE on log n over the upper half of the n grid (at least
three sizes), with its standard error as ``mcse``; ``rmse_slope_dof`` (finite when the RMSEs
scatter significantly beyond their MCSEs); ``rmse_tail_slope`` between the two largest n. ``fail_rate`` is the
share of fits that are neither ``ok`` nor ``boundary`` (those enter every other metric);
``boundary_rate`` is the share of valid MLEs on the domain's edge.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from simstudy.metrics import asymptotic, derived, mcse
from simstudy.metrics.point import param_metrics

COLUMNS = ["model", "estimator", "theta", "n", "param", "metric", "value", "mcse", "n_ok", "n_failed"]
JOINT = "(joint)"
USABLE = (0, 3)  # ok, boundary (simstudy.models._base.USABLE_STATUSES; no kernel import here)
BOUNDARY = 3


def compute_metrics(result, checks=None) -> pd.DataFrame:
    """Metrics of every complete cell x estimator of a :class:`simstudy.study.StudyResult`."""
    checks = checks or result.config.checks
    reps = result.manifest["replications"]
    rows: list[tuple] = []
    for cell in result.cells:
        theta = json.loads(cell["theta"])
        params = cell["params"]
        theta_vec = np.array([theta[p] for p in params])
        inv_f = np.array(cell["inverse_fisher"])
        # Present when the information is a Monte Carlo estimate (its error enters the MCSEs).
        inv_mcse = np.array(cell.get("inverse_fisher_mcse") or np.zeros_like(inv_f), dtype=float)
        fisher = np.array(cell["fisher"])
        n = cell["n"]
        tables = {
            label: result.store.read_replicates(info["result_key"], reps)
            for label, info in cell["estimators"].items()
        }
        expressions = _derived(result.config, cell)
        columns = {
            label: _columns(table, params, theta_vec, inv_f, expressions)
            for label, table in tables.items()
            if table is not None
        }
        ref = columns.get(checks.reference)
        for label, (usable, values) in columns.items():
            table = tables[label]
            n_ok = int(usable.sum())
            key = (cell["model"], label, cell["theta"], n)
            fail = mcse.proportion(~usable)
            boundary = mcse.proportion(table.column("status").to_numpy() == BOUNDARY)
            for p, (true, inv_fisher_jj, est, se) in values.items():
                eps = checks.epsilon * abs(true) if true != 0 else checks.epsilon
                j = params.index(p) if p in params else None
                found = param_metrics(
                    est[usable], se[usable], true, n, inv_fisher_jj if cell["regular"] else math.nan,
                    level=checks.coverage_level, epsilon=eps,
                    inv_fisher_mcse=float(inv_mcse[j, j]) if j is not None else 0.0,
                )  # fmt: skip
                found["fail_rate"] = fail
                found["boundary_rate"] = boundary
                if ref is not None and label != checks.reference:
                    both = usable & ref[0]
                    if both.sum() >= 4:
                        found["rel_precision"] = mcse.rel_precision(est[both], ref[1][p][2][both])
                rows.extend(key + (p, m, v, s, n_ok, reps - n_ok) for m, (v, s) in found.items())
            rows.extend(
                key + (JOINT, m, v, s, n_ok, reps - n_ok)
                for m, (v, s) in _joint(table, usable, theta_vec, fisher, n, cell, checks).items()
            )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame = pd.concat([frame, _trends(frame)], ignore_index=True)
    frame["n"] = frame["n"].astype("Int64")
    return frame


def _derived(config, cell) -> dict:
    entry = cell.get("entry")
    if entry is None or entry >= len(config.models):
        return {}
    return {
        name: derived.parse(text, cell["params"])
        for name, text in config.models[entry].derived.items()
    }


def _columns(table, params, theta_vec, inv_f, expressions):
    """(usable mask, {param: (true value, [I⁻¹]_jj, estimates, SEs)}) incl. derived params."""
    usable = _usable(table)
    values = {}
    for j, p in enumerate(params):
        values[p] = (float(theta_vec[j]), float(inv_f[j, j]), table.column(p).to_numpy(),
                     table.column(f"{p}_se").to_numpy())  # fmt: skip
    if expressions:
        est_cols = [values[p][2] for p in params]
        se_cols = [values[p][3] for p in params]
        corr_cols = {
            (a, b): table.column(f"corr_{a}_{b}").to_numpy()
            for i, a in enumerate(params) for b in params[i + 1 :]
            if f"corr_{a}_{b}" in table.column_names
        }  # fmt: skip
        with np.errstate(all="ignore"):  # failed fits carry NaN; they are masked by `usable`
            for name, tree in expressions.items():
                true, crlb_var, g_hat, g_se = derived.delta_method(
                    tree, params, theta_vec, inv_f, est_cols, se_cols, usable, corr_cols
                )
                values[name] = (true, crlb_var, g_hat, g_se)
    return usable, values


def _usable(table) -> np.ndarray:
    return np.isin(table.column("status").to_numpy(), USABLE)


def _joint(table, usable, theta_vec, fisher, n, cell, checks) -> dict[str, tuple[float, float]]:
    out = {}
    lr = table.column("lr_stat").to_numpy()[usable]
    lr = lr[np.isfinite(lr)]
    k = theta_vec.size
    if lr.size >= 4 and cell["regular"]:
        # Wilks: 2[ℓ(θ̂) - ℓ(θ₀)] -> χ²_k; rejection rate at 1 - coverage_level should match it.
        out["wilks_rejection"] = mcse.proportion(
            asymptotic.chi2_exceedance(lr, k, checks.coverage_level)
        )
    if k > 1 and cell["regular"] and usable.sum() >= 4:
        est = np.column_stack([table.column(p).to_numpy()[usable] for p in cell["params"]])
        t = asymptotic.mahalanobis(est, theta_vec, fisher, n)
        out["mahalanobis_ks_p"] = (asymptotic.ks_chi2_p(t, k), math.nan)
    return out


def _trends(frame: pd.DataFrame) -> pd.DataFrame:
    rmse = frame[frame.metric == "rmse"]
    rows = []
    for (model, est, theta, param), g in rmse.groupby(["model", "estimator", "theta", "param"], sort=False):
        g = g.sort_values("n")
        upper = g[g.n.isin(asymptotic.slope_sizes(g.n.tolist()))]
        slope, se, _, _, dof = asymptotic.loglog_slope(
            upper.n.to_numpy(), upper.value.to_numpy(), upper.mcse.to_numpy(), 0.95
        )
        if np.isfinite(slope):
            last = g.iloc[-1]
            rows.append((model, est, theta, pd.NA, param, "rmse_slope", slope, se,
                         last.n_ok, last.n_failed))  # fmt: skip
            # Residual degrees of freedom when the points scatter significantly beyond their
            # MCSEs (inf otherwise): RMSE is then not a power law over this range.
            rows.append((model, est, theta, pd.NA, param, "rmse_slope_dof", dof, math.nan,
                         last.n_ok, last.n_failed))  # fmt: skip
            # Slope between the two largest n (delta-method SE from their MCSEs): the most
            # asymptotic reading of the rate, used when the power law does not fit.
            a, b = g.iloc[-2], g.iloc[-1]
            if a.value > 0 and b.value > 0:
                span = math.log(b.n / a.n)
                tail = math.log(b.value / a.value) / span
                tail_se = math.hypot(a.mcse / a.value, b.mcse / b.value) / span
                rows.append((model, est, theta, pd.NA, param, "rmse_tail_slope", tail, tail_se,
                             last.n_ok, last.n_failed))  # fmt: skip
    return pd.DataFrame(rows, columns=COLUMNS)
