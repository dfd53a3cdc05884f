"""Worker processes that run Python estimators' blocks (:func:`simstudy.pyfit.compute_block`).

A worker is ``python -m simstudy.executors._pyworkers``: a fresh interpreter, so the user's
top-level script is never re-run in it (as a spawned ``multiprocessing`` child would re-import
``__main__``), and one whose main thread runs every fit, so that per-fit timeouts can use an
interval timer whichever thread or Dask worker asked for the block. It first takes its
parent's ``sys.path`` (so it imports what the parent can), then answers one block at a time:
each request is a pickled :class:`~simstudy.pyfit.BlockSpec` on its stdin, each answer a
pickled ``("ok", (BlockResult, seconds))`` or ``("fail", message)`` on its original stdout.
Whatever the user's code prints goes to stderr, never into the answers. A worker exits when
its stdin closes (the parent finished or died).

:class:`WorkerPool` is the local executor's pool (``--threads N``: N workers, every block a
whole message: many replications per round trip); :func:`run_in_child` is what a Dask task
calls (one worker per Dask worker process).
"""

from __future__ import annotations

import json
import os
import pickle
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator

#: Each worker computes on one core: the BLAS and Numba pools of its libraries get one thread.
ONE_THREAD = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


class WorkerDied(Exception):
    """A worker process ended without answering (killed, out of memory, or a crash)."""


class Worker:
    """One worker process and its two pipes."""

    def __init__(self):
        env = dict(os.environ)
        for name in ONE_THREAD:
            env[name] = "1"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "simstudy.executors._pyworkers"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env,
        )  # fmt: skip
        self._send(("path", list(sys.path)))

    def _send(self, message) -> None:
        pickle.dump(message, self.proc.stdin, protocol=pickle.HIGHEST_PROTOCOL)
        self.proc.stdin.flush()

    def run(self, spec):
        """The worker's answer to one block: ``("ok", (result, seconds))`` or ``("fail", text)``."""
        try:
            self._send(("block", spec))
            return pickle.load(self.proc.stdout)
        except (EOFError, OSError, pickle.UnpicklingError):
            code = self.proc.poll()
            raise WorkerDied(f"the Python estimators' worker process (PID {self.proc.pid}) ended "
                             f"without answering (exit status {code})") from None  # fmt: skip

    def close(self, *, kill: bool = False) -> None:
        if kill:
            self.proc.kill()
        try:
            self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()


class WorkerPool:
    """``size`` worker processes, started on first use and closed by the context manager."""

    def __init__(self, size: int):
        self.size = size
        self._workers: list[Worker] = []

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *_exc) -> None:
        self.close(kill=exc_type is not None)

    def start(self) -> None:
        """Start the workers (their imports then overlap whatever the parent does next)."""
        while len(self._workers) < self.size:
            self._workers.append(Worker())

    def close(self, *, kill: bool = False) -> None:
        for worker in self._workers:
            worker.close(kill=kill)
        self._workers = []

    def run_in_order(self, specs: list, skip: Callable[[int], bool]) -> Iterator[tuple[int, object]]:
        """Yield ``(i, answer)`` for every spec in order, ``answer`` None for a spec that
        ``skip(i)`` (asked just before it would be sent) says to leave out. The workers take
        specs as they become free; answers that arrive early wait for the ones before them, so
        that whoever consumes them decides in the order of the specs."""
        self.start()
        todo: queue.Queue = queue.Queue()
        for i in range(len(specs)):
            todo.put(i)
        answers: dict[int, object] = {}
        ready = threading.Condition()
        stop = threading.Event()

        def serve(worker: Worker) -> None:
            while not stop.is_set():
                try:
                    i = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    answer = None if skip(i) else worker.run(specs[i])
                except WorkerDied as exc:
                    answer = ("fail", str(exc))
                with ready:
                    answers[i] = answer
                    ready.notify_all()

        threads = [threading.Thread(target=serve, args=(w,), name="simstudy-python-worker",
                                    daemon=True) for w in self._workers]  # fmt: skip
        for thread in threads:
            thread.start()
        try:
            for i in range(len(specs)):
                with ready:
                    while i not in answers:
                        ready.wait()
                    answer = answers.pop(i)
                yield i, answer
        finally:
            stop.set()


def block_spec(task, config, config_dir):
    """The :class:`~simstudy.pyfit.BlockSpec` of a Python estimators' task of a study."""
    from simstudy.pyfit import BlockSpec

    cell = task.cell
    entry = config.models[cell.entry]
    return BlockSpec(
        entry_json=json.dumps(entry.model_dump(mode="json"), sort_keys=True),
        base_dir=str(config_dir) if config_dir is not None else None,
        key0=cell.key0, key1=cell.key1, theta=tuple(float(v) for v in cell.theta_array),
        n=cell.n, start=task.start, stop=task.stop,
        estimators=tuple(e.fit.spec() for e in task.estimators),
    )  # fmt: skip


_CHILD: list[Worker] = []
_CHILD_LOCK = threading.Lock()


def run_in_child(spec):
    """One block in this process's own worker (started on first use, restarted once if it
    died): what a Dask task runs, since a Dask worker's task threads cannot time fits."""
    with _CHILD_LOCK:
        for attempt in range(2):
            if not _CHILD:
                _CHILD.append(Worker())
            try:
                return _CHILD[0].run(spec)
            except WorkerDied:
                _CHILD.pop().close(kill=True)
                if attempt:
                    raise
    raise AssertionError("unreachable")


# ---- in the worker process -------------------------------------------------------------------


def main() -> None:
    requests = os.fdopen(os.dup(0), "rb")
    answers = os.fdopen(os.dup(1), "wb")
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(2, 1)  # the user's prints go to stderr, never into the answers
    # Ctrl-C is the parent's to handle: it closes the workers.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    from simstudy import pyfit
    from simstudy.errors import SimstudyError

    while True:
        try:
            kind, payload = pickle.load(requests)
        except EOFError:
            return
        if kind == "path":
            sys.path[:0] = [p for p in payload if p not in sys.path]
            continue
        try:
            answer = ("ok", pyfit.compute_block(payload))
        except SimstudyError as exc:
            answer = ("fail", str(exc))
        except Exception as exc:  # noqa: BLE001 - reported by the parent, which stops the run
            answer = ("fail", f"{type(exc).__name__}: {exc}")
        try:
            pickle.dump(answer, answers, protocol=pickle.HIGHEST_PROTOCOL)
            answers.flush()
        except BrokenPipeError:
            return


if __name__ == "__main__":
    main()
