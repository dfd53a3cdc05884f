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
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">", "*")
LINESTYLES = ("-", "--", "-.", ":")

#: At most this many order statistics per QQ panel: all of the TAIL_POINTS most extreme on
#: each side, evenly spaced ranks in between (the caption says so when it applies).
QQ_MAX_POINTS = 1000
TAIL_POINTS = 50
#: At most this many intervals per zip-plot panel (evenly spaced ranks of |z|).
ZIP_MAX_INTERVALS = 1000

#: Figure titles that define the plotted statistic (the y labels then just name it).
Z_TITLE = r"{what} $z = (\hat\theta - \theta)\,/\,\sqrt{{I(\theta)^{{-1}}_{{jj}}/n}}$"
T_TITLE = r"QQ plots of $T = n(\hat\theta-\theta)^{{\top}} I(\theta)(\hat\theta-\theta)$ against $\chi^2_{{{df}}}$"


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
