"""Work units and their bookkeeping, shared by every executor.

A task is (cell, estimators, start, stop): the estimators of one cell that lack replications
[start, stop). Blocks are cut at every boundary of any estimator's missing ranges and then to
at most ``block_size`` replications, so one task never recomputes what is stored. Block
boundaries never change any value: replication r always uses its own random stream. A cell's
Python estimators (:mod:`simstudy.pyfit`) get tasks of their own, after its Numba ones, cut to
:func:`python_block_size` replications (their fits are orders of magnitude slower); the
executors run them in worker processes.

Whatever computes a block, the process that holds the store records it through one
:class:`Recorder`: it adds the cell's timing, applies ``max_fail_rate`` and hands the block to
one background :class:`BlockWriter` thread, which writes it while the next block computes (the
engine releases the GIL).
"""

from __future__ import annotations

import itertools
import queue
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from simstudy import engine
from simstudy.errors import EstimatorError
from simstudy.models._base import STATUS_CODES, USABLE_STATUSES, correlation_pairs
from simstudy.plan import Cell, EstimatorPlan, Plan
from simstudy.store import Store, arrow_array

#: Default work per block, in observations (n x replications): ~0.1-0.5 s on one core.
TARGET_BLOCK_SAMPLES = 1 << 23


#: Observations per block of Python estimators (n x replications), and its bounds in
#: replications: at ~0.1-1 ms a fit, a block is a few seconds of one worker's time, and many
#: replications share one message to and from the worker.
PYTHON_BLOCK_SAMPLES = 1 << 18
PYTHON_BLOCK_REPS = (16, 1000)


@dataclass(frozen=True)
class Task:
    cell: Cell
    estimators: tuple[EstimatorPlan, ...]
    start: int
    stop: int

    @property
    def samples(self) -> int:
        return (self.stop - self.start) * self.cell.n

    @property
    def is_python(self) -> bool:
        """Python estimators' block (they never share a task with Numba estimators)."""
        return self.estimators[0].is_python


def python_block_size(n: int) -> int:
    """Replications per block of Python estimators for samples of size ``n`` (the same for
    every executor and worker count, so the stored blocks are too)."""
    low, high = PYTHON_BLOCK_REPS
    return max(low, min(high, PYTHON_BLOCK_SAMPLES // max(n, 1)))


def default_block_size(n: int, target_samples: int = TARGET_BLOCK_SAMPLES) -> int:
    """Replications per block for samples of size ``n``: about ``target_samples`` observations."""
    return max(16, target_samples // max(n, 1))


def plan_tasks(plan: Plan, store: Store, *, block_size: int | None = None, force: bool = False,
               target_samples: int = TARGET_BLOCK_SAMPLES) -> list[Task]:  # fmt: skip
    """Every block still to compute, in plan order.

    ``block_size`` fixes the replications per block; by default a block holds about
    ``target_samples`` observations (an executor with a per-task overhead asks for more).
    """
    tasks = []
    for cell in plan.cells:
        numba_estimators = tuple(e for e in cell.estimators if not e.is_python)
        python_estimators = tuple(e for e in cell.estimators if e.is_python)
        if numba_estimators:
            size = block_size or default_block_size(cell.n, target_samples)
            tasks += _cell_tasks(cell, numba_estimators, plan.replications, store, size, force)
        if python_estimators:
            size = block_size or python_block_size(cell.n)
            tasks += _cell_tasks(cell, python_estimators, plan.replications, store, size, force)
    return tasks


def _cell_tasks(cell: Cell, estimators, replications: int, store: Store, size: int,
                force: bool) -> list[Task]:  # fmt: skip
    """The tasks of ``estimators`` of one cell (see :func:`plan_tasks`)."""
    tasks = []
    missing = {
        e.result_key: [(0, replications)] if force else store.missing_ranges(
            e.result_key, replications
        )
        for e in estimators
    }
    cuts = {0, replications}
    for ranges in missing.values():
        for a, b in ranges:
            cuts.update((a, b))
    # Fixed grid of multiples of the block size, so blocks line up across reruns.
    cuts.update(range(0, replications, size))
    edges = sorted(cuts)
    for a, b in itertools.pairwise(edges):
        needing = tuple(
            e for e in estimators
            if any(lo <= a and b <= hi for lo, hi in missing[e.result_key])
        )
        if needing:
            tasks.append(Task(cell, needing, a, b))
    return tasks


def block_table(cell: Cell, result, j: int) -> pa.Table:
    """The replicate table of estimator ``j`` of a :class:`simstudy.engine.BlockResult`."""
    columns = {
        "rep": arrow_array(np.arange(result.start, result.stop, dtype=np.int64)),
        "status": arrow_array(result.status[j].astype(np.int8)),
        "n_iter": arrow_array(result.n_iter[j].astype(np.int32)),
    }
    names = cell.model.param_names
    for q, name in enumerate(names):
        columns[name] = arrow_array(result.estimates[j, :, q])
    for q, name in enumerate(names):
        columns[f"{name}_se"] = arrow_array(result.se[j, :, q])
    for q, (a, b) in enumerate(correlation_pairs(names), start=len(names)):
        columns[f"corr_{a}_{b}"] = arrow_array(result.se[j, :, q])
    columns["lr_stat"] = arrow_array(result.lr_stat[j])
    if result.messages is not None:
        # Python estimators: why each failed fit failed (null for the others).
        columns["message"] = pa.array(result.messages[j], type=pa.string())
    return pa.table(columns)


def compile_kernels(tasks: list[Task]) -> None:
    """Compile (or load from Numba's cache) every kernel the tasks need, once each, before any
    block runs: compile time then never enters a block's timing or the progress rate, and a
    plugin that does not compile is reported (:class:`~simstudy.errors.PluginError`) before
    anything is written."""
    from simstudy.estimators import compile_plugin

    seen: set = set()
    for task in tasks:
        key = (id(task.cell.model), *(id(e.fit) for e in task.estimators))
        if key in seen:
            continue
        seen.add(key)
        if task.is_python:
            # The workers evaluate lr_stat with the model's kernels: load them from the cache.
            engine.prepare_model(task.cell.model)
            continue
        for e in task.estimators:
            if e.is_plugin:
                compile_plugin(e.fit, e.source, where=e.origin)
        engine.prepare(task.cell.model, [e.fit for e in task.estimators])


def compute_block(task: Task, fits) -> tuple[engine.BlockResult, float]:
    """Run one task's replications with the given fit kernels (in the task's estimator order);
    returns the block and the seconds it took (compilation, if any, excluded).

    A plugin that raises, or returns a status that is not a fit status, stops the block with an
    :class:`~simstudy.errors.EstimatorError` naming the plugin, the cell and the replication."""
    cell = task.cell
    engine.prepare(cell.model, fits)
    t0 = time.perf_counter()
    try:
        result = engine.run_block(
            cell.model, fits, cell.key0, cell.key1, cell.theta_array, cell.n,
            task.start, task.stop, cell.model.design_array,
        )  # fmt: skip
    except engine.KernelFailure as failure:
        raise _estimator_failure(task, failure) from None
    seconds = time.perf_counter() - t0
    _check_status_codes(task, result)
    return result, seconds


def _estimator_failure(task: Task, failure: engine.KernelFailure) -> EstimatorError:
    error = failure.error
    if failure.rep is None:
        return EstimatorError(
            f"an estimator of {task.cell.label} raised inside the engine on replications "
            f"[{task.start}, {task.stop}) ({type(error).__name__}: {error}), but none raises "
            "when they are refitted one at a time; "
            + ", ".join(f"{e.label!r} ({e.source})" for e in task.estimators)
        )
    est = task.estimators[failure.estimator]
    kind = "plugin estimator" if est.is_plugin else "estimator"
    return EstimatorError(
        f"{kind} {est.label!r} ({est.source}) raised {type(error).__name__}: {error} at "
        f"replication {failure.rep} of {task.cell.label} (cell {task.cell.data_key[:12]})",
        data_key=task.cell.data_key, rep=failure.rep,
    )


def _check_status_codes(task: Task, result: engine.BlockResult) -> None:
    """EstimatorError at the first status that is not one of STATUS_CODES."""
    bad = ~np.isin(result.status, list(STATUS_CODES))
    if not bad.any():
        return
    j, i = (int(v[0]) for v in np.nonzero(bad))
    est, rep = task.estimators[j], result.start + i
    allowed = ", ".join(f"{k} ({v})" for k, v in STATUS_CODES.items())
    raise EstimatorError(
        f"{'plugin estimator' if est.is_plugin else 'estimator'} {est.label!r} ({est.source}) "
        f"returned status {int(result.status[j, i])} at replication {rep} of "
        f"{task.cell.label} (cell {task.cell.data_key[:12]}); a fit returns one of {allowed} "
        "(simstudy.models.OK, NOT_CONVERGED, NO_MLE, BOUNDARY)",
        data_key=task.cell.data_key, rep=rep,
    )


class BlockWriter:
    """One background thread that writes replication blocks to the store, in the order given.

    ``put`` waits while ``depth`` blocks are already waiting (so memory stays O(block)) and
    raises the exception of a write that failed, unchanged; after a failure the remaining
    blocks are dropped. ``close`` writes every block still waiting, joins the thread and
    (with ``raise_error``) raises a failed write's exception. Each write is the store's atomic
    one, so an interrupted run leaves complete blocks only. The thread is not a daemon: an
    interpreter that exits mid-write lets the write finish or clean up its temporary file.
    """

    def __init__(self, store: Store, depth: int = 2):
        self.store = store
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._closing = False
        self._thread: threading.Thread | None = None

    def put(self, task: Task, result: engine.BlockResult) -> None:
        self.check()
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="simstudy-block-writer")
            self._thread.start()
        self._queue.put((task, result))

    def check(self) -> None:
        """Raise the exception of a write that failed (in this thread, message unchanged)."""
        if self._error is not None:
            raise self._error

    def close(self, *, raise_error: bool = True) -> None:
        self._closing = True
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        if raise_error:
            self.check()

    def _loop(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=0.5)
            except queue.Empty:
                # Closing, or the main thread is gone without closing (interpreter exit).
                if self._closing or not threading.main_thread().is_alive():
                    return
                continue
            if item is None:
                return
            if self._error is not None:
                continue  # drain, so that put() never blocks on a dead writer
            task, result = item
            try:
                for j, est in enumerate(task.estimators):
                    self.store.write_block(
                        est.result_key, task.start, task.stop, block_table(task.cell, result, j)
                    )
            except BaseException as exc:  # noqa: BLE001 - re-raised in the recording thread
                self._error = exc


class Recorder:
    """The store's one writer: records finished blocks, per-cell timings and fit failures.

    A context manager: blocks are written by a :class:`BlockWriter` thread while the executor
    computes the next ones, and leaving the ``with`` block writes the blocks still waiting and
    joins it (raising a failed write's exception, unless another exception is propagating).

    ``timings`` is ``{data_key: {"seconds": s, "replications": r}}``; ``stopped`` is
    ``{data_key: reason}`` for the cells stopped early: once an estimator's share of failed fits
    (neither ``ok`` nor ``boundary``) among the blocks recorded in this run exceeds
    ``max_fail_rate``, the cell's later blocks are not computed. ``progress`` (if given) is
    called with every task recorded, ``skipped`` with every task of a stopped cell.
    """

    def __init__(self, store: Store, *, progress: Callable[[Task], None] | None = None,
                 skipped: Callable[[Task], None] | None = None,
                 max_fail_rate: float | None = None):  # fmt: skip
        self.store = store
        self.progress = progress
        self.skipped = skipped
        self.max_fail_rate = max_fail_rate
        self.timings: dict[str, dict[str, float]] = defaultdict(
            lambda: {"seconds": 0.0, "replications": 0}
        )
        self.stopped: dict[str, str] = {}
        self._failures: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
        self._nonfinite: dict[tuple[str, str], int] = defaultdict(int)
        self._python_reps: dict[str, int] = defaultdict(int)
        self._numba_reps: dict[str, int] = defaultdict(int)
        self._writer = BlockWriter(store)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *_exc) -> None:
        self._writer.close(raise_error=exc_type is None)

    def is_stopped(self, task: Task) -> bool:
        return task.cell.data_key in self.stopped

    def record(self, task: Task, result: engine.BlockResult, seconds: float) -> None:
        """Queue the task's blocks (one per estimator) for writing and update timings and failure
        tallies (here, so that a stopped cell is known before its next block is computed)."""
        cell = task.cell
        self._writer.put(task, result)
        self.timings[cell.data_key]["seconds"] += seconds
        # A cell's replications are counted once, by its Numba or its Python tasks (whichever
        # covered more), not once per kind of estimator.
        kind = self._python_reps if task.is_python else self._numba_reps
        kind[cell.data_key] += task.stop - task.start
        self.timings[cell.data_key]["replications"] = max(
            self._python_reps[cell.data_key], self._numba_reps[cell.data_key]
        )
        for j, est in enumerate(task.estimators):
            if result.nonfinite is not None and result.nonfinite[j]:
                self._nonfinite[(cell.data_key, est.label)] += int(result.nonfinite[j])
            tally = self._failures[(cell.data_key, est.label)]
            status = result.status[j]
            # Failed = neither usable code; two comparisons beat np.isin's setup on small blocks.
            tally[0] += len(status) - sum(int(np.count_nonzero(status == c)) for c in USABLE_STATUSES)
            tally[1] += task.stop - task.start
            rate = self.max_fail_rate
            if rate is not None and tally[0] > rate * tally[1]:
                self.stopped[cell.data_key] = (
                    f"{cell.label}: estimator {est.label!r} failed {tally[0]} of {tally[1]} fits "
                    f"({tally[0] / tally[1]:.1%} > max_fail_rate {rate:g}); the cell's "
                    "remaining replications were not computed (see the status column, or "
                    "`simstudy replay` a failed replication)"
                )
        if self.progress is not None:
            self.progress(task)

    def skip(self, task: Task) -> None:
        """Account for a task of a stopped cell, which is not computed."""
        if self.skipped is not None:
            self.skipped(task)

    def outcome(self) -> tuple[dict, dict[str, str]]:
        """(timings, stopped) as plain dicts."""
        return dict(self.timings), dict(self.stopped)

    def nonfinite_counts(self) -> dict[tuple[str, str], int]:
        """{(data key, estimator label): fits recorded in this run that returned ok or
        boundary with a non-finite estimate (stored as not_converged)}."""
        return dict(self._nonfinite)
