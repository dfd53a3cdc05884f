"""The default executor: in-process Numba threads, no server; Python estimators in worker
processes (one per thread)."""

from __future__ import annotations

import contextlib

import numba

from simstudy.errors import StudyConfigError
from simstudy.executors import ExecutorError
from simstudy.executors._tasks import TARGET_BLOCK_SAMPLES, Recorder, Task, compute_block


def threads_available() -> int:
    """Upper bound for ``--threads``: Numba's pool size (NUMBA_NUM_THREADS, default: cores)."""
    return numba.config.NUMBA_NUM_THREADS


def check_threads(threads: int) -> None:
    available = threads_available()
    if not 1 <= threads <= available:
        raise StudyConfigError(
            f"--threads: {threads} is not in 1..{available} (NUMBA_NUM_THREADS); "
            f"give at most {available} or raise NUMBA_NUM_THREADS"
        )


class LocalExecutor:
    """Runs the tasks in plan order in this process, each block on all Numba threads; then the
    Python estimators' tasks on ``threads`` worker processes (:mod:`._pyworkers`), recorded in
    plan order, so that ``max_fail_rate`` stops a cell after the same block whatever the
    number of workers.

    ``threads`` (if given) sets Numba's thread count for this process and the workers.
    """

    name = "local"
    target_samples = TARGET_BLOCK_SAMPLES

    def __init__(self, threads: int | None = None):
        if threads is not None:
            check_threads(threads)
            numba.set_num_threads(threads)
        self.threads = threads or numba.get_num_threads()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    def start(self) -> str:
        return f"{numba.get_num_threads()} threads"

    def execute(self, tasks: list[Task], recorder: Recorder, *, plan=None, config_dir=None,
                **_context) -> None:  # fmt: skip
        """Compute each task in order and record it as soon as it is done (the recorder's writer
        thread writes it while the next task computes); Python estimators' tasks after the
        others (see the class doc)."""
        python = [t for t in tasks if t.is_python]
        pool = None
        if python:
            from simstudy.executors._pyworkers import WorkerPool

            pool = WorkerPool(min(self.threads, len(python)))
            pool.start()  # the workers' imports overlap the Numba blocks
        with pool if pool is not None else contextlib.nullcontext():
            for task in tasks:
                if task.is_python:
                    continue
                if recorder.is_stopped(task):
                    recorder.skip(task)
                    continue
                result, seconds = compute_block(task, [e.fit for e in task.estimators])
                recorder.record(task, result, seconds)
            if python:
                self._run_python(pool, python, recorder, plan, config_dir)

    @staticmethod
    def _run_python(pool, tasks: list[Task], recorder: Recorder, plan, config_dir) -> None:
        from simstudy.executors._pyworkers import block_spec

        specs = [block_spec(t, plan.config, config_dir) for t in tasks]
        for i, answer in pool.run_in_order(specs, lambda i: recorder.is_stopped(tasks[i])):
            task = tasks[i]
            if answer is None or recorder.is_stopped(task):
                recorder.skip(task)
                continue
            kind, payload = answer
            if kind != "ok":
                raise python_failure(task, payload)
            recorder.record(task, *payload)

    def describe(self) -> dict:
        return {"executor": "local", "threads": numba.get_num_threads()}


def python_failure(task: Task, message: str) -> ExecutorError:
    """The error of a Python estimators' block whose worker could not compute it (not a fit
    that failed: those are stored with status error)."""
    labels = ", ".join(f"{e.label!r} ({e.source})" for e in task.estimators)
    return ExecutorError(
        f"python estimators {labels}: replications [{task.start}, {task.stop}) of "
        f"{task.cell.label} could not be computed in a worker process: {message}; every "
        "block finished before it is stored: fix the cause and rerun the same command to resume"
    )
