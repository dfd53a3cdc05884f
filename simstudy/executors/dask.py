"""The Dask executor: replication blocks as ``dask.distributed`` tasks; the driver writes.

Cluster
    ``DaskExecutor()`` starts a ``LocalCluster`` of ``threads`` (default: every core) worker
    processes with one thread each, and every task runs Numba on one thread, so workers x Numba
    threads = cores. One single-threaded process per core rather than one process running all
    cores as Numba threads: a lost worker costs one core's block, which Dask retries elsewhere;
    no Python part of one task waits on another's GIL; and it is the shape batch clusters use
    (dask-jobqueue with ``processes`` = ``cores``), so what runs here is what runs there.
    ``DaskExecutor(scheduler=...)`` connects to a running cluster instead; its workers were
    sized when it started, and each of their threads runs one task on one Numba thread (give
    workers one thread per core, as Dask does by default).

Tasks
    A cell's Python estimators (:mod:`simstudy.pyfit`) have blocks of their own: such a task
    carries plain data (the model's config entry, the cell's keys, the functions' references)
    and runs in a child process of the worker (see :func:`run_python_task`).
    One task is one block of :func:`~simstudy.executors._tasks.plan_tasks` (about
    :data:`TARGET_BLOCK_SAMPLES` observations, ~0.5 s on one core, unless ``block_size`` is
    given), keyed ``simstudy-<hash of its result keys>-<start>-<stop>``, submitted in plan order
    with :data:`RETRIES` retries. Block boundaries never change a value: replication r uses its
    own random stream wherever it runs. Jitted kernels cannot be pickled, so a task carries the
    study's normalized config, the config's folder (plugins are imported from it, as the driver
    does), the cell's index and the expected keys; each worker process rebuilds the plan once
    and checks that the cell has the same data key and result keys, so a worker with other
    simstudy code or another environment fails loudly instead of storing foreign numbers.

Compilation
    Before submitting, the run compiles every kernel the tasks need into Numba's on-disk
    cache (:func:`simstudy._jit.cache_dir`). Workers on this machine, or on hosts that share the
    cache folder (same home, or the same ``NUMBA_CACHE_DIR``), load that machine code; workers
    elsewhere compile each kernel once per process.

Writing
    The driver is the store's only writer: workers return the block's arrays and the driver
    records each block as its task completes (its Recorder's writer thread writes it while the
    next ones arrive), so a killed driver loses only the blocks in flight and the next run
    resumes as after a local run. With ``max_fail_rate`` set, a cell's
    blocks are recorded in replication order (a block that finishes early waits for the ones
    before it), so a cell stops after the same block as with the local executor.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import socket
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numba

from simstudy.errors import EstimatorError, SimstudyError, StudyConfigError
from simstudy.executors import ExecutorError
from simstudy.executors._pyworkers import block_spec, run_in_child
from simstudy.executors._tasks import Recorder, Task, compile_kernels, compute_block
from simstudy.executors.local import check_threads, python_failure, threads_available

#: Observations per block (n x replications) when no block size is given: ~0.5 s on one core.
TARGET_BLOCK_SAMPLES = 1 << 24
#: Times Dask reruns a task that raised before the run gives up (a worker that dies is
#: rescheduled separately, up to ``distributed.scheduler.allowed-failures`` times).
RETRIES = 3
#: How long to wait for a scheduler given by address.
CONNECT_TIMEOUT = "10s"
#: Numba threads of one task: each Dask worker thread is one core.
NUMBA_THREADS_PER_TASK = 1

MISSING_EXTRA = (
    "--executor dask: Dask distributed is not installed; it is the optional extra "
    "'dask' of simstudy: pip install 'simstudy[dask]' (from a clone: pip install -e '.[dask]'), "
    "or run without --executor dask (the local executor needs nothing more)"
)


def import_distributed():
    """The ``distributed`` module, or an :class:`ExecutorError` naming the extra to install."""
    try:
        import distributed
    except ImportError:
        raise ExecutorError(MISSING_EXTRA) from None
    return distributed


@dataclass(frozen=True)
class WorkSource:
    """What a worker needs to rebuild a study's plan: its normalized config and folder."""

    config_json: str
    config_dir: str | None


class DaskExecutor:
    """Computes blocks on a Dask cluster (a LocalCluster it starts, or ``scheduler``)."""

    name = "dask"
    target_samples = TARGET_BLOCK_SAMPLES

    def __init__(self, *, scheduler=None, threads: int | None = None):
        self._distributed = import_distributed()
        self._client = None
        self._cluster = None
        self._owns_client = True
        if scheduler is not None and threads is not None:
            raise StudyConfigError(
                "--threads: with --scheduler the running cluster's workers set how many cores "
                "are used (one task per worker thread); size them where the cluster is started "
                "and drop --threads"
            )
        if threads is not None:
            check_threads(threads)
        self.workers = threads or threads_available()
        if scheduler is not None:
            self._connect(scheduler)

    def _connect(self, scheduler) -> None:
        distributed = self._distributed
        if isinstance(scheduler, distributed.Client):
            self._client, self._owns_client = scheduler, False
            return
        target = getattr(scheduler, "scheduler_address", scheduler)
        if not isinstance(target, str):
            raise StudyConfigError(
                f"scheduler: got a {type(scheduler).__name__}; give an address such as "
                "'tcp://HOST:8786', a distributed.Client or a Dask cluster object"
            )
        try:
            self._client = distributed.Client(target, timeout=CONNECT_TIMEOUT, set_as_default=False)
        except (OSError, TimeoutError, ValueError, TypeError) as exc:
            raise ExecutorError(
                f"--scheduler: cannot connect to {target!r} within {CONNECT_TIMEOUT} "
                f"({type(exc).__name__}: {exc}); start the cluster first and give the address "
                "it prints (cluster.scheduler_address, e.g. tcp://10.0.0.5:8786)"
            ) from None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._client is not None and self._owns_client:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._cluster = None

    def start(self) -> str:
        """Start the LocalCluster (unless connected) and say what computes."""
        client = self._ensure_client()
        nthreads = client.nthreads()
        kind = "LocalCluster" if self._cluster is not None else "cluster"
        return (
            f"{len(nthreads)} Dask workers ({kind} {client.scheduler.address}, "
            f"{sum(nthreads.values())} task threads, "
            f"{NUMBA_THREADS_PER_TASK} Numba thread per task)"
        )

    def _ensure_client(self):
        if self._client is None:
            distributed = self._distributed
            self._cluster = distributed.LocalCluster(
                n_workers=self.workers, threads_per_worker=1, processes=True,
                dashboard_address=":0", silence_logs=logging.ERROR,
            )  # fmt: skip
            self._client = distributed.Client(self._cluster, set_as_default=False)
            self._client.wait_for_workers(self.workers)
        return self._client

    def describe(self) -> dict:
        if self._client is None:
            return {"executor": "dask", "scheduler": None, "workers": 0, "threads": 0}
        nthreads = self._client.nthreads()
        return {
            "executor": "dask",
            "scheduler": self._client.scheduler.address,
            "cluster": "LocalCluster" if self._cluster is not None else "external",
            "workers": len(nthreads),
            "threads": sum(nthreads.values()),
            "numba_threads_per_task": NUMBA_THREADS_PER_TASK,
        }

    def execute(self, tasks: list[Task], recorder: Recorder, *, plan, config_dir=None) -> None:
        """Submit every task, then record the blocks as they complete (see the module doc)."""
        if not tasks:
            return
        client = self._ensure_client()
        compile_kernels(tasks)
        source = WorkSource(
            json.dumps(plan.config.normalized(), sort_keys=True),
            str(config_dir) if config_dir is not None else None,
        )
        index = {id(c): i for i, c in enumerate(plan.cells)}
        futures = {}
        for i, task in enumerate(tasks):
            if task.is_python:
                # Plain data: the worker imports the functions and fits them in a child.
                future = client.submit(
                    run_python_task, block_spec(task, plan.config, config_dir),
                    key=task_key(task), retries=RETRIES, priority=len(tasks) - i,
                )  # fmt: skip
                futures[future.key] = (i, future)
                continue
            future = client.submit(
                run_task, source, index[id(task.cell)], task.cell.data_key,
                tuple(e.result_key for e in task.estimators), task.start, task.stop,
                NUMBA_THREADS_PER_TASK,
                key=task_key(task), retries=RETRIES, priority=len(tasks) - i,
            )  # fmt: skip
            futures[future.key] = (i, future)
        ordered = recorder.max_fail_rate is not None
        queues: dict[str, deque[int]] = {}
        for i, task in enumerate(tasks):
            queues.setdefault(task.cell.data_key, deque()).append(i)
        arrived: dict[int, tuple] = {}
        pending = [f for _, f in futures.values()]
        try:
            for future in self._distributed.as_completed(pending, loop=client.loop):
                i, _ = futures.pop(future.key, (None, None))
                if i is None or future.cancelled():
                    continue
                task = tasks[i]
                if future.status == "error":
                    raise _failure(task, future.exception())
                outcome = future.result()
                future.release()
                if isinstance(outcome, EstimatorError):
                    raise outcome
                if task.is_python:
                    kind, outcome = outcome
                    if kind != "ok":
                        raise python_failure(task, outcome)
                if not ordered:
                    recorder.record(task, *outcome)
                    continue
                arrived[i] = outcome
                self._record_in_order(tasks, queues[task.cell.data_key], arrived, recorder, futures)
        finally:
            client.cancel([f for _, f in futures.values()])

    @staticmethod
    def _record_in_order(tasks, queue, arrived, recorder: Recorder, futures) -> None:
        """Record a cell's arrived blocks up to its first missing one; once the cell is stopped,
        cancel and skip the rest of it."""
        while queue and queue[0] in arrived:
            i = queue.popleft()
            recorder.record(tasks[i], *arrived.pop(i))
            if recorder.is_stopped(tasks[i]):
                for j in queue:
                    arrived.pop(j, None)
                    key = task_key(tasks[j])
                    if key in futures:
                        futures.pop(key)[1].cancel()
                    recorder.skip(tasks[j])
                queue.clear()


def task_key(task: Task) -> str:
    """Deterministic Dask key of a block: its result keys and replication range."""
    digest = hashlib.sha256("|".join(e.result_key for e in task.estimators).encode()).hexdigest()
    return f"simstudy-{digest[:16]}-{task.start:09d}-{task.stop:09d}"


def _failure(task: Task, exc: BaseException) -> ExecutorError:
    where = f"replications [{task.start}, {task.stop}) of {task.cell.label}"
    if type(exc).__name__ == "KilledWorker":
        return ExecutorError(
            f"{where}: every worker that ran it died (Dask gave up after "
            "distributed.scheduler.allowed-failures deaths: out of memory, or killed by the "
            "batch system?); the finished blocks are stored: rerun the same command to resume"
        )
    if isinstance(exc, SimstudyError):
        return ExecutorError(f"{where}: {exc}")
    return ExecutorError(
        f"{where} failed on a worker, also after {RETRIES} retries ({type(exc).__name__}: "
        f"{exc}); the finished blocks are stored. Rerun to resume, or run this study with "
        "--executor local to see the full traceback"
    )


# ---- on the workers --------------------------------------------------------------------------

_PLANS: dict[WorkSource, object] = {}
#: Studies whose plans a worker process keeps (a long-lived cluster serves many runs).
_PLANS_KEPT = 4
_PLANS_LOCK = threading.Lock()
_LAUNCH_LOCK = threading.Lock()


def _worker_plan(source: WorkSource):
    """The study's plan, built once per worker process (plugins imported from its folder)."""
    from simstudy.config import parse_config
    from simstudy.plan import make_plan

    with _PLANS_LOCK:
        if source not in _PLANS:
            base_dir = Path(source.config_dir) if source.config_dir else None
            cfg = parse_config(json.loads(source.config_json), source="study (on a Dask worker)",
                               base_dir=base_dir)  # fmt: skip
            while len(_PLANS) >= _PLANS_KEPT:
                _PLANS.pop(next(iter(_PLANS)))
            _PLANS[source] = make_plan(cfg, base_dir=base_dir)
        return _PLANS[source]


def _launch_guard():
    """Numba's ``workqueue`` threading layer cannot launch parallel kernels from two threads at
    once (``omp`` and ``tbb`` can): serialize launches unless a thread-safe layer is in use."""
    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel kernel has run in this process yet
        layer = None
    return contextlib.nullcontext() if layer in ("omp", "tbb") else _LAUNCH_LOCK


def run_python_task(spec):
    """Compute one Python estimators' block on a worker, in its child process
    (:func:`simstudy.executors._pyworkers.run_in_child`: there the fits run in a main thread,
    where their timeouts work); returns the child's answer."""
    return run_in_child(spec)


def run_task(source: WorkSource, cell_index: int, data_key: str, result_keys: tuple[str, ...],
             start: int, stop: int, numba_threads: int):  # fmt: skip
    """Compute one block on a worker; returns ``(BlockResult, seconds)`` for the driver, or the
    :class:`~simstudy.errors.EstimatorError` of an estimator that failed on it."""
    from simstudy.estimators import code_version

    plan = _worker_plan(source)
    cell = plan.cells[cell_index] if cell_index < len(plan.cells) else None
    by_key = {e.result_key: e for e in cell.estimators} if cell is not None else {}
    if cell is None or cell.data_key != data_key or not set(result_keys) <= set(by_key):
        raise ExecutorError(
            f"worker {socket.gethostname()} derives other cell or result keys for this study "
            f"than the driver: it runs other simstudy code or another environment (here: "
            f"simstudy {code_version()}); install the driver's simstudy and dependencies on "
            "every worker"
        )
    task = Task(cell, tuple(by_key[k] for k in result_keys), start, stop)
    numba.set_num_threads(min(numba_threads, numba.config.NUMBA_NUM_THREADS))
    with _launch_guard():
        try:
            return compute_block(task, [e.fit for e in task.estimators])
        except EstimatorError as exc:
            # Returned, not raised: the user's code fails the same way on every retry.
            return exc
