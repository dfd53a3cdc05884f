"""Figures: one function per figure, each taking a precomputed table and returning a Figure.

Metric figures (``bias_figure``, ``rmse_figure``, ``efficiency_figure``, ``n_var_figure``,
``coverage_figure``) take the metrics long table of one (model, θ) (or the whole table with
``model=`` and ``theta=``) and draw one panel per parameter, one line per estimator, error
bars or bands of ±2 MCSE, and the reference the property is judged against. Distribution
figures (``qq_figure``, ``density_figure``, ``zip_figure``, ``mahalanobis_qq_figure``) take
the tables of :mod:`simstudy.report.prepare`.

Figures are plain :class:`matplotlib.figure.Figure` objects rendered by Agg (no pyplot, no
display, no change to global matplotlib state) in seaborn's "ticks" style and colour-blind
palette (their values are frozen in :mod:`simstudy.report.style`, so drawing does not import
seaborn), with panels of fixed size placed by :mod:`simstudy.report.layout` (no text is
measured). Reference artists carry a ``gid`` (``reference:slope``, ``reference:one``, ...)
and estimator lines ``estimator:<name>`` so that tests and users can find them. :func:`save_figure` writes PNG (300 dpi), PDF and SVG with no timestamps, so files
are byte-identical on a rerun.
"""

from __future__ import annotations

import contextlib
import io
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch, StepPatch
from matplotlib.ticker import FixedLocator, Formatter, FuncFormatter, MaxNLocator, NullLocator
from scipy.special import gammaincinv, ndtri

from simstudy.report import layout, png
from simstudy.report.layout import EDGE, GAP
from simstudy.report.style import (  # noqa: F401 - re-exported: figures.<name> is the public API
    JOINT,
    PALETTE,
    QQ_MAX_POINTS,
    SEABORN_TICKS_PAPER,
    T_TITLE,
    TAIL_POINTS,
    Z_TITLE,
    ZIP_MAX_INTERVALS,
    estimator_styles,
    figure_stem,
    n_label,
    rate_text,
    subscript,
    theta_text,
)  # fmt: skip
from simstudy.store import atomic_write_bytes

PNG_DPI = 300
#: Horizontal offset between estimators at the same n, in decades of n, so that error bars
#: do not hide each other.
DODGE_DECADES = 0.025
REFERENCE_COLOUR = "0.15"
BAND_COLOUR = "0.85"
# Panel sizes in inches (a paper's text width is about 6.5 in).
METRIC_PANEL = (3.0, 2.3)
GRID_PANEL = (1.4, 1.15)
#: Panels per row of the per-n grids (QQ, histograms): four fit a page's text width.
GRID_COLUMNS = 4
ZIP_PANEL = (2.7, 2.7)

_RC = {
    "font.size": 8,
    "axes.titlesize": 8.5,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7.5,
    "figure.titlesize": 9,
    "lines.linewidth": 1.2,
    "lines.markersize": 4,
    "errorbar.capsize": 2,
    "axes.linewidth": 0.7,
    "svg.hashsalt": "simstudy",  # deterministic SVG element ids
    "svg.fonttype": "path",
    "pdf.fonttype": 42,  # TrueType (Type 42) fonts, embedded: what publishers ask for
    "mathtext.fontset": "dejavusans",
    # Panel titles at a fixed height: matplotlib would otherwise measure the axes' contents
    # at every draw to lift titles over top tick labels (these figures have none).
    "axes.titley": 1.0,
    # seaborn's despine: no top and right spines.
    "axes.spines.top": False,
    "axes.spines.right": False,
}


#: matplotlib's defaults without the keys that select a backend: figures do not depend on
#: the user's matplotlibrc.
_DEFAULTS = {k: v for k, v in mpl.rcParamsDefault.items()
             if k not in ("backend", "backend_fallback", "interactive")}  # fmt: skip


_STYLE = {**_DEFAULTS, **SEABORN_TICKS_PAPER, **_RC}


@contextlib.contextmanager
def figure_style():
    """matplotlib's defaults, seaborn's "ticks" style in the "paper" context and simstudy's
    sizes, set temporarily (global matplotlib state is restored on exit)."""
    with mpl.rc_context(_STYLE):
        yield


def _styles(styles: Mapping[str, dict] | None, estimators: Iterable[str]) -> dict[str, dict]:
    """``styles`` completed with defaults for any estimator it lacks."""
    return {**estimator_styles(estimators), **(styles or {})}


# ---- helpers ----------------------------------------------------------------------------------


#: Figures handed back by :func:`recycle`, at most one per (kind, geometry) key.
_SPARE: dict[tuple, Figure] = {}


def recycle(fig: Figure) -> None:
    """Hand a saved figure back: the next figure of the same kind and panel geometry is drawn
    on it, emptied by :func:`_clear`, instead of on new axes. Building the axes and their
    ticks is about a third of the cost of a figure; the pixels are those of a new figure
    (tested). ``simstudy report`` recycles every figure once written; a caller who keeps a
    figure must not recycle it."""
    key = getattr(fig, "_simstudy_key", None)
    if key is not None:
        _SPARE[key] = fig


def release_spares() -> None:
    """Forget the recycled figures (``simstudy report`` does once every figure is drawn)."""
    _SPARE.clear()


def _clear(fig: Figure) -> None:
    """Remove what a figure function added to a spare figure of its own kind and geometry,
    keeping the axes, their ticks and the figure's super-labels (which the function sets
    again)."""
    for legend in [*fig.legends]:
        legend.remove()
    for ax in fig.axes:
        for artist in [*ax.lines, *ax.collections, *ax.patches, *ax.texts, *ax.artists, *ax.images]:
            artist.remove()
        ax.containers.clear()
        ax.set_prop_cycle(None)
        ax.set_title("")
        ax.set_xlabel("")
        ax.set_ylabel("")
        ax.set_xscale("linear")
        ax.set_yscale("linear")
        ax.grid(False)
        ax.set_visible(True)
        ax.relim()
        ax.set_autoscale_on(True)


def _spare_or_new(key: tuple, build: Callable[[], tuple[Figure, Any]]) -> tuple[Figure, Any]:
    """A recycled figure for ``key``, emptied, or ``build()``'s; with its axes (as built)."""
    fig = _SPARE.pop(key, None)
    if fig is not None:
        _clear(fig)
        return fig, fig._simstudy_axes
    fig, axes = build()
    fig._simstudy_key, fig._simstudy_axes = key, axes
    return fig, axes


def _new_figure(nrows: int, ncols: int, *, kind: str, **subplot_kw) -> tuple[Figure, np.ndarray]:
    """A Figure (no layout engine: :func:`_frame` places the panels) with an axes grid;
    ``kind`` names the figure function (a recycled figure only serves its own kind)."""

    def build():
        fig = Figure()
        FigureCanvasAgg(fig)
        return fig, fig.subplots(nrows, ncols, squeeze=False, **subplot_kw)

    return _spare_or_new((kind, nrows, ncols, tuple(sorted(subplot_kw.items()))), build)


def _frame(fig: Figure, grid: np.ndarray, panel: tuple[float, float], *, title: str, left: float,
           bottom: float, wspace: float, hspace: float, right: float = EDGE + GAP,
           legend: tuple[list, list[str]] | None = None) -> tuple[float, float, float]:  # fmt: skip
    """Place everything at fixed sizes (:mod:`simstudy.report.layout`): the title wrapped to
    the figure's width on top, then the panel titles, the ``grid`` of ``panel``-sized panels
    with ``left``/``bottom``/``right`` margins (inches: what the caller's tick labels and axis
    labels need) and the gaps between panels, and ``legend`` (handles, labels) below
    everything, in as many columns as fit. Returns the figure's width and height and the
    top margin (inches)."""
    ncols = grid.shape[1]
    width = left + ncols * panel[0] + (ncols - 1) * wspace + right
    size = layout.font_size("figure.titlesize")
    lines = layout.wrap(title, width - 2 * EDGE, size)
    top = EDGE + layout.line_height(size, len(lines)) + GAP + layout.title_band()
    if legend is not None:
        handles, labels = legend
        spec = {"handle": 2.2, "spacing": 1.2}
        ncols_legend = layout.legend_columns(labels, width - 2 * EDGE, **spec)
        bottom += layout.legend_size(labels, ncols_legend, **spec)[1] + GAP
    width, height = layout.place(fig, grid, panel, left=left, right=right, bottom=bottom, top=top,
                                 wspace=wspace, hspace=hspace)  # fmt: skip
    fig.suptitle("\n".join(lines), y=1 - EDGE / height, va="top")
    if legend is not None:
        fig.legend(handles, labels, loc="lower center", bbox_to_anchor=(0.5, EDGE / height),
                   ncols=ncols_legend, frameon=False, borderaxespad=0, handlelength=spec["handle"],
                   columnspacing=spec["spacing"])  # fmt: skip
    return width, height, top


def _family(table: pd.DataFrame, model: str | None, theta: str | Mapping | None) -> pd.DataFrame:
    """The rows of one (model, θ); ``theta`` as the table's JSON text or a mapping."""
    if model is not None:
        table = table[table["model"] == model]
    if theta is not None:
        if not isinstance(theta, str):
            want = {k: float(v) for k, v in theta.items()}
            match = [t for t in table["theta"].unique() if json.loads(t) == want]
            theta = match[0] if match else json.dumps(want)
        table = table[table["theta"] == theta]
    families = table[["model", "theta"]].drop_duplicates()
    if len(families) != 1:
        found = ", ".join(f"{m} {t}" for m, t in families.itertuples(index=False)) or "none"
        raise ValueError(f"a figure shows one (model, θ); select one with model= and theta= (found: {found})")
    return table


def _title(table: pd.DataFrame, title: str | None) -> str:
    if title is not None:
        return title
    row = table.iloc[0]
    return f"{row['model']} ({theta_text(row['theta'])})"


def _unique(values: Iterable) -> list:
    """Distinct values in order of first appearance (fast for pandas columns)."""
    if isinstance(values, pd.Series):
        return list(values.unique())
    return list(dict.fromkeys(values))


def _order(values: Iterable, preferred: Sequence[str] | None) -> list:
    present = _unique(values)
    if preferred is None:
        return present
    return [v for v in preferred if v in present]


def _thin_ticks(values: Sequence[float], width_in: float, *, log: bool) -> list[float]:
    """Keep tick values whose labels do not collide in a panel ``width_in`` inches wide."""
    vals = sorted(set(values))
    if len(vals) < 2:
        return vals
    pos = np.log10(vals) if log else np.asarray(vals, dtype=float)
    span = (pos[-1] - pos[0]) * 1.1 or 1.0
    inches = (pos - pos[0]) / span * width_in
    char = 0.062  # inches per digit at 7 pt
    kept = [len(vals) - 1]  # the largest n is the one the verdicts read: always labelled
    for i in range(len(vals) - 2, -1, -1):
        j = kept[-1]
        need = (len(n_label(vals[i])) + len(n_label(vals[j]))) * char / 2 + 0.08
        if inches[j] - inches[i] >= need:
            kept.append(i)
    return [vals[i] for i in sorted(kept)]


def _n_axis(ax, ns: Sequence[int], width_in: float) -> None:
    ax.set_xscale("log")
    ticks = _thin_ticks(ns, width_in, log=True)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: n_label(v)))
    ax.xaxis.set_minor_locator(FixedLocator(sorted(set(ns) - set(ticks))))
    ax.xaxis.set_minor_formatter(FuncFormatter(lambda v, _pos: ""))
    lo, hi = min(ns), max(ns)
    pad = 10 ** (0.08 * max(math.log10(hi / lo), 0.5))
    ax.set_xlim(lo / pad, hi * pad)


def _log_ticks(ax) -> None:
    """Plain-number ticks on a log y axis (1-2-5 steps, or decades when the range is wide)."""
    lo, hi = ax.get_ylim()
    decades = math.log10(hi / lo)
    mantissas = (1, 2, 5) if decades <= 2.5 else ((1, 3) if decades <= 4 else (1,))
    if decades < 0.6:
        mantissas = (1, 1.5, 2, 3, 4, 5, 6, 7, 8, 9)
    ticks = [m * 10.0**k for k in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1)
             for m in mantissas if lo <= m * 10.0**k <= hi]  # fmt: skip
    if len(ticks) < 2:  # a narrow range between round numbers: three ticks, 2 significant digits
        ticks = sorted({float(f"{v:.2g}") for v in np.geomspace(lo, hi, 5)[1:-1]})
    ax.yaxis.set_major_locator(FixedLocator(ticks))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_ylim(lo, hi)


def _dodge(k: int, count: int) -> float:
    return 10 ** ((k - (count - 1) / 2) * DODGE_DECADES)


def _ref_handle(**kw) -> Line2D:
    return Line2D([], [], color=REFERENCE_COLOUR, **kw)


# ---- metric figures ---------------------------------------------------------------------------

_N_LABEL = "sample size n"


def _metric_panels(metrics: pd.DataFrame, metric: str, *, model, theta, params, estimators,
                   styles, title, ylabel, band: bool, logy: bool = False, refs=None,
                   yformatter: type[Formatter] | None = None) -> Figure:  # fmt: skip
    """The common frame of the metric figures: panel per parameter, line per estimator."""
    family = _family(metrics, model, theta)
    rows = family[family["n"].notna() & (family["param"] != JOINT) & (family["metric"] == metric)]
    rows = rows[np.isfinite(rows["value"].to_numpy(dtype=float))]
    if rows.empty:
        raise ValueError(f"no finite {metric!r} rows for {_title(family, None)}")
    params = _order(rows["param"], params)
    estimators = _order(rows["estimator"], estimators)
    styles = _styles(styles, estimators)
    ncols = 2 if len(params) == 4 else min(len(params), 3)
    nrows = math.ceil(len(params) / ncols)
    with figure_style():
        fig, axes = _new_figure(nrows, ncols, kind=metric)
        ns = sorted(int(n) for n in rows["n"].unique())
        handles: dict[str, object] = {}
        for i, ax in enumerate(axes.flat):
            if i >= len(params):
                ax.set_visible(False)
                continue
            p = params[i]
            ax.set_title(p)
            for k, est in enumerate(estimators):
                d = rows[(rows["param"] == p) & (rows["estimator"] == est)].sort_values("n")
                if d.empty:
                    continue
                n = d["n"].to_numpy(dtype=float)
                x = n * _dodge(k, len(estimators))
                y = d["value"].to_numpy(dtype=float)
                err = 2 * np.nan_to_num(d["mcse"].to_numpy(dtype=float))
                st = styles[est]
                if band:
                    ax.fill_between(x, y - err, y + err, color=st["color"], alpha=0.2, lw=0, zorder=2)
                    (line,) = ax.plot(x, y, color=st["color"], marker=st["marker"],
                                      linestyle=st["linestyle"], zorder=3)  # fmt: skip
                else:
                    container = ax.errorbar(x, y, yerr=err, color=st["color"], marker=st["marker"],
                                            linestyle=st["linestyle"], zorder=3, elinewidth=0.9)  # fmt: skip
                    line = container.lines[0]
                line.set_gid(f"estimator:{est}")
                handles.setdefault(est, line)
            if refs is not None:
                for handle, label in refs(ax, p, rows[rows["param"] == p]):
                    handles.setdefault(label, handle)
            _n_axis(ax, ns, METRIC_PANEL[0])
            if logy:
                ax.set_yscale("log")
                _log_ticks(ax)
            else:  # at most six labelled values on a 2.3-inch axis
                ax.yaxis.set_major_locator(MaxNLocator(nbins=5, steps=[1, 2, 2.5, 5, 10]))
                ax.ticklabel_format(axis="y", useOffset=False)
            if yformatter is not None:
                ax.yaxis.set_major_formatter(yformatter())
            ax.grid(True, which="major", axis="y", lw=0.4, color="0.9")
            if i % ncols == 0:
                ax.set_ylabel(ylabel)
            if i >= len(params) - ncols:
                ax.set_xlabel(_N_LABEL)
        # Every panel has its own y scale, so each carries tick labels; x labels only under
        # the last panel of each column (a panel above a hidden one has them too).
        shown = list(axes.flat[: len(params)])
        yticks = layout.ytick_band(shown)
        layout.pin_labels(shown, METRIC_PANEL, yticks=yticks)
        x_label = layout.xtick_band() + layout.label_band()
        upper_labelled = any(i < (nrows - 1) * ncols for i in range(len(params) - ncols, len(params)))
        _frame(fig, axes, METRIC_PANEL, title=_title(family, title),
               left=EDGE + layout.label_band() + yticks, bottom=EDGE + x_label + GAP,
               wspace=yticks + 2 * GAP,
               hspace=(x_label if upper_labelled else layout.xtick_band()) + layout.title_band() + GAP,
               legend=(list(handles.values()), list(handles)))  # fmt: skip
    return fig


def bias_figure(metrics: pd.DataFrame, *, model: str | None = None, theta=None,
                params: Sequence[str] | None = None, estimators: Sequence[str] | None = None,
                styles: Mapping[str, dict] | None = None, title: str | None = None) -> Figure:  # fmt: skip
    """Bias E(θ̂) - θ against n with ±2 MCSE error bars; a line at 0."""

    def zero(ax, _p, _rows):
        line = ax.axhline(0.0, color=REFERENCE_COLOUR, lw=0.8, ls=":", zorder=1, gid="reference:zero")
        return [(line, "zero bias")]

    return _metric_panels(metrics, "bias", model=model, theta=theta, params=params,
                          estimators=estimators, styles=styles, title=title,
                          ylabel="bias  E(θ̂) − θ  (±2 MCSE)",
                          band=False, refs=zero)  # fmt: skip


def rmse_figure(metrics: pd.DataFrame, *, model: str | None = None, theta=None, rate: float = -0.5,
                reference: str | None = None, params: Sequence[str] | None = None,
                estimators: Sequence[str] | None = None, styles: Mapping[str, dict] | None = None,
                title: str | None = None) -> Figure:  # fmt: skip
    """RMSE against n on log-log axes, with a line of slope ``rate`` (the model's rate of
    convergence, -1/2 for a regular model) through the ``reference`` estimator's (default:
    ``mle`` if present, else the first) RMSE at the largest n."""

    def slope(ax, _p, rows):
        names = list(dict.fromkeys(rows["estimator"]))
        ref = reference if reference in names else ("mle" if "mle" in names else names[0])
        d = rows[rows["estimator"] == ref].sort_values("n")
        n_max, y_max = float(d["n"].iloc[-1]), float(d["value"].iloc[-1])
        n = np.array([float(rows["n"].min()), n_max])
        (line,) = ax.plot(n, y_max * (n / n_max) ** rate, color=REFERENCE_COLOUR, lw=0.9,
                          ls=(0, (4, 2)), zorder=1, gid="reference:slope")  # fmt: skip
        return [(line, f"slope {rate_text(rate)} through {ref} at largest n")]

    return _metric_panels(metrics, "rmse", model=model, theta=theta, params=params,
                          estimators=estimators, styles=styles, title=title,
                          ylabel="RMSE  √[E(θ̂ − θ)²]",
                          band=False, logy=True, refs=slope)  # fmt: skip


def efficiency_figure(metrics: pd.DataFrame, *, model: str | None = None, theta=None,
                      margin: float | None = None, params: Sequence[str] | None = None,
                      estimators: Sequence[str] | None = None,
                      styles: Mapping[str, dict] | None = None, title: str | None = None) -> Figure:  # fmt: skip
    """Efficiency CRLB / Var(θ̂) = [I(θ)^-1]_jj / (n Var θ̂) against n with ±2 MCSE bands, a
    line at 1 (the Cramér-Rao bound) and, given ``margin``, the band 1 ± margin the
    ``efficient`` verdict accepts."""

    def one(ax, _p, _rows):
        out = []
        if margin is not None:
            band = ax.axhspan(1 - margin, 1 + margin, color=BAND_COLOUR, alpha=0.6, lw=0, zorder=0,
                              gid="reference:margin")  # fmt: skip
            out.append((band, f"1 ± {margin:g} (verdict margin)"))
        line = ax.axhline(1.0, color=REFERENCE_COLOUR, lw=0.9, ls=(0, (4, 2)), zorder=1, gid="reference:one")
        return [(line, "Cramér–Rao bound (efficiency 1)")] + out

    return _metric_panels(metrics, "efficiency", model=model, theta=theta, params=params,
                          estimators=estimators, styles=styles, title=title,
                          ylabel="efficiency  [I(θ)⁻¹]ⱼⱼ / {n·Var(θ̂)}",
                          band=True, refs=one)  # fmt: skip


def n_var_figure(metrics: pd.DataFrame, *, model: str | None = None, theta=None,
                 params: Sequence[str] | None = None, estimators: Sequence[str] | None = None,
                 styles: Mapping[str, dict] | None = None, title: str | None = None,
                 logy: bool | None = None) -> Figure:  # fmt: skip
    """n·Var(θ̂) against n with ±2 MCSE bands and the Cramér-Rao limit [I(θ)^-1]_jj (the
    ``inv_fisher`` metric) as a horizontal line. ``logy`` defaults to a log axis when the
    values span more than a factor of 3 (small-n variances would flatten the limit)."""
    family = _family(metrics, model, theta)
    inv = family[(family["metric"] == "inv_fisher") & family["n"].notna()]

    def bound(ax, p, _rows):
        vals = inv[inv["param"] == p]["value"]
        if vals.empty:
            return []
        line = ax.axhline(float(vals.iloc[0]), color=REFERENCE_COLOUR, lw=0.9, ls=(0, (4, 2)),
                          zorder=1, gid="reference:inverse_fisher")  # fmt: skip
        return [(line, "Cramér–Rao limit [I(θ)⁻¹]ⱼⱼ")]

    if logy is None:
        v = family[(family["metric"] == "n_var") & family["n"].notna()]["value"].to_numpy(dtype=float)
        v = v[np.isfinite(v) & (v > 0)]
        logy = bool(v.size and v.max() / v.min() > 3)
    return _metric_panels(family, "n_var", model=None, theta=None, params=params,
                          estimators=estimators, styles=styles, title=title,
                          ylabel="n·Var(θ̂)" + ("  (log scale)" if logy else ""),
                          band=True, logy=logy, refs=bound)  # fmt: skip


def coverage_figure(metrics: pd.DataFrame, *, model: str | None = None, theta=None,
                    level: float = 0.95, params: Sequence[str] | None = None,
                    estimators: Sequence[str] | None = None, styles: Mapping[str, dict] | None = None,
                    title: str | None = None) -> Figure:  # fmt: skip
    """Coverage of the Wald interval θ̂ ± z·SE against n with ±2 MCSE error bars, the nominal
    ``level`` and the band level ± 2 sqrt(level(1-level)/R) within which a correct interval's
    estimated coverage falls about 95% of the time (R = usable replications)."""

    def nominal(ax, _p, rows):
        r = float(rows["n_ok"].max())
        half = 2 * math.sqrt(level * (1 - level) / r)
        band = ax.axhspan(level - half, level + half, color=BAND_COLOUR, alpha=0.6, lw=0, zorder=0,
                          gid="reference:band")  # fmt: skip
        line = ax.axhline(level, color=REFERENCE_COLOUR, lw=0.9, ls=(0, (4, 2)), zorder=1,
                          gid="reference:nominal")  # fmt: skip
        return [(line, f"nominal {100 * level:g}%"), (band, "nominal ± 2 MCSE")]

    return _metric_panels(metrics, "coverage", model=model, theta=theta, params=params,
                          estimators=estimators, styles=styles, title=title,
                          ylabel=f"coverage of the {100 * level:g}% Wald interval",
                          band=False, refs=nominal, yformatter=_PercentTicks)  # fmt: skip


class _PercentTicks(Formatter):
    """Proportions as percentages with the fewest decimals that print every tick shown
    exactly (2.5% steps need one, 0.25% steps two), decided when the ticks are drawn."""

    def format_ticks(self, values):
        percent = 100 * np.asarray(values, dtype=float)
        decimals = next((d for d in range(4) if np.allclose(percent, np.round(percent, d), atol=1e-9)), 4)
        return [f"{v:.{decimals}f}%" for v in percent]

    def __call__(self, x, pos=None):
        return self.format_ticks([x])[0]


# ---- distribution figures ---------------------------------------------------------------------


def qq_positions(count: int, max_points: int = QQ_MAX_POINTS, tail: int = TAIL_POINTS) -> np.ndarray:
    """Indices of the order statistics a QQ panel draws: all if ``count <= max_points``,
    else the ``tail`` most extreme on each side and evenly spaced ranks in between."""
    if count <= max_points:
        return np.arange(count)
    tail = min(tail, max_points // 4)
    middle = np.linspace(tail, count - tail - 1, max_points - 2 * tail).round().astype(int)
    return np.unique(np.concatenate([np.arange(tail), middle, np.arange(count - tail, count)]))


def _grid(table: pd.DataFrame, *, kind: str, estimators, ns):
    """One panel per sample size (every estimator drawn in it, so that they compare at a
    glance), at most :data:`GRID_COLUMNS` per row, all axes shared with tick labels on the
    outer panels only: y on the first column, x on the lowest panel of each column (so a
    panel above an empty slot at the end of the last row keeps them). Returns the figure,
    the grid (an object array, None in the empty slots, which have no axes: an axes costs
    about ten milliseconds to build and draw), the panels in order, estimators and sizes.
    ``kind`` names the figure function (see :func:`_new_figure`)."""
    estimators = _order(table["estimator"], estimators)
    ns = sorted(int(n) for n in (ns if ns is not None else table["n"].unique()))
    ncols = min(len(ns), GRID_COLUMNS)
    nrows = math.ceil(len(ns) / ncols)

    def build():
        fig = Figure()
        FigureCanvasAgg(fig)
        spec = fig.add_gridspec(nrows, ncols)
        grid = np.full((nrows, ncols), None, dtype=object)
        first = None
        for k in range(len(ns)):
            r, c = divmod(k, ncols)
            ax = fig.add_subplot(spec[r, c], sharex=first, sharey=first)
            first = first or ax
            grid[r, c] = ax
            if k + ncols < len(ns):
                ax.xaxis.set_tick_params(labelbottom=False)
            if c:
                ax.yaxis.set_tick_params(labelleft=False)
        return fig, grid

    fig, grid = _spare_or_new((kind, "grid", len(ns)), build)
    axes = [ax for ax in grid.flat if ax is not None]
    for ax, n in zip(axes, ns):
        ax.set_title(f"n = {n_label(n)}")
    return fig, grid, axes, estimators, ns


def _finish_grid(fig: Figure, grid: np.ndarray, *, title: str, xlabel: str, ylabel: str,
                 styles: Mapping[str, dict], estimators: Sequence[str], reference: tuple,
                 kind: str = "points") -> None:  # fmt: skip
    """Lay out a :func:`_grid` figure with its shared axis labels and its legend: one entry
    per estimator and the ``reference`` (artist, label), in the grid's empty slot when it
    has one, else right of the panels (never over data, nor on the shared x label below the
    panels or the title above them)."""
    if kind == "points":
        handles = [Line2D([], [], ls="", marker=styles[e]["marker"], ms=4, color=styles[e]["color"])
                   for e in estimators]  # fmt: skip
    else:
        handles = [Patch(facecolor=(*styles[e]["color"], 0.3), edgecolor=styles[e]["color"])
                   for e in estimators]  # fmt: skip
    handles.append(reference[0])
    labels = [*estimators, reference[1]]
    ncols = grid.shape[1]
    spare = ncols - 1 if grid[-1, -1] is None else None  # the last slot of the last row
    spec = {"handle": 2.2, "spacing": 1.2}
    right = EDGE + GAP
    if spare is None:
        right += layout.legend_size(labels, 1, **spec)[0] + GAP
    outer = layout.suplabel_band() + GAP / 2
    yticks = layout.ytick_band(grid[:, 0])
    layout.pin_labels([ax for ax in grid.flat if ax is not None], GRID_PANEL, yticks=yticks)
    left = EDGE + outer + yticks
    bottom = EDGE + outer + layout.xtick_band()
    # Between rows: the panel titles, or the x tick labels of a panel above an empty slot.
    wspace, hspace = 2 * GAP, max(layout.title_band(), layout.xtick_band()) + GAP
    width, height, top = _frame(fig, grid, GRID_PANEL, title=title, left=left, bottom=bottom,
                                right=right, wspace=wspace, hspace=hspace)  # fmt: skip
    panels_top = 1 - top / height
    fig.supxlabel(xlabel, x=(left + (width - left - right) / 2) / width, y=EDGE / height,
                  ha="center", va="bottom")  # fmt: skip
    fig.supylabel(ylabel, x=EDGE / width, y=(bottom / height + panels_top) / 2, ha="left", va="center")
    if spare is not None:
        centre = (left + spare * (GRID_PANEL[0] + wspace) + GRID_PANEL[0] / 2,
                  bottom + GRID_PANEL[1] / 2)  # fmt: skip
        fig.legend(handles, labels, loc="center", bbox_to_anchor=(centre[0] / width, centre[1] / height),
                   frameon=False, borderaxespad=0, handlelength=spec["handle"])  # fmt: skip
    else:
        fig.legend(handles, labels, loc="upper left", bbox_to_anchor=(1 - (right - GAP) / width, panels_top),
                   frameon=False, borderaxespad=0, handlelength=spec["handle"])  # fmt: skip


def _shared_limit(samples: Iterable[np.ndarray], low: float, high: float, q: float = 0.998) -> float:
    """A common axis limit: the largest panel's ``q`` quantile of |x|, within [low, high]."""
    tops = [float(np.quantile(np.abs(x), q)) for x in samples if x.size]
    return float(np.clip(max(tops, default=low), low, high))


def _clip_marks(ax, x, y, lo, hi, color) -> int:
    """Points beyond the y-range drawn as triangles on the edge; return how many."""
    above, below = y > hi, y < lo
    if above.any():
        ax.plot(x[above], np.full(above.sum(), hi), "^", color=color, ms=2.5, clip_on=False,
                zorder=4, gid="clipped")  # fmt: skip
    if below.any():
        ax.plot(x[below], np.full(below.sum(), lo), "v", color=color, ms=2.5, clip_on=False,
                zorder=4, gid="clipped")  # fmt: skip
    return int(above.sum() + below.sum())


def _panels(table: pd.DataFrame, estimators, ns, column: str) -> dict[tuple[str, int], np.ndarray]:
    """Sorted ``column`` per (estimator, n), empty where a cell has none (one pass)."""
    groups = table.groupby(["estimator", "n"], sort=False, observed=True)[column]
    found = {(e, int(n)): np.sort(v.to_numpy(dtype=float)) for (e, n), v in groups}
    return {(e, n): found.get((e, n), np.empty(0)) for e in estimators for n in ns}


def _qq_points(ax, theo, y, lo, hi, est, style) -> None:
    inside = (y >= lo) & (y <= hi)
    ax.plot(theo[inside], y[inside], ls="", marker=style["marker"], ms=1.6, mew=0,
            color=style["color"], alpha=0.8, zorder=3, gid=f"estimator:{est}")  # fmt: skip
    _clip_marks(ax, theo, y, lo, hi, style["color"])


def _identity(ax) -> Line2D:
    return ax.axline((0, 0), slope=1, color=REFERENCE_COLOUR, lw=0.8, ls=(0, (4, 2)), zorder=2,
                     gid="reference:identity")  # fmt: skip


def qq_figure(z_table: pd.DataFrame, *, param: str, estimators: Sequence[str] | None = None,
              ns: Sequence[int] | None = None, styles: Mapping[str, dict] | None = None,
              max_points: int = QQ_MAX_POINTS, limit: float | None = None,
              title: str | None = None) -> Figure:  # fmt: skip
    """Normal QQ plots of z = (θ̂ - θ)/sqrt([I(θ)^-1]_jj/n) (:func:`prepare.standardized_estimates`):
    one panel per sample size with every estimator in it (colour and marker), all axes
    shared, with the line y = x of N(0, 1); an inefficient estimator lies on a steeper line.
    The y-range is ±``limit`` (default: the largest panel's 99.8% quantile of |z|, between 1.25
    and 2.5 times the largest normal quantile); points beyond it are drawn as triangles on
    the edge. At most ``max_points`` order statistics per estimator and panel
    (:func:`qq_positions`)."""
    table = z_table[z_table["param"] == param]
    if table.empty:
        raise ValueError(f"no standardized estimates for parameter {param!r}")
    styles = _styles(styles, table["estimator"])
    with figure_style():
        fig, grid, axes, estimators, ns = _grid(table, kind="qq", estimators=estimators, ns=ns)
        data = _panels(table, estimators, ns, "z")
        count = max(z.size for z in data.values())
        q_max = float(ndtri(1 - 0.5 / max(count, 2)))
        limit = limit or _shared_limit(data.values(), 1.25 * q_max, 2.5 * q_max)
        for ax, n in zip(axes, ns):
            line = _identity(ax)
            for est in estimators:
                z = data[(est, n)]
                if z.size:
                    idx = qq_positions(z.size, max_points)
                    _qq_points(ax, ndtri((idx + 0.5) / z.size), z[idx], -limit, limit, est, styles[est])
        axes[0].set_xlim(-q_max * 1.12, q_max * 1.12)
        axes[0].set_ylim(-limit, limit)
        step = 2 if limit < 6 else (3 if limit < 9 else 5)
        ticks = [k * step for k in range(-int(limit // step), int(limit // step) + 1)]
        x_ticks = [-3, 0, 3] if q_max > 3.2 else [-2, 0, 2]
        for ax in axes:
            ax.xaxis.set_major_locator(FixedLocator(x_ticks))
            ax.yaxis.set_major_locator(FixedLocator(ticks))
        _finish_grid(fig, grid, title=title or f"{param}: " + Z_TITLE.format(what="normal QQ plots of"),
                     xlabel="N(0, 1) quantile", ylabel="quantile of z", styles=styles,
                     estimators=estimators, reference=(line, "y = x"))  # fmt: skip
    return fig


def _bin_edges(z: np.ndarray, limit: float, bins: int) -> np.ndarray:
    """``bins`` equal bins on [-limit, limit]; for a discrete estimator (z on a lattice, with
    ties) bins a whole number of lattice steps wide, with edges halfway between lattice
    points, so that the histogram shows the mass per unit of z rather than spikes that
    depend on how many lattice points each bin happens to catch."""
    values = np.unique(z)
    if 2 <= values.size <= z.size // 2:
        gaps = np.diff(values)
        step = float(gaps.min())
        if step > 0 and np.allclose(gaps / step, np.round(gaps / step), atol=1e-6):
            width = max(1, round(2 * limit / bins / step)) * step
            start = values[0] - step / 2
            low = start - math.ceil((start + limit) / width) * width
            return low + width * np.arange(math.ceil((limit - low) / width) + 1)
    return np.linspace(-limit, limit, bins + 1)


def _normal_pdf(x: np.ndarray) -> np.ndarray:
    return np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)


def _stairs(ax, values: np.ndarray, edges: np.ndarray, **kw) -> StepPatch:
    """A histogram's step outline or fill, added without updating the data limits (the
    caller sets them): ``Axes.stairs`` walks every segment of the path to do so."""
    patch = StepPatch(values, edges, baseline=0, **kw)
    ax.add_artist(patch)
    return patch


def density_figure(z_table: pd.DataFrame, *, param: str, estimators: Sequence[str] | None = None,
                   ns: Sequence[int] | None = None, styles: Mapping[str, dict] | None = None,
                   bins: int = 40, limit: float = 4.5, title: str | None = None) -> Figure:  # fmt: skip
    """Histograms (density scale) of z per sample size with the N(0, 1) density overlaid; one
    panel per n with every estimator in it (translucent fill and outline in its colour); bins
    follow the lattice of a discrete estimator (:func:`_bin_edges`). The view is
    [-limit, limit]; the share of z outside it is printed in the panel when not zero."""
    table = z_table[z_table["param"] == param]
    if table.empty:
        raise ValueError(f"no standardized estimates for parameter {param!r}")
    styles = _styles(styles, table["estimator"])
    grid_x = np.linspace(-limit, limit, 201)
    top = float(_normal_pdf(np.zeros(1))[0])
    with figure_style():
        fig, grid, axes, estimators, ns = _grid(table, kind="density", estimators=estimators, ns=ns)
        data = _panels(table, estimators, ns, "z")
        alpha = 0.45 if len(estimators) == 1 else 0.22
        for ax, n in zip(axes, ns):
            notes = []
            for est in estimators:
                z = data[(est, n)]
                if not z.size:
                    continue
                colour = styles[est]["color"]
                panel_edges = _bin_edges(z, limit, bins)
                counts, _ = np.histogram(z, bins=panel_edges)
                dens = counts / (z.size * np.diff(panel_edges))
                top = max(top, float(dens.max()))
                _stairs(ax, dens, panel_edges, fill=True, color=colour, alpha=alpha, lw=0,
                        gid=f"estimator:{est}")  # fmt: skip
                _stairs(ax, dens, panel_edges, fill=False, color=colour, lw=0.6, zorder=2)
                outside = float(np.mean(np.abs(z) > limit))
                if outside > 0:
                    share = f"{100 * outside:.1f}%" if outside >= 0.001 else "<0.1%"
                    notes.append((f"{est}: {share}", colour))
            (line,) = ax.plot(grid_x, _normal_pdf(grid_x), color=REFERENCE_COLOUR, lw=0.9, zorder=3,
                              gid="reference:normal")  # fmt: skip
            for k, (share, colour) in enumerate(notes):
                ax.text(0.98, 0.98 - 0.1 * k, f"{share} beyond ±{limit:g}", transform=ax.transAxes,
                        ha="right", va="top", fontsize=5.5, color=colour)  # fmt: skip
        axes[0].set_xlim(-limit, limit)
        axes[0].set_ylim(0, 1.3 * top)  # headroom for the notes above the bars
        for ax in axes:
            ax.xaxis.set_major_locator(FixedLocator([-4, -2, 0, 2, 4]))
        _finish_grid(fig, grid, title=title or f"{param}: " + Z_TITLE.format(what="histograms of"),
                     xlabel="z", ylabel="density", styles=styles, estimators=estimators,
                     reference=(line, "N(0, 1)"), kind="patch")  # fmt: skip
    return fig


def zip_figure(intervals: pd.DataFrame, *, theta: float, level: float, n: int | None = None,
               estimators: Sequence[str] | None = None, max_intervals: int = ZIP_MAX_INTERVALS,
               title: str | None = None) -> Figure:  # fmt: skip
    """Zip plot (Morris, White & Crowther 2019) of the Wald intervals at one n (default the
    largest): each horizontal segment is one replication's interval, at the height of its
    |z| = |θ̂ - θ|/SE fractional centile; intervals that cover θ and those that miss have
    their own colour, so the height where misses begin is the coverage. Reference lines: θ
    (vertical), the nominal ``level``, and the estimated coverage's ±2 MCSE interval."""
    if intervals.empty:
        raise ValueError("no Wald intervals to draw")
    n = int(n if n is not None else intervals["n"].max())
    table = intervals[intervals["n"] == n]
    if table.empty:
        raise ValueError(f"no intervals at n = {n}; sizes: {sorted(intervals['n'].unique())}")
    estimators = _order(table["estimator"], estimators)
    cover_colour, miss_colour = PALETTE[0], PALETTE[3]
    with figure_style():
        # Each estimator on its own x scale (centred at θ): an efficient estimator's intervals
        # would otherwise shrink to a line beside a much wider one.
        fig, axes = _new_figure(1, len(estimators), kind="zip", sharey=True)
        for j, est in enumerate(estimators):
            ax = axes[0, j]
            d = table[table["estimator"] == est].sort_values("centile")
            r = len(d)
            cov = float(d["covers"].mean())
            if r > max_intervals:
                d = d.iloc[qq_positions(r, max_intervals, tail=0)]
            # Segments about as thick as the vertical spacing, so the zip reads as an area.
            lw = max(0.25, min(1.2, 0.8 * ZIP_PANEL[1] * 72 / len(d)))
            for covers, colour, gid in ((True, cover_colour, "covers"), (False, miss_colour, "misses")):
                s = d[d["covers"] == covers]
                if len(s):
                    ax.hlines(s["centile"], s["lower"], s["upper"], colors=[colour], lw=lw,
                              antialiased=False, gid=f"intervals:{gid}")  # fmt: skip
            half = 2 * math.sqrt(cov * (1 - cov) / r)
            ax.axhspan(cov - half, cov + half, color="0.35", alpha=0.35, lw=0, zorder=3,
                       gid="reference:coverage")  # fmt: skip
            ax.axhline(level, color=REFERENCE_COLOUR, lw=0.9, ls=(0, (4, 2)), zorder=4, gid="reference:nominal")
            ax.axvline(theta, color=REFERENCE_COLOUR, lw=0.9, zorder=4, gid="reference:theta")
            ax.set_title(f"{est}: coverage {100 * cov:.1f}%")
            mine = table[table["estimator"] == est]
            half = max(theta - np.nanquantile(mine["lower"], 0.002),
                       np.nanquantile(mine["upper"], 0.998) - theta)  # fmt: skip
            half = half if np.isfinite(half) and half > 0 else 1.0
            ax.set_xlim(theta - 1.05 * half, theta + 1.05 * half)
            ax.xaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))
        axes[0, 0].set_ylim(0, 1)
        axes[0, 0].set_ylabel("fractional centile of |θ̂ − θ| / SE")
        for ax in axes.flat:
            ax.set_xlabel(f"{100 * level:g}% Wald interval θ̂ ± z·SE")
        handles = [
            Line2D([], [], color=cover_colour, lw=2), Line2D([], [], color=miss_colour, lw=2),
            _ref_handle(lw=0.9), _ref_handle(lw=0.9, ls=(0, (4, 2))), Patch(color="0.35", alpha=0.35),
        ]  # fmt: skip
        labels = ["covers θ", "misses θ", "true θ", f"nominal {100 * level:g}%", "coverage ± 2 MCSE"]
        # Shared y: tick labels on the first panel only; between panels, room for x tick
        # labels that overhang their panel's edge.
        yticks = layout.ytick_band(axes[:, 0])
        layout.pin_labels(axes.flat, ZIP_PANEL, yticks=yticks)
        _frame(fig, axes, ZIP_PANEL, title=title or f"Zip plot at n = {n_label(n)}",
               left=EDGE + layout.label_band() + yticks,
               bottom=EDGE + layout.xtick_band() + layout.label_band() + GAP,
               wspace=4 * GAP, hspace=0.0, legend=(handles, labels))  # fmt: skip
    return fig


def mahalanobis_qq_figure(t_table: pd.DataFrame, *, df: int, estimators: Sequence[str] | None = None,
                          ns: Sequence[int] | None = None, styles: Mapping[str, dict] | None = None,
                          max_points: int = QQ_MAX_POINTS, title: str | None = None) -> Figure:  # fmt: skip
    """QQ plots of T = n(θ̂-θ)ᵀI(θ)(θ̂-θ) (:func:`prepare.mahalanobis_statistics`) against
    χ²_df quantiles, one panel per n with every estimator in it, shared axes, with the line
    y = x. The y-range is set as in :func:`qq_figure` (between 1.25 and 2.5 times the largest
    χ² quantile); points above it are drawn as triangles on the edge."""
    if t_table.empty:
        raise ValueError("no Mahalanobis statistics to draw")
    styles = _styles(styles, t_table["estimator"])
    with figure_style():
        fig, grid, axes, estimators, ns = _grid(t_table, kind="mahalanobis", estimators=estimators, ns=ns)
        data = _panels(t_table, estimators, ns, "T")
        count = max(t.size for t in data.values())
        q_max = _chi2_quantile(1 - 0.5 / max(count, 2), df)
        top = _shared_limit(data.values(), 1.25 * q_max, 2.5 * q_max)
        for ax, n in zip(axes, ns):
            line = _identity(ax)
            for est in estimators:
                t = data[(est, n)]
                if t.size:
                    idx = qq_positions(t.size, max_points)
                    theo = _chi2_quantile((idx + 0.5) / t.size, df)
                    _qq_points(ax, theo, t[idx], -np.inf, top, est, styles[est])
        axes[0].set_xlim(0, q_max * 1.05)
        axes[0].set_ylim(0, top)
        for ax in axes:
            ax.xaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 5, 10]))
            ax.yaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 5, 10]))
        _finish_grid(fig, grid, title=title or T_TITLE.format(df=subscript(df)),
                     xlabel=f"χ²{subscript(df)} quantile", ylabel="quantile of T", styles=styles,
                     estimators=estimators, reference=(line, "y = x"))  # fmt: skip
    return fig


def _chi2_quantile(q, df: int):
    """χ²_df quantile: 2·P⁻¹(df/2, q), P the regularized lower incomplete gamma function."""
    return 2.0 * gammaincinv(df / 2.0, q)


# ---- files ------------------------------------------------------------------------------------


def save_figure(fig: Figure, directory: str | Path, stem: str,
                formats: Sequence[str] = ("png", "pdf")) -> list[Path]:  # fmt: skip
    """Write ``directory/stem.<fmt>`` for each format (PNG at 300 dpi, PDF, SVG) atomically,
    without timestamps (byte-identical on rerun); return the paths."""
    metadata = {"pdf": {"CreationDate": None, "ModDate": None}, "svg": {"Date": None}, "png": {}}
    bad = [fmt for fmt in formats if fmt not in metadata]
    if bad:
        raise ValueError(f"figure format {bad[0]!r}: choose from png, pdf, svg")
    paths = []
    with figure_style():
        for fmt in formats:
            data = _png_bytes(fig) if fmt == "png" else _vector_bytes(fig, fmt, metadata[fmt])
            path = Path(directory) / f"{stem}.{fmt}"
            atomic_write_bytes(path, data)
            paths.append(path)
    return paths


def _vector_bytes(fig: Figure, fmt: str, metadata: dict) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=PNG_DPI, metadata=metadata, facecolor="white")
    return buffer.getvalue()


def _png_bytes(fig: Figure) -> bytes:
    """The figure rendered by Agg at :data:`PNG_DPI` on white (what ``savefig`` renders),
    encoded by :mod:`simstudy.report.png` straight from the canvas' buffer."""
    dpi, face = fig.dpi, fig.get_facecolor()
    fig.dpi = PNG_DPI
    fig.set_facecolor("white")
    try:
        fig.canvas.draw()
        return png.encode(np.asarray(fig.canvas.buffer_rgba()), PNG_DPI)
    finally:
        fig.dpi = dpi
        fig.set_facecolor(face)
