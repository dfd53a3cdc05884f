"""Issue 12, items 1 and 4 -- what a new user meets first, each command in a fresh subprocess.

* Commands that need no kernels (``models``, ``validate`` and ``plan`` of the quickstart study,
  ``report`` of a stored study with nothing changed, ``--help``): wall time with a warm Numba
  cache (one a previous run filled) and with an empty one (a fresh folder every repeat), and
  whether the child compiled or loaded any Numba kernel.
* A tiny ``simstudy run`` (exponential, R = 200, n = 10, 30, 100) with a warm cache, with
  ``--no-report`` and with the report.
* ``simstudy verify configs/quickstart.yaml`` with an empty cache (compile, run, report), and
  README command 1 from a fresh clone: ``python -m venv`` + ``pip install -e .`` + that verify,
  once (skipped in ``--quick`` mode, with ``--skip-install`` or ``BENCH_SKIP_INSTALL=1``).

Every command runs as ``python -c WRAPPER REPORT ARGV...`` (this environment's interpreter,
cwd = the repository root, the ``sys.path`` of ``python -m simstudy``). The wrapper calls
``simstudy.cli.main(argv)``, then looks through ``gc.get_objects()`` for Numba dispatchers
with compiled or cache-loaded overloads, writes what it found to REPORT and exits as the
``simstudy`` entry point does (``gc.freeze()``, ``sys.exit``). The parent times the process
from spawn to exit; a row's value is that wall time minus the wrapper's own inspection (timed
in the child, and kept in the row), i.e. what ``python -m simstudy ARGV`` costs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from bench.timing import ROOT, Stats

QUICKSTART = "configs/quickstart.yaml"  # as a user types it, relative to the repository root

#: The child: simstudy.cli.main(argv), then what Numba holds. Dispatcher._cache_hits counts
#: overloads loaded from the on-disk cache, _cache_misses those compiled (also for dispatchers
#: without a cache, whose every load misses).
WRAPPER = r"""
import time
_start_epoch, _t0 = time.time(), time.perf_counter()
import gc, json, os, sys
_report, _argv = sys.argv[1], sys.argv[2:]
_phases = {}
if os.environ.get("BENCH_COMMANDS_PHASES") == "1":  # time a run's compute, analysis, report
    import simstudy.study as _study

    def _timing(_name, _fn):
        def _timed(*args, **kwargs):
            _t = time.perf_counter()
            try:
                return _fn(*args, **kwargs)
            finally:
                _phases[_name] = _phases.get(_name, 0.0) + time.perf_counter() - _t
        return _timed

    for _name, _owner, _attr in (("compute", _study, "_run_rounds"),
                                 ("analyse", _study.StudyResult, "analyse"),
                                 ("report", _study.StudyResult, "write_report")):
        if hasattr(_owner, _attr):
            setattr(_owner, _attr, _timing(_name, getattr(_owner, _attr)))
from simstudy.cli import main
try:
    _code = main(_argv)
except SystemExit as _exc:  # argparse: --help and usage errors
    _code = _exc.code if isinstance(_exc.code, int) else (0 if _exc.code is None else 2)
_t1 = time.perf_counter()
_loaded, _hits, _misses = [], 0, 0
if "numba" in sys.modules:
    from numba.core.dispatcher import Dispatcher
    for _d in gc.get_objects():
        if isinstance(_d, Dispatcher):
            _hits += sum(_d._cache_hits.values())
            _misses += sum(_d._cache_misses.values())
            if _d.overloads:
                _f = _d.py_func
                _loaded.append(f"{getattr(_f, '__module__', '?')}.{_f.__qualname__}")
_heavy = [m for m in ("numba", "scipy", "scipy.special", "scipy.stats", "scipy.optimize",
                      "pandas", "pyarrow", "matplotlib", "seaborn") if m in sys.modules]
with open(_report, "w") as _f:
    json.dump({"code": _code, "start_epoch": _start_epoch, "main_s": _t1 - _t0,
               "numba_imported": "numba" in sys.modules, "loaded": sorted(_loaded),
               "cache_hits": _hits, "cache_misses": _misses, "heavy_modules": _heavy,
               "phases_s": _phases,
               "inspect_s": time.perf_counter() - _t1}, _f)
gc.freeze()
sys.exit(_code)
"""

TINY_STUDY = """\
# bench/commands.py: the tiny study a new user might write first.
name: tiny
seed: 20261121
replications: 200
sample_sizes: [10, 30, 100]
models:
  - model: exponential
    params: {rate: 2.0}
    estimators: [mle]
"""

#: The commands that need no kernels: (label, argv); "{stored}" is the stored study's folder.
NO_KERNEL = (
    ("models", ["models"]),
    (f"validate {QUICKSTART}", ["validate", QUICKSTART]),
    (f"plan {QUICKSTART}", ["plan", QUICKSTART]),
    ("report DIR", ["report", "{stored}"]),
    ("--help", ["--help"]),
)
#: Commands that must not even import numba (tests/test_newcomer.py holds the library to it).
NO_NUMBA = ("report DIR", "--help")


# ---------------------------------------------------------------------------------------------
# One child
# ---------------------------------------------------------------------------------------------
def parse_importtime(stderr: str) -> dict:
    """``python -X importtime`` output -> total import seconds, self time per top-level package
    (largest first) and the largest top-level imports (cumulative)."""
    total, by_package, top = 0.0, {}, []
    for line in stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        fields = line[len("import time:"):].split("|")
        if len(fields) != 3:
            continue
        self_us, cumulative_us, name = int(fields[0]), int(fields[1]), fields[2]
        level = (len(name) - len(name.lstrip(" ")) - 1) // 2
        module = name.strip()
        package = module.split(".")[0]
        by_package[package] = by_package.get(package, 0.0) + self_us / 1e6
        if level == 0:
            total += cumulative_us / 1e6
            top.append((module, cumulative_us / 1e6))
    return {"total_s": total,
            "by_package_s": sorted(by_package.items(), key=lambda kv: -kv[1])[:8],
            "top_level_s": sorted(top, key=lambda kv: -kv[1])[:6]}  # fmt: skip


def _env(cache: str, phases: bool) -> dict:
    env = {**os.environ, "NUMBA_CACHE_DIR": cache, "PYTHONPATH": str(ROOT)}
    env.pop("BENCH_COMMANDS_PHASES", None)
    return {**env, "BENCH_COMMANDS_PHASES": "1"} if phases else env


def spawn(argv: list[str], cache: str, *, importtime: bool = False, phases: bool = False,
          timeout: float = 900, allowed=(0,)) -> dict:  # fmt: skip
    """Run ``simstudy ARGV`` through the wrapper with NUMBA_CACHE_DIR = cache; the child's
    report plus wall time (spawn to exit), interpreter start-up and exit code.

    ``phases``: also time the study's compute (``study._run_rounds``: plan, kernels, blocks,
    manifest), ``StudyResult.analyse`` and ``StudyResult.write_report`` (the wrapper then
    imports ``simstudy.study`` before ``main``; only for run and verify, which import it
    anyway)."""
    with tempfile.TemporaryDirectory(prefix="bench-cmd-") as tmp:
        report = Path(tmp) / "child.json"
        flags = ["-X", "importtime"] if importtime else []
        cmd = [sys.executable, *flags, "-c", WRAPPER, str(report), *argv]
        spawned = time.time()
        t0 = time.perf_counter()
        proc = subprocess.run(cmd, cwd=ROOT, env=_env(cache, phases), capture_output=True,
                              text=True, timeout=timeout, check=False)  # fmt: skip
        wall = time.perf_counter() - t0
        if not report.exists() or proc.returncode not in allowed:
            raise RuntimeError(f"`simstudy {' '.join(argv)}` exited {proc.returncode}:\n"
                               f"{proc.stderr[-3000:]}")  # fmt: skip
        child = json.loads(report.read_text())
    child.update(exit_code=proc.returncode, wall_s=wall, process_s=wall - child["inspect_s"],
                 interpreter_s=child["start_epoch"] - spawned)  # fmt: skip
    child["exit_s"] = child["process_s"] - child["interpreter_s"] - child["main_s"]
    child["last_line"] = _last_line(proc.stdout)
    if importtime:
        child["importtime"] = parse_importtime(proc.stderr)
    return child


# ---------------------------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------------------------
def _median(runs, key) -> float:
    return float(np.median([r[key] for r in runs]))


def _row(name: str, kind: str, runs: list[dict], **extra) -> dict:
    """A row from the child reports of its repeats."""
    loaded = sorted({k for r in runs for k in r["loaded"]})
    phases = {k: float(np.median([r["phases_s"].get(k, 0.0) for r in runs]))
              for k in dict.fromkeys(k for r in runs for k in r["phases_s"])}  # fmt: skip
    return {
        "section": "commands", "name": name, "kind": kind, "status": "ok", "unit": "s",
        "value": Stats(tuple(r["process_s"] for r in runs)).as_dict(),
        "wall_with_inspection_s": Stats(tuple(r["wall_s"] for r in runs)).as_dict(),
        "parts_s": {"interpreter start": _median(runs, "interpreter_s"),
                    "simstudy.cli.main": _median(runs, "main_s"),
                    "exit": _median(runs, "exit_s"),
                    "wrapper's inspection (not in value)": _median(runs, "inspect_s")},
        "exit_codes": [r["exit_code"] for r in runs],
        "last_stdout_line": runs[-1]["last_line"],
        "numba_imported": any(r["numba_imported"] for r in runs),
        "dispatchers_with_overloads": max(len(r["loaded"]) for r in runs),
        "kernels_loaded": loaded[:60],
        "kernels_compiled": max(r["cache_misses"] for r in runs),
        "kernels_from_cache": max(r["cache_hits"] for r in runs),
        "heavy_modules": sorted({m for r in runs for m in r["heavy_modules"]}),
        **({"phases_s": phases} if phases else {}),
        **extra,
    }  # fmt: skip


def _fresh(tmp: Path, prefix: str) -> str:
    return tempfile.mkdtemp(prefix=prefix, dir=tmp)


def _verify(argv: list[str], cache: str, out: str) -> dict:
    child = spawn(argv, cache, phases=True, allowed=(0, 1), timeout=1800)
    child["last_line"] = child["last_line"].replace(out, "OUT")
    return child


def _verify_rows(cfg, tmp: Path) -> tuple[list[dict], str, Path]:
    """Cold quickstart verifies (a fresh empty cache each); then, once, a warm verify and a
    ``simstudy report`` of its folder (for the breakdown). Returns the rows, the last cold
    run's cache (now warm for the quickstart's kernels) and the warm verify's study folder."""
    extra = cfg.commands_verify_args.split()
    cold, cache = [], None
    for _ in range(cfg.commands_verify_repeats):
        if cache is not None:
            shutil.rmtree(cache, ignore_errors=True)
        cache = _fresh(tmp, "cache-")
        out = _fresh(tmp, "out-")
        cold.append(_verify(["verify", QUICKSTART, "--out", out, *extra], cache, out))
        shutil.rmtree(out, ignore_errors=True)
    out = _fresh(tmp, "out-")
    warm = _verify(["verify", QUICKSTART, "--out", out, *extra], cache, out)
    root = Path(out) / "quickstart"
    again = spawn(["report", str(root)], cache)  # nothing changed: no figure to draw
    breakdown = {"warm_verify_s": warm["process_s"], "warm_verify_exit_code": warm["exit_code"],
                 "report_again_s": again["process_s"],
                 "report_again_drew": "matplotlib" in again["heavy_modules"],
                 "cold_minus_warm_s": _median(cold, "process_s") - warm["process_s"],
                 "warm_verify_phases_s": warm["phases_s"],
                 "warm_verify_kernels_compiled": warm["cache_misses"],
                 "warm_verify_kernels_from_cache": warm["cache_hits"]}
    row = _row(f"simstudy verify {QUICKSTART} (empty cache)", "verify", cold,
               args=cfg.commands_verify_args, quick=cfg.quick, breakdown=breakdown)  # fmt: skip
    return [row], cache, root


def _tiny_rows(cfg, tmp: Path, cache: str) -> list[dict]:
    study = tmp / "tiny.yaml"
    study.write_text(TINY_STUDY)
    warm_up = _fresh(tmp, "out-")
    spawn(["run", str(study), "--out", warm_up, "--quiet", "--no-report"], cache)  # its kernels
    runs = {"no-report": [], "report": []}
    for _ in range(cfg.commands_repeats):
        for variant, done in runs.items():
            out = _fresh(tmp, "out-")
            flags = ["--no-report"] if variant == "no-report" else []
            done.append(spawn(["run", str(study), "--out", out, "--quiet", *flags], cache,
                              phases=True))  # fmt: skip
            shutil.rmtree(out, ignore_errors=True)
    out = _fresh(tmp, "out-")
    imports = spawn(["run", str(study), "--out", out, "--quiet", "--no-report"], cache,
                    importtime=True)["importtime"]  # fmt: skip
    no_report = _median(runs["no-report"], "process_s")
    with_report = _median(runs["report"], "process_s")
    common = {"study": TINY_STUDY, "cache": "warm"}
    return [
        _row("simstudy run tiny.yaml --no-report --quiet (warm cache)", "tiny-run",
             runs["no-report"], importtime=imports, **common),
        _row("simstudy run tiny.yaml --quiet, with the report (warm cache)", "tiny-run-report",
             runs["report"], report_s=with_report - no_report, **common),
    ]  # fmt: skip


def _no_kernel_rows(cfg, tmp: Path, cache: str, stored: str) -> list[dict]:
    runs = {(label, state): [] for label, _ in NO_KERNEL for state in ("warm", "empty")}
    argvs = {label: [a.format(stored=stored) for a in argv] for label, argv in NO_KERNEL}
    for _ in range(cfg.commands_repeats):  # interleaved: warm, cold, next command, ...
        for label, _ in NO_KERNEL:
            runs[label, "warm"].append(spawn(argvs[label], cache))
            empty = _fresh(tmp, "cache-")
            runs[label, "empty"].append(spawn(argvs[label], empty))
            shutil.rmtree(empty, ignore_errors=True)
    rows = []
    for label, _ in NO_KERNEL:
        imports = spawn(argvs[label], cache, importtime=True)["importtime"]
        for state in ("warm", "empty"):
            rows.append(_row(f"simstudy {label} ({state} cache)", "no-kernel",
                             runs[label, state], command=label, cache=state,
                             must_not_import_numba=label in NO_NUMBA,
                             **({"importtime": imports} if state == "warm" else {})))
    return rows


# ---------------------------------------------------------------------------------------------
# README command 1 from a fresh clone
# ---------------------------------------------------------------------------------------------
README_NAME = ("README command 1 from a fresh clone: python -m venv + pip install -e . + "
               f"simstudy verify {QUICKSTART} (empty cache)")  # fmt: skip


def _timed_run(cmd, cwd, env, timeout):
    t0 = time.perf_counter()
    try:
        proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True,
                              timeout=timeout, check=False)  # fmt: skip
    except subprocess.TimeoutExpired as exc:
        return None, time.perf_counter() - t0, f"timed out after {exc.timeout:.0f} s"
    return proc, time.perf_counter() - t0, ""


def _last_line(text: str) -> str:
    lines = [x for x in text.strip().splitlines() if x.strip()]
    return lines[-1][:300] if lines else ""


def readme_command_1(cfg, tmp: Path, cold_verify_median: float) -> dict:
    """Copy the repository's tracked files (what a clone holds) into a temporary folder, then
    run README's command 1 there step by step, once: ``python -m venv .venv``,
    ``.venv/bin/pip install -e .`` and ``.venv/bin/simstudy verify configs/quickstart.yaml``
    with an empty NUMBA_CACHE_DIR."""
    base = {"section": "commands", "name": README_NAME, "kind": "readme", "unit": "s"}
    if cfg.quick:
        return {**base, "status": "not available: install skipped in --quick mode"}
    if not cfg.commands_install or os.environ.get("BENCH_SKIP_INSTALL", "") not in ("", "0"):
        return {**base, "status": "not available: install skipped (--skip-install or "
                                  "BENCH_SKIP_INSTALL=1)"}  # fmt: skip
    clone = tmp / "clone"
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                             check=True).stdout.decode().split("\0")  # fmt: skip
    for rel in filter(None, tracked):
        src = ROOT / rel
        if src.is_file():
            (clone / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, clone / rel)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    venv = clone / ".venv"
    proc, venv_s, err = _timed_run([sys.executable, "-m", "venv", str(venv)], clone, env, 600)
    if proc is None or proc.returncode != 0:
        why = err or f"exit {proc.returncode}: {_last_line(proc.stderr)}"
        return {**base, "status": f"not available: python -m venv failed ({why})"}
    proc, pip_s, err = _timed_run([str(venv / "bin" / "pip"), "install", "-e", "."], clone, env,
                                  cfg.commands_pip_timeout)  # fmt: skip
    if proc is None or proc.returncode != 0:
        why = err or f"exit {proc.returncode}: {_last_line(proc.stderr or proc.stdout)}"
        return {**base, "status": f"not available: pip install -e . failed after {pip_s:.0f} s "
                                  f"({why}); BENCH_SKIP_INSTALL=1 skips it",
                "venv_s": venv_s}  # fmt: skip
    pip_lines = proc.stdout.splitlines()
    downloads = sum(x.strip().startswith("Downloading") for x in pip_lines)
    cached = sum(x.strip().startswith("Using cached") for x in pip_lines)
    collected = sum(x.strip().startswith("Collecting") for x in pip_lines)
    cache = _fresh(tmp, "cache-")
    proc, verify_s, err = _timed_run([str(venv / "bin" / "simstudy"), "verify", QUICKSTART],
                                     clone, {**env, "NUMBA_CACHE_DIR": cache}, 1800)  # fmt: skip
    shutil.rmtree(clone, ignore_errors=True)
    if proc is None:
        return {**base, "status": f"not available: verify {err}", "venv_s": venv_s,
                "pip_install_s": pip_s}  # fmt: skip
    total = venv_s + pip_s + verify_s
    return {**base, "status": "ok", "value": Stats((total,)).as_dict(),
            "parts_s": {"python -m venv": venv_s, "pip install -e .": pip_s,
                        "simstudy verify (empty cache)": verify_s},
            "verify_exit_code": proc.returncode, "verify_last_line": _last_line(proc.stdout),
            "pip_collected": collected, "pip_downloads": downloads, "pip_cached": cached,
            "install_plus_cold_verify_median_s": venv_s + pip_s + cold_verify_median,
            "source": "the working tree's tracked files (git ls-files), copied to a temporary "
                      "folder: a clone of HEAD when nothing is uncommitted"}  # fmt: skip


# ---------------------------------------------------------------------------------------------
# The section
# ---------------------------------------------------------------------------------------------
def run(cfg) -> list[dict]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-commands-"))
    try:
        # cache: now warm for the quickstart's kernels
        verify, cache, verified = _verify_rows(cfg, tmp)
        stored_args = ["--replications", str(cfg.commands_stored_reps)]
        if cfg.commands_verify_args.split() == stored_args:
            stored = str(verified)  # the warm verify stored that very study, with its report
            made_by = f"simstudy verify {QUICKSTART} {' '.join(stored_args)}"
        else:
            stored_out = _fresh(tmp, "stored-")
            spawn(["run", QUICKSTART, "--out", stored_out, "--quiet", *stored_args], cache)
            stored = str(Path(stored_out) / "quickstart")
            made_by = f"simstudy run {QUICKSTART} {' '.join(stored_args)}"
        rows = _no_kernel_rows(cfg, tmp, cache, stored) + _tiny_rows(cfg, tmp, cache) + verify
        for r in rows:
            if r.get("command") == "report DIR":
                r["stored_study"] = made_by
        rows.append(readme_command_1(cfg, tmp, verify[0]["value"]["median"]))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return rows
