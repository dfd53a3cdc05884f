"""The benchmark runner: ``python -m bench [--quick] [--out DIR] [--only SECTIONS [--merge]]``.

Full mode (the default) measures at the sizes of issues 7 and 12 and writes bench/RESULTS.md,
bench/results.json and bench/scaling.png (about 13 minutes on 2 cores, and several more for the
commands section, whose README command 1 includes a ``pip install -e .`` into a fresh venv;
``--skip-install`` or BENCH_SKIP_INSTALL=1 leaves that out). ``--quick`` runs every section at
tiny sizes (the smoke test's mode; its numbers mean nothing). ``--only S --merge`` re-measures
sections S into an existing results.json; ``--render`` rewrites RESULTS.md from it.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path

from bench.timing import machine

SECTIONS = ("sampling", "cells", "fits", "study", "scaling", "memory", "startup", "commands",
            "python")


@dataclass(frozen=True)
class BenchConfig:
    quick: bool
    repeats: int  # timing repeats per row (median, min, max over these)
    min_time: float  # seconds per timing sample (inner loop calibrated to reach it)
    sample_size: int  # item 1: values per fill
    cell_n: int  # item 2 and the thread comparison: n and R of a cell
    cell_reps: int
    fit_pool: int  # item 3: distinct samples (the loop cycles over them)
    fit_samples: int  # item 3: fits simstudy makes per timing sample
    peer_samples: int  # ... that SciPy / statsmodels fit
    slow_peer_samples: int  # ... that the textbook L-BFGS-B fits
    agreement_samples: int  # ... refitted with tightened peer tolerances
    study_reps: int | None  # item 4: None = the config's R
    study_sample_sizes: tuple[int, ...] | None
    study_repeats: int
    study_probe_fraction: float  # share of R whose samples are drawn alone between the runs
    baseline_reps: int  # R at which the baseline script is timed (then scaled)
    profile_work: int  # item 4 breakdown: replications x n per component timing
    profile_repeats: int
    profile_min_time: float
    scaling_ns: tuple[int, ...]  # item 5
    scaling_work: int  # R x n per point of the n sweep
    scaling_min_reps: int
    scaling_max_reps: int
    memory_n: int  # item 6
    memory_reps: tuple[int, int]
    startup_repeats: int  # item 7
    quickstart_args: str
    commands_repeats: int  # issue 12: repeats of each command (warm and empty cache)
    commands_verify_repeats: int  # ... of the cold quickstart verify
    commands_verify_args: str  # ... its extra arguments
    commands_stored_reps: int  # R of the stored quickstart study `simstudy report` redraws
    commands_install: bool  # time README command 1 (venv + pip install -e .) once
    commands_pip_timeout: float
    python_n: int  # item 9: n of the Python estimator's cell
    python_reps: tuple[int, int]  # ... R of the short and the long run (marginal cost between)
    python_repeats: int


FULL = BenchConfig(
    quick=False, repeats=7, min_time=0.1, sample_size=1 << 16, cell_n=1000, cell_reps=10_000,
    fit_pool=64, fit_samples=2000, peer_samples=64, slow_peer_samples=20, agreement_samples=20,
    study_reps=None, study_sample_sizes=None, study_repeats=5, study_probe_fraction=0.1,
    baseline_reps=1000,
    profile_work=200_000, profile_repeats=3, profile_min_time=0.02,
    scaling_ns=(10, 30, 100, 300, 1000, 3000, 10_000, 30_000, 100_000), scaling_work=10_000_000,
    scaling_min_reps=100, scaling_max_reps=100_000, memory_n=1_000_000,
    memory_reps=(1000, 10_000), startup_repeats=5, quickstart_args="",
    commands_repeats=5, commands_verify_repeats=3, commands_verify_args="",
    commands_stored_reps=200, commands_install=True, commands_pip_timeout=1800,
    python_n=1000, python_reps=(500, 10_000), python_repeats=3,
)  # fmt: skip
QUICK = replace(
    FULL, quick=True, repeats=5, min_time=0.0005, sample_size=1024, cell_n=100, cell_reps=200,
    fit_pool=8, fit_samples=20, peer_samples=4, slow_peer_samples=2, agreement_samples=2,
    study_reps=20,
    study_sample_sizes=(10, 30), study_repeats=5, baseline_reps=10, profile_work=500,
    profile_repeats=2, profile_min_time=0.0005, scaling_ns=(10, 100, 1000), scaling_work=20_000,
    scaling_min_reps=10, scaling_max_reps=1000, memory_n=10_000, memory_reps=(10, 100),
    startup_repeats=1, quickstart_args="--replications 20 --no-report",
    commands_repeats=1, commands_verify_repeats=1, commands_verify_args="--replications 200",
    commands_install=False, python_n=50, python_reps=(16, 64), python_repeats=1,
)  # fmt: skip


def run(cfg: BenchConfig, out: Path, only=SECTIONS, echo=print, merge=False) -> dict:
    """Run the selected sections and write results.json, RESULTS.md (and scaling.png).

    ``merge``: keep the other sections' rows of an existing ``out/results.json`` (same mode)
    and replace only the selected ones."""
    from bench import (
        cells,
        commands,
        fits,
        memory,
        pyest,
        report,
        sampling,
        scaling,
        startup,
        study,
    )

    out.mkdir(parents=True, exist_ok=True)
    meta = {"mode": "quick" if cfg.quick else "full", "config": asdict(cfg),
            "started": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "machine": machine(), "command": "python -m bench" + (" --quick" if cfg.quick else "")}
    rows, sweeps, timings = [], {}, {}
    kernel_rates = {}
    t_all = time.perf_counter()

    def section(name, fn):
        if name not in only:
            return None
        echo(f"[bench] {name} ...")
        t0 = time.perf_counter()
        result = fn()
        timings[name] = time.perf_counter() - t0
        echo(f"[bench] {name}: {timings[name]:.1f} s")
        return result

    if "sampling" in only or "study" in only:
        got = section("sampling", lambda: sampling.run(cfg)) if "sampling" in only else None
        if got is None:  # study needs the rates: measure just them
            got = sampling.run(replace(cfg, repeats=3))
        rows += got[0] if "sampling" in only else []
        kernel_rates = got[1]
    rows += section("cells", lambda: cells.run(cfg)) or []
    rows += section("fits", lambda: fits.run(cfg)) or []
    rows += section("study", lambda: study.run(cfg, kernel_rates)) or []
    got = section("scaling", lambda: scaling.run(cfg))
    if got:
        rows += got[0]
        sweeps = got[1]
        scaling.figure(sweeps, out / "scaling.png")
    rows += section("memory", lambda: memory.run(cfg)) or []
    rows += section("startup", lambda: startup.run(cfg)) or []
    rows += section("commands", lambda: commands.run(cfg)) or []
    rows += section("python", lambda: pyest.run(cfg)) or []

    meta["section_seconds"] = timings
    meta["total_seconds"] = time.perf_counter() - t_all
    meta["machine"]["load_average_end"] = list(os.getloadavg())
    results = {"meta": meta, "rows": rows, "sweeps": sweeps}
    previous = out / "results.json"
    if merge and previous.exists():
        old = json.loads(previous.read_text())
        if old["meta"]["mode"] != meta["mode"]:
            raise SystemExit(f"--merge: {previous} is a {old['meta']['mode']} run, not {meta['mode']}")
        kept = [r for r in old["rows"] if r["section"] not in only]
        results["rows"] = sorted(kept + rows, key=lambda r: SECTIONS.index(r["section"]))
        results["sweeps"] = sweeps if "scaling" in only else old.get("sweeps", {})
        merged_meta = old["meta"]
        merged_meta["section_seconds"].update(timings)
        merged_meta["total_seconds"] = sum(merged_meta["section_seconds"].values())
        # Keep one entry per section: an earlier re-run's rows are gone, so is its entry.
        reruns = [x for x in merged_meta.get("reruns", []) if not set(x["sections"]) <= set(only)]
        merged_meta["reruns"] = reruns + [
            {"sections": list(only), "started": meta["started"], "machine": meta["machine"]}]
        results["meta"] = merged_meta
    results["targets"] = report.targets(results)
    (out / "results.json").write_text(json.dumps(results, indent=1, default=float) + "\n")
    (out / "RESULTS.md").write_text(report.markdown(results))
    return results


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes (smoke test)")
    parser.add_argument("--out", type=Path, default=None,
                        help="folder for RESULTS.md, results.json, scaling.png "
                             "(default: bench/, or a temporary folder with --quick)")  # fmt: skip
    parser.add_argument("--only", default=",".join(SECTIONS),
                        help=f"comma-separated sections among {', '.join(SECTIONS)}")
    parser.add_argument("--merge", action="store_true",
                        help="replace only the --only sections' rows in OUT/results.json")
    parser.add_argument("--skip-install", action="store_true",
                        help="commands: do not time README command 1's venv + pip install -e . "
                             "(also BENCH_SKIP_INSTALL=1; --quick always skips it)")
    parser.add_argument("--render", action="store_true",
                        help="only rewrite RESULTS.md (and the targets) from OUT/results.json")
    args = parser.parse_args(argv)
    if args.render:
        from bench import report

        out = args.out or Path(__file__).resolve().parent
        results = json.loads((out / "results.json").read_text())
        results["targets"] = report.targets(results)
        (out / "results.json").write_text(json.dumps(results, indent=1, default=float) + "\n")
        (out / "RESULTS.md").write_text(report.markdown(results))
        print(f"[bench] rewrote {out / 'RESULTS.md'} from results.json")
        return 0
    only = tuple(s.strip() for s in args.only.split(",") if s.strip())
    unknown = sorted(set(only) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown section(s) {unknown}; choose among {', '.join(SECTIONS)}")
    cfg = QUICK if args.quick else FULL
    if args.skip_install:
        cfg = replace(cfg, commands_install=False)
    if args.out is None:
        import tempfile

        out = Path(tempfile.mkdtemp(prefix="bench-quick-")) if args.quick \
            else Path(__file__).resolve().parent
    else:
        out = args.out
    results = run(cfg, out, only, merge=args.merge)
    met = [t for t in results["targets"] if t["met"] is True]
    missed = [t for t in results["targets"] if t["met"] is False]
    print(f"[bench] wrote {out / 'RESULTS.md'} and results.json in "
          f"{results['meta']['total_seconds']:.0f} s: {len(met)} targets met, {len(missed)} missed")
    return 0
