"""report.md and report.html: the study, its verdicts, tables and figures in one document.

:func:`build` writes ``tables/``, ``figures/``, ``report.md`` and ``report.html`` under the
results folder from stored data only (metrics, verdicts, replicates, manifest, study.yaml):
it imports no Numba kernel and never refits. The document is composed once as a list of
blocks and rendered twice (Markdown, HTML); the HTML is self-contained apart from the figure
files it links relatively (no scripts, no network). Nothing depends on the clock, so a rerun
writes byte-identical text.
"""

from __future__ import annotations

import functools
import html
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from simstudy.config import FIGURES
from simstudy.report import prepare, style, tables
from simstudy.report.render import Job, render
from simstudy.report.style import JOINT
from simstudy.store import atomic_write_text

METRIC_FIGURES = ("bias", "rmse", "efficiency", "n_var", "coverage")
#: Figures that need the Cramér-Rao bound (skipped for non-regular models).
NEEDS_FISHER = ("efficiency", "n_var", "qq", "density", "mahalanobis_qq")


@dataclass
class Family:
    """One (model, θ) of the study with the manifest facts its figures need."""

    model: str
    theta: str
    params: list[str]
    regular: bool
    rate: float
    fisher: np.ndarray
    inverse_fisher: np.ndarray
    ns: list[int]
    estimators: list[str]


@dataclass
class FigureEntry:
    kind: str
    stem: str
    caption: str
    paths: list[Path] = field(default_factory=list)


def families(manifest: dict) -> list[Family]:
    """The study's (model, θ) in manifest order."""
    out: dict[tuple[str, str], Family] = {}
    for c in manifest["cells"]:
        key = (c["model"], c["theta"])
        if key not in out:
            out[key] = Family(c["model"], c["theta"], list(c["params"]), bool(c["regular"]),
                              float(c["rate"]), np.array(c["fisher"], dtype=float),
                              np.array(c["inverse_fisher"], dtype=float), [], [])  # fmt: skip
        fam = out[key]
        fam.ns.append(int(c["n"]))
        for label in c["estimators"]:
            if label not in fam.estimators:
                fam.estimators.append(label)
    for fam in out.values():
        fam.ns = sorted(set(fam.ns))
    return list(out.values())


def selected_estimators(config, fam: Family) -> list[str]:
    """Estimators whose per-replicate figures (QQ, density, zip, Mahalanobis) are drawn for
    ``fam`` under ``report.cells`` (all when unset)."""
    cells = config.report.cells
    if cells is None:
        return list(fam.estimators)
    theta = json.loads(fam.theta)
    chosen: list[str] = []
    for sel in cells:
        if sel.model != fam.model:
            continue
        if sel.theta is not None and any(
            k not in theta or not math.isclose(theta[k], v, rel_tol=1e-12, abs_tol=1e-12)
            for k, v in sel.theta.items()
        ):
            continue
        for est in fam.estimators if sel.estimator is None else [sel.estimator]:
            if est in fam.estimators and est not in chosen:
                chosen.append(est)
    return [e for e in fam.estimators if e in chosen]


def zip_n(config, fam: Family) -> int:
    """``report.zip_n`` if it is in the grid, else the grid's n nearest to it; the largest n
    by default."""
    want = config.report.zip_n
    if want is None:
        return fam.ns[-1]
    return min(fam.ns, key=lambda n: (abs(math.log(n / want)), -n))


# ---- figures ----------------------------------------------------------------------------------


def _subsample_note(count: int, limit: int, what: str) -> str:
    if count <= limit:
        return ""
    return f" Each panel draws {limit:,} of its {count:,} {what}."


def _usable_count(fm: pd.DataFrame, estimators: Sequence[str], *, param: str | None = None,
                  n: int | None = None) -> int:  # fmt: skip
    """The largest number of usable fits (the metrics' ``n_ok``) of one cell of the family."""
    rows = fm[fm["estimator"].isin(estimators) & fm["n"].notna() & (fm["param"] != JOINT)]
    if param is not None:
        rows = rows[rows["param"] == param]
    if n is not None:
        rows = rows[rows["n"] == n]
    counts = rows["n_ok"].to_numpy(dtype=float)
    counts = counts[np.isfinite(counts)]
    return int(counts.max()) if counts.size else 0


def figure_jobs(result, metrics: pd.DataFrame) -> list[tuple[tuple[str, str], str, str, Job]]:
    """(family, kind, caption, job) for every figure the config asks for, in document order.

    Metric figures carry their rows of the metrics table. Per-replicate figures (QQ,
    histograms, zip, Mahalanobis) carry a loader and the stored result keys they read (a
    result key determines its replicates: it hashes the data spec, the estimator and the code
    version), so that an unchanged figure is recognised without reading any replicate."""
    cfg = result.config
    wanted = set(cfg.report.figures)
    checks = cfg.checks
    reps = int(result.manifest["replications"])
    styles = style.estimator_styles(e for entry in cfg.models for e in entry.estimator_labels())
    jobs: list[tuple[tuple[str, str], str, str, Job]] = []
    loaded: dict[str, pd.DataFrame] = {}

    for fam in families(result.manifest):
        key = (fam.model, fam.theta)

        def add(kind, function, data, options, caption, *, param=None, n=None, fam=fam, key=key,
                source=None):  # fmt: skip
            stem = style.figure_stem(kind, fam.model, fam.theta, param=param, n=n)
            # Per-replicate figures share the model's replicates (read once per process).
            group = fam.model if source is not None else None
            jobs.append((key, kind, caption, Job(stem, function, data, options, source, group)))

        fm = metrics[(metrics["model"] == fam.model) & (metrics["theta"] == fam.theta)]
        if fm.empty:
            continue
        fm = fm.reset_index(drop=True)
        common = {"styles": styles, "estimators": tuple(fam.estimators)}
        for kind in METRIC_FIGURES:
            if kind not in wanted or (kind in NEEDS_FISHER and not fam.regular):
                continue
            rows = fm[(fm["metric"] == kind) & fm["n"].notna() & (fm["param"] != JOINT)]
            if rows.empty or not np.isfinite(rows["value"].to_numpy(dtype=float)).any():
                continue
            function, options, caption = _metric_job(kind, fam, checks, reps)
            add(kind, function, fm, {**common, **options}, caption)

        per_cell = [k for k in ("qq", "density", "zip", "mahalanobis_qq") if k in wanted
                    and not (k in NEEDS_FISHER and not fam.regular)]  # fmt: skip
        chosen = selected_estimators(cfg, fam)
        if not per_cell or not chosen or _usable_count(fm, chosen) == 0:
            continue
        result_keys = sorted(
            info["result_key"] for c in result.manifest["cells"]
            if (c["model"], c["theta"]) == key
            for label, info in c["estimators"].items() if label in chosen
        )  # fmt: skip
        inv = {p: float(fam.inverse_fisher[j, j]) for j, p in enumerate(fam.params)}
        source = json.dumps({"result_keys": result_keys, "replications": reps, "inverse_fisher": inv,
                             "fisher": fam.fisher.tolist()})  # fmt: skip

        def family_replicates(fam=fam, chosen=tuple(chosen)) -> pd.DataFrame:
            name = f"replicates {fam.model} {fam.theta}"
            if name not in loaded:
                if fam.model not in loaded:
                    loaded[fam.model] = result.replicates(model=fam.model)
                table = loaded[fam.model]
                mask = (table["theta"] == fam.theta).to_numpy() & table["estimator"].isin(chosen).to_numpy()
                table = table if mask.all() else table[mask]
                # Labels as categories: every later filter and grouping then moves integer
                # codes, not Arrow strings (several times faster).
                loaded[name] = table.astype({c: "category" for c in ("model", "theta", "estimator")})
            return loaded[name]

        def z_of(p, fam=fam, inv=inv, family_replicates=family_replicates) -> pd.DataFrame:
            name = f"z {fam.model} {fam.theta}"
            if name not in loaded:
                loaded[name] = prepare.standardized_estimates(family_replicates(), inverse_fisher=inv,
                                                              params=fam.params)  # fmt: skip
            z = loaded[name]
            return z[z["param"] == p].reset_index(drop=True)

        pstyles = {"styles": styles, "estimators": tuple(chosen)}
        head = f"{fam.model} ({style.theta_text(fam.theta)})"
        for p in fam.params:
            count = _usable_count(fm, chosen, param=p)
            if count == 0:
                continue
            if "qq" in per_cell:
                add("qq", "qq_figure", functools.partial(z_of, p), {**pstyles, "param": p, "title":
                    f"{head}, {p}: " + style.Z_TITLE.format(what="normal QQ plots of")}, (
                    f"Normal QQ plots of the standardized estimates z = (θ̂ − θ)/√([I(θ)⁻¹]ⱼⱼ/n) of "
                    f"{p}, one panel per n, every estimator in each panel; usable fits only (status "
                    "ok or boundary). Dashed: y = x, the N(0, 1) limit of an efficient, "
                    "asymptotically normal estimator; an inefficient one lies on a steeper line "
                    "(slope 1/√efficiency). Points beyond the shared y-range are drawn as "
                    "triangles on its edge." + _subsample_note(count, style.QQ_MAX_POINTS,
                    f"order statistics per estimator: the {style.TAIL_POINTS} most extreme on "
                    "each side and evenly spaced ranks between")
                ), param=p, source=source)  # fmt: skip
            if "density" in per_cell:
                add("density", "density_figure", functools.partial(z_of, p), {**pstyles, "param": p,
                    "title": f"{head}, {p}: " + style.Z_TITLE.format(what="histograms of")}, (
                    f"Histograms (density scale) of z for {p} per n, every estimator in each "
                    "panel, from every usable replication, with the N(0, 1) density (line); a "
                    "panel notes the share of z beyond the view."
                ), param=p, source=source)  # fmt: skip
            if "zip" in per_cell:
                n = zip_n(cfg, fam)
                at_n = _usable_count(fm, chosen, param=p, n=n)
                covered = fm[(fm["metric"] == "coverage") & (fm["param"] == p) & (fm["n"] == n)
                             & fm["estimator"].isin(chosen)]  # fmt: skip
                if at_n == 0 or covered.empty:
                    continue  # no fit, or no standard errors (so no Wald interval) to draw

                def intervals(p=p, n=n, family_replicates=family_replicates) -> pd.DataFrame:
                    table = family_replicates()
                    return prepare.wald_intervals(table[table["n"] == n], param=p,
                                                  level=checks.coverage_level)  # fmt: skip

                theta_p = json.loads(fam.theta)[p]
                add("zip", "zip_figure", intervals,
                    {"estimators": tuple(chosen), "theta": theta_p, "level": checks.coverage_level, "n": n,
                     "title": f"{head}, {p}: zip plot at n = {n:,}"}, (
                    f"Zip plot of the {100 * checks.coverage_level:g}% Wald intervals θ̂ ± z·SE "
                    f"for {p} at n = {n} (SE from the observed information), ranked by "
                    "|θ̂ − θ|/SE: the intervals that miss θ are on top, so the height where they "
                    "begin is the coverage. Dashed: nominal level; grey band: estimated coverage "
                    "± 2 MCSE; vertical line: true θ." + _subsample_note(at_n, style.ZIP_MAX_INTERVALS,
                    "intervals (evenly spaced ranks); the coverage and its MCSE use all of them")
                ), param=p, n=n, source=source)  # fmt: skip
        if "mahalanobis_qq" in per_cell and len(fam.params) > 1:

            def mahalanobis(fam=fam, family_replicates=family_replicates) -> pd.DataFrame:
                return prepare.mahalanobis_statistics(family_replicates(), fisher=fam.fisher,
                                                      params=fam.params)  # fmt: skip

            count = _usable_count(fm, chosen)
            add("mahalanobis_qq", "mahalanobis_qq_figure", mahalanobis, {**pstyles, "df": len(fam.params),
                "title": f"{head}: " + style.T_TITLE.format(df=style.subscript(len(fam.params)))}, (
                f"QQ plots of the Mahalanobis statistic T = n(θ̂ − θ)ᵀI(θ)(θ̂ − θ) against "
                f"χ²_{len(fam.params)} (dashed: y = x), one panel per n, every estimator in each "
                "panel; I(θ) is the per-observation Fisher information recorded in the manifest. "
                "An efficient, asymptotically normal estimator approaches the line; points beyond "
                "the shared y-range are drawn as triangles on its edge."
                + _subsample_note(count, style.QQ_MAX_POINTS, "order statistics per estimator")
            ), source=source)  # fmt: skip
    return jobs


def _metric_job(kind: str, fam: Family, checks, reps: int) -> tuple[str, dict, str]:
    """(figure function, options, caption) of a metric figure."""
    if kind == "bias":
        return "bias_figure", {}, (
            "Bias of θ̂ against n with ±2 MCSE error bars (dotted: zero); estimators are offset "
            f"slightly along n so that their bars stay apart. R = {reps:,} replications per cell."
        )
    if kind == "rmse":
        ref = "mle" if "mle" in fam.estimators else fam.estimators[0]
        return "rmse_figure", {"rate": fam.rate, "reference": ref}, (
            f"RMSE against n on log-log axes. Dashed: slope {style.rate_text(fam.rate)}, the model's "
            f"rate of convergence, through the {ref} RMSE at the largest n; a consistent "
            "estimator converging at that rate runs parallel to it. Error bars ±2 MCSE."
        )
    if kind == "efficiency":
        return "efficiency_figure", {"margin": checks.efficiency_margin}, (
            "Efficiency, the Cramér–Rao bound [I(θ)⁻¹]ⱼⱼ/n over Var(θ̂), against n with ±2 MCSE "
            f"bands. Dashed: 1 (efficient); grey: 1 ± {checks.efficiency_margin:g}, the band the "
            "`efficient` verdict accepts at the largest n. A biased estimator can exceed 1 at "
            "small n."
        )
    if kind == "n_var":
        return "n_var_figure", {}, (
            "n·Var(θ̂) against n with ±2 MCSE bands; dashed: its Cramér–Rao limit [I(θ)⁻¹]ⱼⱼ "
            "(per-observation inverse Fisher information)."
        )
    level = checks.coverage_level
    return "coverage_figure", {"level": level}, (
        f"Coverage of the {100 * level:g}% Wald interval θ̂ ± z·SE (SE from the observed "
        "information) against n with ±2 MCSE error bars. Dashed: nominal level; grey band: "
        f"nominal ± 2√({level:g}·{1 - level:.3g}/R), where a correct interval's estimate falls "
        "about 95% of the time."
    )


def render_figures(result, metrics: pd.DataFrame, directory: Path, formats: Sequence[str], *,
                   workers: int | None = None) -> dict[tuple[str, str], list[FigureEntry]]:  # fmt: skip
    """Draw (or reuse, see :mod:`simstudy.report.render`) every figure; entries per (model, θ)."""
    planned = figure_jobs(result, metrics)
    paths = render([job for *_, job in planned], directory, formats, workers=workers)
    out: dict[tuple[str, str], list[FigureEntry]] = {}
    for key, kind, caption, job in planned:
        out.setdefault(key, []).append(FigureEntry(kind, job.stem, caption, paths[job.stem]))
    return out


# ---- document blocks --------------------------------------------------------------------------


@dataclass
class Block:
    kind: str  # heading, para, table, code, figure, bullets
    text: str = ""
    level: int = 2
    table: pd.DataFrame | None = None
    right: Sequence[str] = ()
    src: str = ""
    items: Sequence[str] = ()


def _verdict_summary(verdicts: pd.DataFrame) -> str:
    if verdicts.empty:
        return "No verdicts were computed."
    counts = verdicts["verdict"].value_counts()
    parts = ", ".join(f"{int(counts[v])} {v}" for v in ("PASS", "FAIL", "INCONCLUSIVE", "SKIPPED") if v in counts)
    met = int(verdicts["met"].sum())
    return (f"{len(verdicts)} verdicts ({parts}); **{met} as expected**, {len(verdicts) - met} not. "
            f"{tables.MET} = as the study expected, {tables.NOT_MET} = not as expected.")  # fmt: skip


def _surprises(verdicts: pd.DataFrame) -> list[str]:
    items = []
    for v in verdicts[~verdicts["met"].astype(bool)].itertuples():
        need = v.replications_needed
        extra = f"; about R = {int(need):,} replications would decide it" if pd.notna(need) else ""
        items.append(f"{v.model} ({tables.theta_label(v.theta)}), {v.estimator}, {v.param}, "
                     f"`{v.property}`: {v.verdict}, expected {v.expected.upper()}: {v.detail}{extra}")  # fmt: skip
    return items


def _run_facts(result, metrics: pd.DataFrame) -> list[Block]:
    m = result.manifest
    env = m.get("environment", {})
    runs = m.get("runs", [])
    cells = m["cells"]
    wall = sum(float(r.get("wall_seconds", 0.0)) for r in runs)
    fits = sum(e["replications"] for c in cells for e in c["estimators"].values())
    versions = ", ".join(f"{k} {v}" for k, v in env.items() if k not in ("fingerprint", "platform"))
    last = runs[-1] if runs else {}
    facts = [
        (f"seed {m['seed']}; R = {int(m['replications']):,} replications per cell; "
         f"{len(cells)} cells (model × θ × n); {fits:,} stored fits"),
        f"random numbers: {m.get('rng', {}).get('scheme', '?')}",
        (f"versions: {versions}; platform {env.get('platform', '?')} "
         f"(environment fingerprint {env.get('fingerprint', '?')})"),
        f"{len(runs)} run{'s' if len(runs) != 1 else ''}, total wall time {wall:,.1f} s"
        + (f"; last finished {last.get('finished')} on {last.get('threads')} threads "
           f"({last.get('executor', 'local')} executor)" if last else ""),
    ]  # fmt: skip
    external = m.get("external")
    if external:
        # Estimates read from a table (simstudy analyse): no seed, stream or run to speak of.
        facts[:2] = [
            (f"estimates computed elsewhere, read by `simstudy analyse` from {external['table']} "
             f"({int(external['rows']):,} rows, SHA-256 {external['sha256'][:16]}...); "
             f"R = {int(m['replications']):,} replications per cell; {len(cells)} cells "
             f"(model × θ × n); {fits:,} stored fits"),
            ("no samples were drawn here, so the metrics that need the likelihood of the data "
             "(the Wilks likelihood-ratio rejection rate) are absent and no replication can "
             "be replayed; the Cramér-Rao bound is the model's at θ and each n"),
        ]  # fmt: skip
        facts[3] = f"analysed {last.get('finished')}: {last.get('analysed', '')}"
    blocks = [Block("bullets", items=facts)]
    fail = metrics[metrics["metric"].isin(["fail_rate", "boundary_rate"]) & metrics["n"].notna()
                   & (metrics["param"] != JOINT)]  # fmt: skip
    fail = fail.drop_duplicates(["model", "theta", "estimator", "n", "metric"])
    wide = fail.pivot_table(index=["model", "theta", "estimator", "n"], columns="metric",
                            values="value", sort=False).reset_index()  # fmt: skip
    for col in ("fail_rate", "boundary_rate"):
        if col not in wide:
            wide[col] = 0.0
    bad = wide[(wide["fail_rate"] > 0) | (wide["boundary_rate"] > 0)]
    if bad.empty:
        blocks.append(Block("para", text=(
            "Failure rates: every fit converged to an interior MLE (status `ok`); no replication "
            "was dropped.")))  # fmt: skip
    else:
        shown = pd.DataFrame({
            "model": bad["model"], "θ": bad["theta"].map(tables.theta_label),
            "estimator": bad["estimator"], "n": bad["n"].astype(int).astype(str),
            "failed (dropped)": bad["fail_rate"].map(lambda v: f"{100 * v:.2f}%"),
            "boundary (kept)": bad["boundary_rate"].map(lambda v: f"{100 * v:.2f}%"),
        })  # fmt: skip
        blocks.append(Block("para", text=(
            "Failure rates: cells where some fits failed (`not_converged` or `no_mle`, dropped "
            "from every metric) or ended on the parameter domain's boundary (valid MLEs, kept); "
            "every other cell had none.")))  # fmt: skip
        blocks.append(Block("table", table=shown, right=["n", "failed (dropped)", "boundary (kept)"]))
    return blocks


def _incomplete_note(result) -> Block | None:
    """A paragraph naming the cells whose replications are not all stored (a stopped run)."""
    cells = result.manifest["cells"]
    partial = [c for c in cells if c.get("status", "complete") != "complete"]
    if not partial:
        return None
    reasons = sorted({c["stopped"] for c in partial if c.get("stopped")})
    return Block("para", text=(
        f"**Incomplete.** {len(partial)} of {len(cells)} cells do not have all "
        f"R = {int(result.manifest['replications']):,} replications stored for every estimator "
        "(a run stopped early); an estimator enters the metrics of a cell only once all its "
        "replications are stored, so those cells are missing from the metrics. Rerun `simstudy run` to "
        "complete them." + (" " + " ".join(reasons) if reasons else "")))  # fmt: skip


def compose_empty(result, root: Path) -> list[Block]:
    """The report of a study with no cell complete yet: what was asked, what was run."""
    cfg = result.config
    blocks = [Block("heading", text=f"Simulation study report: {cfg.name}", level=1)]
    if cfg.aim:
        blocks.append(Block("para", text=f"**Aim.** {cfg.aim}"))
    blocks.append(Block("para", text=(
        "**Nothing to report yet.** No estimator has all its replications of any cell stored, "
        "so there are no metrics, verdicts, tables or figures. Rerun `simstudy run` with the "
        "study file to compute them (it resumes from what is stored).")))  # fmt: skip
    note = _incomplete_note(result)
    if note is not None:
        blocks.append(note)
    blocks.append(Block("heading", text="Study definition"))
    blocks.append(Block("code", text=_study_yaml(root / "study.yaml").rstrip("\n")))
    return blocks


def compose(result, metrics: pd.DataFrame, verdicts: pd.DataFrame,
            figure_entries: dict[tuple[str, str], list[FigureEntry]], root: Path) -> list[Block]:  # fmt: skip
    cfg = result.config
    blocks = [Block("heading", text=f"Simulation study report: {cfg.name}", level=1)]
    if cfg.aim:
        blocks.append(Block("para", text=f"**Aim.** {cfg.aim}"))
    note = _incomplete_note(result)
    if note is not None:
        blocks.append(note)
    blocks += [Block("heading", text="Verdicts"), Block("para", text=_verdict_summary(verdicts))]
    if len(verdicts):
        blocks.append(Block("table", table=tables.verdict_table(verdicts)))
        surprises = _surprises(verdicts)
        if surprises:
            blocks.append(Block("para", text="Not as expected, with the evidence:"))
            blocks.append(Block("bullets", items=surprises))
    c = cfg.checks
    blocks.append(Block("para", text=(
        f"Margins: rate ±{c.rate_margin:g}, |bias|/EmpSE ≤ {c.bias_margin:g}, efficiency "
        f"1 ± {c.efficiency_margin:g}, coverage {c.coverage_level:g} ± {c.coverage_margin:g}; "
        f"equivalence tests at α = {c.alpha:g} (normality: KS, Holm-corrected). Tables: "
        "[tables/verdicts.csv](tables/verdicts.csv), [.md](tables/verdicts.md), "
        "[.tex](tables/verdicts.tex).")))  # fmt: skip

    blocks.append(Block("heading", text="Study definition"))
    study_yaml = _study_yaml(root / "study.yaml")
    blocks.append(Block("para", text=(
        f"Sample sizes n = {', '.join(str(n) for n in cfg.sample_sizes)}; models: "
        + "; ".join(f"{e.model} ({', '.join(e.estimator_labels())})" for e in cfg.models)
        + ". The normalized configuration that ran (`study.yaml`):")))  # fmt: skip
    blocks.append(Block("code", text=study_yaml.rstrip("\n")))
    blocks.append(Block("heading", text="Run facts"))
    blocks += _run_facts(result, metrics)

    blocks.append(Block("heading", text="Performance by model"))
    blocks.append(Block("para", text=(
        "Each entry is value (Monte Carlo SE). The MCSE keeps two significant digits when its "
        "leading digits are 100–354 and one otherwise, and the value is rounded to the same "
        "decimal place. Whole-study tables: [tables/performance.csv](tables/performance.csv), "
        "[.md](tables/performance.md), [.tex](tables/performance.tex) (booktabs, siunitx).")))  # fmt: skip
    perf = tables.performance_table(metrics)
    labels = {(f.model, f.theta): tables.theta_label(f.theta) for f in families(result.manifest)}
    for (model, theta), label in labels.items():
        sub = perf[(perf["model"] == model) & (perf["θ"] == label)].drop(columns=["model", "θ"])
        if sub.empty:
            continue
        blocks.append(Block("heading", text=f"{model} ({label})", level=3))
        right = ["n"] + [h for _, h in tables.PERFORMANCE_COLUMNS]
        blocks.append(Block("table", table=sub, right=right))
        for entry in figure_entries.get((model, theta), []):
            shown = _display_path(entry.paths, root)
            blocks.append(Block("figure", src=shown, text=entry.caption))
    return blocks


def _study_yaml(path: Path) -> str:
    """study.yaml as stored, re-dumped with non-ASCII text (θ, é) readable."""
    import yaml

    if not path.is_file():
        return ""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)


def _display_path(paths: Sequence[Path], root: Path) -> str:
    by_ext = {p.suffix.lstrip("."): p for p in paths}
    chosen = by_ext.get("png") or by_ext.get("svg") or next(iter(by_ext.values()))
    return chosen.relative_to(root).as_posix()


# ---- renderers --------------------------------------------------------------------------------


def render_markdown(blocks: Sequence[Block]) -> str:
    out = []
    for b in blocks:
        if b.kind == "heading":
            out.append("#" * b.level + " " + b.text)
        elif b.kind == "para":
            out.append(b.text)
        elif b.kind == "bullets":
            out.append("\n".join(f"- {item}" for item in b.items))
        elif b.kind == "code":
            out.append("```yaml\n" + b.text + "\n```")
        elif b.kind == "table":
            out.append(tables.to_markdown(b.table, right=b.right).rstrip("\n"))
        elif b.kind == "figure":
            if b.src.endswith(".pdf"):
                out.append(f"[Figure (PDF): {Path(b.src).name}]({b.src})\n\n*{b.text}*")
            else:
                out.append(f"![{Path(b.src).stem}]({b.src})\n\n*{b.text}*")
    return "\n\n".join(out) + "\n"


_INLINE = [
    (re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
    (re.compile(r"\*\*([^*]+)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)"), r'<a href="\2">\1</a>'),
]


def _inline_html(text: str) -> str:
    text = html.escape(text, quote=False)
    for pattern, repl in _INLINE:
        text = pattern.sub(repl, text)
    return text


_CSS = """
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; max-width: 1150px;
       margin: 2em auto; padding: 0 1em; line-height: 1.45; color: #1a1a1a; }
h1, h2, h3 { line-height: 1.2; } h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.86em; }
th, td { padding: .25em .6em; border-top: 1px solid #ddd; border-bottom: 1px solid #ddd; }
thead th { border-bottom: 2px solid #555; border-top: 2px solid #555; text-align: left; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f6f6f6; padding: .8em; overflow-x: auto; font-size: 0.85em; }
figure { margin: 1.5em 0; } figure img { max-width: 100%; height: auto; }
figcaption { font-size: 0.9em; color: #333; } code { font-size: 0.92em; }
""".strip()


def render_html(blocks: Sequence[Block], title: str) -> str:
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           f"<title>{html.escape(title)}</title>", f"<style>\n{_CSS}\n</style>", "</head>", "<body>"]  # fmt: skip
    for b in blocks:
        if b.kind == "heading":
            out.append(f"<h{b.level}>{html.escape(b.text)}</h{b.level}>")
        elif b.kind == "para":
            out.append(f"<p>{_inline_html(b.text)}</p>")
        elif b.kind == "bullets":
            out.append("<ul>" + "".join(f"<li>{_inline_html(i)}</li>" for i in b.items) + "</ul>")
        elif b.kind == "code":
            out.append(f"<pre><code>{html.escape(b.text)}</code></pre>")
        elif b.kind == "table":
            cols = list(b.table.columns)
            cls = {c: ' class="num"' if c in b.right else "" for c in cols}
            head = "".join(f"<th{cls[c]}>{html.escape(str(c))}</th>" for c in cols)
            rows = "".join(
                "<tr>" + "".join(f"<td{cls[c]}>{html.escape(str(v))}</td>" for c, v in zip(cols, row)) + "</tr>"
                for row in b.table.itertuples(index=False)
            )
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        elif b.kind == "figure":
            src = html.escape(b.src, quote=True)
            media = (f'<a href="{src}">{html.escape(Path(b.src).name)} (PDF)</a>' if b.src.endswith(".pdf")
                     else f'<img src="{src}" alt="{html.escape(Path(b.src).stem, quote=True)}">')  # fmt: skip
            out.append(f"<figure>{media}<figcaption>{_inline_html(b.text)}</figcaption></figure>")
    out += ["</body>", "</html>"]
    return "\n".join(out) + "\n"


# ---- entry point ------------------------------------------------------------------------------

_KINDS = "|".join(sorted(FIGURES, key=len, reverse=True))  # "mahalanobis_qq" before "qq"
_OUR_FIGURE = re.compile(rf"^({_KINDS})_.+\.(png|pdf|svg)$")


def build(result, formats: Sequence[str] | None = None, *, workers: int | None = None) -> list[Path]:
    """Write tables/, figures/, report.md and report.html for ``result``; return the paths.

    ``formats``: figure formats, default the config's ``report.formats``.

    Figure files of earlier reports that this one did not write (another ``report.figures``
    selection or other formats) are removed, so the folder matches the report.
    """
    root = Path(result.root)
    formats = tuple(formats or result.config.report.formats)
    metrics = result.metrics
    verdicts = result.verdicts
    md, page = root / "report.md", root / "report.html"
    if metrics.empty or metrics["n"].isna().all():
        blocks = compose_empty(result, root)
        atomic_write_text(md, render_markdown(blocks))
        atomic_write_text(page, render_html(blocks, f"simstudy report: {result.config.name}"))
        return [md, page]
    written = tables.write_tables(metrics, verdicts, root / "tables", study=result.config.name)
    fig_dir = root / "figures"
    fig_dir.mkdir(parents=True, exist_ok=True)
    entries = render_figures(result, metrics, fig_dir, tuple(formats), workers=workers)
    fig_paths = [p for group in entries.values() for e in group for p in e.paths]
    keep = {p.name for p in fig_paths}
    for stale in sorted(fig_dir.iterdir()):
        if stale.is_file() and _OUR_FIGURE.match(stale.name) and stale.name not in keep:
            stale.unlink()
    blocks = compose(result, metrics, verdicts, entries, root)
    atomic_write_text(md, render_markdown(blocks))
    atomic_write_text(page, render_html(blocks, f"simstudy report: {result.config.name}"))
    return written + fig_paths + [md, page]
