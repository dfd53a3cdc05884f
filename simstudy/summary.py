"""What a finished ``simstudy run`` or ``verify`` tells the user: the verdict counts, each
verdict that is not as expected with its evidence, the estimators that failed too often, and
where the report is. Read from the verdict table and the stored fit statuses only."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path

import numpy as np

from simstudy.models._base import RUN_STATUS_CODES, USABLE_STATUSES
from simstudy.store import column_values

#: Estimators failing more than this share of fits in a cell are named in the summary.
FAIL_RATE_SHOWN = 0.01
VERDICT_ORDER = ("PASS", "FAIL", "INCONCLUSIVE", "SKIPPED")


def verdict_counts(verdicts) -> str:
    """'30 verdicts (24 PASS, 6 FAIL, 0 INCONCLUSIVE, 0 SKIPPED), all as expected'."""
    counts = Counter(verdicts.verdict)
    met = int(verdicts.met.sum())
    parts = ", ".join(f"{counts.get(v, 0)} {v}" for v in VERDICT_ORDER)
    total = len(verdicts)
    how = (f"all {total} as expected" if met == total
           else f"{met} as expected, {total - met} NOT as expected")  # fmt: skip
    return f"{total} verdicts ({parts}): {how}"


def unexpected_lines(verdicts) -> list[str]:
    """One line per verdict that is not as expected: where, what, the evidence, and the R that
    would decide an INCONCLUSIVE one."""
    lines = []
    for v in verdicts[~verdicts.met].itertuples():
        needed = v.replications_needed
        decide = ""
        if needed is not None and not math.isnan(needed):
            decide = f"; R = {int(needed):,} would decide it"
        lines.append(
            f"  {v.model} {v.theta} {v.estimator} {v.param} {v.property}: {v.verdict}, expected "
            f"{str(v.expected).upper()} -- {v.detail}{decide}"
        )
    return lines


def failure_lines(result, nonfinite: dict | None = None) -> list[str]:
    """One line per (model, θ, estimator) whose share of failed fits (neither ok nor boundary)
    exceeds :data:`FAIL_RATE_SHOWN` in some cell, with the status breakdown over its cells and
    the worst cell; ``nonfinite`` ({(data key, label): count}, this run's) adds how many fits
    returned ok with a non-finite estimate."""
    nonfinite = nonfinite or {}
    groups: dict[tuple, dict] = {}
    for cell in result.cells:
        for label, info in cell["estimators"].items():
            table = result.store.read_stored(info["result_key"])
            if table is None:
                continue
            status = column_values(table.column("status"))
            failed = int(status.size - np.isin(status, USABLE_STATUSES).sum())
            g = groups.setdefault((cell["model"], cell["theta"], label),
                                  {"fits": 0, "failed": 0, "codes": Counter(), "worst": (0.0, None),
                                   "nonfinite": 0})  # fmt: skip
            g["fits"] += int(status.size)
            g["failed"] += failed
            g["codes"].update(int(c) for c in status[~np.isin(status, USABLE_STATUSES)])
            g["nonfinite"] += nonfinite.get((cell["data_key"], label), 0)
            if "message" in table.column_names and "message" not in g:
                # A Python estimator's first failure, as an example of what went wrong.
                found = [(r, m) for r, m in zip(column_values(table.column("rep")),
                                                table.column("message").to_pylist()) if m]
                if found:
                    g["message"] = (cell["n"], int(found[0][0]), found[0][1])
            rate = failed / status.size if status.size else 0.0
            if rate > g["worst"][0]:
                g["worst"] = (rate, cell["n"])
    lines = []
    for (model, theta, label), g in groups.items():
        rate, worst_n = g["worst"]
        if rate <= FAIL_RATE_SHOWN:
            continue
        breakdown = ", ".join(f"{RUN_STATUS_CODES.get(c, c)} {k:,}" for c, k in sorted(g["codes"].items()))
        line = (
            f"  {model} {theta} {label}: {g['failed']:,} of {g['fits']:,} fits failed "
            f"({g['failed'] / g['fits']:.1%}: {breakdown}); worst at n={worst_n}: {rate:.1%}"
        )
        if g["nonfinite"]:
            line += (f"; {g['nonfinite']:,} of them returned status ok with a non-finite "
                     "estimate (counted as not_converged)")  # fmt: skip
        if "message" in g:
            n, rep, message = g["message"]
            line += f"; e.g. n={n} rep {rep}: {message}"
        lines.append(line)
    return lines


def report_paths(root: Path) -> str:
    return f"{root / 'report.html'} (and report.md)"
