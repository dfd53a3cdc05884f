"""Publication tables from the metrics long table and the verdicts (never from raw fits).

Two tables per study, each written as CSV, Markdown and LaTeX (booktabs + siunitx):

- ``performance``: rows (model, θ, estimator, parameter, n); columns bias, EmpSE, RMSE,
  efficiency and coverage, each "value (MCSE)".
- ``verdicts``: rows (model, θ, parameter, estimator); one column per property, each cell the
  verdict and whether it is what the study expected.

Rounding rule (the Particle Data Group's, Review of Particle Physics, "Introduction: rounding"):
the MCSE keeps two significant digits if its three leading digits are 100-354, one if they are
355-949, and 949.5-999 is rounded up to 1000 with two digits (0.0097 -> 0.010). The value is
rounded to the same decimal place as its MCSE: ``0.224545`` with MCSE ``0.018148`` is
``0.225 (0.018)``. A value without a Monte Carlo error (MCSE 0, e.g. the exact Cramér-Rao
SE, or undefined) keeps four significant digits. Rounding is half-up on the shortest decimal
representation of the float, so ``0.9425`` becomes ``0.943``. Everything here is a pure
function of the tables, so the files are byte-identical on a rerun.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pandas as pd

from simstudy.config import PROPERTIES
from simstudy.report.style import JOINT
from simstudy.store import atomic_write_text

#: (metric name, column header) of the performance table, in column order.
PERFORMANCE_COLUMNS = (
    ("bias", "bias"),
    ("empse", "EmpSE"),
    ("rmse", "RMSE"),
    ("efficiency", "efficiency"),
    ("coverage", "coverage"),
)
KEY_COLUMNS = ("model", "theta", "estimator", "param", "n")
KEY_HEADERS = {"model": "model", "theta": "θ", "estimator": "estimator", "param": "parameter", "n": "n"}
PROPERTY_HEADERS = {
    "consistent": "consistent",
    "asymptotically_unbiased": "asympt. unbiased",
    "efficient": "efficient",
    "asymptotically_normal": "asympt. normal",
    "wald_coverage": "Wald coverage",
}
MISSING = "NA"
MET, NOT_MET = "✓", "✗"
#: Significant digits of a value that has no Monte Carlo error.
EXACT_DIGITS = 4
_MAX_DECIMALS = 12


# ---- rounding ---------------------------------------------------------------------------------


def mcse_decimals(mcse: float) -> int | None:
    """Decimal place (10^-d) the MCSE is rounded to by the PDG rule; None without an MCSE."""
    if not (isinstance(mcse, (int, float)) and math.isfinite(mcse) and mcse > 0):
        return None
    exponent = math.floor(math.log10(mcse))
    # The three leading digits, rounded once (half up) to an integer 100-1000, scaled in
    # decimal (a float division can turn 354.5 into 354.49999...; rounding to a tenth first
    # would send 354.49 to 354.5 and so to one digit).
    leading = float(_round(float(Decimal(repr(float(mcse))).scaleb(2 - exponent)), 0))
    if leading < 100:  # log10 rounding at an exact power of ten
        exponent, leading = exponent - 1, leading * 10
    if leading < 354.5:
        digits = 2
    elif leading < 949.5:
        digits = 1
    else:  # rounds up to 1000: two digits of the next decade
        exponent, digits = exponent + 1, 2
    return min(digits - 1 - exponent, _MAX_DECIMALS)


def _round(value: float, decimals: int) -> Decimal:
    """Half-up rounding of the shortest decimal representation of ``value``."""
    quantum = Decimal(1).scaleb(-decimals)
    return Decimal(repr(float(value))).quantize(quantum, rounding=ROUND_HALF_UP)


def _fixed(d: Decimal) -> str:
    text = format(d, "f")
    if text.startswith("-") and set(text[1:]) <= set("0."):
        text = text[1:]  # no "-0.000"
    return text


def _exact_decimals(value: float) -> int:
    if value == 0:
        return EXACT_DIGITS - 1
    return min(EXACT_DIGITS - 1 - math.floor(math.log10(abs(value))), _MAX_DECIMALS)


def round_pair(value: float, mcse: float) -> tuple[str, str | None, int]:
    """(value text, MCSE text or None, decimals) by the module's rounding rule."""
    if not (isinstance(value, (int, float)) and math.isfinite(value)):
        return MISSING, None, 0
    decimals = mcse_decimals(mcse)
    if decimals is None:
        decimals = _exact_decimals(value)
        mc = "0" if (isinstance(mcse, (int, float)) and mcse == 0) else None
        return _fixed(_round(value, decimals)), mc, decimals
    return _fixed(_round(value, decimals)), _fixed(_round(mcse, decimals)), decimals


def format_estimate(value: float, mcse: float) -> str:
    """``"value (MCSE)"`` by the rounding rule; ``"NA"`` for a missing value."""
    v, m, _ = round_pair(value, mcse)
    if v == MISSING:
        return MISSING
    return f"{v} ({m})" if m is not None and m != "0" else v


def siunitx_estimate(value: float, mcse: float) -> str:
    """The same number in siunitx's compact uncertainty form, ``0.225(18)``, for S columns."""
    v, m, decimals = round_pair(value, mcse)
    if v == MISSING:
        return "{--}"
    if m is None or m == "0":
        return v
    units = int(_round(mcse, decimals).scaleb(max(decimals, 0)))
    return f"{v}({units})"


# ---- keys -------------------------------------------------------------------------------------


def theta_label(theta_json: str, *, sep: str = ", ") -> str:
    """``{"shape":2.0,"rate":1.5}`` -> ``shape=2, rate=1.5``."""
    return sep.join(f"{k}={v:g}" for k, v in json.loads(theta_json).items())


def _first_seen(values: Iterable) -> list:
    return list(dict.fromkeys(values))


def _ordered(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Sort by ``columns``, each key in its order of first appearance within the keys before
    it (the study's order: models and θ as in the manifest, estimators as in the config,
    parameters as the model declares them); ``n`` numerically."""
    keys = {}
    for i, c in enumerate(columns):
        if c == "n":
            keys[c] = frame[c].astype("int64")
            continue
        parents = list(columns[:i])
        groups = frame.groupby(parents, sort=False)[c] if parents else [(None, frame[c])]
        rank = pd.Series(0, index=frame.index)
        for _, s in groups:
            order = {v: j for j, v in enumerate(_first_seen(s))}
            rank.loc[s.index] = s.map(order).to_numpy()
        keys[c] = rank
    sorter = pd.DataFrame(keys, index=frame.index)
    return frame.loc[sorter.sort_values(list(columns), kind="mergesort").index]


# ---- performance table ------------------------------------------------------------------------


def performance_frame(metrics: pd.DataFrame) -> pd.DataFrame:
    """Wide (value, MCSE) table: one row per (model, θ, estimator, parameter, n), columns
    ``<metric>`` and ``<metric>_mcse`` for the metrics of :data:`PERFORMANCE_COLUMNS`."""
    wanted = [m for m, _ in PERFORMANCE_COLUMNS]
    per_n = metrics[metrics.n.notna() & (metrics.param != JOINT) & metrics.metric.isin(wanted)]
    if per_n.empty:
        raise ValueError("the metrics table has no per-n rows of " + ", ".join(wanted))
    keys = list(KEY_COLUMNS)
    base = _ordered(per_n.drop_duplicates(keys)[keys], keys).reset_index(drop=True)
    base["n"] = base["n"].astype("int64")
    values = per_n.assign(n=per_n.n.astype("int64")).set_index(keys + ["metric"])
    for metric in wanted:
        idx = pd.MultiIndex.from_frame(base[keys].assign(metric=metric))
        found = values.reindex(idx)
        base[metric] = found["value"].to_numpy(dtype=float)
        base[f"{metric}_mcse"] = found["mcse"].to_numpy(dtype=float)
    return base


def performance_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """The performance table as text cells: keys, then "value (MCSE)" per metric."""
    wide = performance_frame(metrics)
    out = pd.DataFrame({KEY_HEADERS[k]: wide[k] for k in KEY_COLUMNS})
    out[KEY_HEADERS["theta"]] = wide.theta.map(theta_label)
    for metric, header in PERFORMANCE_COLUMNS:
        out[header] = [format_estimate(v, s) for v, s in zip(wide[metric], wide[f"{metric}_mcse"])]
    return out


# ---- verdict table ----------------------------------------------------------------------------


def verdict_cell(verdict: str, expected: str, met: bool) -> str:
    """``PASS ✓``; ``FAIL ✓ (expected fail)``; ``INCONCLUSIVE ✗ (expected pass)``."""
    if verdict == "SKIPPED":
        return "SKIPPED"
    mark = MET if met else NOT_MET
    note = f" (expected {expected})" if (expected != "pass" or not met) else ""
    return f"{verdict} {mark}{note}"


def verdict_table(verdicts: pd.DataFrame) -> pd.DataFrame:
    """Rows (model, θ, parameter, estimator), one column per property (in DESIGN order)."""
    keys = ["model", "theta", "param", "estimator"]
    v = verdicts.assign(cell=[verdict_cell(a, b, bool(c)) for a, b, c in
                              zip(verdicts.verdict, verdicts.expected, verdicts.met)])  # fmt: skip
    rows = _ordered(v.drop_duplicates(keys)[keys], keys).reset_index(drop=True)
    cells = v.set_index(keys + ["property"])["cell"]
    out = pd.DataFrame({
        "model": rows.model, "θ": rows.theta.map(theta_label), "parameter": rows.param,
        "estimator": rows.estimator,
    })  # fmt: skip
    for prop in PROPERTIES:
        idx = pd.MultiIndex.from_frame(rows.assign(property=prop))
        out[PROPERTY_HEADERS[prop]] = cells.reindex(idx).fillna("").to_numpy()
    return out


# ---- renderers --------------------------------------------------------------------------------


def to_csv(table: pd.DataFrame) -> str:
    return table.to_csv(index=False, lineterminator="\n")


def _md_escape(text: str) -> str:
    return str(text).replace("|", "\\|")


def to_markdown(table: pd.DataFrame, *, right: Sequence[str] = ()) -> str:
    """A GitHub pipe table; columns in ``right`` are right-aligned."""
    header = "| " + " | ".join(_md_escape(c) for c in table.columns) + " |"
    rule = "|" + "|".join("---:" if c in right else "---" for c in table.columns) + "|"
    body = ["| " + " | ".join(_md_escape(x) for x in row) + " |" for row in table.astype(str).itertuples(index=False)]
    return "\n".join([header, rule, *body]) + "\n"


def performance_markdown(metrics: pd.DataFrame) -> str:
    table = performance_table(metrics)
    return to_markdown(table, right=["n"] + [h for _, h in PERFORMANCE_COLUMNS])


_LATEX_SPECIAL = {
    "\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}  # fmt: skip


def latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def _latex_theta(theta_json: str) -> str:
    return ", ".join(f"{latex_escape(k)}~=~{v:g}" for k, v in json.loads(theta_json).items())


def _table_format(cells: Sequence[str]) -> str:
    """siunitx ``table-format`` covering every compact number in a column."""
    integer, decimals, uncertainty, sign = 1, 0, 0, False
    for cell in cells:
        if cell.startswith("{"):
            continue
        number, _, unc = cell.partition("(")
        sign |= number.startswith("-")
        whole, _, frac = number.lstrip("-").partition(".")
        integer, decimals = max(integer, len(whole)), max(decimals, len(frac))
        uncertainty = max(uncertainty, len(unc.rstrip(")")))
    spec = f"{'-' if sign else ''}{integer}.{decimals}"
    return spec + (f"({uncertainty})" if uncertainty else "")


def _blank_repeats(rows: list[list[str]], depth: int) -> list[list[str]]:
    """Blank the leading key cells that repeat the row above (grouped look)."""
    out, previous = [], [None] * depth
    for row in rows:
        shown = list(row)
        for i in range(depth):
            if row[:i + 1] == previous[:i + 1]:
                shown[i] = ""
            else:
                break
        previous = row[:depth]
        out.append(shown)
    return out


_LATEX_PREAMBLE = (
    "% Generated by simstudy from metrics.parquet; needs \\usepackage{booktabs,longtable,siunitx}"
    "{extra}.\n% Numbers are value(MCSE) in siunitx's compact uncertainty form: 0.225(18) means "
    "0.225 with Monte Carlo SE 0.018.\n"
)


def performance_latex(metrics: pd.DataFrame, *, caption: str = "", label: str = "tab:performance") -> str:
    """A ``longtable`` with booktabs rules and siunitx ``S`` columns (value(MCSE) compact)."""
    wide = performance_frame(metrics)
    numbers = {
        m: [siunitx_estimate(v, s) for v, s in zip(wide[m], wide[f"{m}_mcse"])]
        for m, _ in PERFORMANCE_COLUMNS
    }
    keys = [[latex_escape(r.model), _latex_theta(r.theta), latex_escape(r.estimator),
             latex_escape(r.param), str(int(r.n))] for r in wide.itertuples()]  # fmt: skip
    keys = _blank_repeats(keys, 4)
    spec = "llll r " + " ".join(f"S[table-format={_table_format(numbers[m])}]" for m, _ in PERFORMANCE_COLUMNS)
    header = " & ".join(
        ["model", r"$\theta$", "estimator", "parameter", "$n$"]
        + [f"{{{latex_escape(h)}}}" for _, h in PERFORMANCE_COLUMNS]
    )
    ncols = 5 + len(PERFORMANCE_COLUMNS)
    lines = [
        _LATEX_PREAMBLE.replace("{extra}", ""),
        "\\begingroup\\small",
        f"\\begin{{longtable}}{{{spec}}}",
        f"\\caption{{{latex_escape(caption)}}}\\label{{{label}}}\\\\" if caption else "",
        "\\toprule",
        header + " \\\\",
        "\\midrule",
        "\\endfirsthead",
        f"\\multicolumn{{{ncols}}}{{l}}{{\\emph{{(continued)}}}}\\\\",
        "\\toprule",
        header + " \\\\",
        "\\midrule",
        "\\endhead",
        "\\bottomrule",
        "\\endlastfoot",
    ]
    lines = [line for line in lines if line]
    previous_family = None
    for i, row in enumerate(keys):
        family = (wide.model.iloc[i], wide.theta.iloc[i])
        if previous_family is not None and family != previous_family:
            lines.append("\\midrule")
        elif previous_family is not None and (row[2] or row[3]):  # a new estimator or parameter
            lines.append("\\addlinespace")
        previous_family = family
        cells = row + [numbers[m][i] for m, _ in PERFORMANCE_COLUMNS]
        lines.append(" & ".join(cells) + " \\\\")
    lines += ["\\end{longtable}", "\\endgroup"]
    return "\n".join(lines) + "\n"


_LATEX_MARKS = {MET: r"$\checkmark$", NOT_MET: r"$\times$"}


def _latex_verdict(cell: str) -> str:
    """A verdict cell, shortened to fit nine columns on a page: ``INCONCL.~$\times$ (exp.~pass)``."""
    text = latex_escape(cell).replace("INCONCLUSIVE", "INCONCL.").replace("(expected ", "(exp.~")
    for mark, tex in _LATEX_MARKS.items():
        text = text.replace(f" {mark}", f"~{tex}")
    return text


def verdicts_latex(verdicts: pd.DataFrame, *, caption: str = "", label: str = "tab:verdicts") -> str:
    """The verdict table as a booktabs ``longtable`` (marks need amssymb's ``\\checkmark``)."""
    table = verdict_table(verdicts)
    props = [PROPERTY_HEADERS[p] for p in PROPERTIES]
    rows = [[latex_escape(r[0]), latex_escape(r[1]).replace("=", "~=~"), latex_escape(r[2]),
             latex_escape(r[3])] for r in table.itertuples(index=False)]  # fmt: skip
    rows = _blank_repeats(rows, 3)
    header = " & ".join(["model", r"$\theta$", "parameter", "estimator"] + [latex_escape(p) for p in props])
    ncols = 4 + len(props)
    lines = [
        _LATEX_PREAMBLE.replace("{extra}", " and \\usepackage{amssymb}").split("\n% Numbers")[0] + "\n"
        + "% " + MET + " = as the study expected, " + NOT_MET + " = not as expected; INCONCL. = "
        "INCONCLUSIVE, exp. = expected.",
        "\\begingroup\\small",
        f"\\begin{{longtable}}{{llll{'l' * len(props)}}}",
        f"\\caption{{{latex_escape(caption)}}}\\label{{{label}}}\\\\" if caption else "",
        "\\toprule", header + " \\\\", "\\midrule", "\\endfirsthead",
        f"\\multicolumn{{{ncols}}}{{l}}{{\\emph{{(continued)}}}}\\\\",
        "\\toprule", header + " \\\\", "\\midrule", "\\endhead",
        "\\bottomrule", "\\endlastfoot",
    ]  # fmt: skip
    lines = [line for line in lines if line]
    previous = None
    for i, row in enumerate(rows):
        family = tuple(table.iloc[i, :2])
        if previous is not None and family != previous:
            lines.append("\\midrule")
        previous = family
        cells = row + [_latex_verdict(table.iloc[i][p]) for p in props]
        lines.append(" & ".join(cells) + " \\\\")
    lines += ["\\end{longtable}", "\\endgroup"]
    return "\n".join(lines) + "\n"


def verdicts_markdown(verdicts: pd.DataFrame) -> str:
    return to_markdown(verdict_table(verdicts))


# ---- files ------------------------------------------------------------------------------------


def write_tables(metrics: pd.DataFrame, verdicts: pd.DataFrame, directory: Path, *,
                 study: str = "") -> list[Path]:  # fmt: skip
    """``performance`` and ``verdicts`` as .csv, .md and .tex in ``directory``; the paths."""
    directory = Path(directory)
    name = f" of study {study}" if study else ""
    texts = {
        "performance.csv": to_csv(performance_table(metrics)),
        "performance.md": performance_markdown(metrics),
        "performance.tex": performance_latex(
            metrics, caption=f"Performance{name}: value (Monte Carlo SE)",
        ),
    }
    if len(verdicts):
        texts.update({
            "verdicts.csv": to_csv(verdict_table(verdicts)),
            "verdicts.md": verdicts_markdown(verdicts),
            "verdicts.tex": verdicts_latex(verdicts, caption=f"Verdicts{name}"),
        })  # fmt: skip
    paths = []
    for filename, text in texts.items():
        path = directory / filename
        atomic_write_text(path, text)
        paths.append(path)
    return paths
