"""Command line: ``simstudy run | verify | analyse | report | replay | plan | validate | models |
check-model``.

Every user-facing error is a :class:`simstudy.errors.SimstudyError`: printed as one message
without a traceback, exit status 2, and nothing written.
"""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path

from simstudy.errors import SimstudyError, StoreError


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", help="study YAML file (see configs/)")
    p.add_argument("--out", default="results", help="parent folder of DIR/<name>/ (default: results)")
    p.add_argument(
        "--threads", type=int,
        help="cores to compute on: Numba threads (local), or LocalCluster workers of one thread "
        "each (--executor dask); default: all cores",
    )  # fmt: skip
    p.add_argument(
        "--executor", choices=("local", "dask"),
        help="local: in-process threads (default); dask: a Dask LocalCluster, or the cluster "
        "at --scheduler (needs the extra: pip install 'simstudy[dask]')",
    )  # fmt: skip
    p.add_argument(
        "--scheduler", metavar="ADDR",
        help="address of a running Dask scheduler, e.g. tcp://HOST:8786 (implies --executor dask)",
    )  # fmt: skip
    p.add_argument("--replications", type=int, help="override the config's replications R")
    p.add_argument("--force", action="store_true", help="recompute stored replications")
    p.add_argument("--quiet", action="store_true", help="no progress bar or summary")
    p.add_argument("--no-report", action="store_true", help="stop after storing replicates")
    p.add_argument("--block-size", type=int, help=argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="simstudy",
        description="Monte Carlo verification of maximum-likelihood estimator properties.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p_run = sub.add_parser("run", help="run a study (computes only what is not stored)")
    _add_run_options(p_run)
    p_ver = sub.add_parser(
        "verify",
        help="run (or reuse) a study and judge every property; exit 0 iff all verdicts are as expected",
    )
    _add_run_options(p_ver)
    p_ver.set_defaults(no_report=False)
    p_ana = sub.add_parser(
        "analyse",
        help="judge estimates computed elsewhere: a CSV/Parquet table of replicates becomes a "
        "results folder (metrics, verdicts, report) as if `simstudy run` had computed them",
    )
    p_ana.add_argument("table", help="CSV or Parquet file: columns estimator, n, rep, one per "
                       "parameter, optional <param>_se and status")  # fmt: skip
    p_ana.add_argument("--model", required=True,
                       help="model name (see `simstudy models`) or plugin 'package.module:MyModel'")  # fmt: skip
    p_ana.add_argument("--theta", required=True, help="true parameters as name=value,...")
    p_ana.add_argument("--out", default="results", help="parent folder of DIR/<name>/ (default: results)")
    p_ana.add_argument("--name", help="study name (default: the table's file name)")
    p_ana.add_argument("--expect", help="expected verdicts: a YAML file or inline YAML such as "
                       "'{mom: {efficient: fail}}' (the form of a study's expect:)")  # fmt: skip
    p_ana.add_argument("--quiet", action="store_true", help="only the closing line")
    p_ana.add_argument("--no-report", action="store_true",
                       help="metrics and verdicts only (no report.md/html, tables, figures)")  # fmt: skip
    p_rep = sub.add_parser(
        "report", help="regenerate tables, figures and report.md/html from stored results (no refitting)"
    )
    p_rep.add_argument("results_dir", help="a results folder, e.g. results/quickstart")
    p_rep.add_argument("--format", default=None,
                       help="figure formats: png,pdf,svg (default: the study's report.formats, png)")  # fmt: skip
    p_rep.add_argument("--quiet", action="store_true")
    p_rpl = sub.add_parser(
        "replay", help="regenerate one replication's sample with NumPy and refit it"
    )
    p_rpl.add_argument("results_dir")
    p_rpl.add_argument("--cell", help="cell index or data-key prefix (omit to list the cells)")
    p_rpl.add_argument("--rep", type=int, help="replication index")
    p_val = sub.add_parser("validate", help="check a study YAML without running it")
    p_val.add_argument("config")
    p_plan = sub.add_parser("plan", help="cells, work, a timed pilot, and the R that MCSE targets need")
    p_plan.add_argument("config")
    p_plan.add_argument("--pilot", type=int, default=None, metavar="R",
                        help="also run R replications per cell (in a temporary folder) to time "
                        "the cells and measure MCSEs, e.g. --pilot 200")
    p_plan.add_argument("--threads", type=int)
    sub.add_parser("models", help="list the models, their parameters and estimators")
    p_chk = sub.add_parser("check-model", help="run every generic model check (sampling, replay, "
                           "likelihood, score, information, fits, kernels); exit 1 if any FAILs")
    p_chk.add_argument("name", help="a model name, or a plugin model 'package.module:MyModel'")
    p_chk.add_argument("--theta", help="parameters as name=value,... (default: typical values)")
    p_chk.add_argument("--checks", help="only these checks, comma-separated (default: all; "
                       "see simstudy.model_checks.CHECKS)")
    return parser


def _say(args):
    """Progress and notes go to stderr (and not at all with --quiet)."""
    return (lambda msg: None) if args.quiet else (lambda msg: print(msg, file=sys.stderr))


def _run_study(args, *, report: bool):
    from simstudy.study import run

    return run(
        args.config, out=args.out, threads=args.threads, replications=args.replications,
        force=args.force, block_size=args.block_size, progress=not args.quiet, report=report,
        echo=_say(args), executor=args.executor, scheduler=args.scheduler,
    )  # fmt: skip


def cmd_run(args) -> int:
    result = _run_study(args, report=not args.no_report)
    summary = result.last_run
    lines = [
        (f"computed {summary.computed_replications:,} replications "
         f"({summary.computed_samples:,} observations) in {summary.wall_seconds:.1f} s; "
         f"results in {result.root}")
    ]  # fmt: skip
    if args.no_report:
        from simstudy.summary import failure_lines

        failures = failure_lines(result, summary.nonfinite)
        if failures:
            lines += ["estimators failing more than 1% of fits:", *failures]
        lines.append(f"{result.config.name}: replicates stored in {result.root}; no verdicts or "
                     f"report (--no-report): `simstudy verify {result.root}` judges them")  # fmt: skip
    else:
        lines += _verdict_summary(result, result.verdicts, report=True)
    _print(lines, quiet=args.quiet)
    return 0


def cmd_verify(args) -> int:
    from simstudy.study import StudyResult
    from simstudy.verdicts import all_met

    target = Path(args.config)
    if target.is_dir():
        result = StudyResult(target)
    else:
        result = _run_study(args, report=False)
    _, verdicts = result.analyse()
    if not args.no_report:
        result.write_report()
    lines = [] if args.quiet else [verdict_table(verdicts), ""]
    lines += _verdict_summary(result, verdicts, report=not args.no_report)
    _print(lines, quiet=args.quiet)
    return 0 if all_met(verdicts) else 1


def cmd_analyse(args) -> int:
    from simstudy.external import CLI_NAMES, _analyse

    result = _analyse(
        args.table, model=args.model, theta=args.theta, out=args.out, name=args.name,
        expect=args.expect, checks=None, report=not args.no_report, echo=_say(args),
        names=CLI_NAMES,
    )  # fmt: skip
    ext, cfg = result.external, result.config
    k, sizes = len(cfg.models[0].estimators), len(cfg.sample_sizes)
    lines = [
        (f"read {ext['rows']:,} rows of {ext['table']} ({k} estimator{'s' * (k != 1)} x "
         f"{sizes} sample size{'s' * (sizes != 1)} x R = {cfg.replications:,}); results in "
         f"{result.root}")
    ]  # fmt: skip
    lines += _verdict_summary(result, result.verdicts, report=not args.no_report)
    _print(lines, quiet=args.quiet)
    return 0


def _verdict_summary(result, verdicts, *, report: bool) -> list[str]:
    """The closing lines of run and verify; the last one says it all (what --quiet keeps)."""
    from simstudy.summary import failure_lines, report_paths, unexpected_lines, verdict_counts

    lines = []
    unexpected = unexpected_lines(verdicts)
    if unexpected:
        lines += [f"{len(unexpected)} verdicts not as expected:", *unexpected]
    last_run = result.last_run
    failures = failure_lines(result, last_run.nonfinite if last_run else None)
    if failures:
        lines += ["estimators failing more than 1% of fits:", *failures]
    where = (f"report {report_paths(result.root)}" if report
             else f"verdicts.csv and verdicts.json in {result.root}")  # fmt: skip
    lines.append(f"{result.config.name}: {verdict_counts(verdicts)}; {where}")
    return lines


def _print(lines: list[str], *, quiet: bool) -> None:
    print("\n".join(lines[-1:] if quiet else lines))


def verdict_table(verdicts) -> str:
    """The verdicts as an aligned text table; a mark says whether each met its expectation."""
    from simstudy._text import text_table

    rows = [
        (v.model, v.theta, v.estimator, v.param, v.property, v.verdict, v.expected,
         "ok" if v.met else "XX", v.detail)
        for v in verdicts.itertuples()
    ]  # fmt: skip
    header = ("model", "theta", "estimator", "param", "property", "verdict", "expected", "",
              "evidence")  # fmt: skip
    return text_table(header, rows, free_last=True)


def cmd_report(args) -> int:
    """Regenerate every table and figure from the stored replicates and metrics; this path
    never imports the Numba engine."""
    from simstudy.errors import StudyConfigError
    from simstudy.report import FIGURE_FORMATS, current_report
    from simstudy.study import StudyResult
    from simstudy.summary import report_paths

    formats = None  # the study's report.formats
    if args.format is not None:
        formats = tuple(f.strip().lower() for f in args.format.split(",") if f.strip())
        bad = [f for f in formats if f not in FIGURE_FORMATS]
        if bad or not formats:
            raise StudyConfigError(
                f"--format: {args.format!r} has {bad or 'no formats'}; choose from "
                f"{', '.join(FIGURE_FORMATS)}, comma-separated (e.g. png,pdf)"
            )
    result = StudyResult(args.results_dir)
    if not result.analysis_is_current():
        # checks changed (or no analysis yet): recompute the verdicts, and the metrics from the
        # stored replicates if a check they depend on changed; never refitting.
        result.analyse(reuse_metrics=True)
    if current_report(result, formats) is not None:
        if not args.quiet:
            print(f"the report is current (nothing changed since it was written): "
                  f"{report_paths(result.root)}")  # fmt: skip
        return 0
    written = result.write_report(formats=formats)
    if not args.quiet:
        print(f"wrote {len(written)} files under {result.root}: {report_paths(result.root)}, "
              "tables/, figures/")  # fmt: skip
    return 0


def cmd_replay(args) -> int:
    from simstudy.study import StudyResult, replay

    result = StudyResult(args.results_dir)
    result.refuse_external("replay")
    if args.cell is None:
        print("cells (index, model, theta, n, failed fits per estimator):")
        for i, c in enumerate(result.cells):
            failed = _failed_counts(result, c)
            print(f"  {i:3d}  {c['model']} {c['theta']} n={c['n']}  {failed}  key {c['data_key'][:12]}")
        print("replay one with --cell INDEX --rep R")
        return 0
    if args.rep is None:
        raise StoreError("--rep: give the replication index to replay (0-based)")
    out = replay(result, args.cell, args.rep)
    c = out["cell"]
    print(f"replication {out['rep']} of {c['model']} {c['theta']} n={c['n']} "
          f"(seed {result.manifest['seed']}, key1 {c['key1']}, counter [0, 0, {out['rep']}, 0])")  # fmt: skip
    print("data: " + ", ".join(f"{k} {v:.6g}" if isinstance(v, float) else f"{k} {v}"
                               for k, v in out["summary"].items()))  # fmt: skip
    for f in out["fits"]:
        print(f"\n{f['estimator']}: refit {f['refit']}")
        print(f"  stored {f['stored']}  -> {'identical' if f['identical'] else 'DIFFERENT'}")
        print(f"  SE {f['se']}")
        print(f"  loglik at the estimate {f['loglik_hat']:.10g}, at the true theta {f['loglik_true']:.10g}")
        print(f"  score at the estimate {f['score_hat']}")
    return 0 if all(f["identical"] for f in out["fits"]) else 1


def _failed_counts(result, cell) -> str:
    import numpy as np

    parts = []
    for label, info in cell["estimators"].items():
        table = result.store.read_stored(info["result_key"])
        if table is None:
            parts.append(f"{label}: nothing stored")
            continue
        status = table.column("status").to_numpy()
        reps = table.column("rep").to_numpy()
        bad = reps[~np.isin(status, (0, 3))]
        parts.append(f"{label}: {bad.size} of {reps.size} failed"
                     + (f" (e.g. rep {bad[0]})" if bad.size else ""))  # fmt: skip
    return "; ".join(parts)


def cmd_validate(args) -> int:
    from simstudy.config import load_config
    from simstudy.estimators import probe_plugins_offline
    from simstudy.metrics.precision import study_warnings
    from simstudy.plan import make_plan

    cfg = load_config(args.config)
    plan = make_plan(cfg, base_dir=Path(args.config).resolve().parent, source=args.config)
    probe_plugins_offline(plan)
    for line in study_warnings(cfg):
        print(f"warning: {line}", file=sys.stderr)
    print(
        f"{args.config}: valid study {cfg.name!r}: {len(plan.cells)} cells, "
        f"R = {_describe_replications(cfg)}, {plan.total_fits:,} fits, "
        f"{plan.total_samples:,} observations"
    )
    return 0


def _describe_replications(cfg) -> str:
    adaptive = cfg.adaptive
    if adaptive is None:
        return str(cfg.replications)
    targets = ", ".join(f"{k} {v:g}" for k, v in adaptive.until_mcse.items())
    return f"{adaptive.start} rising to at most {adaptive.max} until MCSE {targets}"


def cmd_models(args) -> int:
    from simstudy.models import get_model, list_models

    rows = [("model", "parameters (domain)", "estimators", "tags")]
    for name in list_models():
        m = get_model(name)
        params = ", ".join(f"{p.name} in {p.domain}" for p in m.params)
        # Reasons (``*_reason`` tags) are long sentences: `check-model` and the verdicts show them.
        tags = ", ".join(f"{k}={v}" for k, v in sorted(m.tags.items()) if not k.endswith("_reason"))
        rows.append((name, params, ", ".join(m.estimators), tags))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for i, r in enumerate(rows):
        print("  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    return 0


def cmd_plan(args) -> int:
    from simstudy._text import text_table
    from simstudy.config import load_config
    from simstudy.errors import StudyConfigError
    from simstudy.metrics.precision import DECIDE_PROBABILITY, ideal_precision, study_warnings
    from simstudy.plan import make_plan

    cfg = load_config(args.config)
    plan = make_plan(cfg, base_dir=Path(args.config).resolve().parent, source=args.config)
    if args.pilot is not None and args.pilot < 4:
        raise StudyConfigError(f"--pilot: {args.pilot} is too small; give at least 4 (e.g. 200)")
    print(f"study {cfg.name!r}: {len(plan.cells)} cells x R = {_describe_replications(cfg)}: "
          f"{plan.total_fits:,} fits, {plan.total_samples:,} observations")  # fmt: skip
    reps = cfg.adaptive.max if cfg.adaptive else plan.replications
    rows = [
        (p.property, p.statistic, f"{p.margin_name} {p.margin:g}", p.mcse, p.needed,
         "yes" if p.decided else "NO")
        for p in ideal_precision(cfg.checks, reps, cfg.sample_sizes)
    ]  # fmt: skip
    print(f"\nprecision at R = {reps:,} for a perfect estimator (decided: PASSes with probability "
          f"{DECIDE_PROBABILITY:.0%}):")  # fmt: skip
    print(text_table(("property", "statistic", "margin", "MCSE at R", "R that decides",
                      "decided"), rows))  # fmt: skip
    for line in study_warnings(cfg):
        print(f"warning: {line}", file=sys.stderr)
    if args.pilot is None:
        print("\nadd --pilot 200 to time every cell and measure the MCSEs of these estimators "
              "(it compiles and runs them)")  # fmt: skip
        return 0
    from simstudy.study import needed_table, pilot

    report = pilot(args.config, replications=args.pilot, threads=args.threads)
    rows = [
        (c.model, c.theta, c.n, c.estimators, c.seconds_per_replication,
         c.seconds_per_replication * plan.replications)
        for c in report.cells.itertuples()
    ]  # fmt: skip
    print(f"\npilot: {report.replications} replications per cell (compile time excluded)")
    print(text_table(("model", "theta", "n", "estimators", "s per replication",
                      f"s at R = {plan.replications:,}"), rows))  # fmt: skip
    print(f"\nestimated run time: {report.estimated_seconds:.1f} s on the current threads")
    if report.needed is not None:
        print("\nreplications needed for the MCSE targets (Morris et al. 2019, §5.3), from the "
              "cells the verdicts are judged on:")  # fmt: skip
        print(needed_table(report.needed))
    return 0


def cmd_check_model(args) -> int:
    from simstudy.config import parse_theta
    from simstudy.models import get_model
    from simstudy.testing import check_model, typical_theta

    model = get_model(args.name)  # a built-in name, or a plugin "package.module:MyModel"
    theta = typical_theta(model)
    if args.theta:
        values = parse_theta(model, args.theta, defaults=dict(zip(model.param_names, theta)))
        theta = list(values.values())
    checks = [c.strip() for c in args.checks.split(",") if c.strip()] if args.checks else None
    report = check_model(model, theta, checks=checks)
    print(f"check-model {report.where}")
    for line in report.lines():
        print(f"  {line}")
    counts = report.counts()
    print(f"{counts['PASS']} passed, {counts['FAIL']} failed, {counts['SKIPPED']} skipped")
    return 0 if report.ok else 1


COMMANDS = {
    "run": cmd_run, "verify": cmd_verify, "analyse": cmd_analyse, "report": cmd_report,
    "replay": cmd_replay,
    "plan": cmd_plan,
    "validate": cmd_validate,
    "models": cmd_models, "check-model": cmd_check_model,
}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except SimstudyError as exc:
        print(f"simstudy {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a file operation the layers above did not expect to fail
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"simstudy {args.command}: error: {where}{exc.strerror or exc}; check that the path "
              "exists and is readable (and writable, for results), then rerun", file=sys.stderr)  # fmt: skip
        return 2
    except KeyboardInterrupt:
        print(
            "\nsimstudy: interrupted; every finished block is stored, rerun the same "
            "command to resume",
            file=sys.stderr,
        )
        return 130


def entry() -> None:
    """The ``simstudy`` console script and ``python -m simstudy``: :func:`main`, then exit.

    Everything is written when :func:`main` returns. The objects left (matplotlib's, pandas',
    the engine's) are frozen out of the garbage collector first, so that the interpreter's
    final collection does not walk them: that took about 0.7 s after a report of
    ``configs/seed_models.yaml``, a tenth of its time."""
    code = main()
    gc.freeze()
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
