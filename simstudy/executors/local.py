"""The default executor: in-process Numba threads, no server."""

from __future__ import annotations

import time
from collections import defaultdict

import numba

from simstudy import engine
from simstudy.executors._tasks import Task, block_table
from simstudy.store import Store


def execute(tasks: list[Task], store: Store, *, progress=None) -> dict[str, dict[str, float]]:
    """Run the tasks in order, writing each block as soon as it is done.

    Returns per-cell timings ``{data_key: {"seconds": s, "replications": r}}``. ``progress``
    (if given) is called with each finished task.
    """
    timings: dict[str, dict[str, float]] = defaultdict(lambda: {"seconds": 0.0, "replications": 0})
    for task in tasks:
        cell = task.cell
        fits = [e.fit for e in task.estimators]
        engine.prepare(cell.model, fits)
        t0 = time.perf_counter()
        result = engine.run_block(
            cell.model, fits, cell.key0, cell.key1, cell.theta_array, cell.n,
            task.start, task.stop,
        )  # fmt: skip
        timings[cell.data_key]["seconds"] += time.perf_counter() - t0
        timings[cell.data_key]["replications"] += task.stop - task.start
        for j, est in enumerate(task.estimators):
            store.write_block(est.result_key, task.start, task.stop, block_table(cell, result, j))
        if progress is not None:
            progress(task)
    return dict(timings)


def threads_available() -> int:
    """Upper bound for ``--threads``: Numba's pool size (NUMBA_NUM_THREADS, default: cores)."""
    return numba.config.NUMBA_NUM_THREADS
