"""The default executor: in-process Numba threads, no server."""

from __future__ import annotations

import numba

from simstudy.errors import StudyConfigError
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
    """Runs the tasks in plan order in this process, each block on all Numba threads.

    ``threads`` (if given) sets Numba's thread count for this process.
    """

    name = "local"
    target_samples = TARGET_BLOCK_SAMPLES

    def __init__(self, threads: int | None = None):
        if threads is not None:
            check_threads(threads)
            numba.set_num_threads(threads)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass

    def start(self) -> str:
        return f"{numba.get_num_threads()} threads"

    def execute(self, tasks: list[Task], recorder: Recorder, **_context) -> None:
        """Compute each task in order and record it as soon as it is done (the recorder's writer
        thread writes it while the next task computes)."""
        for task in tasks:
            if recorder.is_stopped(task):
                recorder.skip(task)
                continue
            result, seconds = compute_block(task, [e.fit for e in task.estimators])
            recorder.record(task, result, seconds)

    def describe(self) -> dict:
        return {"executor": "local", "threads": numba.get_num_threads()}
