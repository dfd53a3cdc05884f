"""Running a study end to end and reading it back: ``simstudy.run`` and ``simstudy.load``.

``run`` validates the config and resolves every model, estimator and plugin *before* anything
is written, so bad input leaves no folder behind. It then computes only the replication blocks
the store lacks, writes each block atomically as it finishes, and rewrites ``manifest.json``
(seed, versions, environment fingerprint, the replay recipe, per-cell timings) at the end.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import platform
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from simstudy._lazy import lazy_import
from simstudy._version import __version__
from simstudy.config import StudyConfig, load_config, parse_config
from simstudy.errors import EstimatorError, OutputError, SimstudyError, StoreError, StudyConfigError
from simstudy.models._base import RUN_STATUS_CODES
from simstudy.store import (
    Store,
    StudyLock,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
)

#: pandas is imported when a table is first built: a run that stores replicates without
#: analysing them (``--no-report``) never pays for it.
pd = lazy_import("pandas")

#: The ``checks`` fields the metrics table depends on (the coverage level of the Wald
#: intervals, the ε of P(|θ̂ - θ| > ε), the reference estimator of relative efficiency); the
#: others (margins, alpha, target_mcse) only decide the verdicts.
METRIC_CHECKS = ("coverage_level", "epsilon", "reference")
REPLAY_RECIPE = (
    "numpy.random.Generator(numpy.random.Philox(key=seed | (key1 << 64), "
    "counter=[0, 0, rep, 0])) then the model's NumPy method (see StudyResult.sample)"
)


def environment() -> dict[str, str]:
    """Library versions and platform: results are reproducible for a fixed environment."""
    import numba
    import pyarrow
    import scipy

    env = {
        "simstudy": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "numba": numba.__version__,
        "scipy": scipy.__version__,
        "pyarrow": pyarrow.__version__,
        "platform": f"{platform.system()}-{platform.machine()}",
    }
    env["fingerprint"] = hashlib.sha256(json.dumps(env, sort_keys=True).encode()).hexdigest()[:16]
    return env


def resolve_config(
    config: str | Path | StudyConfig | Mapping[str, Any], replications: int | None = None
) -> tuple[StudyConfig, Path | None, str | None]:
    """(validated config, folder for plugin imports) from a path, a dict or a StudyConfig."""
    base_dir = None
    source = None
    if isinstance(config, StudyConfig):
        cfg = config
    elif isinstance(config, Mapping):
        cfg = parse_config(config)
    else:
        cfg = load_config(config)
        base_dir = Path(config).resolve().parent
        source = str(config)
    if replications is not None:
        data = cfg.normalized()
        data["replications"] = replications
        cfg = parse_config(data, source="--replications")
    return cfg, base_dir, source


@dataclass
class RunSummary:
    """What a call of :func:`run` computed.

    Replications are counted per cell: one replication is one sample with every estimator that
    lacked it fitted to it; ``kept_replications`` were already stored for every estimator."""

    computed_replications: int = 0
    computed_samples: int = 0
    wall_seconds: float = 0.0
    cells: list[dict[str, Any]] = field(default_factory=list)
    corrupt_blocks: list[str] = field(default_factory=list)
    stopped: dict[str, str] = field(default_factory=dict)
    reused_blocks: int = 0
    kept_replications: int = 0
    executor: dict[str, Any] = field(default_factory=dict)
    #: {(data key, estimator label): fits that returned ok or boundary with a non-finite
    #: estimate in this run} (stored as not_converged)
    nonfinite: dict[tuple[str, str], int] = field(default_factory=dict)


def run(
    config: str | Path | StudyConfig | Mapping[str, Any],
    *,
    out: str | Path = "results",
    threads: int | None = None,
    replications: int | None = None,
    force: bool = False,
    block_size: int | None = None,
    progress: bool = False,
    report: bool = True,
    echo: Callable[[str], None] | None = None,
    executor: str | None = None,
    scheduler: Any = None,
) -> StudyResult:
    """Run (or complete) a study and return its :class:`StudyResult`.

    Only replication blocks missing from ``out/<name>/store`` are computed; ``force``
    recomputes everything. ``block_size`` (replications per stored block) never changes a
    result, only the granularity of progress and of resumption. ``executor`` is ``"local"``
    (default: in-process Numba threads) or ``"dask"`` (a LocalCluster of ``threads``
    single-threaded workers, or the cluster at ``scheduler``: an address ``tcp://HOST:PORT``, a
    ``distributed.Client`` or a cluster object; a scheduler implies ``"dask"``); the stored
    bytes are the same whichever computes them (see :mod:`simstudy.executors`). With
    ``replications: {until_mcse: ...}`` the study runs in rounds, each raising R to what the
    largest measured MCSE says the targets need (reusing every stored block), until all
    targets hold or R reaches ``max``.
    """
    from simstudy.executors import open_executor

    say = echo or (lambda _msg: None)
    cfg, base_dir, source = resolve_config(config, replications)
    from simstudy.metrics.precision import study_warnings

    notes = [f"warning: {line}" for line in study_warnings(cfg)]
    with open_executor(executor, scheduler=scheduler, threads=threads) as runner:
        result = _run_rounds(cfg, base_dir, source, out=out, executor=runner, force=force,
                             block_size=block_size, progress=progress, say=say,
                             notes=notes)  # fmt: skip
    if report:
        result.analyse()
        result.write_report()
    return result


def needed_table(needed: pd.DataFrame) -> str:
    """The R each MCSE target needs (:func:`simstudy.metrics.precision.replications_needed`)
    as a text table, one row per target with the cell that needs most."""
    from simstudy._text import text_table

    rows = []
    for r in needed.itertuples():
        reps = None if pd.isna(r.replications_needed) else int(r.replications_needed)
        n = None if r.n is None or pd.isna(r.n) else int(r.n)
        rows.append((r.metric, f"{r.target:g}", reps, r.model, r.theta, r.estimator, n, r.param,
                     r.mcse))  # fmt: skip
    header = ("metric", "target MCSE", "R needed", "model", "theta", "estimator", "n", "param",
              "MCSE measured")  # fmt: skip
    return text_table(header, rows)


def _run_rounds(cfg: StudyConfig, base_dir, source, *, out, executor, force, block_size,
                progress, say, notes=()) -> StudyResult:  # fmt: skip
    """One round, or with ``until_mcse`` rounds of rising R until the targets hold. ``notes``
    are said once the first round's input checks have passed."""
    adaptive = cfg.adaptive
    reps = cfg.initial_replications
    while True:
        result = _run_round(cfg, base_dir, reps, out=out, executor=executor, force=force,
                            source=source, block_size=block_size, progress=progress,
                            say=say, notes=notes)  # fmt: skip
        notes = ()
        if adaptive is None:
            break
        from simstudy.metrics import compute_metrics
        from simstudy.metrics.precision import replications_needed

        needed = replications_needed(
            compute_metrics(result), adaptive.until_mcse, reps, cfg.checks.coverage_level
        )
        want = int(needed.replications_needed.fillna(0).max())
        if want <= reps:
            say(f"until_mcse: every target holds at R = {reps}")
            break
        if reps >= adaptive.max:
            say(f"until_mcse: R = {reps:,} is the configured max; the targets need R = {want:,}:\n"
                + needed_table(needed))  # fmt: skip
            break
        # Round up to a multiple of 100 so that rounds land on readable R values.
        reps = min(adaptive.max, -(-want // 100) * 100)
        force = False
        say(f"until_mcse: raising R to {reps}")
    return result


def _run_round(cfg: StudyConfig, base_dir, reps: int, *, out, executor, force, block_size,
               progress, say, source=None, notes=()) -> StudyResult:  # fmt: skip
    """One pass: compute the missing blocks for R = ``reps`` and rewrite the manifest."""
    from simstudy.plan import make_plan

    plan = make_plan(cfg, base_dir=base_dir, replications=reps, source=source)
    if block_size is not None and block_size < 1:
        raise StudyConfigError(f"block_size: {block_size} must be >= 1")

    root = Path(out) / cfg.name
    store = Store(root)
    _check_same_study(root, cfg)
    _check_same_code(store, plan, force)
    # Everything that can fail on the user's input fails here, before anything is written: an
    # unwritable folder, a plugin that raises on a sample of the study, a kernel that does not
    # compile. Compiling now also keeps compile time out of the progress rate.
    from simstudy.executors._tasks import compile_kernels, plan_tasks

    tasks = plan_tasks(plan, store, block_size=block_size, force=force,
                       target_samples=executor.target_samples)  # fmt: skip
    check_writable(root)
    if tasks:
        from simstudy.estimators import probe_plugins

        probe_plugins((t.cell, t.estimators) for t in tasks)
        compile_kernels(tasks)
    for note in notes:
        say(note)
    with StudyLock(root) as lock:
        if lock.took_over:
            say(f"took over a stale lock of PID {lock.took_over.get('pid')} (that run had died)")
        return _compute(cfg, plan, store, root, reps, tasks, executor=executor, force=force,
                        progress=progress, say=say, config_dir=base_dir)  # fmt: skip


def check_writable(root: Path) -> None:
    """:class:`OutputError` unless files can be created in ``root`` (or, if it does not exist
    yet, in the nearest folder above it that does): a probe file is created and removed, which
    also catches read-only mounts and immutable folders that permission bits do not show."""
    import errno
    import tempfile

    target = next((p for p in (root, *root.parents) if p.exists()), None)
    if target is None or not target.is_dir():
        raise OutputError(
            f"--out: {str(target or root)!r} is a file, not a folder; give --out a folder that "
            "holds (or will hold) the results, e.g. --out results"
        )
    try:
        fd, probe = tempfile.mkstemp(prefix=".simstudy-probe-", dir=target)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise OutputError(
                f"{target}: no space left on the device; free some space, or give --out a "
                "folder on another disk"
            ) from None
        what = "results folder" if target == root else "folder --out would create the results in"
        raise OutputError(
            f"{target}: cannot write here ({exc.strerror}); the {what} is read-only for this "
            "user: give --out a writable folder"
            + ("" if target != root else ", or copy the folder somewhere writable (cp -r) and "
               "use the copy")
        ) from None


def _stored_blocks(plan, store: Store) -> int:
    """Valid stored blocks that hold replications of this round (reused, not recomputed)."""
    corrupt = {path for path, _ in store.corrupt}
    return sum(
        1
        for cell in plan.cells
        for e in cell.estimators
        for start, _, path in store.blocks(e.result_key)
        if start < plan.replications and path not in corrupt
    )


def _check_same_code(store: Store, plan, force: bool) -> None:
    """Refuse to add to a study computed by other code or in another environment."""
    from simstudy.estimators import code_version

    old = store.read_manifest()
    if not old or force:
        return
    env_now, env_then = environment(), old.get("environment", {})
    code_then = old.get("code_version")
    changes = [
        f"{k}: {env_then.get(k)} -> {env_now[k]}"
        for k in ("simstudy", "python", "numpy", "numba", "scipy", "platform")
        if env_then.get(k) != env_now[k]
    ]
    if code_then is not None and code_then != code_version():
        changes.append(f"simstudy source: {code_then} -> {code_version()}")
    if changes:
        raise StoreError(
            f"{store.root} was computed by other code or in another environment "
            f"({'; '.join(changes)}). Its replications would not be bit-identical to new ones, "
            "so they are not mixed: rerun with --force to recompute the whole study here, "
            "or use another --out to keep both"
        )


def _compute(cfg, plan, store: Store, root: Path, reps: int, tasks, *, executor, force,
             progress, say, config_dir=None) -> StudyResult:  # fmt: skip
    """Compute the ``tasks`` (the blocks missing when the round was planned, under the study
    lock) and rewrite the manifest, also when the run stops early (an estimator failed, an
    interrupt): every finished block is then stored and described, so ``simstudy report``
    works on it and a rerun resumes. A block another run stored after the planning is
    recomputed with the same bytes."""
    from simstudy.executors._tasks import Recorder

    summary = RunSummary(corrupt_blocks=[f"{p}: {why}" for p, why in store.corrupt])
    summary.reused_blocks = 0 if force else _stored_blocks(plan, store)
    n_reps = sum(t.stop - t.start for t in _cell_ranges(tasks))
    summary.kept_replications = len(plan.cells) * reps - n_reps
    for line in summary.corrupt_blocks:
        say(f"corrupt block (recomputed): {line}")
    with output_errors(root):
        root.mkdir(parents=True, exist_ok=True)
        atomic_write_text(
            root / "study.yaml", yaml.safe_dump(cfg.normalized(), sort_keys=False, allow_unicode=True)
        )
    total = len(plan.cells) * reps
    if not tasks:
        say(f"nothing to compute: all {total:,} replications ({len(plan.cells)} cells x R = "
            f"{reps:,}) are stored in {root}")  # fmt: skip
    else:
        where = executor.start()
        kept = (f"kept {summary.kept_replications:,} of {total:,} replications already stored; "
                if summary.kept_replications else "")  # fmt: skip
        say(
            f"{kept}computing {n_reps:,} replications ({_observations(tasks):,} observations) in "
            f"{len(tasks)} blocks over {len({t.cell.data_key for t in tasks})} cells on {where}"
        )
    stale = {e.result_key: store.blocks(e.result_key) for c in plan.cells for e in c.estimators}
    t0 = time.perf_counter()
    bar = _progress(tasks) if (progress and tasks) else None
    recorder = Recorder(store, progress=bar.advance_task if bar else None,
                        skipped=bar.skip_task if bar else None,
                        max_fail_rate=cfg.max_fail_rate)  # fmt: skip
    stopped_by: BaseException | None = None
    try:
        # Leaving the Recorder joins its writer thread: every block is on disk past here.
        with output_errors(root), recorder:
            if bar:
                bar.start()
            executor.execute(tasks, recorder, plan=plan, config_dir=config_dir)
    except (SimstudyError, KeyboardInterrupt) as exc:
        stopped_by = exc
    finally:
        if bar:
            bar.close()
    timings, stopped = recorder.outcome()
    summary.executor = executor.describe()
    summary.wall_seconds = time.perf_counter() - t0
    summary.nonfinite = recorder.nonfinite_counts()
    if force and stopped_by is None:
        written = {store.block_path(e.result_key, t.start, t.stop) for t in tasks for e in t.estimators}
        for blocks in stale.values():
            for _, _, path in blocks:
                if path not in written:
                    path.unlink(missing_ok=True)
    for reason in stopped.values():
        say(f"stopped early: {reason}")
    summary.stopped = stopped
    n_of = {c.data_key: c.n for c in plan.cells}
    summary.computed_replications = sum(int(t["replications"]) for t in timings.values())
    summary.computed_samples = sum(int(t["replications"]) * n_of[k] for k, t in timings.items())
    with output_errors(root):
        manifest = _manifest(plan, store, timings, summary, config_dir)
        store.write_manifest(manifest)
    if stopped_by is not None:
        if isinstance(stopped_by, EstimatorError):
            raise EstimatorError(
                f"{stopped_by}. The run stopped there; every block finished before it is stored "
                f"in {root} ({summary.computed_replications:,} replications of this run; "
                f"manifest.json written, `simstudy report {root}` reports what is stored)"
                + (f"; reproduce it with `simstudy replay {root} --cell "
                   f"{stopped_by.data_key[:12]} --rep {stopped_by.rep}`"
                   if stopped_by.data_key is not None else "")
                + "; fix the estimator and rerun the same command to resume",
                data_key=stopped_by.data_key, rep=stopped_by.rep,
            ) from None
        raise stopped_by
    summary.cells = manifest["cells"]
    result = StudyResult(root)
    result.last_run = summary
    return result


def _cell_ranges(tasks):
    """The tasks with one entry per (cell, replication range), whatever their estimators; a
    range that tasks of both kinds (Numba, Python) cover is counted once, by the kind whose
    tasks cover more of the cell."""
    kinds: dict[str, dict[bool, dict]] = {}
    for t in tasks:
        by_range = kinds.setdefault(t.cell.data_key, {}).setdefault(t.is_python, {})
        by_range.setdefault((t.start, t.stop), t)
    out = []
    for by_kind in kinds.values():
        out += max(by_kind.values(), key=lambda r: sum(b - a for a, b in r)).values()
    return out


def _observations(tasks) -> int:
    return sum(t.samples for t in _cell_ranges(tasks))


@contextlib.contextmanager
def output_errors(root: Path):
    """Turn an OS error while writing the results (permissions, a read-only or full disk) into
    an :class:`OutputError` naming the path and the fix. Writes are atomic, so what is on disk
    is whole files only."""
    import errno

    try:
        yield
    except OSError as exc:
        where = exc.filename or root
        if exc.errno == errno.ENOSPC:
            fix = ("free some space or give --out a folder on another disk; every block "
                   "written before is kept, and a rerun resumes")  # fmt: skip
        elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            fix = ("the folder is read-only for this user: give --out a writable folder, or "
                   "copy the results folder somewhere writable (cp -r) and use the copy")  # fmt: skip
        else:
            fix = "check the disk and the folder's permissions, then rerun (it resumes)"
        raise OutputError(f"{where}: cannot write ({exc.strerror or exc}); {fix}") from None


@dataclass
class Pilot:
    """A short run that times every cell and measures MCSEs, for planning R."""

    replications: int
    cells: pd.DataFrame  # model, theta, n, estimators, seconds_per_replication
    estimated_seconds: float
    needed: pd.DataFrame | None


def pilot(config, *, replications: int = 200, threads: int | None = None) -> Pilot:
    """Run ``replications`` per cell in a temporary folder (nothing is kept) and extrapolate
    the full run's time; if the config targets MCSEs (``checks.target_mcse`` or
    ``replications.until_mcse``), the R each target needs (Morris et al. 2019, §5.3)."""
    import tempfile

    from simstudy.executors import open_executor
    from simstudy.metrics import compute_metrics
    from simstudy.metrics.precision import replications_needed

    cfg, base_dir, source = resolve_config(config)
    full_r = cfg.adaptive.start if cfg.adaptive else cfg.initial_replications
    with tempfile.TemporaryDirectory(prefix="simstudy-pilot-") as tmp:
        data = cfg.normalized()
        data["replications"] = replications
        small = parse_config(data, source="pilot")
        with open_executor("local", threads=threads) as runner:
            result = _run_round(small, base_dir, replications, out=tmp, executor=runner,
                                force=False, source=source, block_size=None, progress=False,
                                say=lambda _m: None)  # fmt: skip
        rows = []
        for c in result.cells:
            seconds = c.get("last_run", {}).get("seconds", float("nan"))
            rows.append({"model": c["model"], "theta": c["theta"], "n": c["n"],
                         "estimators": ",".join(c["estimators"]),
                         "seconds_per_replication": seconds / replications})  # fmt: skip
        cells = pd.DataFrame(rows)
        targets = dict(cfg.checks.target_mcse)
        if cfg.adaptive:
            targets.update(cfg.adaptive.until_mcse)
        needed = None
        if targets:
            needed = replications_needed(
                compute_metrics(result), targets, replications, cfg.checks.coverage_level
            )
    return Pilot(replications, cells, float(cells.seconds_per_replication.sum() * full_r), needed)


def _check_same_study(root: Path, cfg: StudyConfig) -> None:
    external = Store(root).read_manifest().get("external")
    if external:
        raise StoreError(
            f"{root} holds estimates read from the table {external.get('table')} by `simstudy "
            "analyse`, not a simulated study; give `simstudy run` another --out (or another "
            "study name)"
        )
    stored = root / "study.yaml"
    if not stored.is_file():
        return
    try:
        old = yaml.safe_load(stored.read_text())
    except yaml.YAMLError:
        return
    if isinstance(old, dict) and old.get("name") not in (None, cfg.name):
        raise StoreError(
            f"{root} holds study {old.get('name')!r}, not {cfg.name!r}; use another --out"
        )


class _TaskProgress:
    """The run's :class:`simstudy.progress.Progress`, advanced by finished (or skipped) tasks."""

    def __init__(self, tasks):
        from simstudy.progress import Progress

        self.progress = Progress(sum(t.samples for t in tasks), sum(t.stop - t.start for t in tasks),
                                 announce=False)  # fmt: skip

    def start(self) -> None:
        self.progress.start()

    def advance_task(self, task) -> None:
        self.progress.advance(task.samples, task.stop - task.start)

    def skip_task(self, task) -> None:
        self.progress.skip(task.samples, task.stop - task.start)

    def close(self) -> None:
        self.progress.close()


def _progress(tasks) -> _TaskProgress:
    return _TaskProgress(tasks)


def _manifest(plan, store: Store, timings, summary: RunSummary, config_dir=None) -> dict[str, Any]:
    old = store.read_manifest()
    old_cells = {c["data_key"]: c for c in old.get("cells", [])}
    cells = []
    for cell in plan.cells:
        prev = old_cells.get(cell.data_key, {})
        t = timings.get(cell.data_key)
        seconds = prev.get("seconds", 0.0) + (t["seconds"] if t else 0.0)
        stored = {
            e.label: {
                "result_key": e.result_key,
                "version": e.version,
                "source": e.source,
                "replications": plan.replications
                - sum(b - a for a, b in store.missing_ranges(e.result_key, plan.replications)),
            }
            for e in cell.estimators
        }
        entry = {
            "entry": cell.entry,
            "model": cell.model.name,
            "plugin": cell.model.tags.get("plugin"),
            "theta": cell.theta_json,
            "n": cell.n,
            "params": list(cell.model.param_names),
            "fisher": cell.model.information(cell.theta_array, cell.n).tolist(),
            "inverse_fisher": cell.model.inverse_fisher(cell.theta_array, cell.n).tolist(),
            # Present only when I is a Monte Carlo estimate: its error enters the MCSEs.
            **({"inverse_fisher_mcse": inv_mcse.tolist()}
               if (inv_mcse := cell.model.inverse_fisher_mcse(cell.theta_array, cell.n))
               is not None else {}),
            "regular": cell.model.regular,
            "rate": cell.model.rate,
            "data_key": cell.data_key,
            "key1": cell.key1,
            "estimators": stored,
            "status": "complete"
            if all(v["replications"] == plan.replications for v in stored.values())
            else ("stopped" if cell.data_key in summary.stopped else "partial"),
            "seconds": seconds,
        }
        if cell.data_key in summary.stopped:
            entry["stopped"] = summary.stopped[cell.data_key]
        if t:
            entry["last_run"] = {
                "replications": t["replications"],
                "seconds": t["seconds"],
                "replications_per_second": t["replications"] / t["seconds"] if t["seconds"] else None,
            }
        elif "last_run" in prev:
            entry["last_run"] = prev["last_run"]
        cells.append(entry)
    runs = old.get("runs", [])
    runs.append(
        {
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "wall_seconds": summary.wall_seconds,
            "replications_computed": summary.computed_replications,
            "observations_computed": summary.computed_samples,
            "blocks_reused": summary.reused_blocks,
            **summary.executor,
        }
    )
    from simstudy.estimators import code_version

    return {
        "study": plan.config.name,
        "seed": plan.config.seed,
        "code_version": code_version(),
        "config_dir": str(config_dir) if config_dir else None,
        "replications": plan.replications,
        "rng": {"scheme": _rng_scheme(), "key": "[seed, key1]", "replay": REPLAY_RECIPE},
        "environment": environment(),
        "status_codes": {str(k): v for k, v in RUN_STATUS_CODES.items()},
        "cells": cells,
        "runs": runs,
    }


def _rng_scheme() -> str:
    from simstudy.plan import RNG_SCHEME

    return RNG_SCHEME


class StudyResult:
    """A study folder read back: replicates, samples (and later metrics and verdicts)."""

    def __init__(self, root: str | Path):
        self.root = Path(root)
        if not (self.root / "manifest.json").is_file():
            raise StoreError(
                f"{self.root}: not a simstudy results folder (no manifest.json); "
                "run `simstudy run CONFIG` first or give the folder it wrote"
            )
        self.store = Store(self.root)
        self.manifest = self.store.read_manifest()
        self.config = parse_config(
            yaml.safe_load((self.root / "study.yaml").read_text()),
            source=str(self.root / "study.yaml"),
            check_models=False,
        )
        self.last_run: RunSummary | None = None

    # ---- metrics and verdicts (computed from stored replicates only) -------------------------
    @property
    def metrics(self) -> pd.DataFrame:
        """The long metrics table (read from metrics.parquet, computed if absent)."""
        path = self.root / "metrics.parquet"
        if path.is_file():
            return pd.read_parquet(path)
        return self.analyse()[0]

    @property
    def verdicts(self) -> pd.DataFrame:
        """The verdict table (read from verdicts.csv, computed if absent)."""
        path = self.root / "verdicts.json"
        if path.is_file():
            return pd.DataFrame(json.loads(path.read_text())["verdicts"])
        return self.analyse()[1]

    def _stored_checks(self) -> dict[str, Any] | None:
        """The checks the stored metrics and verdicts were computed with (None: no analysis,
        or one of replicates that have changed since: another R, a rerun, a resumed run)."""
        path = self.root / "verdicts.json"
        if not (path.is_file() and (self.root / "metrics.parquet").is_file()):
            return None
        stored = json.loads(path.read_text())
        if stored.get("manifest") != self._manifest_digest():
            return None
        return stored.get("checks")

    def _manifest_digest(self) -> str:
        """SHA-256 of manifest.json: what the replicates are (R, cells, result keys, runs)."""
        return hashlib.sha256(self.store.manifest_path.read_bytes()).hexdigest()

    def analysis_is_current(self) -> bool:
        """Whether metrics and verdicts on disk were computed from the stored replicates with
        the config's current checks (after editing study.yaml's ``checks:``, or a run that
        changed the replicates without analysing them, they are not)."""
        return self._stored_checks() == self.config.checks.model_dump()

    def analyse(self, *, reuse_metrics: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Compute metrics and verdicts from the stored replicates and write them
        (metrics.parquet/.csv, verdicts.json/.csv). Never samples or fits.

        ``reuse_metrics``: keep the stored metrics table when the checks it depends on
        (:data:`METRIC_CHECKS`) are those of the config, and recompute only the verdicts:
        what ``simstudy report`` does after a margin or ``alpha`` was edited (the stored
        metrics are those of the stored replicates, as ``simstudy run`` wrote them)."""
        from simstudy.verdicts import all_met, compute_verdicts

        check_writable(self.root)
        with output_errors(self.root):
            return self._analyse(reuse_metrics, all_met, compute_verdicts)

    def _analyse(self, reuse_metrics, all_met, compute_verdicts):
        stored = self._stored_checks() if reuse_metrics else None
        current = self.config.checks.model_dump()
        if stored is not None and all(stored.get(k) == current[k] for k in METRIC_CHECKS):
            metrics = pd.read_parquet(self.root / "metrics.parquet")
        else:
            from simstudy.metrics import compute_metrics

            metrics = compute_metrics(self)
            write_table(self.root / "metrics", metrics)
        verdicts = compute_verdicts(metrics, self.manifest, self.config)
        write_csv(self.root / "verdicts.csv", verdicts)
        atomic_write_json(
            self.root / "verdicts.json",
            {
                "study": self.config.name,
                "all_met": all_met(verdicts),
                "checks": self.config.checks.model_dump(),
                "manifest": self._manifest_digest(),
                "verdicts": json.loads(verdicts.to_json(orient="records")),
            },
        )
        return metrics, verdicts

    def write_report(self, formats=None) -> list[Path]:
        """Write report.md, report.html, tables/ and figures/ from the stored metrics and
        verdicts (see :func:`simstudy.report.build_report`); returns the files written."""
        from simstudy.report import build_report

        check_writable(self.root)
        with output_errors(self.root):
            return build_report(self, formats=formats)

    def __repr__(self) -> str:
        return f"StudyResult({str(self.root)!r}, cells={len(self.manifest['cells'])})"

    @property
    def external(self) -> dict[str, Any] | None:
        """The table the estimates were read from (``simstudy analyse``), or None for a run."""
        return self.manifest.get("external")

    def refuse_external(self, what: str = "replay") -> None:
        """:class:`StoreError` if the folder holds estimates read from a table: no sample was
        drawn for them, so there is nothing to ``what``."""
        ext = self.external
        if ext:
            raise StoreError(
                f"{self.root} holds estimates read from the table {ext.get('table')} by "
                f"`simstudy analyse`: external cells have no samples to {what} (no data was "
                "drawn here, only the table's estimates are stored); replay works on folders "
                "written by `simstudy run`"
            )

    @property
    def cells(self) -> list[dict[str, Any]]:
        return self.manifest["cells"]

    def replicates(self, model: str | None = None, estimator: str | None = None,
                   n: int | None = None) -> pd.DataFrame:  # fmt: skip
        """Tidy replicate table: model, estimator, theta, n, rep, status, n_iter, one column
        per parameter, ``<param>_se``, lr_stat (status as its name)."""
        frames = []
        reps = self.manifest["replications"]
        for cell in self.cells:
            if (model and cell["model"] != model) or (n and cell["n"] != n):
                continue
            for label, info in cell["estimators"].items():
                if estimator and label != estimator:
                    continue
                table = self.store.read_replicates(info["result_key"], reps)
                if table is None:
                    continue
                df = table.to_pandas()
                df.insert(0, "model", cell["model"])
                df.insert(1, "estimator", label)
                df.insert(2, "theta", cell["theta"])
                df.insert(3, "n", cell["n"])
                df["status"] = df["status"].map(RUN_STATUS_CODES).astype("category")
                frames.append(df)
        if not frames:
            return pd.DataFrame()
        return pd.concat(frames, ignore_index=True)

    def cell_model(self, cell: Mapping[str, Any]):
        """The cell's model: built-in (specialized for its entry's design) or a plugin."""
        from simstudy.models._registry import entry_model, get_model

        index = cell.get("entry")
        if index is None:
            return get_model(cell["model"])
        config_dir = self.manifest.get("config_dir")
        return entry_model(self.config.models[index], base_dir=Path(config_dir) if config_dir else None)

    def sample(self, model: str, theta: Mapping[str, float] | str, n: int, rep: int) -> np.ndarray:
        """Regenerate replication ``rep``'s sample of a cell with plain NumPy (regression
        models: rows (y, x_0, ..., x_{p-1}))."""
        from simstudy import rng

        self.refuse_external("regenerate")
        wanted = json.loads(theta) if isinstance(theta, str) else {k: float(v) for k, v in theta.items()}
        for cell in self.cells:
            if cell["model"] == model and cell["n"] == n and json.loads(cell["theta"]) == wanted:
                m = self.cell_model(cell)
                gen = rng.numpy_generator(self.manifest["seed"], cell["key1"], rep, 0)
                theta_arr = np.array([wanted[p] for p in m.param_names])
                return m.numpy_sample(gen, theta_arr, n)
        raise StoreError(f"no cell {model} theta={wanted} n={n} in {self.root}")


def write_csv(path: Path, frame: pd.DataFrame) -> None:
    atomic_write_text(path, frame.to_csv(index=False, float_format="%.10g"))


def write_table(stem: Path, frame: pd.DataFrame) -> None:
    """``stem``.parquet and ``stem``.csv, each written atomically."""
    import io

    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    atomic_write_bytes(stem.with_suffix(".parquet"), buffer.getvalue())
    write_csv(stem.with_suffix(".csv"), frame)


@dataclass
class Verification:
    """What ``simstudy.verify`` found: whether every verdict met its expectation."""

    passed: bool
    verdicts: pd.DataFrame
    result: StudyResult


def verify(config_or_dir, *, report: bool = True, **options) -> Verification:
    """Run (or complete) a study, or read a results folder, judge every property and write
    the report of those verdicts (``report=False``: metrics and verdicts only).

    ``options`` are those of :func:`run` (``out``, ``threads``, ``replications``, ...).
    """
    from simstudy.verdicts import all_met

    target = Path(config_or_dir) if isinstance(config_or_dir, (str, Path)) else None
    if target is not None and target.is_dir():
        result = StudyResult(target)
    else:
        result = run(config_or_dir, **{**options, "report": False})
    _, verdicts = result.analyse()
    if report:
        result.write_report()
    return Verification(all_met(verdicts), verdicts, result)


def replay(result: StudyResult, cell: int | str, rep: int) -> dict[str, Any]:
    """Regenerate replication ``rep`` of a cell with NumPy, refit every estimator and compare
    with the stored row. ``cell`` is its index in the manifest or a prefix of its data key.

    Returns ``{"cell", "rep", "summary", "fits": [{estimator, stored, refit, identical,
    loglik_hat, loglik_true, score_hat}]}``; the refit must reproduce the stored row exactly.
    """
    import math as _math

    from simstudy import rng
    from simstudy.models._base import se_slots

    result.refuse_external("replay")
    cells = result.cells
    if isinstance(cell, int) or (isinstance(cell, str) and cell.isdigit()):
        index = int(cell)
        if not 0 <= index < len(cells):
            raise StoreError(f"--cell {cell}: there are {len(cells)} cells (0..{len(cells) - 1})")
        entry = cells[index]
    else:
        matches = [c for c in cells if c["data_key"].startswith(str(cell))]
        if len(matches) != 1:
            raise StoreError(
                f"--cell {cell!r} matches {len(matches)} cells; give an index 0..{len(cells) - 1} "
                "(run `simstudy replay DIR` to list them) or a longer data-key prefix"
            )
        entry = matches[0]
    reps = result.manifest["replications"]
    if not 0 <= rep < reps:
        raise StoreError(f"--rep {rep}: replications are 0..{reps - 1}")
    model = result.cell_model(entry)
    theta = json.loads(entry["theta"])
    theta_vec = np.array([theta[p] for p in model.param_names])
    gen = rng.numpy_generator(result.manifest["seed"], entry["key1"], rep, 0)
    x = model.numpy_sample(gen, theta_vec, entry["n"])
    q = np.quantile(x, [0.0, 0.25, 0.5, 0.75, 1.0])
    summary = {
        "n": int(x.size), "mean": float(x.mean()), "sd": float(x.std(ddof=1)) if x.size > 1 else _math.nan,
        "min": float(q[0]), "q25": float(q[1]), "median": float(q[2]), "q75": float(q[3]),
        "max": float(q[4]), "distinct": int(np.unique(x).size),
    }  # fmt: skip
    from simstudy.plan import make_plan

    # Resolve the estimators exactly as the run did (built-ins, configured ones, plugins).
    config_dir = result.manifest.get("config_dir")
    plan = make_plan(result.config, replications=reps, base_dir=Path(config_dir) if config_dir else None)
    plans = {e.label: e for c in plan.cells if c.data_key == entry["data_key"] for e in c.estimators}
    fits = []
    for label, info in entry["estimators"].items():
        table = result.store.read_stored(info["result_key"])
        stored = None
        hit = np.flatnonzero(table.column("rep").to_numpy() == rep) if table is not None else []
        if len(hit):
            row = table.slice(int(hit[0]), 1).to_pylist()[0]
            stored = {k: row[k] for k in ("status", "n_iter", *model.param_names)}
            stored["status"] = RUN_STATUS_CODES.get(stored["status"], stored["status"])
        est = np.full(model.k, np.nan)
        se = np.full(se_slots(model.k), np.nan)
        e = plans[label]
        if e.is_python:
            from simstudy import pyfit

            est, se, code, n_iter, _message = pyfit.fit_one(
                e.fit.function, np.ascontiguousarray(x, dtype=np.float64), e.fit.options,
                e.fit.timeout, model.param_names)  # fmt: skip
            if code in (0, 3) and not np.isfinite(est).all():
                code = 1  # stored as not_converged, as the run does
        else:
            code, n_iter = e.fit(np.ascontiguousarray(x, dtype=np.float64), est, se)
        score = np.zeros(model.k)
        with np.errstate(all="ignore"):
            model.score(x, est, score)
        refit = {"status": RUN_STATUS_CODES.get(int(code), str(code)), "n_iter": int(n_iter),
                 **dict(zip(model.param_names, map(float, est)))}  # fmt: skip
        identical = stored is not None and all(
            (stored[k] == refit[k]) or (isinstance(stored[k], float) and _math.isnan(stored[k])
                                        and _math.isnan(refit[k]))
            for k in stored
        )  # fmt: skip
        fits.append({
            "estimator": label, "stored": stored, "refit": refit,
            "se": dict(zip(model.param_names, map(float, se[: model.k]))),
            "identical": identical,
            "loglik_hat": float(model.loglik(x, est)) if np.all(np.isfinite(est)) else _math.nan,
            "loglik_true": float(model.loglik(x, theta_vec)),
            "score_hat": dict(zip(model.param_names, map(float, score))),
        })  # fmt: skip
    return {"cell": entry, "rep": rep, "summary": summary, "sample": x, "fits": fits}


def load(results_dir: str | Path) -> StudyResult:
    """Open a results folder written by :func:`run`."""
    return StudyResult(results_dir)
