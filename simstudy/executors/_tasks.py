"""Work units shared by every executor: which replication blocks of which cells to compute.

A task is (cell, estimators, start, stop): the estimators of one cell that lack replications
[start, stop). Blocks are cut at every boundary of any estimator's missing ranges and then to
at most ``block_size`` replications, so one task never recomputes what is stored. Block
boundaries never change any value: replication r always uses its own random stream.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from simstudy.models._base import correlation_pairs
from simstudy.plan import Cell, EstimatorPlan, Plan
from simstudy.store import Store

#: Default work per block, in observations (n x replications): ~0.1-0.5 s on one core.
TARGET_BLOCK_SAMPLES = 1 << 23


@dataclass(frozen=True)
class Task:
    cell: Cell
    estimators: tuple[EstimatorPlan, ...]
    start: int
    stop: int

    @property
    def samples(self) -> int:
        return (self.stop - self.start) * self.cell.n


def default_block_size(n: int) -> int:
    return max(16, TARGET_BLOCK_SAMPLES // max(n, 1))


def plan_tasks(plan: Plan, store: Store, *, block_size: int | None = None,
               force: bool = False) -> list[Task]:  # fmt: skip
    """Every block still to compute, in plan order."""
    replications = plan.replications
    tasks = []
    for cell in plan.cells:
        size = block_size or default_block_size(cell.n)
        missing = {
            e.result_key: [(0, replications)] if force else store.missing_ranges(
                e.result_key, replications
            )
            for e in cell.estimators
        }
        cuts = {0, replications}
        for ranges in missing.values():
            for a, b in ranges:
                cuts.update((a, b))
        # Fixed grid of multiples of the block size, so blocks line up across reruns.
        cuts.update(range(0, replications, size))
        edges = sorted(cuts)
        for a, b in zip(edges[:-1], edges[1:]):
            needing = tuple(
                e for e in cell.estimators
                if any(lo <= a and b <= hi for lo, hi in missing[e.result_key])
            )
            if needing:
                tasks.append(Task(cell, needing, a, b))
    return tasks


def block_table(cell: Cell, result, j: int) -> pa.Table:
    """The replicate table of estimator ``j`` of a :class:`simstudy.engine.BlockResult`."""
    columns = {
        "rep": pa.array(np.arange(result.start, result.stop, dtype=np.int64)),
        "status": pa.array(result.status[j].astype(np.int8)),
        "n_iter": pa.array(result.n_iter[j].astype(np.int32)),
    }
    names = cell.model.param_names
    for q, name in enumerate(names):
        columns[name] = pa.array(result.estimates[j, :, q])
    for q, name in enumerate(names):
        columns[f"{name}_se"] = pa.array(result.se[j, :, q])
    for q, (a, b) in enumerate(correlation_pairs(names), start=len(names)):
        columns[f"corr_{a}_{b}"] = pa.array(result.se[j, :, q])
    columns["lr_stat"] = pa.array(result.lr_stat[j])
    return pa.table(columns)
