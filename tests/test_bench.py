"""Smoke test of the benchmark suite (bench/, issue 7): ``python -m bench --quick`` produces
every row of every section at tiny sizes, and the estimate-agreement checks hold.

No timing is asserted: the quick mode's numbers mean nothing, and timings belong in
bench/RESULTS.md, not in pass/fail. About a minute, most of it in the subprocesses that
measure cold compilation (item 7) with an empty Numba cache.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `bench` is a top-level folder, not an installed package
    sys.path.insert(0, str(ROOT))

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
                    "## 6.", "## 7.", "## Reproduce"):  # fmt: skip
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


def test_targets_cover_every_item(quick):
    _, results = quick
    items = {t["item"] for t in results["targets"]}
    assert items == {"1", "2", "3", "4", "5", "6", "7"}
    for t in results["targets"]:
        assert t["met"] in (True, False, None)
