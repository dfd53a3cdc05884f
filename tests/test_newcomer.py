"""What a new user meets in the first minutes (issue: "A newcomer's first hour").

Commands that need no kernels load none; run and verify say what they verified; progress in a
batch log is plain lines in one unit; failing user code and unwritable folders give one message
and exit 2, never a traceback, never lost or half-written results; a study whose R cannot
decide its margins, or whose grid cannot judge a rate, says so.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from clitools import assert_user_error
from clitools import simstudy as cli

import simstudy

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = Path(__file__).resolve().parent / "plugins"


def write_study(folder: Path, name: str, **overrides) -> Path:
    study = {
        "name": name, "seed": 5, "replications": 200, "sample_sizes": [10, 30, 100],
        "models": [{"model": "exponential", "params": {"rate": 2.0}, "estimators": ["mle"]}],
        # One figure kind keeps the reports these tests write cheap.
        "report": {"figures": ["bias"], "cells": []},
    }  # fmt: skip
    study.update(overrides)
    path = folder / f"{name}.yaml"
    path.write_text(yaml.safe_dump(study, sort_keys=False))
    return path


def estimators(*extra) -> list:
    return [{"model": "exponential", "params": {"rate": 2.0}, "estimators": ["mle", *extra]}]


# ---- commands that need no kernels load none ----------------------------------------------

PROBE = """
import gc, json, sys
from simstudy.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:  # --help
    code = exc.code
loaded = []
if "numba" in sys.modules:
    from numba.core.dispatcher import Dispatcher
    loaded = sorted({d.py_func.__qualname__ for d in gc.get_objects()
                     if isinstance(d, Dispatcher) and d.overloads})
print(json.dumps({"code": code, "numba": "numba" in sys.modules, "loaded": loaded,
                  "scipy.stats": "scipy.stats" in sys.modules}), file=sys.stderr)
"""


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A small stored study (for report and verify on a folder)."""
    out = tmp_path_factory.mktemp("stored")
    result = simstudy.run(write_study(out, "stored"), out=out)
    return result.root


def probe(*args: str, cwd: Path) -> dict:
    proc = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=cwd, capture_output=True, check=False,
                          text=True, timeout=300, env=dict(os.environ, PYTHONPATH=str(PLUGINS)))  # fmt: skip
    return json.loads(proc.stderr.strip().splitlines()[-1])


@pytest.mark.parametrize("args", [
    ("models",), ("validate", "configs/quickstart.yaml"), ("validate", "configs/regression.yaml"),
    ("validate", "configs/plugin_example.yaml"), ("validate", "configs/plugin_model.yaml"),
    ("plan", "configs/seed_models.yaml"), ("check-model", "--help"),
], ids=lambda a: "-".join(a).replace("configs/", ""))  # fmt: skip
def test_listing_validating_and_planning_compile_and_load_no_kernel(args):
    found = probe(*args, cwd=ROOT)
    assert found["code"] == 0
    assert found["loaded"] == [], f"{args}: kernels compiled or loaded: {found['loaded']}"
    assert not found["scipy.stats"], f"{args} imported scipy.stats"


@pytest.mark.parametrize("args", [("report", "{stored}"), ("--help",)], ids=["report", "help"])
def test_report_and_help_do_not_even_import_numba(args, stored):
    found = probe(*(a.format(stored=stored) for a in args), cwd=ROOT)
    assert found["code"] == 0
    assert not found["numba"]


# ---- run and verify say what they verified -------------------------------------------------


def test_run_ends_with_the_verdicts_the_failures_and_the_report(tmp_path):
    study = write_study(tmp_path, "said", models=[{
        "model": "exponential", "params": {"rate": 2.0},
        "estimators": ["mle", {"plugin": "failing:nan_with_status_ok", "name": "nanok"}],
        # a wrong expectation, so that one decided verdict is not as expected
        "expect": {"mle": {"consistent": "fail"}},
    }])  # fmt: skip
    proc = cli("run", str(study), "--out", str(tmp_path / "out"), cwd=tmp_path, pythonpath=PLUGINS)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    verdicts = json.loads((tmp_path / "out" / "said" / "verdicts.json").read_text())["verdicts"]
    unexpected = [v for v in verdicts if not v["met"]]
    counts = {k: sum(v["verdict"] == k for v in verdicts) for k in
              ("PASS", "FAIL", "INCONCLUSIVE", "SKIPPED")}  # fmt: skip
    # The last line: the counts, how many are as expected, and where the report is.
    assert lines[-1] == (
        f"said: {len(verdicts)} verdicts ({counts['PASS']} PASS, {counts['FAIL']} FAIL, "
        f"{counts['INCONCLUSIVE']} INCONCLUSIVE, {counts['SKIPPED']} SKIPPED): "
        f"{len(verdicts) - len(unexpected)} as expected, {len(unexpected)} NOT as expected; "
        f"report {tmp_path / 'out' / 'said' / 'report.html'} (and report.md)"
    )
    # The wrong expectation, and every verdict of the estimator that never fitted, each on a
    # line of its own; every INCONCLUSIVE one that a finite R decides says which R.
    assert f"{len(unexpected)} verdicts not as expected:" in lines
    shown = [line for line in lines if line.startswith("  exponential ")]
    assert any(" mle rate consistent: " in line and ", expected FAIL -- " in line for line in shown)
    nanok = [line for line in shown if " nanok rate " in line and "expected PASS" in line]
    assert len(nanok) == 5 and all("every fit at n=100 failed" in line for line in nanok)
    for v in unexpected:
        if v["replications_needed"] is not None:
            assert any(f"R = {int(v['replications_needed']):,} would decide it" in line for line in shown)
    # The estimator failing more than 1% of fits, with its status breakdown.
    i = lines.index("estimators failing more than 1% of fits:")
    assert lines[i + 1] == (
        '  exponential {"rate":2.0} nanok: 600 of 600 fits failed (100.0%: not_converged 600); '
        "worst at n=10: 100.0%; 600 of them returned status ok with a non-finite estimate "
        "(counted as not_converged)"
    )
    # R = 200 cannot decide the margins even for a perfect estimator: said up front.
    assert "warning: R = 200 is too small to decide `efficient`" in proc.stderr
    # --quiet keeps the last line only.
    quiet = cli("run", str(study), "--out", str(tmp_path / "out"), "--quiet", cwd=tmp_path,
                pythonpath=PLUGINS)  # fmt: skip
    assert quiet.returncode == 0 and quiet.stderr == ""
    assert quiet.stdout.strip().splitlines() == [lines[-1]]


def test_verify_with_more_replications_leaves_a_report_of_what_it_printed(tmp_path):
    study = write_study(tmp_path, "grow", replications=100)
    out = tmp_path / "out"
    first = cli("run", str(study), "--out", str(out), "--quiet", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    proc = cli("verify", str(study), "--out", str(out), "--replications", "160", cwd=tmp_path)
    assert proc.returncode in (0, 1), proc.stderr
    root = out / "grow"
    report = (root / "report.md").read_text()
    assert "R = 160 replications per cell" in report and "R = 100 " not in report
    verdicts = json.loads((root / "verdicts.json").read_text())["verdicts"]
    met = sum(v["met"] for v in verdicts)
    assert f"**{met} as expected**, {len(verdicts) - met} not." in report
    assert proc.stdout.strip().splitlines()[-1].startswith(
        f"grow: {len(verdicts)} verdicts (") and f"{met} as expected" in proc.stdout
    table = (root / "tables" / "verdicts.csv").read_text()
    assert "INCONCLUSIVE" in table or "PASS" in table
    assert (root / "report.html").stat().st_mtime >= (root / "verdicts.json").stat().st_mtime
    # --no-report judges without writing one.
    (root / "report.md").unlink()
    again = cli("verify", str(root), "--no-report", "--quiet", cwd=tmp_path)
    assert again.returncode in (0, 1) and not (root / "report.md").exists()
    assert again.stdout.strip().endswith(f"verdicts.csv and verdicts.json in {root}")


# ---- progress ------------------------------------------------------------------------------


def test_progress_in_a_batch_log_is_plain_lines_in_one_unit(tmp_path):
    study = write_study(tmp_path, "log", replications=400, sample_sizes=[10, 1000])
    out = tmp_path / "out"
    fresh = cli("run", str(study), "--out", str(out), "--no-report", "--block-size", "50",
                cwd=tmp_path)  # fmt: skip
    assert fresh.returncode == 0, fresh.stderr
    assert "\r" not in fresh.stderr
    assert "kept" not in fresh.stderr and "already stored" not in fresh.stderr
    log = [line for line in fresh.stderr.strip().splitlines() if not line.startswith("warning: ")]
    assert log[0] == ("computing 800 replications (404,000 observations) in 16 blocks over 2 "
                      f"cells on {simstudy_threads()} threads")  # fmt: skip
    progress = [line for line in log if line.startswith("progress: ")]
    assert 1 <= len(progress) <= 9 and log[-1].startswith("done: 100% (404k observations")
    # Percent is of observations: after the 8 blocks of n = 10 (4,000 observations, 1% of the
    # work but half of the replications) the first line is at least at 10%.
    first = progress[0]
    pct = int(first.split("%")[0].split()[-1])
    done_obs = first.split("(")[1].split("/")[0]
    assert pct >= 10 and done_obs != "4.0k"
    # Lose the last block of each cell: the rerun counts kept and computed replications of
    # cells, the same unit, adding up to the study's 800.
    blocks = sorted((out / "log" / "store").rglob("reps-000000350-000000400.parquet"))
    assert len(blocks) == 2
    for path in blocks:
        path.unlink()
    again = cli("run", str(study), "--out", str(out), "--no-report", "--block-size", "50",
                cwd=tmp_path)  # fmt: skip
    assert next(line for line in again.stderr.splitlines() if not line.startswith("warning: ")) == (
        "kept 700 of 800 replications already stored; computing 100 replications (50,500 "
        f"observations) in 2 blocks over 2 cells on {simstudy_threads()} threads"
    )


def simstudy_threads() -> int:
    import numba

    return numba.config.NUMBA_NUM_THREADS


# ---- failing user code ---------------------------------------------------------------------


def marker_of(study_path: Path, rep: int) -> float:
    """The first value of replication ``rep``'s sample in the study's first cell (NumPy replay)."""
    from simstudy import rng
    from simstudy.config import load_config
    from simstudy.plan import make_plan

    cell = make_plan(load_config(study_path, check_models=False), base_dir=PLUGINS).cells[0]
    gen = rng.numpy_generator(cell.seed, cell.key1, rep, 0)
    return float(cell.model.numpy_sample(gen, cell.theta_array, cell.n)[0])


def run_plugin_study(tmp_path, plugin: str, *, marker_rep=None, extra=()):
    study = write_study(tmp_path, "flaky", replications=1000, sample_sizes=[20, 40, 80],
                        models=estimators({"plugin": f"failing:{plugin}", "name": "flaky"}))  # fmt: skip
    env = dict(os.environ, PYTHONPATH=str(PLUGINS), PYTHONDONTWRITEBYTECODE="1")
    if marker_rep is not None:
        env["SIMSTUDY_TEST_MARKER"] = repr(marker_of(study, marker_rep))
    proc = subprocess.run(
        [sys.executable, "-m", "simstudy", "run", str(study), "--out", str(tmp_path / "out"),
         "--block-size", "100", *extra], cwd=tmp_path, env=env, capture_output=True, check=False, text=True,
        timeout=300,
    )  # fmt: skip
    return study, proc


def test_a_plugin_that_raises_on_the_first_sample_is_bad_input(tmp_path):
    _, proc = run_plugin_study(tmp_path, "raises_always")
    line = assert_user_error(proc, "run", "models[0].estimators[1]: plugin 'failing:raises_always'",
                             "raised ValueError: negative variance estimate",
                             "when called on a sample of the study")  # fmt: skip
    assert "n = 20" in line
    assert not (tmp_path / "out").exists()


def test_a_plugin_that_raises_at_one_replication_stops_the_run_and_keeps_the_rest(tmp_path):
    study, proc = run_plugin_study(tmp_path, "raises_at_marker", marker_rep=517, extra=("--quiet",))
    line = assert_user_error(
        proc, "run", "plugin estimator 'flaky' (failing:raises_at_marker) raised ValueError: "
        'planted failure at replication 517 of exponential {"rate":2.0} n=20',
        "every block finished before it is stored", "--rep 517",
        "rerun the same command to resume",
    )  # fmt: skip
    root = tmp_path / "out" / "flaky"
    manifest = json.loads((root / "manifest.json").read_text())
    first = manifest["cells"][0]
    # Blocks [0, 500) of the failing cell are stored for both estimators; nothing after.
    assert {e["replications"] for e in first["estimators"].values()} == {500}
    assert first["status"] == "partial"
    assert f"--cell {first['data_key'][:12]}" in line
    assert all(e["replications"] == 0 for c in manifest["cells"][1:] for e in c["estimators"].values())
    report = cli("report", str(root), cwd=tmp_path)
    assert report.returncode == 0, report.stderr
    assert "**Nothing to report yet.**" in (root / "report.md").read_text()
    # "Fixed" (the marker no longer matches): the rerun keeps the 500 stored replications.
    resumed = cli("run", str(study), "--out", str(tmp_path / "out"), "--block-size", "100",
                  "--no-report", cwd=tmp_path, pythonpath=PLUGINS)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    said = [line for line in resumed.stderr.splitlines() if not line.startswith("warning: ")]
    assert said[0].startswith("kept 500 of 3,000 replications already stored; "
                                                     "computing 2,500 replications")  # fmt: skip


def test_a_status_outside_the_fit_codes_is_an_error_naming_the_allowed_codes(tmp_path):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
    _, at_first = run_plugin_study(tmp_path / "a", "status_7")
    assert_user_error(at_first, "run", "plugin 'failing:status_7' returned status 7",
                      "0 (ok), 1 (not_converged), 2 (no_mle), 3 (boundary)")  # fmt: skip
    assert not (tmp_path / "a" / "out").exists()
    _, later = run_plugin_study(tmp_path / "b", "status_7_at_marker", marker_rep=250,
                                extra=("--quiet",))
    assert_user_error(later, "run", "plugin estimator 'flaky' (failing:status_7_at_marker) "
                      'returned status 7 at replication 250 of exponential {"rate":2.0} n=20',
                      "0 (ok), 1 (not_converged), 2 (no_mle), 3 (boundary)")  # fmt: skip
    manifest = json.loads((tmp_path / "b" / "out" / "flaky" / "manifest.json").read_text())
    assert {e["replications"] for e in manifest["cells"][0]["estimators"].values()} == {200}


# ---- unwritable folders --------------------------------------------------------------------


def make_read_only(folder: Path):
    """Make ``folder`` read-only for this process, by a read-only bind mount (root, which
    permission bits do not stop) or by permission bits; returns an undo function, or skips."""
    def writable() -> bool:
        probe = folder / ".probe"
        try:
            probe.write_text("x")
        except OSError:
            return False
        probe.unlink()
        return True

    if os.geteuid() == 0:
        ok = subprocess.run(["mount", "--bind", str(folder), str(folder)], capture_output=True, check=False)
        if ok.returncode == 0:
            subprocess.run(["mount", "-o", "remount,ro,bind", str(folder)], capture_output=True, check=False)
            if not writable():
                return lambda: subprocess.run(["umount", str(folder)], check=True)
            subprocess.run(["umount", str(folder)], capture_output=True, check=False)
    else:
        mode = folder.stat().st_mode
        folder.chmod(0o555)
        if not writable():
            return lambda: folder.chmod(mode)
        folder.chmod(mode)
    pytest.skip("cannot make a folder read-only here (no bind mount, permission bits ignored)")


def listing(folder: Path) -> dict:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*"))}  # fmt: skip


def test_a_read_only_out_folder_is_bad_input(tmp_path):
    study = write_study(tmp_path, "ro")
    out = tmp_path / "out"
    out.mkdir()
    undo = make_read_only(out)
    try:
        proc = cli("run", str(study), "--out", str(out), cwd=tmp_path)
    finally:
        undo()
    assert_user_error(proc, "run", f"{out}: cannot write here", "give --out a writable folder")
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("command", ["run", "verify", "report"])
def test_a_read_only_results_folder_is_bad_input(tmp_path, command):
    study = write_study(tmp_path, "rofolder")
    result = simstudy.run(study, out=tmp_path / "out")
    before = listing(result.root)
    target = str(study) if command == "run" else str(result.root)
    # A report in another format must be written (the current one needs nothing written).
    extra = {"run": ("--out", str(tmp_path / "out")), "report": ("--format", "png,pdf")}
    undo = make_read_only(result.root)
    try:
        proc = cli(command, target, *extra.get(command, ()), cwd=tmp_path)
        current = cli("report", str(result.root), cwd=tmp_path) if command == "report" else None
    finally:
        undo()
    assert_user_error(proc, command, f"{result.root}: cannot write here",
                      "copy the folder somewhere writable")  # fmt: skip
    assert listing(result.root) == before
    if current is not None:  # the current report needs no writing: reading it is fine
        assert current.returncode == 0 and "the report is current" in current.stdout


def test_a_full_disk_is_bad_input_and_leaves_whole_files_only(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=600k", "tmpfs", str(disk)],
                      capture_output=True, check=False).returncode != 0:  # fmt: skip
        pytest.skip("cannot mount a tmpfs here")
    try:
        study = write_study(tmp_path, "full", replications=20_000, sample_sizes=[5, 6, 7])
        proc = cli("run", str(study), "--out", str(disk), "--block-size", "5000", "--quiet",
                   cwd=tmp_path)  # fmt: skip
        left = [p.name for p in disk.rglob("*.tmp")]
        blocks = list(disk.rglob("*.parquet"))
    finally:
        subprocess.run(["umount", str(disk)], check=True)
    assert_user_error(proc, "run", "No space left on device", "free some space")
    assert left == [] and blocks  # some blocks fitted, and nothing torn was left behind


# ---- studies that cannot judge a property say so ------------------------------------------


def test_fewer_than_three_sample_sizes_skip_consistency_and_warn(tmp_path, capsys):
    study = write_study(tmp_path, "short", sample_sizes=[50, 500])
    from simstudy.cli import main

    assert main(["validate", str(study)]) == 0
    err = capsys.readouterr().err
    assert "warning: `consistent` cannot be judged (its verdicts will be SKIPPED): the study " \
           "has 2 sample sizes" in err
    verdicts = simstudy.verify(study, out=tmp_path / "out", report=False).verdicts
    row = verdicts[verdicts.property == "consistent"].iloc[0]
    assert row.verdict == "SKIPPED" and row.met
    assert row.detail.startswith("skipped: the study has 2 sample sizes")


def test_until_mcse_at_its_max_prints_a_readable_table(tmp_path):
    said = []
    simstudy.run(write_study(tmp_path, "capped", replications={
        "start": 100, "until_mcse": {"bias": 1e-5, "coverage": 0.001}, "max": 200}),
        out=tmp_path / "out", report=False, echo=said.append)  # fmt: skip
    text = "\n".join(said)
    assert "until_mcse: R = 200 is the configured max; the targets need R = " in text
    table = text.split("targets need R = ")[1].splitlines()[1:]
    assert table[0].split() == ["metric", "target", "MCSE", "R", "needed", "model", "theta",
                                "estimator", "n", "param", "MCSE", "measured"]  # fmt: skip
    rows = {line.split()[0]: line.split() for line in table[2:]}
    assert set(rows) == {"bias", "coverage"}
    assert rows["coverage"][2] == f"{math.ceil(0.95 * 0.05 / 0.001**2):,}"
    assert rows["bias"][6] == "100"  # the largest n, where the verdict reads the bias
    assert "rows x" not in text


# ---- the precision of a perfect estimator, against simulation -----------------------------


def test_ideal_precision_matches_simulated_perfect_estimators():
    """The MCSE formulas behind "R is too small" against Monte Carlo: 4,000 studies of R = 300
    replications of an exactly efficient, unbiased, normal estimator (θ̂ ~ N(θ, 1/n))."""
    from simstudy.config import Checks
    from simstudy.metrics.precision import ideal_precision

    rng = np.random.default_rng(20261202)
    studies, r, sizes = 4000, 300, [100, 300, 1000]
    found = {p.property: p for p in ideal_precision(Checks(), r, sizes)}
    est = rng.standard_normal((studies, len(sizes), r)) / np.sqrt(np.array(sizes))[None, :, None]
    var = est.var(axis=2, ddof=1)
    stats = {
        "efficient": (1.0 / np.array(sizes))[None, :] / var,
        "asymptotically_unbiased": est.mean(axis=2) / np.sqrt(var),
        "wald_coverage": (np.abs(est * np.sqrt(sizes)[None, :, None]) <= 1.959964).mean(axis=2),
    }
    for prop, values in stats.items():
        sd = values[:, -1].std(ddof=1)
        # SD of an SD from 4,000 studies: relative MCSE 1/sqrt(2·3999) ≈ 1.1%; allow 5%.
        assert sd == pytest.approx(found[prop].mcse, rel=0.05), prop
    rmse = np.sqrt((est**2).mean(axis=2))
    x = np.log(sizes)
    slopes = np.polyfit(x, np.log(rmse).T, 1)[0]
    assert slopes.std(ddof=1) == pytest.approx(found["consistent"].mcse, rel=0.05)
    # "needed" is the least R at which (z_{1-α} + z_{0.995})·MCSE fits in the margin.
    for p in ideal_precision(Checks(), r, sizes):
        at = {q.property: q for q in ideal_precision(Checks(), p.needed, sizes)}[p.property]
        below = {q.property: q for q in ideal_precision(Checks(), p.needed - 1, sizes)}[p.property]
        assert at.factor * at.mcse <= p.margin * (1 + 1e-12) < below.factor * below.mcse
