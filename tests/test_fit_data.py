"""``simstudy.fit`` checks its data; ``fit``, ``check_model`` and ``get_model`` resolve models.

Generic over ``list_models()`` like test_models.py: every case is built from a model's
declarations (its ``Support``, ``data_width``, estimators and their ``min_n``), never from its
name. Bad data raise ``ModelError`` naming the model, the offending index and value and what is
allowed; valid data reach the kernel unchanged. The declarations are checked against the
model's own sampler and against SciPy (an independent reference).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest

import simstudy
from simstudy import rng
from simstudy.errors import PluginError
from simstudy.models import (
    NO_MLE,
    POSITIVE,
    REALS,
    STATUS_CODES,
    ModelError,
    Support,
    _registry,
    get_model,
    list_models,
)
from simstudy.models._base import USABLE_STATUSES, se_slots
from simstudy.testing import check_model, typical_theta

ROOT = Path(__file__).resolve().parents[1]
#: Observations (rows) of the valid samples the bad values are planted in, and the index.
N_VALID, BAD_ROW = 50, 3

MODELS = [get_model(name) for name in list_models()]
IID = [m for m in MODELS if m.data_width == 1]
REGRESSION = [m for m in MODELS if m.data_width > 1]
ESTIMATOR_CASES = [
    pytest.param(m.name, est, id=f"{m.name}-{est}") for m in MODELS for est in m.estimators
]
MIN_N_CASES = [
    pytest.param(m.name, est, id=f"{m.name}-{est}")
    for m in MODELS
    for est, e in m.estimators.items()
    if e.min_n > 1
]


def _bad_values(support: Support) -> list[float]:
    """Values the support excludes: NaN and ±inf, the next float beyond each finite end, an
    open end itself, the next integer beyond a finite end of an integer support, and a
    non-integer inside an integer support."""
    values = [math.nan, math.inf, -math.inf]
    for end, is_open, beyond in ((support.low, support.low_open, -math.inf),
                                 (support.high, support.high_open, math.inf)):  # fmt: skip
        if math.isfinite(end):
            values.append(float(np.nextafter(end, beyond)))
            if is_open:
                values.append(end)
            if support.integer:
                values.append(end + math.copysign(1.0, beyond))
    if support.integer:
        values.append((support.low if math.isfinite(support.low) else 0.0) + 0.5)
    return values


BAD_VALUE_CASES = [
    pytest.param(m.name, v, id=f"{m.name}-{v!r}") for m in MODELS for v in _bad_values(m.support)
]


def _valid(model, n, rep=0, theta=None):
    """A sample of n observations (rows) from the model's NumPy sampler."""
    theta = typical_theta(model) if theta is None else np.asarray(theta, dtype=np.float64)
    return model.numpy_sample(rng.numpy_generator(20261121, 7, rep, 0), theta, n)


def _kernel_fit(model, estimator, x):
    theta, se = np.full(model.k, np.nan), np.full(se_slots(model.k), np.nan)
    status, n_iter = model.estimator(estimator).fit(np.ascontiguousarray(x), theta, se)
    return int(status), int(n_iter), theta, se


def _typical_grid(model):
    """The midpoint θ and each parameter at the ends of its typical range (others at the
    midpoint), keeping only points inside the model's constraints."""
    mid = typical_theta(model)
    points = [mid]
    for j, p in enumerate(model.params):
        for end in p.typical:
            points.append(np.concatenate([mid[:j], [end], mid[j + 1 :]]))
    ok = []
    for theta in points:
        try:
            model.check_theta(dict(zip(model.param_names, theta)))
        except ModelError:
            continue
        ok.append(theta)
    return ok


# ---------------------------------------------------------------------------------------------
# Values outside the declared support
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "value"), BAD_VALUE_CASES)
def test_value_outside_the_support_names_model_index_value_and_support(name, value):
    model = get_model(name)
    rows = _valid(model, N_VALID).reshape(N_VALID, model.data_width)
    rows[BAD_ROW, 0] = value  # the value, or the response y of a regression row
    flat = rows.reshape(-1)
    index = BAD_ROW * model.data_width
    with pytest.raises(ModelError) as info:
        simstudy.fit(name, flat)
    message = str(info.value)
    assert f"fit {name}:" in message
    assert f"data[{index}]" in message and f"= {value!r} " in message, message
    assert str(model.support) in message, message
    if model.data_width > 1:  # the (n, p + 1) form names row and column
        with pytest.raises(ModelError, match=rf"data\[{BAD_ROW}, 0\] \(y of row {BAD_ROW}\)"):
            simstudy.fit(name, rows)


@pytest.mark.parametrize("name", [m.name for m in REGRESSION])
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_covariate_names_its_row_and_column(name, value):
    model = get_model(name)
    rows = _valid(model, N_VALID).reshape(N_VALID, model.data_width)
    col = model.data_width - 1
    rows[BAD_ROW, col] = value
    with pytest.raises(ModelError) as info:
        simstudy.fit(name, rows)
    message = str(info.value)
    assert name in message and f"= {value!r} " in message, message
    assert f"data[{BAD_ROW}, {col}] (x_{col - 1} of row {BAD_ROW})" in message, message


def test_the_first_offending_value_is_reported():
    for model in IID:
        x = _valid(model, N_VALID)
        x[[5, 9]] = math.nan
        with pytest.raises(ModelError, match=r"data\[5\] = nan is not a number"):
            simstudy.fit(model, x)


# ---------------------------------------------------------------------------------------------
# Shapes, empty data, too few observations
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", [m.name for m in IID])
def test_iid_model_rejects_2d_data_instead_of_flattening_it(name):
    model = get_model(name)
    x = _valid(model, N_VALID).reshape(N_VALID // 2, 2)
    for data in (x, x.reshape(-1, 1), np.float64(x[0, 0])):
        with pytest.raises(ModelError, match="1-D array") as info:
            simstudy.fit(name, data)
        assert name in str(info.value)
    with pytest.raises(ModelError, match=r"has shape \(25, 2\)"):
        simstudy.fit(name, x)


@pytest.mark.parametrize("name", [m.name for m in REGRESSION])
def test_regression_model_rejects_a_wrong_row_width(name):
    model = get_model(name)
    w = model.data_width
    rows = _valid(model, N_VALID).reshape(N_VALID, w)
    for bad in (rows[:, :-1], np.column_stack([rows, rows[:, -1]])):
        with pytest.raises(ModelError, match=rf"shape \({N_VALID}, {bad.shape[1]}\)") as info:
            simstudy.fit(name, bad)
        assert name in str(info.value) and f"shape (n, {w})" in str(info.value)
    with pytest.raises(ModelError, match=rf"{N_VALID * w + 1} values, not a multiple of"):
        simstudy.fit(name, np.append(rows.reshape(-1), 1.0))


@pytest.mark.parametrize("name", list_models())
def test_empty_data(name):
    model = get_model(name)
    for data in ([], np.empty((0, model.data_width))) if model.data_width > 1 else ([],):
        with pytest.raises(ModelError, match=f"fit {name}: data is empty"):
            simstudy.fit(name, data)


@pytest.mark.parametrize(("name", "estimator"), MIN_N_CASES)
def test_too_few_observations_for_the_estimator(name, estimator):
    model = get_model(name)
    min_n = model.estimator(estimator).min_n
    with pytest.raises(ModelError) as info:
        simstudy.fit(name, _valid(model, min_n - 1), estimator)
    message = str(info.value)
    assert name in message and repr(estimator) in message, message
    assert f"at least {min_n} " in message and f"got {min_n - 1}" in message, message
    simstudy.fit(name, _valid(model, min_n), estimator)  # min_n itself is accepted


@pytest.mark.parametrize(("name", "estimator"), MIN_N_CASES)
def test_below_min_n_the_kernel_has_no_estimate_for_any_sample(name, estimator):
    """Refusing fewer than ``min_n`` observations takes nothing away: the kernel says no_mle."""
    model = get_model(name)
    min_n = model.estimator(estimator).min_n
    below = {_kernel_fit(model, estimator, _valid(model, min_n - 1, rep))[0] for rep in range(20)}
    assert below == {NO_MLE}


@pytest.mark.parametrize(("name", "estimator"), ESTIMATOR_CASES)
def test_at_min_n_the_kernel_can_estimate(name, estimator):
    """Some sample of ``min_n`` observations gets a usable status: the declared minimum is not
    below what the kernel needs (a forgotten ``min_n`` fails here) nor, with the test above,
    above it."""
    model = get_model(name)
    min_n = model.estimator(estimator).min_n
    usable = any(
        _kernel_fit(model, estimator, _valid(model, min_n, rep))[0] in USABLE_STATUSES
        for rep in range(500)
    )
    assert usable, f"no sample of size {min_n} gets an estimate from {name} {estimator}"


# ---------------------------------------------------------------------------------------------
# Valid data: the kernel's answer, unchanged
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("name", "estimator"), ESTIMATOR_CASES)
def test_valid_sample_gives_the_kernels_estimate(name, estimator):
    model = get_model(name)
    x = _valid(model, 200)
    status, n_iter, theta, se = _kernel_fit(model, estimator, x)
    shapes = [x, x.tolist()] + ([x.reshape(200, model.data_width)] if model.data_width > 1 else [])
    for data in shapes:
        result = simstudy.fit(name, data, estimator)
        np.testing.assert_array_equal([result.estimate[p] for p in model.param_names], theta)
        np.testing.assert_array_equal([result.se[p] for p in model.param_names], se[: model.k])
        assert result.status == STATUS_CODES[status]
        assert result.n_iter == n_iter


# ---------------------------------------------------------------------------------------------
# The declarations against the model's sampler and SciPy
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", list_models())
def test_samples_satisfy_the_declared_support(name):
    model = get_model(name)
    for theta in _typical_grid(model):
        rows = _valid(model, 5000, theta=theta).reshape(-1, model.data_width)
        assert model.support.contains(rows[:, 0]).all(), (
            f"{name} at {theta}: draws outside {model.support}: "
            f"{np.unique(rows[~model.support.contains(rows[:, 0]), 0])[:10]}"
        )
        assert np.isfinite(rows[:, 1:]).all()
    if model.data_width == 1:
        assert model.support.integer == bool(model.tags.get("discrete", False))


@pytest.mark.parametrize("name", [m.name for m in IID])
def test_declared_support_agrees_with_scipy(name):
    """SciPy's support is the declared one (a model whose support depends on θ, which is not
    regular, may declare a wider one); a closed finite end has a finite log density at the
    midpoint θ, an open one does not (density 0 or unbounded there)."""
    model = get_model(name)
    theta = typical_theta(model)
    dist = model.scipy_dist(theta)
    lo, hi = dist.support()
    s = model.support
    assert s.low == lo
    assert s.high == hi if model.regular else s.high >= hi
    log_density = dist.logpmf if s.integer else dist.logpdf
    for end, is_open in ((s.low, s.low_open), (s.high, s.high_open)):
        if math.isfinite(end) and (model.regular or end in (lo, hi)):
            with np.errstate(divide="ignore"):
                finite = bool(np.isfinite(log_density(end)))
            assert finite != is_open, f"{name}: log density {log_density(end)} at the end {end}"


def test_support_display_and_construction():
    assert [str(s) for s in (REALS, Support(0.0), Support(0.0, low_open=False))] == [
        "(-inf, inf)", "(0, inf)", "[0, inf)",
    ]  # fmt: skip
    assert str(Support.integers(0)) == "{0, 1, 2, ...}"
    assert str(Support.integers(0, 2)) == "{0, 1, 2}"
    assert str(Support.integers(0, 9)) == "{0, 1, ..., 9}"
    assert str(Support.of_interval(POSITIVE)) == "(0, inf)"
    with pytest.raises(ValueError, match="integers"):
        Support(0.0, 1.0, integer=True)  # open ends of an integer support
    with pytest.raises(ValueError, match="low < high"):
        Support(1.0, 1.0)
    np.testing.assert_array_equal(
        Support.integers(0, 2).contains([0.0, 2.0, 1.5, 3.0, -1.0, math.nan]),
        [True, True, False, False, False, False],
    )


# ---------------------------------------------------------------------------------------------
# Model references: built-in name, plugin "package.module:Class", Model object
# ---------------------------------------------------------------------------------------------
@pytest.fixture
def in_configs(monkeypatch):
    """The current directory is configs/ (my_models.py), with the plugin imported afresh."""
    monkeypatch.chdir(ROOT / "configs")
    monkeypatch.setattr(_registry, "_PLUGINS", {})
    monkeypatch.delitem(sys.modules, "my_models", raising=False)
    monkeypatch.setattr(sys, "path", [p for p in sys.path if p not in ("", ".")])


def test_fit_get_model_and_check_model_accept_a_plugin_reference(in_configs, capsys):
    from simstudy.cli import main

    model = simstudy.get_model("my_models:Rayleigh")
    assert model.name == "rayleigh" and model.tags["plugin"] == "my_models:Rayleigh"
    assert model.support == Support(0.0)  # declared in my_models.py
    x = _valid(model, 1000, theta=[1.5])
    result = simstudy.fit("my_models:Rayleigh", x)
    assert result.status == "ok"
    assert result.estimate["sigma"] == pytest.approx(np.sqrt((x**2).sum() / 2000), rel=1e-8)
    with pytest.raises(ModelError, match=r"fit rayleigh: data\[1\] = -1.0 is outside the support"):
        simstudy.fit("my_models:Rayleigh", [1.0, -1.0])
    assert check_model("my_models:Rayleigh").ok
    assert main(["check-model", "my_models:Rayleigh"]) == 0
    assert "check-model rayleigh" in capsys.readouterr().out


def test_fit_get_model_and_check_model_accept_a_model_object():
    model = get_model("exponential")
    assert simstudy.get_model(model) is model
    x = _valid(model, 100)
    assert simstudy.fit(model, x) == simstudy.fit("exponential", x)
    some = ["theta_accepted", "score_mean_zero"]
    assert [r.line() for r in check_model(model, checks=some)] == [
        r.line() for r in check_model("exponential", checks=some)]  # fmt: skip
    with pytest.raises(ModelError, match="a model is a built-in name"):
        simstudy.get_model(3.0)
    with pytest.raises(ModelError, match="unknown model 'exponentail'"):
        simstudy.fit("exponentail", x)


def test_plugin_support_must_be_a_support_or_an_interval(in_configs):
    from simstudy.estimators import import_reference
    from simstudy.models._plugin import build_model

    class Stringly(import_reference("my_models:Rayleigh", base_dir=Path.cwd())):
        support = "(0, inf)"

    with pytest.raises(PluginError, match="`support` must be a simstudy.models.Support"):
        build_model(Stringly, "my_models:Stringly")
