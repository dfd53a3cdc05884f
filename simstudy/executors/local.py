"""The default executor: in-process Numba threads, no server."""

from __future__ import annotations

import time
from collections import defaultdict

import numba
import numpy as np

from simstudy import engine
from simstudy.executors._tasks import Task, block_table
from simstudy.models._base import USABLE_STATUSES
from simstudy.store import Store


def execute(tasks: list[Task], store: Store, *, progress=None,
            max_fail_rate: float | None = None) -> tuple[dict, dict[str, str]]:  # fmt: skip
    """Run the tasks in order, writing each block as soon as it is done.

    Returns per-cell timings ``{data_key: {"seconds": s, "replications": r}}`` and the cells
    stopped early ``{data_key: reason}``: once an estimator's share of failed fits (neither
    ``ok`` nor ``boundary``) in this run exceeds ``max_fail_rate``, the cell's remaining blocks
    are skipped. ``progress`` (if given) is called with each finished or skipped task.
    """
    timings: dict[str, dict[str, float]] = defaultdict(lambda: {"seconds": 0.0, "replications": 0})
    failures: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    stopped: dict[str, str] = {}
    for task in tasks:
        cell = task.cell
        if cell.data_key in stopped:
            if progress is not None:
                progress(task)
            continue
        fits = [e.fit for e in task.estimators]
        engine.prepare(cell.model, fits)
        t0 = time.perf_counter()
        result = engine.run_block(
            cell.model, fits, cell.key0, cell.key1, cell.theta_array, cell.n,
            task.start, task.stop, cell.model.design_array,
        )  # fmt: skip
        timings[cell.data_key]["seconds"] += time.perf_counter() - t0
        timings[cell.data_key]["replications"] += task.stop - task.start
        for j, est in enumerate(task.estimators):
            store.write_block(est.result_key, task.start, task.stop, block_table(cell, result, j))
            tally = failures[(cell.data_key, est.label)]
            tally[0] += int(np.sum(~np.isin(result.status[j], USABLE_STATUSES)))
            tally[1] += task.stop - task.start
            if max_fail_rate is not None and tally[0] > max_fail_rate * tally[1]:
                stopped[cell.data_key] = (
                    f"{cell.label}: estimator {est.label!r} failed {tally[0]} of {tally[1]} fits "
                    f"({tally[0] / tally[1]:.1%} > max_fail_rate {max_fail_rate:g}); the cell's "
                    "remaining replications were not computed (see the status column, or "
                    "`simstudy replay` a failed replication)"
                )
        if progress is not None:
            progress(task)
    return dict(timings), stopped


def threads_available() -> int:
    """Upper bound for ``--threads``: Numba's pool size (NUMBA_NUM_THREADS, default: cores)."""
    return numba.config.NUMBA_NUM_THREADS
