"""``simstudy analyse``: estimates computed elsewhere judged exactly as a run's.

The reference is a real study: its replications are regenerated with plain NumPy from the
run's own streams and fitted with NumPy (as another program would), written as a tidy table
in shuffled row order with other rep ids, and analysed; every metric but the likelihood-ratio
one equals the run's to ~1e-12 and the verdicts are the same. The rest checks the folder
(study.yaml, manifest, blocks), the command line (closing lines, --quiet, --expect, report,
verify, replay), every bad-table message (exit 2, nothing written) and the no-SE rules.
Reports are kept small (``report=False`` or one figure) except in the one CLI run.
"""

from __future__ import annotations

import io
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml
from clitools import assert_user_error, main_in_process

import simstudy
from simstudy import rng
from simstudy.cli import _verdict_summary
from simstudy.config import parse_config
from simstudy.errors import StoreError, StudyConfigError
from simstudy.plan import make_plan
from simstudy.study import RunSummary

ROOT = Path(__file__).resolve().parents[1]
SEED, RATE, SIZES, R = 20261202, 2.0, [20, 50, 100], 400
STUDY = {
    "name": "paired", "seed": SEED, "replications": R, "sample_sizes": SIZES,
    "models": [{"model": "exponential", "params": {"rate": RATE}, "estimators": ["mle", "unbiased"]}],
}  # fmt: skip
KEY = ["model", "estimator", "theta", "n", "param", "metric"]
SMALL_REPORT = {"figures": ["bias"], "cells": []}
#: The tests sharing the run and the CLI run (module fixtures) go to one xdist worker, so that
#: each fixture is built once.
PAIRED = pytest.mark.xdist_group("external-paired")


def simulate_table(study=STUDY) -> pd.DataFrame:
    """The study's estimates made without simstudy's engine: each replication's sample drawn
    with NumPy from the run's stream (seed, key1, rep), fitted by n/Σx and (n-1)/Σx with the SEs
    of simstudy/models/exponential.py; rep ids 7, 10, 13, ... and the rows shuffled."""
    plan = make_plan(parse_config(study))
    model = simstudy.get_model("exponential")
    rows = []
    for cell in plan.cells:
        n = cell.n
        for rep in range(study["replications"]):
            gen = rng.numpy_generator(study["seed"], cell.key1, rep, 0)
            total = model.numpy_sample(gen, np.array([RATE]), n).sum()
            mle, unbiased = n / total, (n - 1) / total
            rows.append(("mle", n, 3 * rep + 7, mle, mle / math.sqrt(n)))
            rows.append(("unbiased", n, 3 * rep + 7, unbiased, unbiased / math.sqrt(n - 2.0)))
    frame = pd.DataFrame(rows, columns=["estimator", "n", "rep", "rate", "rate_se"])
    return frame.sample(frac=1.0, random_state=5).reset_index(drop=True)


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    frame.to_csv(path, index=False, float_format="%.17g")  # round-trips every float64
    return path


@pytest.fixture(scope="module")
def paired(tmp_path_factory):
    """(table, CSV path, run result, its metrics and verdicts, analysed result)."""
    tmp = tmp_path_factory.mktemp("paired")
    table = simulate_table()
    csv = write_csv(table, tmp / "paired.csv")
    run = simstudy.run(STUDY, out=tmp / "run", report=False)
    run.analyse()
    # As written to metrics.parquet and verdicts.json, which is what an analysis returns too.
    run_metrics, run_verdicts = run.metrics, run.verdicts
    ext = simstudy.analyse(csv, model="exponential", theta={"rate": RATE}, out=tmp / "ext",
                           report=False)  # fmt: skip
    return table, csv, run, run_metrics, run_verdicts, ext


def assert_same_metrics(run_metrics: pd.DataFrame, ext_metrics: pd.DataFrame) -> None:
    """Every row and value of the run's metrics but ``wilks_rejection`` (it needs the
    likelihood of the data), to 1e-12 relative."""
    assert (run_metrics.metric == "wilks_rejection").any()
    assert not (ext_metrics.metric == "wilks_rejection").any()
    # Rows in one order (the table lists its estimators in another order than the study).
    a = run_metrics[run_metrics.metric != "wilks_rejection"].sort_values(KEY, ignore_index=True)
    b = ext_metrics.sort_values(KEY, ignore_index=True)
    assert a[KEY].equals(b[KEY])
    assert a[["n_ok", "n_failed"]].equals(b[["n_ok", "n_failed"]])
    # atol: excess kurtosis is ~1e-3 here, a difference of two O(1) terms.
    np.testing.assert_allclose(b.value, a.value, rtol=1e-12, atol=1e-14)
    # rel_precision's MCSE is 200·ratio²·sqrt((1 - ρ²)/(R - 1)) with ρ = 1 exactly here
    # ((n-1)/Σx is a multiple of n/Σx): a square root of rounding, ~1e-7 in either.
    rp = (a.metric == "rel_precision").to_numpy()
    np.testing.assert_allclose(b.mcse[~rp], a.mcse[~rp], rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(b.mcse[rp], a.mcse[rp], atol=1e-5)


def assert_same_verdicts(run_verdicts: pd.DataFrame, ext_verdicts: pd.DataFrame) -> None:
    text = ["model", "estimator", "theta", "param", "property", "verdict", "expected", "met",
            "margin", "detail"]  # fmt: skip
    order = ["estimator", "param", "property"]
    a = run_verdicts.sort_values(order, ignore_index=True)
    b = ext_verdicts.sort_values(order, ignore_index=True)
    assert a[text].equals(b[text])
    for col in ("statistic", "mcse", "replications_needed"):
        np.testing.assert_allclose(b[col].astype(float), a[col].astype(float), rtol=1e-9)


# --------------------------------------------------------------------------------------------
# The same estimates give the same analysis


@PAIRED
def test_analysis_of_the_table_equals_the_run(paired):
    _, _, _, run_metrics, run_verdicts, ext = paired
    assert_same_metrics(run_metrics, ext.metrics)
    assert_same_verdicts(run_verdicts, ext.verdicts)
    assert {"PASS", "INCONCLUSIVE"} <= set(ext.verdicts.verdict)  # both kinds are compared
    # The estimators in the order the table first names them.
    table = paired[0]
    assert ext.config.models[0].estimator_labels() == list(dict.fromkeys(table.estimator))


@PAIRED
def test_stored_blocks_have_the_runs_columns_with_reps_renumbered(paired):
    table, _, run, _, _, ext = paired
    for run_cell, ext_cell in zip(run.cells, ext.cells):
        assert (run_cell["n"], run_cell["theta"]) == (ext_cell["n"], ext_cell["theta"])
        assert run_cell["fisher"] == ext_cell["fisher"]
        assert run_cell["inverse_fisher"] == ext_cell["inverse_fisher"]
        for label in ("mle", "unbiased"):
            a = run.store.read_replicates(run_cell["estimators"][label]["result_key"], R)
            b = ext.store.read_replicates(ext_cell["estimators"][label]["result_key"], R)
            assert a.schema == b.schema
            assert b.column("rep").to_pylist() == list(range(R))
            assert set(b.column("n_iter").to_pylist()) == {0}
            assert np.isnan(b.column("lr_stat").to_numpy()).all()
            assert np.isfinite(a.column("lr_stat").to_numpy()).all()
            # rep id 3r + 7 of the table is replication r, whatever the row order was
            rows = table[(table.estimator == label) & (table.n == ext_cell["n"])].sort_values("rep")
            assert np.array_equal(b.column("rate").to_numpy(), rows.rate.to_numpy())
            np.testing.assert_allclose(b.column("rate").to_numpy(), a.column("rate").to_numpy(),
                                       rtol=1e-13)  # fmt: skip


@PAIRED
def test_study_yaml_and_manifest_describe_the_table(paired):
    import hashlib

    _, csv, _, _, _, ext = paired
    study = yaml.safe_load((ext.root / "study.yaml").read_text())
    assert study["name"] == "paired" and study["seed"] == 0 and study["replications"] == R
    assert study["sample_sizes"] == SIZES
    entry = study["models"][0]
    assert (entry["model"], entry["params"]) == ("exponential", {"rate": 2.0})
    assert entry["estimators"] == list(dict.fromkeys(paired[0].estimator))  # first named first
    external = ext.manifest["external"]
    assert external["table"] == str(csv) and external["format"] == "csv"
    assert external["sha256"] == hashlib.sha256(csv.read_bytes()).hexdigest()
    assert external["rows"] == 2 * R * len(SIZES)
    assert all(c["key1"] is None and c["status"] == "complete" for c in ext.cells)
    assert ext.manifest["rng"]["replay"] is None
    for name in ("metrics.parquet", "metrics.csv", "verdicts.json", "verdicts.csv"):
        assert (ext.root / name).is_file()
    assert not (ext.root / "report.md").exists()  # report=False


@PAIRED
def test_dataframe_and_parquet_give_the_same_analysis(paired, tmp_path):
    table, _, _, run_metrics, run_verdicts, _ = paired
    from_frame = simstudy.analyse(table, model="exponential", theta="rate=2", out=tmp_path,
                                  report=False)  # fmt: skip
    assert from_frame.root == tmp_path / "external"  # a DataFrame has no file name
    assert from_frame.manifest["external"]["table"] == "<DataFrame>"
    assert_same_metrics(run_metrics, from_frame.metrics)
    assert_same_verdicts(run_verdicts, from_frame.verdicts)
    table.to_parquet(tmp_path / "paired.parquet", index=False)
    from_parquet = simstudy.analyse(tmp_path / "paired.parquet", model="exponential",
                                    theta={"rate": 2}, out=tmp_path, report=False)  # fmt: skip
    assert from_parquet.manifest["external"]["format"] == "parquet"
    assert_same_metrics(run_metrics, from_parquet.metrics)


# --------------------------------------------------------------------------------------------
# Statuses, failed fits and missing standard errors


def test_statuses_and_failed_fits_count_as_the_engine_counts_them(tmp_path):
    frame = small_table()
    frame["status"] = ""
    rows = frame.index[(frame.estimator == "a") & (frame.n == 10)]  # reps 0..7
    frame.loc[rows[0], "rate"] = np.nan  # missing estimate, no status: not_converged
    frame.loc[rows[1], ["rate", "status"]] = [np.inf, "ok"]  # ok with a non-finite estimate
    frame.loc[rows[2], "status"] = "2"  # no_mle by its code, estimate kept but not used
    frame.loc[rows[3], "status"] = "boundary"  # a valid MLE: used
    result = simstudy.analyse(frame, model="exponential", theta="rate=2", out=tmp_path,
                              report=False)  # fmt: skip
    reps = result.replicates()
    first = reps[(reps.estimator == "a") & (reps.n == 10)].sort_values("rep")
    assert first.status.astype(str).tolist()[:4] == ["not_converged", "not_converged", "no_mle",
                                                     "boundary"]  # fmt: skip
    m = result.metrics.set_index(KEY)
    cell = ("exponential", "a", '{"rate":2.0}', 10, "rate")
    assert m.loc[cell + ("fail_rate",), "value"] == pytest.approx(3 / 8)
    assert m.loc[cell + ("boundary_rate",), "value"] == pytest.approx(1 / 8)
    assert m.loc[cell + ("mean",), "n_ok"] == 5
    key = next((c["data_key"], "a") for c in result.cells if c["n"] == 10)
    assert result.last_run.nonfinite[key] == 1  # named in the closing lines, as a run does
    assert "returned status ok with a non-finite estimate" in " ".join(
        _verdict_summary(result, result.verdicts, report=False))


def test_without_standard_errors_wald_coverage_is_skipped(tmp_path):
    frame = simulate_table().drop(columns=["rate_se"])
    result = simstudy.analyse(frame, model="exponential", theta="rate=2", out=tmp_path,
                              report={"figures": ["coverage", "zip", "bias"]})  # fmt: skip
    coverage = result.verdicts[result.verdicts.property == "wald_coverage"]
    assert len(coverage) == 2 and (coverage.verdict == "SKIPPED").all() and coverage.met.all()
    assert all("the table has no standard errors for rate" in d for d in coverage.detail)
    assert not result.metrics.metric.isin(["coverage", "modse"]).any()
    # The report has no Wald interval to draw: no zip or coverage figure, and no error.
    figures = sorted(p.name for p in (result.root / "figures").glob("*.png"))
    assert figures == ["bias_exponential_rate=2.png"]


@PAIRED
def test_an_estimator_without_standard_errors_is_skipped_with_its_name(paired):
    """The same rule for a run (e.g. a plugin that writes NaN SEs): SKIPPED, not INCONCLUSIVE."""
    from simstudy.verdicts import compute_verdicts

    _, _, run, run_metrics, _, _ = paired
    no_se = run_metrics[~(run_metrics.metric.isin(["coverage", "be_coverage", "modse",
                                                   "rel_err_modse"])
                          & (run_metrics.estimator == "unbiased"))]  # fmt: skip
    verdicts = compute_verdicts(no_se, run.manifest, run.config).set_index(["estimator", "property"])
    row = verdicts.loc[("unbiased", "wald_coverage")]
    assert row.verdict == "SKIPPED" and row.met
    assert row.detail.startswith("skipped: estimator 'unbiased' returned no finite standard errors")
    assert verdicts.loc[("mle", "wald_coverage")].verdict != "SKIPPED"


# --------------------------------------------------------------------------------------------
# Expectations


def small_table(sizes=(10, 20, 40), reps=8, labels=("a", "b")) -> pd.DataFrame:
    gen = np.random.default_rng(3)
    rows = [(label, n, rep, float(gen.gamma(n, 1 / (n * RATE)) ** -1 * 1.0), 0.5)
            for n in sizes for rep in range(reps) for label in labels]  # fmt: skip
    return pd.DataFrame(rows, columns=["estimator", "n", "rep", "rate", "rate_se"])


def test_expect_inline_file_and_mapping(tmp_path):
    frame = small_table()
    inline = simstudy.analyse(frame, model="exponential", theta="rate=2", out=tmp_path, name="a",
                              report=False, expect="{b: {efficient: fail}}")  # fmt: skip
    expected = inline.verdicts.set_index(["estimator", "property"]).expected
    assert expected[("b", "efficient")] == "fail" and expected[("a", "efficient")] == "pass"
    assert yaml.safe_load((inline.root / "study.yaml").read_text())["models"][0]["expect"] == {
        "b": {"efficient": "fail"}}
    rules = tmp_path / "expect.yaml"
    rules.write_text("a:\n  - {consistent: inconclusive}\n  - when: {rate: 2.0}\n    rate: {efficient: fail}\n")
    from_file = simstudy.analyse(frame, model="exponential", theta="rate=2", out=tmp_path,
                                 name="b", report=False, expect=rules)  # fmt: skip
    expected = from_file.verdicts.set_index(["estimator", "property"]).expected
    assert expected[("a", "consistent")] == "inconclusive" and expected[("a", "efficient")] == "fail"
    assert expected[("b", "efficient")] == "pass"
    as_mapping = simstudy.analyse(frame, model="exponential", theta="rate=2", out=tmp_path,
                                  name="c", report=False, expect={"a": {"efficient": "fail"}})  # fmt: skip
    assert as_mapping.verdicts.set_index(["estimator", "property"]).expected[("a", "efficient")] == "fail"


@pytest.mark.parametrize("expect, fragments", [
    ("{c: {efficient: fail}}", ["--expect: c: 'c' is not an estimator of this entry",
                                "its estimators are a, b"]),
    ("{a: {eficient: fail}}", ["--expect: a.eficient: unknown property 'eficient'",
                               "did you mean 'efficient'?"]),
    ("{a: {efficient: maybe}}", ["--expect: a.efficient:", "'maybe'"]),
    ("[a, b]", ["--expect: '[a, b]' is neither a YAML file nor a YAML mapping"]),
    ("nosuchfile.yaml", ["--expect: 'nosuchfile.yaml' is neither a YAML file"]),
    ("{a: {efficient: fail}", ["--expect: malformed YAML"]),
    ("FILE", ["rules.yaml:3: a[1].when.rate: 3.0 matches no cell", "[2.0]"]),
])  # fmt: skip
def test_bad_expect(tmp_path, monkeypatch, capsys, expect, fragments):
    write_csv(small_table(), tmp_path / "t.csv")
    (tmp_path / "rules.yaml").write_text("a:\n  - {efficient: fail}\n  - when: {rate: 3.0}\n    consistent: fail\n")
    expect = "rules.yaml" if expect == "FILE" else expect
    proc = main_in_process("analyse", "t.csv", "--model", "exponential", "--theta", "rate=2",
                           "--expect", expect, "--out", "out", cwd=tmp_path,
                           monkeypatch=monkeypatch, capsys=capsys)  # fmt: skip
    assert_user_error(proc, "analyse", *fragments)
    assert not (tmp_path / "out").exists()


# --------------------------------------------------------------------------------------------
# The command line, report, verify and replay


@pytest.fixture(scope="module")
def cli_run(paired, tmp_path_factory):
    """``simstudy analyse`` in a subprocess on the paired table with 10 of unbiased's fits at
    n = 20 failed (2.5%: named in the closing lines), full report."""
    table, *_ = paired
    tmp = tmp_path_factory.mktemp("cli")
    frame = table.copy()
    failed = frame.index[(frame.estimator == "unbiased") & (frame.n == 20)][:10]
    frame["status"] = ""
    frame.loc[failed, "status"] = "ok"
    frame.loc[failed, "rate"] = np.nan
    csv = write_csv(frame, tmp / "with-failures.csv")
    proc = subprocess.run([sys.executable, "-m", "simstudy", "analyse", str(csv), "--model",
                           "exponential", "--theta", "rate=2", "--out", str(tmp / "out"),
                           "--expect", "{unbiased: {asymptotically_normal: fail}}"],
                          cwd=ROOT, capture_output=True, text=True, timeout=600,
                          check=False)  # fmt: skip
    return proc, tmp / "out" / "with-failures"


@PAIRED
def test_cli_prints_the_runs_closing_lines(cli_run):
    proc, root = cli_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr
    assert "warning: R = 400 is too small to decide" in proc.stderr  # as `simstudy run` warns
    result = simstudy.load(root)
    # What the process knew and the folder does not keep: the 10 fits "ok" with no estimate.
    n20 = next(c["data_key"] for c in result.cells if c["n"] == 20)
    result.last_run = RunSummary(nonfinite={(n20, "unbiased"): 10})
    lines = proc.stdout.strip().splitlines()
    assert lines[0] == (f"read {2 * R * 3:,} rows of {root.parent.parent / 'with-failures.csv'} "
                        f"(2 estimators x 3 sample sizes x R = {R}); results in {root}")  # fmt: skip
    assert lines[1:] == _verdict_summary(result, result.verdicts, report=True)
    assert "estimators failing more than 1% of fits:" in lines
    failing = next(line for line in lines if " unbiased: " in line and "fits failed" in line)
    assert "10 of 1,200 fits failed" in failing and "not_converged 10" in failing
    assert "10 of them returned status ok with a non-finite estimate" in failing
    assert lines[-1].startswith("with-failures: 10 verdicts (") and "report.html" in lines[-1]
    assert "unbiased rate asymptotically_normal: PASS, expected FAIL" in proc.stdout
    for name in ("report.md", "report.html", "metrics.csv", "verdicts.json", "tables/performance.csv"):
        assert (root / name).is_file(), name
    assert (root / "figures" / "zip_exponential_rate=2_param=rate_n=100.png").is_file()
    assert "read by `simstudy analyse`" in (root / "report.md").read_text()


@PAIRED
def test_cli_quiet_keeps_the_last_line(paired, tmp_path, monkeypatch, capsys):
    write_csv(paired[0], tmp_path / "with-failures.csv")
    quiet = main_in_process("analyse", "with-failures.csv", "--model", "exponential", "--theta",
                            "rate=2", "--out", "out", "--quiet", "--no-report", cwd=tmp_path,
                            monkeypatch=monkeypatch, capsys=capsys)  # fmt: skip
    assert quiet.returncode == 0 and quiet.stderr == ""
    (line,) = quiet.stdout.strip().splitlines()
    assert line.startswith("with-failures: 10 verdicts (") and line.endswith(
        f"verdicts.csv and verdicts.json in {Path('out') / 'with-failures'}")
    assert not (tmp_path / "out" / "with-failures" / "report.md").exists()


@PAIRED
def test_report_and_verify_work_on_the_folder(cli_run, monkeypatch, capsys):
    _, root = cli_run
    proc = main_in_process("report", str(root), cwd=ROOT, monkeypatch=monkeypatch, capsys=capsys)
    assert proc.returncode == 0, proc.stderr
    assert "report.html" in proc.stdout  # rewritten, or said to be current
    assert (root / "report.html").is_file()
    proc = main_in_process("verify", str(root), "--quiet", cwd=ROOT, monkeypatch=monkeypatch,
                           capsys=capsys)  # fmt: skip
    assert proc.returncode == 1  # R = 400 leaves verdicts INCONCLUSIVE that are expected to pass


@PAIRED
def test_verify_exits_0_iff_every_verdict_is_as_expected(paired, tmp_path, monkeypatch, capsys):
    table, *_ = paired
    wide = {"efficiency_margin": 0.5, "coverage_margin": 0.1, "bias_margin": 1.0, "rate_margin": 0.5}
    simstudy.analyse(table, model="exponential", theta="rate=2", out=tmp_path, name="wide",
                     checks=wide, report=False)  # fmt: skip
    proc = main_in_process("verify", str(tmp_path / "wide"), "--no-report", cwd=ROOT,
                           monkeypatch=monkeypatch, capsys=capsys)  # fmt: skip
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.strip().splitlines()[-1].startswith("wide: 10 verdicts (10 PASS")
    simstudy.analyse(table, model="exponential", theta="rate=2", out=tmp_path, name="wide",
                     checks=wide, report=False, expect={"mle": {"efficient": "fail"}})  # fmt: skip
    proc = main_in_process("verify", str(tmp_path / "wide"), "--no-report", cwd=ROOT,
                           monkeypatch=monkeypatch, capsys=capsys)  # fmt: skip
    assert proc.returncode == 1
    assert "mle rate efficient: PASS, expected FAIL" in proc.stdout


@PAIRED
def test_replay_and_sample_are_refused(cli_run, monkeypatch, capsys):
    _, root = cli_run
    for args in ((), ("--cell", "0", "--rep", "3")):
        proc = main_in_process("replay", str(root), *args, cwd=ROOT, monkeypatch=monkeypatch,
                               capsys=capsys)  # fmt: skip
        assert_user_error(proc, "replay", "external cells have no samples to replay",
                          "with-failures.csv")  # fmt: skip
    result = simstudy.load(root)
    with pytest.raises(StoreError, match="no samples to regenerate"):
        result.sample("exponential", {"rate": 2.0}, 20, 0)
    from simstudy.study import replay

    with pytest.raises(StoreError, match="no samples to replay"):
        replay(result, 0, 0)


@PAIRED
def test_run_and_analyse_do_not_share_a_folder(paired, tmp_path, monkeypatch, capsys):
    table, *_ = paired
    simstudy.analyse(table, model="exponential", theta="rate=2", out=tmp_path, name="paired",
                     report=False)  # fmt: skip
    with pytest.raises(StoreError, match="holds estimates read from the table <DataFrame>"):
        simstudy.run(STUDY, out=tmp_path, report=False)
    _, _, run, *_ = paired
    with pytest.raises(StoreError, match="computed by `simstudy run`, not estimates"):
        simstudy.analyse(table, model="exponential", theta="rate=2", out=run.root.parent,
                         name="paired", report=False)  # fmt: skip


def test_another_table_replaces_the_folder_and_the_same_one_rewrites_it(tmp_path):
    first = small_table()
    a = simstudy.analyse(first, model="exponential", theta="rate=2", out=tmp_path, name="t",
                         report=SMALL_REPORT)  # fmt: skip
    keys_a = {i["result_key"] for c in a.cells for i in c["estimators"].values()}
    again = simstudy.analyse(first, model="exponential", theta="rate=2", out=tmp_path, name="t",
                             report=False)  # fmt: skip
    assert {i["result_key"] for c in again.cells for i in c["estimators"].values()} == keys_a
    assert len(again.manifest["runs"]) == 2 and (again.root / "report.md").is_file()
    second = first.copy()
    second["rate"] *= 1.01
    b = simstudy.analyse(second, model="exponential", theta="rate=2", out=tmp_path, name="t",
                         report=False)  # fmt: skip
    keys_b = {i["result_key"] for c in b.cells for i in c["estimators"].values()}
    assert not keys_a & keys_b
    assert sorted(p.name for p in (b.root / "store").iterdir()) == sorted(keys_b)
    assert len(b.manifest["runs"]) == 1
    # no report of the first table is left beside the second table's verdicts
    assert not (b.root / "report.md").exists() and not (b.root / "figures").exists()
    mean = b.metrics.set_index(KEY).loc[("exponential", "a", '{"rate":2.0}', 10, "rate", "mean"), "value"]
    assert mean == pytest.approx(first[(first.estimator == "a") & (first.n == 10)].rate.mean() * 1.01)


def test_a_model_object_and_a_theta_domain(tmp_path):
    import dataclasses

    model = simstudy.get_model("exponential")
    result = simstudy.analyse(small_table(), model=model, theta={"rate": 2.0}, out=tmp_path,
                              report=False)  # fmt: skip
    assert result.config.models[0].model == "exponential"
    with pytest.raises(StudyConfigError, match="neither a built-in model .* nor a plugin model"):
        simstudy.analyse(small_table(), model=dataclasses.replace(model, name="myexp"),
                         theta={"rate": 2.0}, out=tmp_path, report=False)  # fmt: skip
    with pytest.raises(StudyConfigError, match=r"theta: parameter 'rate' .* must lie in \(0, inf\)"):
        simstudy.analyse(small_table(), model="exponential", theta={"rate": -1.0}, out=tmp_path)


# --------------------------------------------------------------------------------------------
# Bad tables: exit 2, one message naming the column, row and fix, nothing written

GOOD = "estimator,n,rep,rate,rate_se\n" + "".join(
    f"{label},{n},{rep},2.{rep},0.5\n" for n in (10, 20) for rep in (1, 2, 3) for label in ("a", "b")
)  # fmt: skip
# GOOD's lines: 1 header, then (n=10: rep 1 a,b = lines 2,3; rep 2 = 4,5; rep 3 = 6,7), n=20: 8-13


def replace_line(line: int, text: str) -> str:
    lines = GOOD.splitlines()
    lines[line - 1] = text
    return "\n".join(lines) + "\n"


NORMAL = "estimator,n,rep,mu,sigma2,mu_se,sigma_se\n" + "".join(
    f"mle,10,{rep},0.1,1.1,0.3,0.4\n" for rep in range(3))
BAD_TABLES = {
    # id: (table text, extra arguments, fragments of the message)
    "missing-column": (GOOD.replace(",rate,", ",rat,"), (), [
        "t.csv: no column 'rate' (did you mean 'rat'?)",
        ("a table of model 'exponential' has the columns estimator, n, rep and one per "
         "parameter (rate)"), "this table's columns are estimator, n, rep, rat, rate_se"]),
    "missing-columns": (GOOD.replace("estimator,n,rep,", "est,size,rep,"), (), [
        "t.csv: no column 'estimator' (nor 'n')"]),
    "typo-se-column": (NORMAL, ("--model", "normal", "--theta", "mu=0,sigma2=1"), [
        "t.csv: unknown column 'sigma_se' (did you mean 'sigma2_se'?)",
        "rename a column you want kept in the table but not read to start with '_'"]),
    "unknown-column": (GOOD.replace("rate_se", "runtime"), (), ["unknown column 'runtime'"]),
    "unnamed-index": (GOOD.replace("estimator,", ",estimator,", 1).replace("\na,", "\n0,a,")
                      .replace("\nb,", "\n1,b,"), (), [
        "t.csv: column 1 has no name (a row index written with the table?)", "index=False"]),
    "duplicate-column": (GOOD.replace("rate_se", "rate"), (), [
        "t.csv: column 'rate' appears twice (columns 4 and 5); keep one of them"]),
    "non-numeric": (replace_line(5, "b,10,2,two,0.5"), (), [
        "t.csv:5: rate = 'two' is not a number; give the estimate, or nothing (NA) for a failed fit"]),
    "negative-se": (replace_line(9, "b,20,1,2.1,-0.5"), (), ["t.csv:9: rate_se = '-0.5' is negative"]),
    "non-integer-n": (replace_line(4, "a,10.5,2,2.2,0.5"), (), [
        "t.csv:4: n = '10.5' is not a whole number; n is the sample size, e.g. 100"]),
    "non-integer-rep": (replace_line(6, "a,10,x3,2.3,0.5"), (), [
        "t.csv:6: rep = 'x3' is not a whole number"]),
    "n-zero": (replace_line(6, "a,0,3,2.3,0.5"), (), ["t.csv:6: n = '0' must be >= 1"]),
    "empty-estimator": (replace_line(3, ",10,1,2.1,0.5"), (), ["t.csv:3: estimator is empty"]),
    "duplicate-row": (replace_line(6, "a,10,2,2.3,0.5"), (), [
        "t.csv: lines 4 and 6: estimator 'a', n=10, rep 2 appears twice",
        "keep one row per estimator, n and rep"]),
    "one-replication": ("estimator,n,rep,rate\na,10,1,2.0\n", (), [
        "t.csv:2: estimator 'a' has only 1 replication at n=10; give at least 2"]),
    "unpaired-rep": (replace_line(7, "b,10,4,2.3,0.5"), (), [
        "t.csv:7: rep 4 of n=10 has a row for estimator 'b' but none for 'a'",
        ("add the missing row (with status not_converged if that fit failed) or remove rep 4 "
         "of n=10 for every estimator")]),
    "estimator-missing-at-n": (GOOD.replace("b,20,1,", "c,20,1,").replace("b,20,2,", "c,20,2,")
                               .replace("b,20,3,", "c,20,3,"), (), [
        "t.csv: estimator 'c' has no rows at n=10 (estimator 'a' has 3)"]),
    "different-r": (GOOD + "a,20,4,2.4,0.5\nb,20,4,2.4,0.5\n", (), [
        "t.csv: n=10 has 3 replications per estimator but n=20 has 4; every n needs the same"]),
    "unknown-status": (GOOD.replace("rate_se\n", "rate_se,status\n").replace(",0.5\n", ",0.5,ok\n")
                       .replace("a,20,2,2.2,0.5,ok", "a,20,2,2.2,0.5,failed"), (), [
        ("t.csv:10: status = 'failed' is not a fit status; give one of ok (0), "
         "not_converged (1), no_mle (2), boundary (3)")]),
    "ragged-row": (replace_line(8, "a,20,1,2.1"), (), [
        "t.csv:8: 4 values, but the header (line 1) names 5 columns"]),
    "header-only": ("estimator,n,rep,rate\n", (), ["t.csv: the table has a header but no rows"]),
    "empty-file": ("", (), ["t.csv: the file is empty"]),
    "no-file": (None, (), ["t.csv: no such file; give the path of a CSV or Parquet table"]),
    "bad-parquet": ("PAR1 is not enough", (), ["t.csv: cannot be read as Parquet"]),
    "theta-missing": (GOOD, ("--model", "normal", "--theta", "mu=0"), [
        ("--theta: 'sigma2' of model 'normal' is missing; give every parameter, e.g. --theta "
         "mu=VALUE,sigma2=VALUE")]),
    "theta-domain": (GOOD, ("--theta", "rate=-2"), [
        "--theta: parameter 'rate' of model 'exponential' must lie in (0, inf); got -2.0"]),
    "theta-unknown": (GOOD, ("--theta", "lambda=2"), [
        "--theta: 'lambda' is not a parameter of 'exponential'; its parameters are rate"]),
    "theta-not-a-number": (GOOD, ("--theta", "rate=two"), ["--theta: 'rate=two' is not name=number"]),
    "unknown-model": (GOOD, ("--model", "exponentail"), [
        "--model: unknown model 'exponentail' (did you mean 'exponential'?)"]),
    "bad-name": (GOOD, ("--name", "My Study"), ["--name: study name 'My Study' is not allowed"]),
}  # fmt: skip


@pytest.mark.parametrize("key", BAD_TABLES)
def test_bad_table_exits_2_and_writes_nothing(tmp_path, monkeypatch, capsys, key):
    text, extra, fragments = BAD_TABLES[key]
    if text is not None:
        (tmp_path / "t.csv").write_text(text)
    options = {"--model": "exponential", "--theta": "rate=2"}
    rest = list(extra)
    for flag in list(options):
        if flag in rest:
            i = rest.index(flag)
            options[flag] = rest[i + 1]
            del rest[i : i + 2]
    args = ["analyse", "t.csv", *(x for kv in options.items() for x in kv), *rest, "--out", "out"]
    proc = main_in_process(*args, cwd=tmp_path, monkeypatch=monkeypatch, capsys=capsys)
    message = assert_user_error(proc, "analyse", *fragments)
    assert not (tmp_path / "out").exists(), message


def test_bad_table_in_a_subprocess_has_no_traceback(tmp_path):
    (tmp_path / "t.csv").write_text(replace_line(5, "b,10,2,two,0.5"))
    proc = subprocess.run([sys.executable, "-m", "simstudy", "analyse", str(tmp_path / "t.csv"),
                           "--model", "exponential", "--theta", "rate=2", "--out",
                           str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=False)  # fmt: skip
    assert_user_error(proc, "analyse", "t.csv:5: rate = 'two' is not a number")
    assert not (tmp_path / "out").exists()


def test_ignored_columns_blank_lines_and_other_delimiters(tmp_path):
    text = GOOD.replace("rate_se\n", "rate_se,_note\n").replace(",0.5\n", ",0.5,x\n")
    (tmp_path / "t.csv").write_text(text.replace("\na,20,1,", "\n\na,20,1,"))
    result = simstudy.analyse(tmp_path / "t.csv", model="exponential", theta="rate=2",
                              out=tmp_path / "out", report=False)  # fmt: skip
    assert result.manifest["external"]["columns"][-1] == "_note"
    (tmp_path / "s.csv").write_text(GOOD.replace(",", ";"))
    same = simstudy.analyse(tmp_path / "s.csv", model="exponential", theta="rate=2",
                            out=tmp_path / "out", report=False)  # fmt: skip
    pd.testing.assert_frame_equal(result.metrics, same.metrics)
    # a blank line does not shift the line numbers of messages
    (tmp_path / "u.csv").write_text(replace_line(9, "b,20,1,2.1,-0.5").replace("\na,20,1,", "\n\na,20,1,"))
    with pytest.raises(StudyConfigError, match=r"u.csv:10: rate_se = '-0.5' is negative"):
        simstudy.analyse(tmp_path / "u.csv", model="exponential", theta="rate=2", out=tmp_path)


def test_parquet_and_dataframe_rows_are_located(tmp_path):
    frame = pd.read_csv(io.StringIO(GOOD))
    frame["rate"] = frame["rate"].astype(object)
    frame.loc[3, "rate"] = "two"
    frame.index = [f"r{i}" for i in range(len(frame))]
    with pytest.raises(StudyConfigError, match=r"<DataFrame> row 'r3': rate = 'two' is not a number"):
        simstudy.analyse(frame, model="exponential", theta="rate=2", out=tmp_path)
    frame = frame.reset_index(drop=True)
    frame["rate"] = frame["rate"].replace("two", "2.5").astype(float)
    frame["n"] = frame["n"].astype(float)
    frame.loc[4, "n"] = 10.5
    frame.to_parquet(tmp_path / "t.parquet")
    with pytest.raises(StudyConfigError, match=r"t.parquet: data row 5: n = 10.5 is not a whole number"):
        simstudy.analyse(tmp_path / "t.parquet", model="exponential", theta="rate=2", out=tmp_path)
    assert not (tmp_path / "external").exists() and not (tmp_path / "t").exists()
    assert pq.read_table(tmp_path / "t.parquet").num_rows == 12

