"""Rendering figure jobs: reuse files whose inputs have not changed, draw the rest.

Three things keep ``simstudy report`` within a few seconds without giving up quality:

- a content key per figure: SHA-256 of the drawing code (:data:`DRAWING_CODE`), the
  plotting library versions, the figure function, its options, the formats and its input:
  the exact rows of its metrics table, or, for per-replicate figures, the stored result keys
  it reads (a result key hashes everything its replicates depend on).
  ``figures/.render-cache.json`` maps each file stem to its key and the SHA-256 of every file
  written; a figure whose key and files match is not redrawn, and when nothing has to be
  drawn neither matplotlib nor any replicate is loaded. Changing a margin redraws only the
  figures that show it; changing the plotting code redraws everything.
- the figures that must be drawn are shared among processes forked from this one after
  matplotlib is imported (one per core, at most :data:`MAX_WORKERS`), so a worker costs a
  fork, not a second interpreter's imports. Jobs that read the same stored replicates (one
  ``group``) go to the same worker, which reads them once: reading is shared out too. Where
  ``fork`` is not available (macOS, Windows), fresh interpreters draw them when there are
  enough figures to pay for their start-up. ``SIMSTUDY_REPORT_WORKERS=N`` (or
  ``build(..., workers=N)``) chooses; 1 draws in-process.
- figures themselves are cheap to draw (see :mod:`simstudy.report.figures`).

Output does not depend on the number of workers or the order in which they finish.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from simstudy.store import atomic_write_json

CACHE_NAME = ".render-cache.json"
#: Without ``fork``, draw in fresh interpreters only when the figures to draw would take longer
#: than this in one process (a fresh interpreter needs about two seconds to import matplotlib).
PARALLEL_ABOVE_SECONDS = 6.0
#: Drawing cost per figure function, CPU seconds for a PNG (measured on the seed_models
#: figures); only the ratios matter, to share the work evenly.
COST = {"qq_figure": 0.22, "density_figure": 0.23, "mahalanobis_qq_figure": 0.28, "zip_figure": 0.15}
DEFAULT_COST = 0.12
#: Reading one group's stored replicates (a model's, about 0.1 to 0.2 s).
GROUP_COST = 0.2
MAX_WORKERS = 8
#: Source files whose text is part of every figure's key.
DRAWING_CODE = ("figures.py", "layout.py", "png.py", "style.py", "prepare.py")
PLOTTING_LIBRARIES = ("matplotlib", "seaborn", "numpy", "scipy", "pandas", "pillow", "fonttools")


@dataclass
class Job:
    """One figure: ``figures.<function>(data, **options)`` saved as ``<stem>.<fmt>``.

    ``data`` is the input table, or a function returning it when ``source`` (text that
    determines the table, e.g. the stored result keys it is computed from) stands for it in
    the key; it is then called only if the figure is drawn, by the process that draws it.
    Jobs with the same ``group`` have loaders that share what they read (drawn in one
    process, it is read once)."""

    stem: str
    function: str
    data: pd.DataFrame | Callable[[], pd.DataFrame]
    options: dict[str, Any] = field(default_factory=dict)
    source: str | None = None
    group: str | None = None

    def table(self) -> pd.DataFrame:
        return self.data() if callable(self.data) else self.data


def code_salt() -> str:
    """SHA-256 of the drawing code and the plotting libraries' versions (read from their
    metadata, not imported); the data a figure shows is keyed separately."""
    from importlib.metadata import PackageNotFoundError, version

    h = hashlib.sha256()
    for name in DRAWING_CODE:
        h.update((Path(__file__).parent / name).read_bytes())
    for dist in PLOTTING_LIBRARIES:
        try:
            h.update(f"{dist} {version(dist)};".encode())
        except PackageNotFoundError:
            h.update(f"{dist} -;".encode())
    return h.hexdigest()


def job_key(job: Job, salt: str) -> str:
    """What a figure's files depend on (each format's file is keyed by this and its format)."""
    h = hashlib.sha256(salt.encode())
    h.update(job.function.encode())
    h.update(repr(sorted(job.options.items())).encode())
    if job.source is not None:
        h.update(b"source:" + job.source.encode())
    else:
        data = job.table()
        h.update(",".join(map(str, data.columns)).encode())
        h.update(pd.util.hash_pandas_object(data, index=False).to_numpy().tobytes())
    return h.hexdigest()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _draw(job: Job, directory: str, formats: Sequence[str]) -> list[str]:
    """Draw and save one job (runs in a worker or in-process)."""
    from simstudy.report import figures

    fig = getattr(figures, job.function)(job.table(), **job.options)
    paths = [str(p) for p in figures.save_figure(fig, directory, job.stem, formats)]
    figures.recycle(fig)  # the next figure of its kind and geometry is drawn on it
    return paths


def _can_fork() -> bool:
    # fork is safe here on Linux (the children only draw with Agg and exit); macOS's system
    # libraries are not fork-safe.
    return sys.platform.startswith("linux") and hasattr(os, "fork")


def _cost(job: Job) -> float:
    return COST.get(job.function, DEFAULT_COST)


def _workers(todo: Sequence[tuple[Job, tuple]], requested: int | None) -> int:
    if requested is None:
        env = os.environ.get("SIMSTUDY_REPORT_WORKERS", "").strip()
        requested = int(env) if env.isdigit() and int(env) > 0 else None
    if requested is not None:
        return max(1, min(requested, len(todo)))
    cost = sum(_cost(j) for j, _ in todo)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    threshold = FORK_ABOVE_SECONDS if _can_fork() else PARALLEL_ABOVE_SECONDS
    if cost <= threshold or cpus < 2:
        return 1
    return max(1, min(cpus, MAX_WORKERS, len(todo)))


#: With ``fork``, share the drawing when it would take longer than this in one process.
FORK_ABOVE_SECONDS = 0.5


def _balance(todo: Sequence[tuple[Job, tuple]], count: int) -> list[list[tuple[Job, tuple]]]:
    """Split ``todo`` into ``count`` batches of about equal cost, a group's jobs in one batch
    (costliest unit first, each to the lightest batch), keeping document order within a
    batch."""
    units: dict[str, list[int]] = {}
    for i, (job, _) in enumerate(todo):
        units.setdefault(f"group:{job.group}" if job.group else f"job:{i}", []).append(i)

    def cost(unit: str) -> float:
        return sum(_cost(todo[i][0]) for i in units[unit]) + (GROUP_COST if unit.startswith("group:") else 0.0)

    batches: list[list[int]] = [[] for _ in range(count)]
    load = [0.0] * count
    for unit in sorted(units, key=lambda u: (-cost(u), units[u][0])):
        k = load.index(min(load))
        batches[k] += units[unit]
        load[k] += cost(unit)
    return [[todo[i] for i in sorted(b)] for b in batches if b]


def _ready(todo: Sequence[tuple[Job, tuple]]) -> list[tuple[Job, tuple]]:
    """The jobs with their tables computed (loaders run once, here, before any worker starts)."""
    return [(Job(j.stem, j.function, j.table(), j.options, j.source, j.group), fmts) for j, fmts in todo]


def _fork_workers(todo: Sequence[tuple[Job, tuple]], directory: Path,
                  count: int) -> list[tuple[Job, tuple]]:  # fmt: skip
    """Draw ``todo`` in this process and ``count - 1`` forked children; return the jobs of any
    child that failed (the caller draws them in-process, where errors surface)."""
    import warnings

    from simstudy.report import figures  # noqa: F401 - imported once, before forking

    batches = _balance(todo, count)
    children = []
    for batch in batches[1:]:
        with warnings.catch_warnings():
            # Python >= 3.12 warns when a process with threads (pyarrow's pool) forks. The
            # child draws with Agg, writes files and exits; the replicates it reads go through
            # pyarrow, which restarts its thread pools in a forked child (at-fork handlers).
            warnings.simplefilter("ignore", DeprecationWarning)
            pid = os.fork()
        if pid == 0:  # the child
            code = 1  # a failure shows in the exit code; the parent redraws the batch
            try:
                for job, formats in batch:
                    _draw(job, str(directory), formats)
                code = 0
            finally:
                os._exit(code)
        children.append((pid, batch))
    failed: list[tuple[Job, tuple]] = []
    try:
        for job, formats in batches[0]:
            _draw(job, str(directory), formats)
    finally:
        for pid, batch in children:
            _, status = os.waitpid(pid, 0)
            if os.waitstatus_to_exitcode(status) != 0:
                failed += batch
    return failed


def _run_workers(todo: Sequence[tuple[Job, tuple]], directory: Path, count: int) -> bool:
    """Draw ``todo`` in ``count`` fresh interpreters (``python -m simstudy.report.render``);
    False if any of them failed (the caller then draws in-process, where errors surface
    with their traceback). Used where ``fork`` is not available.

    Separate processes, not ``multiprocessing``: they do not re-import the caller's main
    script (which may have no ``if __name__ == "__main__"`` guard)."""
    import pickle
    import subprocess
    import tempfile

    import simstudy

    env = dict(os.environ)
    package_root = str(Path(simstudy.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))

    batches = _balance(_ready(todo), count)
    with tempfile.TemporaryDirectory(prefix="simstudy-figures-") as tmp:
        procs = []
        for k, batch in enumerate(batches):
            path = Path(tmp) / f"jobs-{k}.pickle"
            path.write_bytes(pickle.dumps((batch, str(directory))))
            cmd = [sys.executable, "-m", "simstudy.report.render", str(path)]
            procs.append(subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                          env=env))  # fmt: skip
        codes = [proc.wait() for proc in procs]  # wait for every worker before cleaning up
    return all(code == 0 for code in codes)


def _worker_main(job_file: str) -> None:
    import pickle

    path = Path(job_file)
    batch, directory = pickle.loads(path.read_bytes())
    for job, formats in batch:
        _draw(job, directory, formats)


def render(jobs: Sequence[Job], directory: str | Path, formats: Sequence[str], *,
           workers: int | None = None) -> dict[str, list[Path]]:  # fmt: skip
    """Draw every job whose files are missing or stale; return {stem: paths} for all jobs.

    Each (figure, format) file is reused when its figure's key is unchanged and the file is
    the one written then (SHA-256), so switching formats draws only the missing ones."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    cache_path = directory / CACHE_NAME
    try:
        cache = json.loads(cache_path.read_text())
    except (OSError, ValueError):
        cache = {}
    salt = code_salt()
    keys = {job.stem: job_key(job, salt) for job in jobs}
    todo = []
    for job in jobs:
        entry = cache.get(job.stem, {})
        files = entry.get("files", {}) if entry.get("key") == keys[job.stem] else {}
        missing = tuple(
            fmt for fmt in formats
            if not ((path := directory / f"{job.stem}.{fmt}").is_file() and files.get(fmt) == _sha(path))
        )  # fmt: skip
        if missing:
            todo.append((job, missing))
    count = _workers(todo, workers) if todo else 1
    try:
        if count == 1:
            for job, missing in todo:
                _draw(job, str(directory), missing)
        elif _can_fork():
            for job, missing in _fork_workers(todo, directory, count):
                _draw(job, str(directory), missing)
        elif not _run_workers(todo, directory, count):
            for job, missing in todo:
                _draw(job, str(directory), missing)
    finally:
        if "simstudy.report.figures" in sys.modules:  # imported only if anything was drawn
            sys.modules["simstudy.report.figures"].release_spares()
    out = {job.stem: [directory / f"{job.stem}.{fmt}" for fmt in formats] for job in jobs}
    new_cache = {
        job.stem: {"key": keys[job.stem], "files": {p.suffix[1:]: _sha(p) for p in out[job.stem]}}
        for job in jobs
    }
    if new_cache != cache:
        atomic_write_json(cache_path, dict(sorted(new_cache.items())))
    return out


if __name__ == "__main__":  # a figure worker started by _run_workers
    _worker_main(sys.argv[1])
