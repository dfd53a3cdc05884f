"""The command line: user errors exit 2 with one message and no traceback, and leave nothing
behind.

Most tests run ``python -m simstudy`` in a subprocess. Each pays the Numba import (about a
second) and the first real run may compile kernels (cached after), so real runs are few and
tiny (R = 20, n in [5, 10]), independent bad-config runs go side by side, and the error tables
that fail before any work starts (plugins, options) call ``simstudy.cli.main`` in-process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from clitools import assert_user_error, main_in_process, simstudy

from simstudy.models import get_model, list_models

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = Path(__file__).resolve().parent / "plugins"

TINY = """\
name: tiny
seed: 11
replications: 20
sample_sizes: [5, 10]
models:
  - model: exponential
    params: {rate: 2.0}
    estimators: [mle, unbiased]
"""


def edit(old: str, new: str) -> str:
    assert TINY.count(old) == 1, old
    return TINY.replace(old, new)


Job = tuple[Path, list[str], "Path | None"]  # (cwd, arguments, extra PYTHONPATH)


def run_all(jobs: dict[str, Job]) -> dict[str, subprocess.CompletedProcess]:
    """Run independent CLI calls side by side (each spends about a second on imports)."""
    with ThreadPoolExecutor(max_workers=min(4, os.cpu_count() or 1)) as pool:
        futures = {
            key: pool.submit(simstudy, *args, cwd=cwd, pythonpath=pythonpath)
            for key, (cwd, args, pythonpath) in jobs.items()
        }
        return {key: future.result() for key, future in futures.items()}


# id: (config text, fragments of the one stderr line: file:line and key path, value or fix)
BAD_RUNS = {
    "unknown-model": (edit("model: exponential", "model: exponentail"),
                      ("bad.yaml:6: models[0].model:", "did you mean 'exponential'?")),
    "sweep-element-domain": (edit("rate: 2.0", "rate: [1.0, 0.0]"),
                             ("bad.yaml:7: models[0].params.rate[1]:", "0.0", "(0, inf)")),
    "unknown-nested-key": (edit("    estimators:", "    estimator:"),
                           ("bad.yaml:8: models[0].estimator:", "did you mean 'estimators'?")),
    "replications-one": (edit("replications: 20", "replications: 1"),
                         ("bad.yaml:3: replications:", "got 1")),
    "name-with-slash": (edit("name: tiny", "name: ../tiny"),
                        ("bad.yaml:1: name:", "'../tiny'", "lowercase")),
    "malformed-yaml": (edit("{rate: 2.0}", "{rate: 2.0"), ("bad.yaml:8:", "malformed YAML")),
    "top-level-list": ("- name: tiny\n", ("bad.yaml:1: (top level):", "mapping")),
}  # fmt: skip


@pytest.fixture(scope="module")
def bad_config_runs(tmp_path_factory):
    """{id: (folder, process)} for ``simstudy run bad.yaml --out out`` of every BAD_RUNS case."""
    jobs = {}
    for key, (text, _) in BAD_RUNS.items():
        cwd = tmp_path_factory.mktemp(key)
        (cwd / "bad.yaml").write_text(text)
        jobs[key] = (cwd, ["run", "bad.yaml", "--out", "out"], None)
    procs = run_all(jobs)
    return {key: (jobs[key][0], procs[key]) for key in jobs}


@pytest.mark.parametrize("key", BAD_RUNS)
def test_run_bad_config_exits_2_and_writes_nothing(bad_config_runs, key):
    cwd, proc = bad_config_runs[key]
    assert_user_error(proc, "run", *BAD_RUNS[key][1])
    assert sorted(p.name for p in cwd.iterdir()) == ["bad.yaml"]  # no out/, nothing else


def test_run_missing_config_file(tmp_path):
    proc = simstudy("run", "nope.yaml", "--out", str(tmp_path / "out"), cwd=tmp_path)
    assert_user_error(proc, "run", "nope.yaml", "no such file")
    assert not (tmp_path / "out").exists()


def test_validate_bad_config(tmp_path):
    (tmp_path / "bad.yaml").write_text(edit("rate: 2.0", "rate: 0"))
    proc = simstudy("validate", "bad.yaml", cwd=tmp_path)
    assert_user_error(proc, "validate", "bad.yaml:7: models[0].params.rate:", "(0, inf)")


@pytest.mark.parametrize("command", ["validate", "plan", "verify"])
def test_every_config_command_reports_a_bad_config(tmp_path, monkeypatch, capsys, command):
    (tmp_path / "bad.yaml").write_text(edit("name: tiny", "name: Tiny"))
    proc = main_in_process(command, "bad.yaml", cwd=tmp_path, monkeypatch=monkeypatch,
                           capsys=capsys)  # fmt: skip
    assert_user_error(proc, command, "bad.yaml:1: name:", "'Tiny'")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml"]


def test_check_model_unknown_name(tmp_path, monkeypatch, capsys):
    proc = main_in_process("check-model", "gama", cwd=tmp_path, monkeypatch=monkeypatch,
                           capsys=capsys)  # fmt: skip
    assert_user_error(proc, "check-model", "'gama'", "did you mean 'gamma'?")


def test_validate_quickstart():
    from simstudy.config import load_config
    from simstudy.plan import make_plan

    proc = simstudy("validate", "configs/quickstart.yaml", cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    plan = make_plan(load_config(ROOT / "configs" / "quickstart.yaml"))
    assert f"valid study 'quickstart': {len(plan.cells)} cells" in proc.stdout
    assert f"{plan.total_fits:,} fits" in proc.stdout


def test_run_tiny_study(tmp_path):
    (tmp_path / "tiny.yaml").write_text(TINY)
    proc = simstudy("run", "tiny.yaml", "--out", "out", "--threads", "1", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "40 replications" in proc.stdout
    folder = tmp_path / "out" / "tiny"
    assert (folder / "manifest.json").is_file() and (folder / "study.yaml").is_file()
    stored = [d for d in (folder / "store").iterdir() if any(d.glob("reps-*.parquet"))]
    assert len(stored) == 4  # one result key per cell x estimator: 2 sample sizes x 2


@pytest.mark.parametrize(
    "options, fragments",
    [
        pytest.param(["--threads", "0"], ("--threads: 0 is not in 1..",), id="threads-0"),
        pytest.param(["--threads", "100000"], ("--threads: 100000",), id="threads-too-many"),
        pytest.param(["--replications", "1"], ("--replications", "got 1"), id="replications-1"),
    ],
)
def test_run_bad_option_exits_2_and_writes_nothing(tmp_path, monkeypatch, capsys, options,
                                                   fragments):
    (tmp_path / "tiny.yaml").write_text(TINY)
    proc = main_in_process("run", "tiny.yaml", "--out", "out", *options, cwd=tmp_path,
                           monkeypatch=monkeypatch, capsys=capsys)  # fmt: skip
    assert_user_error(proc, "run", *fragments)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["run", "verify"])
def test_out_is_a_file(tmp_path, command):
    (tmp_path / "tiny.yaml").write_text(TINY)
    (tmp_path / "out").write_text("not a folder")
    proc = simstudy(command, "tiny.yaml", "--out", "out/sub", cwd=tmp_path)
    assert_user_error(proc, command, "--out", "'out' is a file")
    assert (tmp_path / "out").read_text() == "not a folder"


# --------------------------------------------------------------------------------------------
# Plugins: rejected before anything runs


def plugin_config(reference: str) -> str:
    return edit("[mle, unbiased]", f'[mle, {{plugin: "{reference}", name: custom}}]')


# id: (plugin reference, fragments of the message after the key path)
BAD_PLUGINS = {
    "module-not-importable": ("no_such_module_xyz:fit",
                              ("'no_such_module_xyz:fit'", "cannot import module", "PYTHONPATH")),
    "attribute-missing": ("bad_plugins:missing",
                          ("module 'bad_plugins' has no attribute 'missing'",)),
    "not-jitted": ("bad_plugins:not_jitted",
                   ("'bad_plugins:not_jitted' must be a Numba-jitted function", "numba.njit")),
    # Called once in Python (py_func) on a sample of the study before anything runs:
    "wrong-arity": ("bad_plugins:one_argument",
                    ("'bad_plugins:one_argument' raised TypeError", "3 were given",
                     "when called on a sample of the study")),
    "wrong-return-type": ("bad_plugins:returns_float",
                          ("'bad_plugins:returns_float' returned np.float64(",
                           "must return a tuple of two integers (status, n_iter)")),
    # Runs as Python, but Numba cannot compile it for the engine:
    "untypable": ("bad_plugins:untypable",
                  ("'bad_plugins:untypable' must compile as", "tuple of two integers",
                   "Numba says")),
}  # fmt: skip


@pytest.mark.parametrize("key", BAD_PLUGINS)
def test_bad_plugin_exits_2_and_writes_nothing(tmp_path, monkeypatch, capsys, key):
    reference, fragments = BAD_PLUGINS[key]
    (tmp_path / "plug.yaml").write_text(plugin_config(reference))
    monkeypatch.syspath_prepend(str(PLUGINS))
    proc = main_in_process("run", "plug.yaml", "--out", "out", cwd=tmp_path,
                           monkeypatch=monkeypatch, capsys=capsys)  # fmt: skip
    assert_user_error(proc, "run", "models[0].estimators[1]: ", *fragments)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plug.yaml"]


def test_bad_plugin_in_a_subprocess(tmp_path):
    (tmp_path / "plug.yaml").write_text(plugin_config("bad_plugins:untypable"))
    proc = simstudy("run", "plug.yaml", "--out", "out", cwd=tmp_path, pythonpath=PLUGINS)
    assert_user_error(proc, "run", "models[0].estimators[1]: ", "must compile as")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plug.yaml"]


def test_plugin_next_to_the_config_is_found(tmp_path):
    """Plugins import from the config's folder too: the error is about the kernel, not import."""
    shutil.copy(PLUGINS / "bad_plugins.py", tmp_path / "bad_plugins.py")
    (tmp_path / "plug.yaml").write_text(plugin_config("bad_plugins:not_jitted"))
    proc = simstudy("validate", "plug.yaml", cwd=tmp_path)
    assert_user_error(proc, "validate", "must be a Numba-jitted function")


# --------------------------------------------------------------------------------------------
# Listing and help


def test_models_lists_every_model_with_parameters_and_estimators():
    proc = simstudy("models", cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    rows = {line.split()[0]: line for line in proc.stdout.splitlines()[2:] if line.strip()}
    assert sorted(rows) == sorted(list_models())
    assert len(rows) == len(list_models())
    for name in list_models():
        model = get_model(name)
        for p in model.params:
            assert f"{p.name} in {p.domain}" in rows[name]
        assert ", ".join(model.estimators) in rows[name]
    assert "p in (0, 1)" in rows["bernoulli"]


def test_help():
    proc = simstudy("--help", cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    for command in ("run", "verify", "analyse", "validate", "plan", "models", "check-model"):
        assert command in proc.stdout
    proc = simstudy("run", "--help", cwd=ROOT)
    assert proc.returncode == 0
    for option in ("--out", "--threads", "--replications", "--force", "--quiet", "--no-report"):
        assert option in proc.stdout


def test_usage_errors_exit_2():
    proc = simstudy(cwd=ROOT)
    assert proc.returncode == 2 and "usage: simstudy" in proc.stderr
    assert "Traceback" not in proc.stderr
    proc = simstudy("frobnicate", cwd=ROOT)
    assert proc.returncode == 2 and "invalid choice" in proc.stderr
