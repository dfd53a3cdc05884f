"""What the report needs to plan figures without importing a plotting library.

File stems, titles, estimator styles and the colour-blind palette live here so that
``simstudy report`` can decide that every figure is up to date (and reuse it) without paying
for importing matplotlib, seaborn and scipy.stats (about a second and a half); only figures
that must be drawn import :mod:`simstudy.report.figures`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from fractions import Fraction

#: The metrics table's ``param`` of joint (multi-parameter) rows; equal to
#: ``simstudy.metrics.summarise.JOINT`` (a test checks it), which is not imported because
#: that package loads scipy.stats.
JOINT = "(joint)"

#: seaborn's "colorblind" palette (``seaborn.palettes.SEABORN_PALETTES["colorblind"]``; a test
#: checks that they agree), as RGB triples.
COLORBLIND_HEX = ("#0173B2", "#DE8F05", "#029E73", "#D55E00", "#CC78BC",
                  "#CA9161", "#FBAFE4", "#949494", "#ECE133", "#56B4E9")  # fmt: skip
PALETTE = tuple(tuple(int(h[i : i + 2], 16) / 255 for i in (1, 3, 5)) for h in COLORBLIND_HEX)
#: seaborn's "ticks" style in the "paper" context (``seaborn.axes_style("ticks")`` updated
#: with ``seaborn.plotting_context("paper")``; a test checks that they agree), as rcParams:
#: importing seaborn costs about a second (it loads scipy.stats) in every ``simstudy report``
#: that draws. simstudy's own sizes (:data:`simstudy.report.figures`) override the fonts.
#: Left out: ``image.cmap`` ("rocket", a colormap only seaborn's import registers; no
#: figure uses a colormap).
SEABORN_TICKS_PAPER = {
    "figure.facecolor": "white", "axes.labelcolor": ".15", "xtick.direction": "out",
    "ytick.direction": "out", "xtick.color": ".15", "ytick.color": ".15", "axes.axisbelow": True,
    "grid.linestyle": "-", "text.color": ".15", "font.family": ["sans-serif"],
    "font.sans-serif": ["Arial", "DejaVu Sans", "Liberation Sans", "Bitstream Vera Sans", "sans-serif"],
    "lines.solid_capstyle": "round", "patch.edgecolor": "w", "patch.force_edgecolor": True,
    "xtick.top": False, "ytick.right": False, "axes.grid": False,
    "axes.facecolor": "white", "axes.edgecolor": ".15", "grid.color": ".8",
    "axes.spines.left": True, "axes.spines.bottom": True, "axes.spines.right": True,
    "axes.spines.top": True, "xtick.bottom": True, "ytick.left": True,
    "axes.linewidth": 1.0, "grid.linewidth": 0.8, "lines.linewidth": 1.2, "lines.markersize": 4.8,
    "patch.linewidth": 0.8, "xtick.major.width": 1.0, "ytick.major.width": 1.0,
    "xtick.minor.width": 0.8, "ytick.minor.width": 0.8, "xtick.major.size": 4.8,
    "ytick.major.size": 4.8, "xtick.minor.size": 3.2, "ytick.minor.size": 3.2, "font.size": 9.6,
    "axes.labelsize": 9.6, "axes.titlesize": 9.6, "xtick.labelsize": 8.8, "ytick.labelsize": 8.8,
    "legend.fontsize": 8.8, "legend.title_fontsize": 9.6,
}  # fmt: skip
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "*")
LINESTYLES = ("-", "--", "-.", ":")

#: At most this many order statistics per QQ panel: all of the TAIL_POINTS most extreme on
#: each side, evenly spaced ranks in between (the caption says so when it applies).
QQ_MAX_POINTS = 1000
TAIL_POINTS = 50
#: At most this many intervals per zip-plot panel (evenly spaced ranks of |z|).
ZIP_MAX_INTERVALS = 1000

#: Figure titles that define the plotted statistic (the y labels then just name it). Plain
#: Unicode (DejaVu Sans has every glyph), not mathtext: the same glyphs without a parse per
#: figure.
Z_TITLE = "{what} z = (θ̂ − θ) / √([I(θ)⁻¹]ⱼⱼ / n)"
T_TITLE = "QQ plots of T = n(θ̂ − θ)ᵀ I(θ) (θ̂ − θ) against χ²{df}"

_SUBSCRIPTS = str.maketrans("0123456789", "₀₁₂₃₄₅₆₇₈₉")


def subscript(value: int) -> str:
    """An integer in subscript digits: 12 -> '₁₂'."""
    return str(value).translate(_SUBSCRIPTS)


def estimator_styles(estimators: Iterable[str]) -> dict[str, dict]:
    """Colour (seaborn "colorblind"), marker and line style per estimator, in the given order;
    pass the study's full estimator list so that an estimator looks the same in every figure."""
    if hasattr(estimators, "unique"):  # a table's column: its distinct values, fast
        estimators = estimators.unique()
    out = {}
    for i, name in enumerate(dict.fromkeys(estimators)):
        out[name] = {"color": PALETTE[i % len(PALETTE)], "marker": MARKERS[i % len(MARKERS)],
                     "linestyle": LINESTYLES[i % len(LINESTYLES)]}  # fmt: skip
    return out


def theta_text(theta_json: str) -> str:
    return ", ".join(f"{k} = {v:g}" for k, v in json.loads(theta_json).items())


def n_label(v: float) -> str:
    """A sample size as printed: thin-space thousands separators from 10 000 on."""
    return f"{v:,.0f}".replace(",", "\u2009") if v >= 10_000 else f"{v:g}"


def rate_text(rate: float) -> str:
    """A rate of convergence as text: -0.5 -> '−1/2'."""
    frac = Fraction(rate).limit_denominator(12)
    text = f"{abs(frac.numerator)}/{frac.denominator}" if frac.denominator != 1 else f"{abs(frac.numerator)}"
    return ("\u2212" if rate < 0 else "") + text


def figure_stem(kind: str, model: str, theta_json: str, *, param: str | None = None,
                n: int | None = None) -> str:  # fmt: skip
    """Deterministic file stem, e.g. ``rmse_gamma_shape=2_rate=1.5`` or
    ``zip_gamma_shape=2_rate=1.5_param=shape_n=1000``."""
    parts = [kind, model] + [f"{k}={v:g}" for k, v in json.loads(theta_json).items()]
    if param is not None:
        parts.append(f"param={param}")
    if n is not None:
        parts.append(f"n={n}")
    return "_".join(parts)
