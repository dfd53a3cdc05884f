"""Reports: tables, figures and the report document, from a tiny stored study (R = 200).

Figures are checked as objects (axes, labels, lines, reference artists found by their
``gid``), never by looking at pixels; only the save tests render. ``simstudy report`` runs in
a subprocess to prove it imports no Numba and changes no stored block.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure

import simstudy
from simstudy.report import document, figures, prepare, render, style, tables

REPS = 200
SIZES = [20, 50, 200]
LEVEL = 0.9
STUDY = {
    "name": "tiny-report",
    "aim": "Exercise every table and figure.",
    "seed": 99,
    "replications": REPS,
    "sample_sizes": SIZES,
    "models": [
        {"model": "exponential", "params": {"rate": 2.0}, "estimators": ["mle", "unbiased"]},
        {"model": "gamma", "params": {"shape": 2.0, "rate": 1.5}, "estimators": ["mle", "mom"],
         "expect": {"mom": {"efficient": "fail"}}},
    ],
    "checks": {"coverage_level": LEVEL},
    # Few figures, so that `simstudy report` in a subprocess stays quick.
    "report": {"figures": ["rmse", "zip"], "cells": [{"model": "exponential", "estimator": "mle"}]},
}  # fmt: skip


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    result = simstudy.run(STUDY, out=tmp_path_factory.mktemp("report"), report=False)
    result.analyse()
    return result


@pytest.fixture(scope="module")
def metrics(study):
    return study.metrics


@pytest.fixture(scope="module")
def gamma_reps(study):
    reps = study.replicates(model="gamma")
    return reps


@pytest.fixture(scope="module")
def gamma_cell(study):
    return next(c for c in study.cells if c["model"] == "gamma")


def gids(ax) -> list[str]:
    artists = list(ax.lines) + list(ax.collections) + list(ax.patches)
    return [a.get_gid() for a in artists if a.get_gid()]


def visible_axes(fig: Figure) -> list:
    return [ax for ax in fig.axes if ax.get_visible()]


def metric_value(metrics, model, estimator, param, n, metric):
    row = metrics[(metrics.model == model) & (metrics.estimator == estimator) & (metrics.param == param)
                  & (metrics.n == n) & (metrics.metric == metric)]  # fmt: skip
    assert len(row) == 1
    return float(row.value.iloc[0]), float(row.mcse.iloc[0])


# ---- metric figures ---------------------------------------------------------------------------

METRIC_CASES = {
    # function: (reference gid, fragment of the y label)
    "bias_figure": ("reference:zero", "bias"),
    "rmse_figure": ("reference:slope", "RMSE"),
    "efficiency_figure": ("reference:one", "efficiency"),
    "n_var_figure": ("reference:inverse_fisher", "n·Var(θ̂)"),
    "coverage_figure": ("reference:nominal", "coverage"),
}


@pytest.mark.parametrize("function", sorted(METRIC_CASES))
def test_metric_figure_panels_lines_labels_and_reference(metrics, function):
    ref_gid, ylabel = METRIC_CASES[function]
    fig = getattr(figures, function)(metrics, model="gamma")
    assert isinstance(fig, Figure)
    axes = visible_axes(fig)
    assert [ax.get_title() for ax in axes] == ["shape", "rate"]  # one panel per parameter
    assert ylabel in axes[0].get_ylabel()
    for ax in axes:
        assert ax.get_xlabel() == "sample size n" and ax.get_xscale() == "log"
        found = gids(ax)
        assert found.count("estimator:mle") == 1 and found.count("estimator:mom") == 1
        assert ref_gid in found
    assert fig.legends, "one legend for the figure"
    assert "gamma" in fig.get_suptitle()


def test_rmse_reference_slope_passes_through_the_largest_n(metrics):
    fig = figures.rmse_figure(metrics, model="gamma", rate=-0.5, reference="mle")
    for ax in visible_axes(fig):
        (line,) = [ln for ln in ax.lines if ln.get_gid() == "reference:slope"]
        x, y = (np.asarray(v, dtype=float) for v in line.get_data())
        assert math.log(y[1] / y[0]) / math.log(x[1] / x[0]) == pytest.approx(-0.5)
        rmse, _ = metric_value(metrics, "gamma", "mle", ax.get_title(), max(SIZES), "rmse")
        assert x[-1] == max(SIZES) and y[-1] == pytest.approx(rmse)
        assert ax.get_yscale() == "log"


def test_efficiency_line_at_one_and_margin_band(metrics):
    fig = figures.efficiency_figure(metrics, model="gamma", margin=0.1)
    for ax in visible_axes(fig):
        (one,) = [ln for ln in ax.lines if ln.get_gid() == "reference:one"]
        assert set(np.asarray(one.get_ydata(), dtype=float)) == {1.0}
        assert "reference:margin" in gids(ax)
        # ±2 MCSE bands: one filled area per estimator
        assert sum(isinstance(c, PolyCollection) for c in ax.collections) == 2


def test_n_var_line_is_the_inverse_fisher_information(metrics, gamma_cell):
    fig = figures.n_var_figure(metrics, model="gamma")
    inverse = np.array(gamma_cell["inverse_fisher"])
    for j, ax in enumerate(visible_axes(fig)):
        (line,) = [ln for ln in ax.lines if ln.get_gid() == "reference:inverse_fisher"]
        assert float(line.get_ydata()[0]) == pytest.approx(inverse[j, j])
    assert "[I(θ)⁻¹]ⱼⱼ" in " ".join(t.get_text() for t in fig.legends[0].get_texts())


def test_coverage_nominal_line_and_band(metrics):
    fig = figures.coverage_figure(metrics, model="exponential", level=LEVEL)
    (ax,) = visible_axes(fig)
    (line,) = [ln for ln in ax.lines if ln.get_gid() == "reference:nominal"]
    assert float(line.get_ydata()[0]) == LEVEL
    assert "reference:band" in gids(ax)
    assert f"{100 * LEVEL:g}%" in ax.get_ylabel()


def test_metric_figure_needs_one_model_and_theta(metrics):
    with pytest.raises(ValueError, match="one \\(model, θ\\)"):
        figures.bias_figure(metrics)


def test_estimator_styles_are_stable_and_colour_blind_palette():
    import seaborn as sns

    styles = figures.estimator_styles(["mle", "mom", "unbiased"])
    assert list(styles) == ["mle", "mom", "unbiased"]
    assert styles["mle"]["color"] == pytest.approx(sns.color_palette("colorblind")[0])
    assert [c.upper() for c in sns.palettes.SEABORN_PALETTES["colorblind"]] == list(style.COLORBLIND_HEX)
    assert len({s["marker"] for s in styles.values()}) == 3
    assert list(figures.estimator_styles(pd.Series(["mom", "mle", "mom"]))) == ["mom", "mle"]


def test_frozen_seaborn_style_is_seaborns():
    import seaborn as sns

    expected = {**sns.axes_style("ticks"), **sns.plotting_context("paper")}
    expected.pop("image.cmap")  # seaborn's own colormap; no figure uses one
    assert style.SEABORN_TICKS_PAPER.keys() == expected.keys()
    for key, value in expected.items():
        assert style.SEABORN_TICKS_PAPER[key] == (pytest.approx(value) if isinstance(value, float) else value)


def _text_boxes(fig: Figure) -> list[tuple[str, object]]:
    """(text, window extent) of every visible, non-empty text the figure draws."""
    from matplotlib.text import Text

    with figures.figure_style():  # as save_figure draws
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        # Tick labels of ticks outside the view exist but are not drawn.
        undrawn = set()
        for ax in fig.axes:
            for axis in (ax.xaxis, ax.yaxis):
                lo, hi = sorted(axis.get_view_interval())
                for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                    if not lo - 1e-9 * (hi - lo) <= tick.get_loc() <= hi + 1e-9 * (hi - lo):
                        undrawn |= {id(tick.label1), id(tick.label2)}
        return [(t.get_text(), t.get_window_extent(renderer), t.axes) for t in fig.findobj(Text)
                if t.get_visible() and t.get_text().strip() and id(t) not in undrawn]  # fmt: skip


def _figures_to_check(metrics, z_table, study):
    reps = study.replicates(model="exponential")
    intervals = prepare.wald_intervals(reps, param="rate", level=LEVEL)
    many = pd.concat([z_table.assign(n=z_table["n"] * k) for k in (1, 1000)], ignore_index=True)
    yield "efficiency", figures.efficiency_figure(metrics, model="gamma", margin=0.1)
    yield "coverage", figures.coverage_figure(metrics, model="exponential", level=LEVEL)
    yield "qq (one row, legend right)", figures.qq_figure(z_table, param="shape")
    yield "density (two rows, legend in the empty slot)", figures.density_figure(many, param="rate")
    yield "zip", figures.zip_figure(intervals, theta=2.0, level=LEVEL)


def test_fixed_layout_keeps_text_apart_and_inside_the_figure(metrics, z_table, study):
    """The margins are computed, not measured: check them against the rendered extents (no
    two texts overlap, none leaves the figure, the legend covers no panel)."""
    for name, fig in _figures_to_check(metrics, z_table, study):
        boxes = _text_boxes(fig)
        bounds = fig.bbox
        panels = visible_axes(fig)
        for text, box, owner in boxes:
            assert box.x0 >= bounds.x0 - 1 and box.x1 <= bounds.x1 + 1, (name, text, "leaves the figure")
            assert box.y0 >= bounds.y0 - 1 and box.y1 <= bounds.y1 + 1, (name, text, "leaves the figure")
            for ax in panels:  # tick labels, titles and notes stay off the other panels
                if ax is not owner:
                    assert not box.overlaps(ax.bbox), (name, text, "over another panel")
        for i, (a, box_a, _) in enumerate(boxes):
            for b, box_b, _ in boxes[i + 1:]:
                overlap_x = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
                overlap_y = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
                assert overlap_x <= 0.5 or overlap_y <= 0.5, (name, a, b, "overlap")
        legend = fig.legends[0].get_window_extent(fig.canvas.get_renderer())
        for ax in panels:
            assert not legend.overlaps(ax.get_window_extent()), (name, "legend over a panel")


def test_the_report_joint_label_is_the_metrics_one():
    from simstudy.metrics.summarise import JOINT

    assert style.JOINT == JOINT


# ---- distribution figures ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def z_table(gamma_reps, gamma_cell):
    inv = np.array(gamma_cell["inverse_fisher"])
    return prepare.standardized_estimates(
        gamma_reps, inverse_fisher={p: inv[j, j] for j, p in enumerate(gamma_cell["params"])}
    )


def test_standardized_estimates_use_usable_fits_and_the_crlb(gamma_reps, gamma_cell, z_table):
    usable = gamma_reps[gamma_reps.status.astype(str).isin(["ok", "boundary"])]
    row = usable.iloc[0]
    inv = np.array(gamma_cell["inverse_fisher"])
    expected = (row["shape"] - 2.0) / math.sqrt(inv[0, 0] / row["n"])
    got = z_table[(z_table.param == "shape") & (z_table.rep == row["rep"]) & (z_table.n == row["n"])
                  & (z_table.estimator == row["estimator"])].z  # fmt: skip
    assert float(got.iloc[0]) == pytest.approx(expected)
    assert len(z_table) == 2 * len(usable)


def test_qq_grid_one_panel_per_n_with_every_estimator(z_table):
    fig = figures.qq_figure(z_table, param="shape")
    axes = visible_axes(fig)
    assert len(axes) == len(SIZES)
    assert [ax.get_title() for ax in axes] == [f"n = {n}" for n in SIZES]
    for ax in axes:
        assert "reference:identity" in gids(ax)
        assert sorted(g for g in gids(ax) if g.startswith("estimator:")) == ["estimator:mle", "estimator:mom"]
    assert "N(0, 1)" in fig.get_supxlabel() and "z" in fig.get_supylabel()
    assert [t.get_text() for t in fig.legends[0].get_texts()][:2] == ["mle", "mom"]


def test_grid_wraps_at_four_columns_and_keeps_x_ticks_above_a_hidden_panel(z_table):
    many = pd.concat([z_table.assign(n=z_table["n"] * k) for k in (1, 1000)], ignore_index=True)
    fig = figures.qq_figure(many, param="shape", estimators=["mle"])
    assert len(fig.axes) == 2 * len(SIZES) == 6  # 2 rows of 4, the last 2 slots empty
    rows = {}
    for ax in fig.axes:
        rows.setdefault(round(ax.get_position().y0, 6), []).append(ax)
    top, bottom = (rows[y] for y in sorted(rows, reverse=True))
    assert len(top) == 4 and len(bottom) == 2
    labelled = [ax.xaxis.get_tick_params()["labelbottom"] for ax in top]
    assert labelled == [False, False, True, True]  # the panels above the empty slots keep them
    assert [ax.yaxis.get_tick_params()["labelleft"] for ax in top] == [True, False, False, False]


def test_qq_panel_thins_to_max_points_keeping_the_tails(z_table):
    idx = figures.qq_positions(1000, max_points=100, tail=10)
    assert len(idx) == 100 and list(idx[:10]) == list(range(10))
    assert list(idx[-10:]) == list(range(990, 1000))
    fig = figures.qq_figure(z_table, param="rate", max_points=60, limit=50.0)
    for ax in visible_axes(fig):
        points = [ln for ln in ax.lines if (ln.get_gid() or "").startswith("estimator:")]
        assert [len(p.get_xdata()) for p in points] == [60, 60]


def test_density_grid_has_histograms_and_the_normal_density(z_table):
    fig = figures.density_figure(z_table, param="rate", ns=[20, 200])
    assert len(visible_axes(fig)) == 2
    for ax in visible_axes(fig):
        found = gids(ax)
        assert "reference:normal" in found
        assert sorted(g for g in found if g.startswith("estimator:")) == ["estimator:mle", "estimator:mom"]
        (line,) = [ln for ln in ax.lines if ln.get_gid() == "reference:normal"]
        _x, y = line.get_data()
        assert float(np.max(y)) == pytest.approx(1 / math.sqrt(2 * math.pi), rel=1e-4)
    assert fig.get_supylabel() == "density"


def test_zip_plot_reference_lines_and_coverage(study, metrics):
    reps = study.replicates(model="exponential")
    intervals = prepare.wald_intervals(reps, param="rate", level=LEVEL)
    # the plot's coverage is the metrics table's coverage
    at = intervals[(intervals.n == 200) & (intervals.estimator == "mle")]
    cov, _ = metric_value(metrics, "exponential", "mle", "rate", 200, "coverage")
    assert at.covers.mean() == pytest.approx(cov)
    assert at.centile.max() == 1.0 and at.sort_values("centile").abs_z.is_monotonic_increasing
    fig = figures.zip_figure(intervals, theta=2.0, level=LEVEL)
    axes = visible_axes(fig)
    assert len(axes) == 2 and axes[0].get_title().startswith("mle")
    for ax in axes:
        found = gids(ax)
        for gid in ("reference:theta", "reference:nominal", "reference:coverage", "intervals:covers"):
            assert gid in found
        (theta,) = [ln for ln in ax.lines if ln.get_gid() == "reference:theta"]
        assert float(theta.get_xdata()[0]) == 2.0
        (nominal,) = [ln for ln in ax.lines if ln.get_gid() == "reference:nominal"]
        assert float(nominal.get_ydata()[0]) == LEVEL
    assert "n = 200" in fig.get_suptitle()  # the largest n by default


def test_mahalanobis_qq_against_chi2(gamma_reps, gamma_cell):
    t = prepare.mahalanobis_statistics(gamma_reps, fisher=np.array(gamma_cell["fisher"]),
                                       params=gamma_cell["params"])  # fmt: skip
    row = t.iloc[0]
    rep = gamma_reps[(gamma_reps.rep == row.rep) & (gamma_reps.n == row.n)
                     & (gamma_reps.estimator == row.estimator)].iloc[0]  # fmt: skip
    d = np.array([rep["shape"] - 2.0, rep["rate"] - 1.5])
    assert row["T"] == pytest.approx(row.n * d @ np.array(gamma_cell["fisher"]) @ d)
    fig = figures.mahalanobis_qq_figure(t, df=2)
    assert len(visible_axes(fig)) == len(SIZES)
    for ax in visible_axes(fig):
        assert "reference:identity" in gids(ax)
        assert sum(g.startswith("estimator:") for g in gids(ax)) == 2
    assert fig.get_supxlabel() == "χ²₂ quantile"
    # the χ² quantiles are scipy's
    from scipy import stats

    assert figures._chi2_quantile(0.9, 2) == pytest.approx(stats.chi2.ppf(0.9, 2))


def test_save_figure_writes_each_format_deterministically(metrics, tmp_path):
    from PIL import Image

    fig = figures.bias_figure(metrics, model="exponential")
    paths = figures.save_figure(fig, tmp_path, "bias_x", formats=("png", "pdf", "svg"))
    assert [p.name for p in paths] == ["bias_x.png", "bias_x.pdf", "bias_x.svg"]
    pdf = paths[1].read_bytes()
    assert pdf.startswith(b"%PDF") and b"<svg" in paths[2].read_bytes()
    # TrueType (Type 42) fonts embedded, no Type 3: what publishers require
    assert b"/FontFile2" in pdf and b"/Type3" not in pdf
    dpi = Image.open(paths[0]).info["dpi"]
    assert round(dpi[0]) == figures.PNG_DPI
    first = [p.read_bytes() for p in paths]
    again = figures.save_figure(figures.bias_figure(metrics, model="exponential"), tmp_path,
                                "bias_x", formats=("png", "pdf", "svg"))  # fmt: skip
    assert [p.read_bytes() for p in again] == first
    with pytest.raises(ValueError, match="png, pdf, svg"):
        figures.save_figure(fig, tmp_path, "x", formats=("jpg",))


def test_png_files_hold_exactly_the_pixels_matplotlib_renders(metrics, tmp_path):
    from PIL import Image

    fig = figures.bias_figure(metrics, model="exponential")
    (path,) = figures.save_figure(fig, tmp_path, "bias_x", formats=("png",))
    reference = io.BytesIO()
    with figures.figure_style():
        fig.savefig(reference, format="png", dpi=figures.PNG_DPI, facecolor="white")
    ours, theirs = Image.open(path), Image.open(reference)
    assert ours.size == theirs.size and ours.info["dpi"] == pytest.approx(theirs.info["dpi"], abs=0.01)
    assert np.array_equal(np.asarray(ours), np.asarray(theirs))


def test_a_recycled_figure_draws_the_pixels_of_a_new_one(metrics, z_table, gamma_reps, gamma_cell, study):
    """``simstudy report`` draws each figure on the last one of its kind and geometry
    (:func:`figures.recycle`): whatever the first figure set must not show in the second."""
    intervals = prepare.wald_intervals(study.replicates(model="exponential"), param="rate", level=LEVEL)
    t = prepare.mahalanobis_statistics(gamma_reps, fisher=np.array(gamma_cell["fisher"]),
                                       params=gamma_cell["params"])  # fmt: skip
    scaled = metrics.assign(value=metrics["value"] * 3 + 0.01, mcse=metrics["mcse"] * 2)
    pairs = {  # (first, second): same kind and geometry, different data and options
        "bias": (lambda: figures.bias_figure(metrics, model="gamma"),
                 lambda: figures.bias_figure(scaled, model="gamma", title="other")),
        "n_var (log y, then linear)": (lambda: figures.n_var_figure(metrics, model="gamma", logy=True),
                                       lambda: figures.n_var_figure(scaled, model="gamma", logy=False)),
        "efficiency": (lambda: figures.efficiency_figure(metrics, model="gamma", margin=0.1),
                       lambda: figures.efficiency_figure(metrics, model="gamma")),
        "qq": (lambda: figures.qq_figure(z_table, param="shape"),
               lambda: figures.qq_figure(z_table, param="rate", limit=3.0)),
        "density": (lambda: figures.density_figure(z_table, param="shape", limit=2.0),
                    lambda: figures.density_figure(z_table, param="rate")),
        "zip": (lambda: figures.zip_figure(intervals, theta=2.0, level=LEVEL),
                lambda: figures.zip_figure(intervals, theta=2.0, level=0.9, n=int(intervals["n"].min()))),
        "mahalanobis": (lambda: figures.mahalanobis_qq_figure(t, df=2),
                        lambda: figures.mahalanobis_qq_figure(t.assign(T=t["T"] * 1.5), df=2)),
    }  # fmt: skip
    for name, (first, second) in pairs.items():
        figures._SPARE.clear()
        new = second()
        expected = figures._png_bytes(new)
        drawn_first = first()
        figures._png_bytes(drawn_first)
        figures.recycle(drawn_first)
        again = second()
        assert again is drawn_first, (name, "the spare figure was not reused")
        assert figures._png_bytes(again) == expected, (name, "a recycled figure shows other pixels")
        assert len(again.legends) == len(new.legends) == 1
    figures._SPARE.clear()


def test_png_encoder_round_trips_any_rgba_image():
    from PIL import Image

    from simstudy.report import png

    rgba = np.random.default_rng(7).integers(0, 256, size=(5, 3, 4), dtype=np.uint8)
    decoded = Image.open(io.BytesIO(png.encode(rgba, 150)))
    assert decoded.mode == "RGBA" and np.array_equal(np.asarray(decoded), rgba)
    assert round(decoded.info["dpi"][0]) == 150
    with pytest.raises(ValueError, match="height, width, 4"):
        png.encode(rgba[..., :3], 150)


def test_figure_stems_are_deterministic_file_names():
    stem = figures.figure_stem("zip", "gamma", '{"shape":2.0,"rate":1.5}', param="shape", n=1000)
    assert stem == "zip_gamma_shape=2_rate=1.5_param=shape_n=1000"
    assert re.fullmatch(r"[\w.=-]+", stem)


# ---- tables -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value, mcse, text", [
    (0.224545, 0.018148, "0.225 (0.018)"),   # 181.. -> two digits
    (0.9425, 0.005205, "0.943 (0.005)"),     # 520.. -> one digit; half up
    (1234.5, 56.0, "1230 (60)"),
    (0.5, 0.0097, "0.500 (0.010)"),          # 970 -> rounds up to 0.010, two digits
    (-0.00004, 0.0012, "0.0000 (0.0012)"),   # no negative zero
    (2.0, 0.0, "2.000"),                     # exact: four significant digits
    (float("nan"), 0.1, "NA"),
])  # fmt: skip
def test_value_mcse_rounding_rule(value, mcse, text):
    assert tables.format_estimate(value, mcse) == text


# The PDG rule at each of its boundaries, around several powers of ten: three leading digits
# 100-354 keep two significant digits, 355-949 one, 950-999 round up to two digits of the next
# decade; the value is rounded to the MCSE's decimal place (expected strings by hand).
@pytest.mark.parametrize("value, mcse, text", [
    (1.23456, 0.00354, "1.2346 (0.0035)"),   # 354 -> two digits
    (1.23456, 0.00355, "1.235 (0.004)"),     # 355 -> one digit
    (1.23456, 0.00949, "1.235 (0.009)"),     # 949 -> one digit
    (1.23456, 0.0095, "1.235 (0.010)"),      # 950 -> 0.010, two digits, same place as 0.01
    (1.23456, 0.00100, "1.2346 (0.0010)"),   # 100 -> two digits (exact power of ten)
    (1.23456, 0.0035449, "1.2346 (0.0035)"),  # 354.49 rounds to 354
    (1.23456, 0.003545, "1.235 (0.004)"),    # 354.5 rounds half up to 355
    (1.23456, 0.0094949, "1.235 (0.009)"),   # 949.49 rounds to 949 (not via 949.5 to 950)
    (0.5, 0.354, "0.50 (0.35)"),
    (0.5, 0.355, "0.5 (0.4)"),
    (0.5, 0.949, "0.5 (0.9)"),
    (0.5, 0.95, "0.5 (1.0)"),
    (0.5, 0.1, "0.50 (0.10)"),
    (123.456, 35.4, "123 (35)"),
    (123.456, 35.5, "120 (40)"),
    (123.456, 94.9, "120 (90)"),
    (123.456, 95.0, "120 (100)"),
    (-2.71828, 0.0000354, "-2.718280 (0.000035)"),
    (-2.71828, 0.0000355, "-2.71828 (0.00004)"),
])  # fmt: skip
def test_rounding_rule_at_its_boundaries(value, mcse, text):
    assert tables.format_estimate(value, mcse) == text


@pytest.mark.parametrize("mcse, decimals", [
    (0.00354, 4), (0.00355, 3), (0.00949, 3), (0.0095, 3), (0.001, 4), (0.00099, 4),
    (0.354, 2), (0.355, 1), (0.95, 1), (1.0, 1), (35.4, 0), (35.5, -1), (95.0, -1), (354.0, -1),
])  # fmt: skip
def test_mcse_decimal_place(mcse, decimals):
    assert tables.mcse_decimals(mcse) == decimals


def test_siunitx_compact_uncertainty():
    assert tables.siunitx_estimate(0.224545, 0.018148) == "0.225(18)"
    assert tables.siunitx_estimate(1234.5, 56.0) == "1230(60)"
    assert tables.siunitx_estimate(float("nan"), 1.0) == "{--}"


def _parse(cell: str) -> tuple[float, float]:
    m = re.fullmatch(r"(-?[\d.]+) \(([\d.]+)\)", cell)
    assert m, cell
    return float(m.group(1)), float(m.group(2))


def test_performance_table_values_match_the_metrics(metrics):
    table = tables.performance_table(metrics)
    assert list(table.columns) == ["model", "θ", "estimator", "parameter", "n", "bias", "EmpSE",
                                   "RMSE", "efficiency", "coverage"]  # fmt: skip
    assert len(table) == (2 * 1 + 2 * 2) * len(SIZES)  # (model, estimator, parameter) x n
    # study order: models as run, parameters as declared, n ascending
    assert list(table.model.unique()) == ["exponential", "gamma"]
    assert list(table[table.model == "gamma"].parameter.unique()) == ["shape", "rate"]
    for header, metric in [("bias", "bias"), ("RMSE", "rmse"), ("coverage", "coverage"),
                           ("efficiency", "efficiency")]:  # fmt: skip
        for row in table.sample(5, random_state=1).itertuples(index=False):
            cell = row[list(table.columns).index(header)]
            value, mcse = _parse(cell)
            true, true_mcse = metric_value(metrics, row.model, row.estimator, row.parameter, row.n, metric)
            decimals = len(cell.split(" ")[0].partition(".")[2])
            assert abs(value - true) <= 0.5 * 10.0**-decimals + 1e-12
            assert abs(mcse - true_mcse) <= 0.5 * 10.0**-decimals + 1e-12


def test_markdown_tables_are_pipe_tables(metrics, study):
    for text in (tables.performance_markdown(metrics), tables.verdicts_markdown(study.verdicts)):
        header, rule, *body = text.strip().split("\n")
        assert re.fullmatch(r"\|(---:?\|)+", rule), rule  # the header separator
        columns = header.count(" | ") + 1
        assert rule.count("|") == columns + 1
        for line in [header, *body]:
            assert line.startswith("| ") and line.endswith(" |") and line.count(" | ") == columns - 1


def _check_latex(text: str, rows: int, columns: int) -> None:
    begins = re.findall(r"\\begin\{(\w+)\}", text)
    ends = re.findall(r"\\end\{(\w+)\}", text)
    assert begins == list(reversed(ends)) == ["longtable"]
    for rule in ("\\toprule", "\\midrule", "\\bottomrule"):
        assert rule in text
    body = text.split("\\endlastfoot", 1)[1].split("\\end{longtable}")[0]
    data = [line for line in body.strip().split("\n") if line.endswith("\\\\")]
    assert len(data) == rows
    assert all(line.count(" & ") == columns - 1 for line in data)
    assert text.count("{") == text.count("}")


def test_latex_tables_are_balanced_booktabs(metrics, study, tmp_path):
    perf = tables.performance_latex(metrics, caption="Performance")
    _check_latex(perf, rows=len(tables.performance_table(metrics)), columns=10)
    assert "S[table-format=" in perf and "\\caption{Performance}" in perf
    verdict = tables.verdicts_latex(study.verdicts)
    _check_latex(verdict, rows=len(tables.verdict_table(study.verdicts)), columns=9)
    assert "$\\checkmark$" in verdict
    if shutil.which("pdflatex"):
        doc = ("\\documentclass{article}\\usepackage{booktabs,longtable,siunitx,amssymb}"
               "\\usepackage[utf8]{inputenc}\\begin{document}\n" + perf + verdict + "\\end{document}\n")
        (tmp_path / "t.tex").write_text(doc)
        proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "t.tex"], cwd=tmp_path,
                              capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
        assert proc.returncode == 0, proc.stdout[-3000:]


def test_verdict_table_marks_expectations(study):
    verdicts = study.verdicts
    table = tables.verdict_table(verdicts)
    assert list(table.columns[:4]) == ["model", "θ", "parameter", "estimator"]
    assert len(table) == 2 + 4  # (model, parameter, estimator)
    mom = verdicts[(verdicts.estimator == "mom") & (verdicts.property == "efficient")
                   & (verdicts.param == "shape")].iloc[0]  # fmt: skip
    cell = table[(table.estimator == "mom") & (table.parameter == "shape")]["efficient"].iloc[0]
    assert cell.startswith(mom.verdict) and "(expected fail)" in cell
    assert (tables.MET in cell) == bool(mom.met)


# ---- the document and `simstudy report` -------------------------------------------------------


def test_report_cells_and_zip_n_select_what_is_drawn(study):
    cfg = study.config
    fams = {f.model: f for f in document.families(study.manifest)}
    assert document.selected_estimators(cfg, fams["exponential"]) == ["mle"]
    assert document.selected_estimators(cfg, fams["gamma"]) == []
    assert document.zip_n(cfg, fams["gamma"]) == max(SIZES)
    jobs = document.figure_jobs(study, study.metrics)
    kinds = [(key[0], kind) for key, kind, _, _ in jobs]
    assert kinds == [("exponential", "rmse"), ("exponential", "zip"), ("gamma", "rmse")]


def test_build_writes_the_report_and_reuses_unchanged_figures(study, monkeypatch):
    root = study.root
    stale = root / "figures" / "qq_old_x=1.png"
    stale.parent.mkdir(exist_ok=True)
    stale.write_bytes(b"old")
    keep = root / "figures" / "notes.txt"
    keep.write_text("mine")
    written = document.build(study, formats=("png",), workers=1)
    assert not stale.exists() and keep.exists()
    md = (root / "report.md").read_text()
    # the verdict table comes first, then the definition, run facts and the models
    order = [md.index(h) for h in ("## Verdicts", "## Study definition", "## Run facts",
                                   "### exponential (rate=2)", "### gamma")]  # fmt: skip
    assert order == sorted(order)
    assert "name: tiny-report" in md and "seed 99" in md
    for link in re.findall(r"\]\(([^)]+)\)", md):
        assert (root / link).is_file(), link
    page = (root / "report.html").read_text()
    assert "<script" not in page and not re.search(r"(src|href)=\"https?:", page)
    assert page.count("<img ") == len([p for p in written if p.suffix == ".png"])

    def drawn(*_args):
        raise RuntimeError("redrawn")

    monkeypatch.setattr(render, "_draw", drawn)
    assert document.build(study, formats=("png",), workers=1) == written  # all reused
    with pytest.raises(RuntimeError, match="redrawn"):  # another format must be drawn
        document.build(study, formats=("png", "svg"), workers=1)


def _digest(folder: Path) -> dict[str, tuple[str, int]]:
    return {str(p.relative_to(folder)): (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip


def test_simstudy_report_cli_is_reproducible_and_never_loads_numba(study, tmp_path):
    """Two runs of ``simstudy report`` in fresh interpreters: the first draws the figures, the
    second reuses them; tables and report are byte-identical."""
    root = tmp_path / study.root.name
    shutil.copytree(study.root, root)
    for folder in ("tables", "figures"):
        shutil.rmtree(root / folder, ignore_errors=True)
    blocks = _digest(root / "store")
    script = ("import sys; from simstudy.cli import main; code = main(['report', sys.argv[1], "
              "'--quiet']); assert code == 0, code; "
              "assert 'numba' not in sys.modules, 'numba imported'; "
              "assert not any(m.startswith(('simstudy.engine', 'simstudy.rng', 'simstudy.special', "
              "'simstudy.executors')) for m in sys.modules)")  # fmt: skip
    outputs = []
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", SIMSTUDY_REPORT_WORKERS="1")
    for _ in range(2):
        proc = subprocess.run([sys.executable, "-c", script, str(root)], capture_output=True,
                              text=True, timeout=300, env=env, check=False)  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        outputs.append({p.name: p.read_bytes() for p in sorted((root / "tables").iterdir())}
                       | {"report.md": (root / "report.md").read_bytes(),
                          "report.html": (root / "report.html").read_bytes()})  # fmt: skip
    assert outputs[0] == outputs[1]
    assert {"performance.csv", "performance.md", "performance.tex", "verdicts.csv"} <= set(outputs[0])
    assert _digest(root / "store") == blocks  # no block rewritten or touched
    assert sorted(p.name for p in (root / "figures").iterdir()) == [  # PNG by default
        ".render-cache.json", "rmse_exponential_rate=2.png", "rmse_gamma_shape=2_rate=1.5.png",
        "zip_exponential_rate=2_param=rate_n=200.png",
    ]
    csv = pd.read_csv(root / "tables" / "performance.csv")
    assert len(csv) == len(tables.performance_table(study.metrics))


def test_a_worker_process_draws_the_same_bytes(study, tmp_path):
    (_, _, _, job), *_ = document.figure_jobs(study, study.metrics)
    (here,) = render._draw(job, str(tmp_path / "here"), ("png",))
    assert render._run_workers([(job, ("png",))], tmp_path / "worker", 1)
    assert Path(here).read_bytes() == (tmp_path / "worker" / f"{job.stem}.png").read_bytes()


def test_report_after_a_margin_edit_recomputes_verdicts_from_the_stored_metrics(study, tmp_path,
                                                                                monkeypatch):  # fmt: skip
    """``simstudy report`` after editing ``checks:``: a margin (or alpha) changes only the
    verdicts, which follow from the stored metrics without reading a replicate; a check the
    metrics depend on (the coverage level) recomputes them."""
    import yaml

    import simstudy.metrics
    from simstudy.cli import main
    from simstudy.verdicts import compute_verdicts

    root = tmp_path / study.root.name
    shutil.copytree(study.root, root)
    monkeypatch.setenv("SIMSTUDY_REPORT_WORKERS", "1")

    def edit_checks(**changes):
        data = yaml.safe_load((root / "study.yaml").read_text())
        data["checks"] = {**data.get("checks", {}), **changes}
        (root / "study.yaml").write_text(yaml.safe_dump(data, sort_keys=False))

    stored_metrics = (root / "metrics.parquet").read_bytes()
    stored = pd.read_parquet(root / "metrics.parquet")
    calls = []
    real = simstudy.metrics.compute_metrics
    monkeypatch.setattr(simstudy.metrics, "compute_metrics", lambda *a, **k: calls.append(1) or real(*a, **k))
    edit_checks(efficiency_margin=0.5, alpha=0.05)
    assert main(["report", str(root), "--quiet"]) == 0
    assert calls == [] and (root / "metrics.parquet").read_bytes() == stored_metrics
    reloaded = simstudy.load(root)
    assert reloaded.analysis_is_current()
    got = reloaded.verdicts
    # Decided by hand from the stored metrics at the largest n: efficiency ± z_{0.95}·MCSE
    # (α = 0.05 now, z from scipy) against 1 ± 0.5; coverage against LEVEL ± 0.015.
    from scipy import stats

    z = stats.norm.ppf(1 - 0.05)
    n = max(SIZES)

    def by_hand(stat, se, low, high):
        lo, hi = stat - z * se, stat + z * se
        return "PASS" if low <= lo and hi <= high else "FAIL" if hi < low or lo > high else "INCONCLUSIVE"

    checked = 0
    for _, row in got[got["property"].isin(["efficient", "wald_coverage"])].iterrows():
        metric = "efficiency" if row["property"] == "efficient" else "coverage"
        value, mcse = metric_value(stored, row["model"], row["estimator"], row["param"], n, metric)
        band = (0.5, 1.5) if metric == "efficiency" else (LEVEL - 0.015, LEVEL + 0.015)
        assert row["verdict"] == by_hand(value, mcse, *band), row.to_dict()
        checked += 1
    assert checked == 2 * (1 + 1 + 2 + 2)  # exponential: 2 estimators x 1 param; gamma: 2 x 2
    efficient = got[(got["property"] == "efficient") & (got["estimator"] == "mom")]
    assert (efficient["margin"] == 0.5).all() and not efficient.empty
    # What the report stores is what compute_verdicts decides from the same metrics.
    recomputed = compute_verdicts(reloaded.metrics, reloaded.manifest, reloaded.config)
    pd.testing.assert_frame_equal(got, recomputed, check_dtype=False)
    before = study.verdicts
    was = before[(before["property"] == "efficient") & (before["estimator"] == "mom")]
    # the method of moments (efficiency about 0.6) fails within ±0.1 and passes within ±0.5
    assert set(was["verdict"]) == {"FAIL"} and set(efficient["verdict"]) == {"PASS"}
    assert "PASS ✗ (expected fail)" in (root / "tables" / "verdicts.csv").read_text()

    edit_checks(coverage_level=0.8)
    assert main(["report", str(root), "--quiet"]) == 0
    assert calls == [1]
    coverage = simstudy.load(root).metrics.query("metric == 'coverage'")["value"]
    assert coverage.mean() < study.metrics.query("metric == 'coverage'")["value"].mean() - 0.05


def _edit_report(root: Path, section: dict | None = None, **changes) -> None:
    """Rewrite study.yaml's ``report`` section: ``section`` replaces it (None: defaults);
    keyword arguments change single keys."""
    import yaml

    data = yaml.safe_load((root / "study.yaml").read_text())
    data["report"] = {**data["report"], **changes} if changes else section
    if data["report"] is None:
        del data["report"]
    (root / "study.yaml").write_text(yaml.safe_dump(data, sort_keys=False))


def test_report_formats_come_from_the_config_and_a_reuse_loads_no_replicate(study, tmp_path):
    """``report.formats`` picks the formats; a second report finds every figure current from
    its key alone: it reads no replicate and imports no plotting library."""
    root = tmp_path / study.root.name
    shutil.copytree(study.root, root)
    shutil.rmtree(root / "figures", ignore_errors=True)
    _edit_report(root, formats=["png", "pdf"])
    script = ("import sys; from simstudy.cli import main; from simstudy.study import StudyResult; "
              "StudyResult.replicates = None; "  # reading a replicate would fail
              "assert main(['report', sys.argv[1], '--quiet']) == 0; "
              "assert not {'matplotlib', 'seaborn', 'scipy.stats'} & set(sys.modules), 'plotting imported'")  # fmt: skip
    first = subprocess.run([sys.executable, "-m", "simstudy", "report", str(root), "--quiet"],
                           capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert first.returncode == 0, first.stderr
    names = sorted(p.name for p in (root / "figures").glob("*.*") if p.suffix != ".json")
    assert len(names) == 6 and {Path(n).suffix for n in names} == {".png", ".pdf"}
    again = subprocess.run([sys.executable, "-c", script, str(root)], capture_output=True, text=True,
                           timeout=300, check=False)  # fmt: skip
    assert again.returncode == 0, again.stderr


def _expected_stems(study) -> list[str]:
    """Every figure the default ``report`` section asks for in the tiny study."""
    stems = []
    for fam in document.families(study.manifest):
        for kind in document.METRIC_FIGURES:
            stems.append(style.figure_stem(kind, fam.model, fam.theta))
        for p in fam.params:
            stems += [style.figure_stem("qq", fam.model, fam.theta, param=p),
                      style.figure_stem("density", fam.model, fam.theta, param=p),
                      style.figure_stem("zip", fam.model, fam.theta, param=p, n=max(SIZES))]  # fmt: skip
        if len(fam.params) > 1:
            stems.append(style.figure_stem("mahalanobis_qq", fam.model, fam.theta))
    return sorted(stems)


def test_a_report_from_scratch_writes_every_figure_the_same_with_any_number_of_workers(study, tmp_path):
    root = tmp_path / study.root.name
    shutil.copytree(study.root, root)
    _edit_report(root, None)  # the default report section: every figure, all cells
    result = simstudy.load(root)
    assert result.config.report.figures == document.FIGURES
    expected = _expected_stems(result)
    assert len(expected) == 2 * 5 + 3 * 3 + 1
    drawn = {}
    for workers in (2, 1):  # forked workers, then in-process
        shutil.rmtree(root / "figures", ignore_errors=True)
        written = document.build(result, workers=workers)
        assert not figures._SPARE  # recycled figures are released once the report is written
        figs = sorted(p for p in written if p.parent.name == "figures")
        assert [p.stem for p in figs] == expected and all(p.suffix == ".png" for p in figs)
        drawn[workers] = {p.name: p.read_bytes() for p in figs}
        md = (root / "report.md").read_text()
        assert all(f"figures/{stem}.png" in md for stem in expected)
    assert drawn[1] == drawn[2]


def test_a_current_report_is_not_redone_and_a_changed_input_redoes_it(tmp_path):
    """The report stamp: same inputs, formats and report code, every file present -> nothing is
    rewritten; a changed input (here the verdicts) or a missing file -> rebuilt."""
    import simstudy
    from simstudy.report import current_report

    study = {"name": "stamp", "seed": 2, "replications": 60, "sample_sizes": [20, 40, 80],
             "models": [{"model": "exponential", "params": {"rate": 1.0}}],
             "report": {"figures": ["bias"], "cells": []}}  # fmt: skip
    result = simstudy.run(study, out=tmp_path)
    files = current_report(result)
    assert files and (result.root / "report.md") in files
    stamps = {f: f.stat().st_mtime_ns for f in files}
    assert result.write_report() == files
    assert {f: f.stat().st_mtime_ns for f in files} == stamps  # nothing rewritten
    (result.root / "figures" / next(f.name for f in files if f.parent.name == "figures")).unlink()
    assert current_report(result) is None  # a file is missing
    result.write_report()
    assert current_report(result) is not None
    verdicts = result.root / "verdicts.json"
    verdicts.write_text(verdicts.read_text().replace('"all_met"', '"all_met" ', 1))
    assert current_report(result) is None  # an input changed


def test_report_after_a_run_without_analysis_recomputes_the_metrics(tmp_path):
    """`run --replications R' --no-report` changes the replicates; the next `report` must not
    reuse the metrics of the old R (its stamp of the manifest no longer matches)."""
    import simstudy

    study = {"name": "grown", "seed": 2, "replications": 30, "sample_sizes": [20, 40, 80],
             "models": [{"model": "exponential", "params": {"rate": 1.0}}],
             "report": {"figures": ["bias"], "cells": []}}  # fmt: skip
    first = simstudy.run(study, out=tmp_path)
    assert set(first.metrics.n_ok) == {30}
    grown = simstudy.run(study, out=tmp_path, replications=50, report=False)
    assert not grown.analysis_is_current()
    from simstudy.cli import main

    assert main(["report", str(grown.root), "--quiet"]) == 0
    again = simstudy.load(grown.root)
    assert set(again.metrics.n_ok) == {50} and again.analysis_is_current()
    assert "R = 50 replications per cell" in (grown.root / "report.md").read_text()
