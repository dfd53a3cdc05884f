"""Smoke test of the benchmark suite (bench/, issues 7 and 12): ``python -m bench --quick``
produces every row of every section at tiny sizes, and the estimate-agreement checks hold.

No timing is asserted: the quick mode's numbers mean nothing, and timings belong in
bench/RESULTS.md, not in pass/fail. What is asserted of the commands section (issue 12) is
what its children report: the commands that need no kernels load none (report and --help do
not even import numba), a warm run compiles nothing and a cold verify does. A few minutes,
most of it in subprocesses: cold compilation with an empty Numba cache (item 7, and the
commands section's cold verify) and the commands' fresh interpreters.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `bench` is a top-level folder, not an installed package
    sys.path.insert(0, str(ROOT))

from bench import commands
from bench import run as bench_run
from bench.sampling import RAW, VARIATES


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("bench")
    results = bench_run.run(bench_run.QUICK, out, echo=lambda _msg: None)
    return out, results


def _rows(results, section):
    return [r for r in results["rows"] if r["section"] == section]


def test_writes_results_markdown_json_and_figure(quick):
    out, results = quick
    assert json.loads((out / "results.json").read_text())["rows"] == json.loads(
        json.dumps(results["rows"], default=float)
    )
    text = (out / "RESULTS.md").read_text()
    for heading in ("## Machine", "## Targets", "## 1.", "## 2.", "## 3.", "## 4.", "## 5.",
                    "## 6.", "## 7.", "## 8.", "## Reproduce"):  # fmt: skip
        assert heading in text
    assert (out / "scaling.png").stat().st_size > 0
    machine = results["meta"]["machine"]
    assert machine["cores"] >= 1 and machine["numba_threads"] >= 1
    assert machine["versions"]["numpy"] and machine["cpu"]


def test_every_row_is_produced(quick):
    _, results = quick
    names = {r["section"]: set() for r in results["rows"]}
    for r in results["rows"]:
        names[r["section"]].add(r["name"])
    assert names["sampling"] == {v.name for v in (RAW, *VARIATES)}
    assert names["cells"] == {"exponential mle", "normal mle", "poisson mle", "bernoulli mle"}
    expected_fits = {"gamma vs scipy.stats.gamma.fit(x, floc=0)",
                     "gamma vs textbook L-BFGS-B on -sum(gamma.logpdf), MoM start",
                     "gamma vs its one-pass floor",
                     "logistic vs statsmodels Logit(y, X).fit(disp=0)",
                     "logistic vs its one-pass floor"}  # fmt: skip
    assert expected_fits <= names["fits"]
    assert any(n.startswith("weibull") for n in names["fits"])
    assert len(names["study"]) == 3  # vs the baseline; vs pure sampling on all threads and on 1
    assert {"threads: control (pure sampling under prange)", "n sweep: exponential mle",
            "n sweep: gamma mle"} <= names["scaling"]  # fmt: skip
    assert len(names["memory"]) == 1
    assert len(names["startup"]) == 4
    assert names["commands"] == {
        *(f"simstudy {label} ({state} cache)" for label, _ in commands.NO_KERNEL
          for state in ("warm", "empty")),
        "simstudy run tiny.yaml --no-report --quiet (warm cache)",
        "simstudy run tiny.yaml --quiet, with the report (warm cache)",
        "simstudy verify configs/quickstart.yaml (empty cache)",
        commands.README_NAME,
    }  # fmt: skip
    assert names["python"] == {"python estimator: overhead per replication over a plain loop (1 worker)",
                               "python estimator: 1 vs 2 workers"}  # fmt: skip
    assert set(results["meta"]["section_seconds"]) == set(bench_run.SECTIONS)


def test_measured_rows_carry_median_min_max_over_repeats_and_a_ratio(quick):
    _, results = quick
    measured = [r for r in results["rows"] if r.get("status") == "ok" and "value" in r]
    assert measured
    for r in measured:
        v = r["value"]
        assert v["min"] <= v["median"] <= v["max"], r["name"]
        if "anchor" in r and r["section"] not in ("memory", "study"):
            assert v["repeats"] >= bench_run.QUICK.repeats or r["section"] == "startup"
            assert r["ratio"] > 0 and r["ratio_meaning"]
    for r in results["rows"]:
        assert r.get("status") == "ok" or "not available" in r["status"], r


def test_fit_estimates_agree_with_the_peers(quick):
    _, results = quick
    compared = [r for r in _rows(results, "fits") if "max_rel_diff_tight" in r]
    assert len(compared) >= 3
    for r in compared:
        assert r["max_rel_diff_tight"] <= 1e-6, r["name"]
        assert r["agrees"]
        assert r["fit_status_ok"] == r["samples"]


def test_study_and_baseline_agree_within_monte_carlo_error(quick):
    _, results = quick
    (row,) = [r for r in _rows(results, "study") if "baseline" in r["name"]]
    agreement = row["estimate_agreement"]
    assert agreement["compared"] >= 10
    # Deterministic (both sides seeded); 4 SEs is far outside Monte Carlo error.
    assert agreement["beyond_4"] == 0


def test_memory_and_startup_rows(quick):
    _, results = quick
    (memory,) = _rows(results, "memory")
    assert memory["runs"]["large"]["replications"] == 10 * memory["runs"]["small"]["replications"]
    assert memory["value"]["median"] > 0
    warm = next(r for r in _rows(results, "startup") if r["name"] == "warm run: compilations")
    assert warm["cold_compiles"][0] > 0  # the listener does see compilations


def test_commands_that_need_no_kernels_load_none(quick):
    """Issue 12: the booleans are asserted (the times are not)."""
    _, results = quick
    rows = [r for r in _rows(results, "commands") if r.get("kind") == "no-kernel"]
    assert {r["command"] for r in rows} == {label for label, _ in commands.NO_KERNEL}
    for r in rows:
        assert r["exit_codes"] == [0] * r["value"]["repeats"], r["name"]
        assert r["dispatchers_with_overloads"] == 0, (r["name"], r["kernels_loaded"])
        assert r["kernels_loaded"] == [] and r["kernels_compiled"] == 0, r["name"]
        if r["command"] in ("report DIR", "--help"):
            assert r["must_not_import_numba"] and not r["numba_imported"], r["name"]
        assert r["parts_s"]["simstudy.cli.main"] > 0
        if r["cache"] == "warm":
            assert r["importtime"]["total_s"] > 0 and r["importtime"]["by_package_s"]
    met = {t["target"]: t["met"] for t in results["targets"] if "loads no kernel" in t["target"]}
    assert len(met) == len(commands.NO_KERNEL) and all(met.values()), met


def test_run_and_verify_rows(quick):
    _, results = quick
    rows = {r.get("kind"): r for r in _rows(results, "commands")}
    tiny, report = rows["tiny-run"], rows["tiny-run-report"]
    # Warm: the tiny study's kernels come from the cache the bench filled; none is compiled.
    assert tiny["kernels_compiled"] == 0 and tiny["kernels_from_cache"] > 0
    assert tiny["exit_codes"] == report["exit_codes"] == [0]
    assert "report" not in tiny["phases_s"] and report["phases_s"]["report"] > 0
    verify = rows["verify"]
    assert verify["args"] == "--replications 200" and set(verify["exit_codes"]) <= {0, 1}
    assert verify["kernels_compiled"] > 0  # an empty cache: the verify compiled its kernels
    assert verify["breakdown"]["warm_verify_kernels_compiled"] == 0
    assert set(verify["phases_s"]) == {"compute", "analyse", "report"}
    assert rows["readme"]["status"].startswith("not available")  # no install in --quick mode


def test_importtime_parsing():
    stderr = ("import time: self [us] | cumulative | imported package\n"
              "import time:       100 |        100 |   numba.core\n"
              "import time:       200 |        300 | numba\n"
              "import time:        50 |         50 | yaml\n")  # fmt: skip
    parsed = commands.parse_importtime(stderr)
    assert parsed["total_s"] == pytest.approx(350e-6)
    assert [k for k, _ in parsed["by_package_s"]] == ["numba", "yaml"]
    assert parsed["by_package_s"][0][1] == pytest.approx(300e-6)
    assert parsed["top_level_s"] == [("numba", 300e-6), ("yaml", 50e-6)]


def test_targets_cover_every_item(quick):
    _, results = quick
    items = {t["item"] for t in results["targets"]}
    assert items == {"1", "2", "3", "4", "5", "6", "7", "12", "9"}
    for t in results["targets"]:
        assert t["met"] in (True, False, None)
