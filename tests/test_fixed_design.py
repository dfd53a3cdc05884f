"""Fixed regression designs read from CSV/Parquet files: the rows, the per-n Fisher information,
the config errors, and a study whose finite-n Cramér-Rao bound is exact."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

import simstudy
from simstudy.models import get_model
from simstudy.models._design import FixedDesign, read_design_file
from simstudy.testing import check_model

#: Rows of the test design file: 200 divides check_model's 20 000 draws, so its averages run
#: over whole copies of the file and the limit information applies exactly.
ROWS = 200


@pytest.fixture
def design_csv(tmp_path):
    gen = np.random.default_rng(11)
    frame = pd.DataFrame({
        "age": np.round(gen.normal(0.0, 1.0, ROWS), 3),
        "treated": (gen.random(ROWS) < 0.4).astype(int),
        "site": gen.choice(["north", "south"], ROWS),
    })  # fmt: skip
    path = tmp_path / "design.csv"
    frame.to_csv(path, index=False)
    return path


def _spec(path, **extra):
    return {"file": str(path), "columns": ["age", "treated"], **extra}


def test_rows_are_the_file_recycled_with_an_intercept(design_csv):
    design = read_design_file(design_csv, ["age", "treated"])
    frame = pd.read_csv(design_csv)
    x = design.rows(2 * ROWS + 7)
    assert x.shape == (2 * ROWS + 7, 3) and (x[:, 0] == 1.0).all()
    np.testing.assert_array_equal(x[:ROWS, 1:], frame[["age", "treated"]].to_numpy(float))
    np.testing.assert_array_equal(x[ROWS : 2 * ROWS], x[:ROWS])
    np.testing.assert_array_equal(x[2 * ROWS :], x[:7])
    no_intercept = read_design_file(design_csv, ["age"], intercept=False)
    assert no_intercept.p == 1 and no_intercept.coefficient_names() == ["b1"]


@pytest.mark.parametrize("name", ["linear_gaussian", "logistic", "poisson_regression"])
def test_kernel_writes_the_oracle_rows_bit_for_bit(name, design_csv, kernel_sample):
    from simstudy import rng

    model = get_model(name, _spec(design_csv))
    assert isinstance(model.design, FixedDesign)
    theta = np.array([0.2, 0.5, -0.4] + ([1.5] if name == "linear_gaussian" else []))
    n = ROWS + 33  # crosses the end of the file
    ours = kernel_sample(model, theta, n, rep=5)
    from tests.conftest import TEST_CELL_KEY, TEST_SEED

    gen = rng.numpy_generator(TEST_SEED, TEST_CELL_KEY, 5, 0)
    np.testing.assert_array_equal(ours, model.numpy_sample(gen, theta, n))
    rows = ours.reshape(n, model.data_width)
    np.testing.assert_array_equal(rows[:, 1:], model.design.rows(n))


def test_per_n_information_is_exact(design_csv):
    """n·I_n(θ) = XᵀWX over the first n rows, against statsmodels' Hessians (-XᵀWX)."""
    import statsmodels.api as sm

    beta = np.array([-0.3, 0.8, 0.5])
    for name, family in [("logistic", sm.Logit), ("poisson_regression", sm.Poisson)]:
        model = get_model(name, _spec(design_csv))
        for n in (37, ROWS, 3 * ROWS + 1):
            x = model.design.rows(n)
            hessian = family(np.zeros(n), x).hessian(beta)
            np.testing.assert_allclose(n * model.information(beta, n), -hessian, rtol=1e-12)
        # the n-free `fisher` is the limit: the average over the file's rows
        np.testing.assert_allclose(model.information(beta), model.information(beta, ROWS))
    linear = get_model("linear_gaussian", _spec(design_csv))
    theta = np.append(beta, 2.0)
    x = linear.design.rows(50)
    info = linear.information(theta, 50)
    np.testing.assert_allclose(info[:3, :3], x.T @ x / 50 / 2.0, rtol=1e-12)
    assert info[3, 3] == pytest.approx(1 / (2 * 2.0**2)) and not info[:3, 3].any()
    assert not np.allclose(linear.information(theta, 50), linear.information(theta, ROWS))


@pytest.mark.parametrize("name", ["linear_gaussian", "logistic", "poisson_regression"])
def test_fixed_design_models_pass_the_model_checks(name, design_csv):
    model = get_model(name, _spec(design_csv))
    report = check_model(model)
    assert report.ok, "\n".join(report.lines())


def test_parquet_and_csv_designs_are_the_same_design(design_csv, tmp_path):
    parquet = tmp_path / "design.parquet"
    pd.read_csv(design_csv).to_parquet(parquet)
    a = read_design_file(design_csv, ["age", "treated"])
    b = read_design_file(parquet, ["age", "treated"])
    assert a == b and a.digest == b.digest and a.describe() != ""


def _study(path, **design):
    return {
        "name": "fixed", "seed": 9, "replications": 20, "sample_sizes": [40],
        "models": [{"model": "logistic", "params": {"b0": 0.0, "b1": 1.0, "b2": 0.5},
                    "design": {"file": str(path), **design}}],
    }  # fmt: skip


@pytest.mark.parametrize(
    "content, design, message",
    [
        (None, {}, r"models\[0\]\.design\.file: design file .* does not exist"),
        ("a,b\n1,2\n2,y\n", {"columns": ["a", "b"]},
         r"column 'b' is not numeric \(data row 2 is 'y'\)"),
        ("a,b\n1,2\n3,\n", {"columns": ["a", "b"]}, r"column 'b', data row 2 is nan"),
        ("a,b\n1,2\n", {"columns": ["a", "c"]}, r"has no column 'c'; its columns are a, b"),
        ("a,b\n", {"columns": ["a", "b"]}, r"has no rows"),
        ("a,b\n1,2\n", {"covariates": [{"dist": "normal"}]}, r"either covariates .* or a file"),
    ],
)
def test_bad_design_files_are_located_errors(tmp_path, content, design, message):
    path = tmp_path / "x.csv"
    if content is not None:
        path.write_text(content)
    with pytest.raises(simstudy.StudyConfigError, match=message):
        simstudy.run(_study(path, **design), out=tmp_path / "out", report=False)
    odd = tmp_path / "x.xlsx"
    odd.write_text("a\n1\n")
    with pytest.raises(simstudy.StudyConfigError, match=r"use a \.csv or \.parquet file"):
        simstudy.run(_study(odd), out=tmp_path / "out", report=False)


def test_relative_design_path_is_relative_to_the_study_file(tmp_path, design_csv, monkeypatch):
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "rows.csv").write_text(design_csv.read_text())
    cfg = _study("rows.csv", columns=["age", "treated"])
    (folder / "s.yaml").write_text(yaml.safe_dump(cfg))
    monkeypatch.chdir(tmp_path)  # not the study's folder
    from simstudy.config import load_config

    config = load_config(folder / "s.yaml")
    assert config.models[0].design.file == str((folder / "rows.csv").resolve())


def test_the_design_contents_are_part_of_the_cell_identity(tmp_path, design_csv):
    from simstudy.config import parse_config
    from simstudy.plan import make_plan

    cfg = _study(design_csv, columns=["age", "treated"])
    key = make_plan(parse_config(cfg)).cells[0].data_key
    frame = pd.read_csv(design_csv)
    frame.loc[0, "age"] += 1.0
    frame.to_csv(design_csv, index=False)
    assert make_plan(parse_config(cfg)).cells[0].data_key != key


def test_fixed_design_makes_the_finite_n_bound_exact(tmp_path, design_csv):
    """Least squares under a fixed X has Var(β̂) = σ²(XᵀX)⁻¹ exactly, which is the Cramér-Rao
    bound at each n: efficiency is 1 within its MCSE even at n = 30. Under a random design
    with the same moments the bound uses E[xxᵀ] and Var(β̂) = σ²E[(XᵀX)⁻¹] is larger by about
    n/(n-p-1) (Wishart mean), so efficiency there sits near (n-p-1)/n = 0.87."""
    params = {"b0": 1.0, "b1": 0.5, "b2": -0.5, "sigma2": 2.0}
    fixed = {"name": "fx", "seed": 21, "replications": 4000, "sample_sizes": [30, 200],
             "models": [{"model": "linear_gaussian", "params": params,
                         "design": _spec(design_csv)}]}  # fmt: skip
    result = simstudy.run(fixed, out=tmp_path / "fixed", report=False)
    m = result.metrics
    for n in (30, 200):
        for p in ("b1", "b2"):
            row = m[(m.n == n) & (m.param == p) & (m.metric == "efficiency")].iloc[0]
            assert abs(row.value - 1.0) < 4 * row.mcse, (n, p, row.value, row.mcse)
    infos = {c["n"]: np.array(c["fisher"]) for c in result.cells}
    x30 = get_model("linear_gaussian", _spec(design_csv)).design.rows(30)
    np.testing.assert_allclose(infos[30][:3, :3], x30.T @ x30 / 30 / 2.0, rtol=1e-12)
    random = {**fixed, "name": "rd", "sample_sizes": [30]}
    random["models"] = [{"model": "linear_gaussian", "params": params, "design": {
        "covariates": [{"dist": "normal", "mean": 0.0, "sd": 1.0},
                       {"dist": "bernoulli", "p": 0.4}]}}]  # fmt: skip
    rm = simstudy.run(random, out=tmp_path / "random", report=False).metrics
    row = rm[(rm.n == 30) & (rm.param == "b1") & (rm.metric == "efficiency")].iloc[0]
    assert row.value + 4 * row.mcse < 1.0
