"""Per-replicate tables the distribution figures draw, derived from stored replicates only.

Every function takes the tidy replicate table of :meth:`simstudy.study.StudyResult.replicates`
for one (model, θ) and the cell's facts recorded in the manifest (true θ, Fisher information),
keeps only usable fits (status ``ok`` or ``boundary``, as the metrics do) and returns a long
table in replication order.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy.special import ndtri

from simstudy.models._base import STATUS_CODES
from simstudy.models._base import USABLE_STATUSES as _USABLE_CODES

#: Fit statuses (by name, as in the replicate table) that enter the metrics and the figures.
USABLE_STATUSES = tuple(STATUS_CODES[code] for code in _USABLE_CODES)


def usable(replicates: pd.DataFrame) -> pd.DataFrame:
    """The replicates whose fit is ``ok`` or ``boundary``."""
    status = replicates["status"]
    if not isinstance(status.dtype, pd.CategoricalDtype):  # categories compare as they are
        status = status.astype(str)
    return replicates[status.isin(USABLE_STATUSES).to_numpy()]


def family_theta(replicates: pd.DataFrame) -> dict[str, float]:
    """The true θ of a one-(model, θ) replicate table (from its ``theta`` JSON column)."""
    values = replicates["theta"].unique()
    if len(values) != 1 or replicates["model"].nunique() != 1:
        raise ValueError(
            "give the replicates of one (model, θ); got "
            f"{replicates['model'].nunique()} models and {len(values)} θ values"
        )
    return {k: float(v) for k, v in json.loads(values[0]).items()}


def standardized_estimates(replicates: pd.DataFrame, *, inverse_fisher: Mapping[str, float],
                           params: Sequence[str] | None = None) -> pd.DataFrame:  # fmt: skip
    """z = (θ̂ - θ) / sqrt([I(θ)^-1]_jj / n) per usable replication.

    ``inverse_fisher``: per-observation [I(θ)^-1]_jj by parameter name (the manifest's
    ``inverse_fisher`` diagonal). Columns: estimator, n, param, rep, z. Under asymptotic
    normality and efficiency z -> N(0, 1); an inefficient estimator's z has variance
    1/efficiency.
    """
    theta = family_theta(replicates)
    rows = usable(replicates)
    params = list(params or inverse_fisher)
    # Every parameter at once: z is a (replications x parameters) array, flattened
    # parameter by parameter.
    n = rows["n"].to_numpy()
    est = rows[params].to_numpy(dtype=float)
    truth = np.array([theta[p] for p in params])
    inverse = np.array([inverse_fisher[p] for p in params])
    z = (est - truth) / np.sqrt(inverse / n.astype(float)[:, None])
    k = len(params)
    codes, labels = pd.factorize(rows["estimator"], sort=False)
    out = pd.DataFrame({
        "estimator": pd.Categorical.from_codes(np.tile(codes, k), labels.astype(str)),
        "n": np.tile(n, k),
        "param": pd.Categorical.from_codes(np.repeat(np.arange(k), len(rows)), params),
        "rep": np.tile(rows["rep"].to_numpy(), k), "z": z.T.ravel(),
    })  # fmt: skip
    return out[np.isfinite(out["z"])].reset_index(drop=True)


def wald_intervals(replicates: pd.DataFrame, *, param: str, level: float) -> pd.DataFrame:
    """Wald intervals θ̂ ± z_{(1+level)/2}·SE of one parameter, ranked as in a zip plot.

    Columns: estimator, n, rep, estimate, lower, upper, covers, abs_z (|θ̂ - θ|/SE) and
    centile, the fractional centile of abs_z within its (estimator, n): rank / count, so the
    intervals that miss θ sit on top and the height where they start is the coverage
    (Morris, White & Crowther 2019, §6, "zip plot").
    """
    theta = family_theta(replicates)[param]
    rows = usable(replicates)
    se = rows[f"{param}_se"].to_numpy(dtype=float)
    est = rows[param].to_numpy(dtype=float)
    keep = np.isfinite(se) & np.isfinite(est)
    crit = float(ndtri(0.5 + level / 2.0))
    frame = pd.DataFrame({
        "estimator": rows["estimator"].to_numpy()[keep], "n": rows["n"].to_numpy()[keep],
        "rep": rows["rep"].to_numpy()[keep], "estimate": est[keep],
        "lower": est[keep] - crit * se[keep], "upper": est[keep] + crit * se[keep],
    })  # fmt: skip
    frame["covers"] = (frame["lower"] <= theta) & (theta <= frame["upper"])
    with np.errstate(divide="ignore", invalid="ignore"):  # SE = 0 gives |z| = inf: ranked last
        frame["abs_z"] = np.abs(frame["estimate"] - theta) / se[keep]
    groups = frame.groupby(["estimator", "n"], sort=False)["abs_z"]
    frame["centile"] = groups.rank(method="first") / groups.transform("size")
    return frame


def mahalanobis_statistics(replicates: pd.DataFrame, *, fisher: np.ndarray,
                           params: Sequence[str]) -> pd.DataFrame:  # fmt: skip
    """T = n (θ̂ - θ)ᵀ I(θ) (θ̂ - θ) per usable replication (asymptotically χ²_k).

    ``fisher``: the per-observation Fisher information (the manifest's ``fisher``), rows and
    columns in ``params`` order. Columns: estimator, n, rep, T.
    """
    theta = family_theta(replicates)
    rows = usable(replicates)
    est = rows[list(params)].to_numpy(dtype=float)
    d = est - np.array([theta[p] for p in params])
    t = rows["n"].to_numpy(dtype=float) * np.einsum("ri,ij,rj->r", d, np.asarray(fisher, dtype=float), d)
    out = pd.DataFrame({"estimator": rows["estimator"].to_numpy(), "n": rows["n"].to_numpy(),
                        "rep": rows["rep"].to_numpy(), "T": t})  # fmt: skip
    return out[np.isfinite(out["T"])].reset_index(drop=True)
