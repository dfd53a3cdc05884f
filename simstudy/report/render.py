"""Rendering figure jobs: reuse files whose inputs have not changed, draw the rest.

matplotlib needs about half a second per multi-panel figure (layout, a 300 dpi PNG, a PDF),
so a study with dozens of figures cannot be redrawn in a few seconds on one core. Two things
keep ``simstudy report`` fast without giving up quality:

- a content key per figure: SHA-256 of the drawing code (``figures.py``), the plotting
  library versions, the figure function, its options, the formats and the exact rows of its
  input table. ``figures/.render-cache.json`` maps each file stem to its key and the SHA-256
  of every file written; a figure whose key and files match is not redrawn. Changing a margin
  redraws only the figures that show it; changing the plotting code redraws everything.
- the figures that must be drawn are spread over worker processes (one per core, at most
  :data:`MAX_WORKERS`) when there are enough of them to pay for the start-up. Set
  ``SIMSTUDY_REPORT_WORKERS=N`` (or ``build(..., workers=N)``) to choose; 1 draws in-process.

Output does not depend on the number of workers or the order in which they finish.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from simstudy.store import atomic_write_json

CACHE_NAME = ".render-cache.json"
#: Draw in parallel only when the figures to draw would take longer than this in one process
#: (a worker process needs about two seconds to import matplotlib and seaborn).
PARALLEL_ABOVE_SECONDS = 6.0
#: Rough drawing cost per figure function, in seconds on one core (PNG + PDF).
COST = {"qq_figure": 0.9, "density_figure": 0.9, "mahalanobis_qq_figure": 0.9, "zip_figure": 0.5}
DEFAULT_COST = 0.45
MAX_WORKERS = 8


@dataclass
class Job:
    """One figure: ``figures.<function>(data, **options)`` saved as ``<stem>.<fmt>``."""

    stem: str
    function: str
    data: pd.DataFrame
    options: dict[str, Any] = field(default_factory=dict)


def code_salt() -> str:
    """SHA-256 of the drawing code (figures.py) and the plotting libraries' versions; the
    data a figure shows is keyed separately, so only drawing code belongs here."""
    import matplotlib
    import numpy
    import scipy
    import seaborn

    h = hashlib.sha256()
    h.update((Path(__file__).parent / "figures.py").read_bytes())
    for module in (matplotlib, seaborn, numpy, scipy, pd):
        h.update(f"{module.__name__} {module.__version__};".encode())
    return h.hexdigest()


def job_key(job: Job, salt: str) -> str:
    """What a figure's files depend on (each format's file is keyed by this and its format)."""
    h = hashlib.sha256(salt.encode())
    h.update(job.function.encode())
    h.update(repr(sorted(job.options.items())).encode())
    h.update(",".join(map(str, job.data.columns)).encode())
    h.update(pd.util.hash_pandas_object(job.data, index=False).to_numpy().tobytes())
    return h.hexdigest()


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _draw(job: Job, directory: str, formats: Sequence[str]) -> list[str]:
    """Draw and save one job (runs in a worker or in-process)."""
    from simstudy.report import figures

    fig = getattr(figures, job.function)(job.data, **job.options)
    return [str(p) for p in figures.save_figure(fig, directory, job.stem, formats)]


def _workers(todo: Sequence[tuple[Job, tuple]], requested: int | None) -> int:
    if requested is None:
        env = os.environ.get("SIMSTUDY_REPORT_WORKERS", "").strip()
        requested = int(env) if env.isdigit() and int(env) > 0 else None
    if requested is not None:
        return max(1, min(requested, len(todo)))
    cost = sum(COST.get(j.function, DEFAULT_COST) for j, _ in todo)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if cost <= PARALLEL_ABOVE_SECONDS or cpus < 2:
        return 1
    return max(1, min(cpus, MAX_WORKERS, len(todo)))


def _run_workers(todo: Sequence[tuple[Job, tuple]], directory: Path, count: int) -> bool:
    """Draw ``todo`` in ``count`` fresh interpreters (``python -m simstudy.report.render``);
    False if any of them failed (the caller then draws in-process, where errors surface
    with their traceback).

    Separate processes, not ``multiprocessing``: they neither re-import the caller's main
    script (which may have no ``if __name__ == "__main__"`` guard) nor inherit its threads."""
    import pickle
    import subprocess
    import sys
    import tempfile

    import simstudy

    env = dict(os.environ)
    package_root = str(Path(simstudy.__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))

    batches = [list(todo[k::count]) for k in range(count)]  # todo is sorted by cost: balanced
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
    # The costliest first, so that the workers finish together.
    todo.sort(key=lambda item: -COST.get(item[0].function, DEFAULT_COST))
    if count == 1 or not _run_workers(todo, directory, count):
        for job, missing in todo:
            _draw(job, str(directory), missing)
    out = {job.stem: [directory / f"{job.stem}.{fmt}" for fmt in formats] for job in jobs}
    new_cache = {
        job.stem: {"key": keys[job.stem], "files": {p.suffix[1:]: _sha(p) for p in out[job.stem]}}
        for job in jobs
    }
    if new_cache != cache:
        atomic_write_json(cache_path, dict(sorted(new_cache.items())))
    return out


if __name__ == "__main__":  # a figure worker started by _run_workers
    import sys

    _worker_main(sys.argv[1])
