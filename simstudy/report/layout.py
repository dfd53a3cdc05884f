"""Fixed figure layout: margins from font sizes and the tick labels' text, in inches.

matplotlib's constrained layout measures the extent of every tick label, label and title
with the renderer (about a third of a figure's cost). Here the figure is built around panels
of a fixed size instead: each margin is the sum of known bands (tick length and pad, one
line of text at its font size, the width of the widest tick label from the font's glyph
advances), so nothing is measured by a renderer and the panels keep their design size
whatever the labels. The widths ignore kerning (a few percent of a label) and the gaps
between bands absorb it.

Sizes come from the rcParams in force (:func:`simstudy.report.figures.figure_style`), so call
these inside it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties, findfont, get_font
from matplotlib.ft2font import LoadFlags

PT = 1 / 72
#: matplotlib's line height as a multiple of the font size (``Text`` linespacing).
LINE = 1.2
#: White space at the figure's edges and between bands, inches.
EDGE = 0.06
GAP = 0.08


def font_size(key: str) -> float:
    """A font size rcParam in points (named sizes such as "large" resolved)."""
    return FontProperties(size=mpl.rcParams[key]).get_size_in_points()


#: Glyph advances in ems by font file and character, filled as characters are met.
_ADVANCES: dict[str, dict[str, float]] = {}


def text_width(text: str, size: float) -> float:
    """Width in inches of one line of ``text`` at ``size`` points in the default font (the sum
    of glyph advances)."""
    path = findfont(FontProperties())
    cache = _ADVANCES.setdefault(path, {})
    missing = [c for c in set(text) if c not in cache]
    if missing:
        font = get_font(path)
        font.set_size(100, 72)
        for c in missing:
            cache[c] = font.load_char(ord(c), flags=LoadFlags.NO_HINTING).linearHoriAdvance / 65536 / 100
    return sum(cache[c] for c in text) * size * PT


def line_height(size: float, lines: int = 1) -> float:
    return lines * LINE * size * PT


def plain(text: str) -> str:
    """A label's approximate printed text (mathtext commands, braces and dollars removed)."""
    return re.sub(r"\\[a-zA-Z]+|[${}^_]", "", text)


def wrap(text: str, width: float, size: float) -> list[str]:
    """``text`` split at spaces (never inside ``$...$``) into lines at most ``width`` inches
    wide at ``size`` points."""
    lines: list[str] = []
    current = ""
    for word in re.findall(r"(?:\$[^$]*\$|\S)+", text):
        trial = f"{current} {word}" if current else word
        if current and text_width(plain(trial) if "$" in trial else trial, size) > width:
            lines.append(current)
            current = word
        else:
            current = trial
    return [*lines, current]


def tick_labels(axis) -> list[str]:
    """The major tick labels ``axis`` will print (its locator and formatter, inside the view)."""
    lo, hi = sorted(axis.get_view_interval())
    slack = 1e-9 * (hi - lo)
    locs = [v for v in axis.get_major_locator()() if lo - slack <= v <= hi + slack]
    return [s for s in axis.get_major_formatter().format_ticks(locs) if s]


def ytick_band(axes: Sequence) -> float:
    """Inches left of a panel taken by its y ticks and the widest y tick label of ``axes``."""
    size = font_size("ytick.labelsize")
    widest = max((text_width(s, size) for ax in axes for s in tick_labels(ax.yaxis)), default=0.0)
    return (mpl.rcParams["ytick.major.size"] + mpl.rcParams["ytick.major.pad"]) * PT + widest


def xtick_band() -> float:
    """Inches below a panel taken by its x ticks and tick labels."""
    size = font_size("xtick.labelsize")
    return (mpl.rcParams["xtick.major.size"] + mpl.rcParams["xtick.major.pad"]) * PT + line_height(size)


def label_band() -> float:
    """An axis label and its pad (beside the y tick labels or below the x tick labels)."""
    return mpl.rcParams["axes.labelpad"] * PT + line_height(font_size("axes.labelsize"))


def title_band() -> float:
    """A panel title and its pad above the panel."""
    return mpl.rcParams["axes.titlepad"] * PT + line_height(font_size("axes.titlesize"))


def suplabel_band() -> float:
    """A figure-level axis label (``supxlabel``/``supylabel``)."""
    return line_height(font_size("figure.labelsize"))


def pin_labels(axes: Sequence, panel: tuple[float, float], *, yticks: float) -> None:
    """Put each axes' x and y labels at fixed distances from the panel (below the x tick
    band, left of a y tick band ``yticks`` inches wide). matplotlib would otherwise measure
    the tick labels of the axes and of every axes sharing it at each draw to place them
    (labels left empty are pinned too, which turns that off)."""
    pad = mpl.rcParams["axes.labelpad"] * PT
    for ax in axes:
        ax.xaxis.set_label_coords(0.5, -(xtick_band() + pad) / panel[1])
        ax.yaxis.set_label_coords(-(yticks + pad) / panel[0], 0.5)


def legend_columns(labels: Sequence[str], width: float, *, handle: float, spacing: float) -> int:
    """The most columns (at most one per label) whose legend fits ``width`` inches."""
    for ncols in range(len(labels), 1, -1):
        if legend_size(labels, ncols, handle=handle, spacing=spacing)[0] <= width:
            return ncols
    return 1


def legend_size(labels: Sequence[str], ncols: int, *, handle: float, spacing: float) -> tuple[float, float]:
    """(width, height) in inches of a frameless legend of ``labels`` in ``ncols`` columns
    (filled column by column, as matplotlib does); ``handle`` and ``spacing`` are the
    handle length and column spacing in font sizes."""
    size = font_size("legend.fontsize")
    rc = mpl.rcParams
    rows = -(-len(labels) // ncols)
    columns = [labels[c * rows:(c + 1) * rows] for c in range(ncols)]
    em = size * PT
    widths = [(handle + rc["legend.handletextpad"]) * em + max(text_width(s, size) for s in col)
              for col in columns if col]  # fmt: skip
    width = sum(widths) + (len(widths) - 1) * spacing * em + 2 * rc["legend.borderpad"] * em
    height = line_height(size, rows) + (rows - 1) * rc["legend.labelspacing"] * em
    return width, height + 2 * rc["legend.borderpad"] * em


def place(fig: Figure, grid: np.ndarray, panel: tuple[float, float], *, left: float, right: float,
          bottom: float, top: float, wspace: float, hspace: float) -> tuple[float, float]:  # fmt: skip
    """Size ``fig`` to hold the ``grid`` (2-D array of axes) of ``panel``-sized panels with
    the given margins and gaps (inches) and put each axes in place (None: an empty slot);
    return (width, height)."""
    nrows, ncols = grid.shape
    pw, ph = panel
    width = left + ncols * pw + (ncols - 1) * wspace + right
    height = bottom + nrows * ph + (nrows - 1) * hspace + top
    fig.set_size_inches(width, height)
    for r in range(nrows):
        for c in range(ncols):
            if grid[r, c] is None:
                continue
            x0 = left + c * (pw + wspace)
            y0 = bottom + (nrows - 1 - r) * (ph + hspace)
            grid[r, c].set_position((x0 / width, y0 / height, pw / width, ph / height))
    return width, height
