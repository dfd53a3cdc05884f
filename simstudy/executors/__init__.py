"""Executors: ``local`` (in-process Numba threads, the default) and ``dask`` (distributed).
Both run Python estimators' blocks in worker processes (:mod:`._pyworkers`).

Both compute the tasks of :func:`simstudy.executors._tasks.plan_tasks` and hand every finished
block to one :class:`~simstudy.executors._tasks.Recorder` in the calling process, the store's
only writer. An executor is a context manager with:

- ``target_samples``: observations per block when no block size is given;
- ``start() -> str``: get ready to compute (a Dask cluster starts here) and say where;
- ``execute(tasks, recorder, *, plan, config_dir)``: compute the tasks;
- ``describe() -> dict``: what the manifest records about the run (``executor``, ``threads``,
  and for Dask ``scheduler``, ``workers``, ``numba_threads_per_task``).
"""

from __future__ import annotations

from simstudy.errors import SimstudyError, StudyConfigError

EXECUTORS = ("local", "dask")


class ExecutorError(SimstudyError):
    """An executor cannot run (missing extra, unreachable scheduler) or a block failed on it."""


def open_executor(name: str | None = None, *, scheduler=None, threads: int | None = None):
    """The executor called ``name`` (default: ``dask`` if a scheduler is given, else ``local``).

    ``threads`` is the number of cores computed on at once: Numba threads for ``local``,
    single-threaded workers of a LocalCluster for ``dask`` (with ``scheduler``, the cluster's
    own workers decide, so ``threads`` is refused). ``scheduler`` is an address
    (``tcp://HOST:PORT``), a ``distributed.Client`` or a cluster object.
    """
    if name is None:
        name = "dask" if scheduler is not None else "local"
    if name not in EXECUTORS:
        raise StudyConfigError(f"--executor: {name!r} is not one of {', '.join(EXECUTORS)}")
    if name == "local":
        if scheduler is not None:
            raise StudyConfigError(
                "--scheduler: a scheduler address needs the dask executor; drop "
                "--executor local (--scheduler alone implies --executor dask)"
            )
        from simstudy.executors.local import LocalExecutor

        return LocalExecutor(threads)
    from simstudy.executors.dask import DaskExecutor

    return DaskExecutor(scheduler=scheduler, threads=threads)
