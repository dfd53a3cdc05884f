"""Every example in README.md runs, as written (only ``--out`` and R made smaller where a test
says so), and the quick start verifies cleanly.

The README's fenced blocks are read here; each ``bash``, ``python`` and ``yaml`` block is
claimed by exactly one test below (by its first line), so an example added without a test
fails ``test_every_example_is_run``. ``text`` blocks are output and synopses.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import yaml

import simstudy

#: The tests reading the quick start's results run on one xdist worker, so it runs once.
pytestmark = pytest.mark.xdist_group("readme")

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
BLOCKS = [(m.group(1), m.group(2)) for m in re.finditer(r"```(\w*)\n(.*?)\n```", README, re.DOTALL)]
RUNNABLE = [(lang, text) for lang, text in BLOCKS if lang in ("bash", "python", "yaml")]
#: The first line of every runnable block, and the test that runs it.
CLAIMED = {
    "python3 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/simstudy verify configs/quickstart.yaml":
        "test_quick_start_verifies_cleanly_as_written",
    'python3 -m venv .venv && .venv/bin/pip install -e ".[dev]" && .venv/bin/python -m pytest':
        "test_ci_runs_exactly_the_readme_commands",
    "simstudy report results/quickstart                    # PNG figures (300 dpi)":
        "test_report_commands",
    "import simstudy": "test_python_api_example",
    "from simstudy.testing import assert_mle_properties, check_model, parametrize_with_checks":
        "test_pytest_example",
    "simstudy run configs/quickstart.yaml --executor dask            # a LocalCluster on this machine":
        "test_cluster_examples",
    "from dask_jobqueue import SLURMCluster": "test_cluster_examples",
    "simstudy run study.yaml --scheduler tcp://10.1.2.3:8786 --out /shared/results":
        "test_cluster_examples",
    "name: seed-models            # folder name under results/: lowercase letters, digits, _ and -":
        "test_yaml_examples_validate",
    "  - model: logistic": "test_yaml_examples_validate",
    "# configs/my_estimators.py  (a module next to the config, or anywhere on PYTHONPATH)":
        "test_plugin_skeleton_defines_a_kernel",
    "name: python-huber": "test_python_estimator_example_verifies",
    "gen = numpy.random.Generator(numpy.random.Philox(key=seed | (key1 << 64), counter=[0, 0, rep, 0]))":
        "test_replay_recipe_regenerates_the_stored_sample",
    "simstudy analyse configs/external_example.csv --model exponential --theta rate=2 --expect '{median: {efficient: fail}}'":
        "test_external_example",
}  # fmt: skip


def block(first_line: str, nth: int = 0) -> str:
    found = [text for _, text in RUNNABLE if text.splitlines()[0] == first_line]
    return found[nth]


def shell_lines(text: str) -> list[list[str]]:
    """Each command of a bash block as argv, comments dropped."""
    return [shlex.split(line, comments=True) for line in text.splitlines() if line.strip()]


def cli(argv: list[str], *, cwd: Path, env=None) -> subprocess.CompletedProcess:
    """A README command line with ``simstudy`` (or ``.venv/bin/simstudy``) run as
    ``python -m simstudy`` of this environment."""
    assert argv[0].endswith("simstudy"), argv
    return subprocess.run([sys.executable, "-m", "simstudy", *argv[1:]], cwd=cwd,
                          capture_output=True, check=False, text=True, timeout=900,
                          env={**os.environ, **(env or {})})  # fmt: skip


def test_every_example_is_run():
    firsts = [text.splitlines()[0] for _, text in RUNNABLE]
    assert sorted(set(firsts)) == sorted(CLAIMED), "a README example without a test, or a test without its example"
    assert len(firsts) == len(CLAIMED) + 1  # the two model-entry YAML fragments share a first line


def test_ci_runs_exactly_the_readme_commands():
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"```bash\n(.+?)\n```", quick)
    assert len(commands) == 2, "the quick start is exactly two commands"
    run_cmd, test_cmd = commands
    assert "configs/quickstart.yaml" in run_cmd and "pytest" in test_cmd
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_cmd in ci, ".ci/run must run the README's test command verbatim"
    comment = ci.split("\nset ", 1)[0]
    for path in re.findall(r"tests/\w+\.py", comment):
        assert (ROOT / path).is_file(), f".ci/run's comment names {path}, which does not exist"


@pytest.fixture(scope="module")
def quickstart(tmp_path_factory):
    """README command 1's simstudy part, as written but with --out: the full quick start."""
    out = tmp_path_factory.mktemp("quick")
    command = block(next(k for k in CLAIMED if "quickstart.yaml" in k and "verify" in k))
    argv = shlex.split(command.split("&&")[-1])
    proc = cli([*argv, "--out", str(out)], cwd=ROOT)
    return proc, out


def test_quick_start_verifies_cleanly_as_written(quickstart):
    proc, out = quickstart
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    shown = block_after("(the two FAILs", before=True)
    assert proc.stdout.strip().splitlines()[-1] == shown.replace("results/quickstart", str(out / "quickstart"))
    assert "warning" not in proc.stderr


def block_after(marker: str, before: bool = False) -> str:
    """The ``text`` block just before the prose line starting with ``marker``."""
    head = README.split(marker, 1)[0]
    return re.findall(r"```text\n(.*?)\n```", head, re.DOTALL)[-1]


def test_report_commands(quickstart):
    _, out = quickstart
    for argv in shell_lines(block("simstudy report results/quickstart                    # PNG figures (300 dpi)")):
        argv = [str(out / "quickstart") if a == "results/quickstart" else a for a in argv]
        proc = cli(argv, cwd=ROOT)
        assert proc.returncode == 0, proc.stderr
    assert list((out / "quickstart" / "figures").glob("*.pdf"))


def with_configs(tmp_path: Path) -> Path:
    """A working folder where the README's relative paths (configs/...) resolve."""
    (tmp_path / "configs").symlink_to(ROOT / "configs")
    return tmp_path


def test_python_api_example(tmp_path, monkeypatch):
    import simstudy.study

    monkeypatch.chdir(with_configs(tmp_path))
    real_run = simstudy.study.run

    def smaller(config, **options):  # the only change: R = 300 instead of 10,000
        return real_run(config, **{**options, "replications": 300})

    monkeypatch.setattr(simstudy.study, "run", smaller)
    namespace: dict = {}
    exec(compile(block("import simstudy"), "README.md", "exec"), namespace)  # noqa: S102 -- running the README's own examples is the test
    assert (tmp_path / "results" / "quickstart" / "report.html").is_file()
    assert len(namespace["df"]) == 300 and namespace["x"].size == 1000


def test_pytest_example(tmp_path):
    (tmp_path / "test_example.py").write_text(
        block("from simstudy.testing import assert_mle_properties, check_model, parametrize_with_checks"))
    proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_example.py"],
                          cwd=tmp_path, capture_output=True, check=False, text=True, timeout=900,
                          env={**os.environ, "PYTHONPATH": str(ROOT / "configs")})  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:]
    # Two plain tests, and every check at each of the 2 θ, the θ-free checks once: one SKIPs
    # (the Rayleigh model has no sufficient statistics).
    from simstudy.testing import CHECKS

    cases = 2 * len(CHECKS) - sum(c.per_model for c in CHECKS.values())
    counts = {word: int(n) for n, word in re.findall(r"(\d+) (passed|skipped|failed)", proc.stdout)}
    assert counts.get("passed", 0) + counts.get("skipped", 0) == 2 + cases, proc.stdout[-500:]
    assert "failed" not in counts


def test_yaml_examples_validate(tmp_path):
    from simstudy.config import load_config

    shutil.copy(ROOT / "configs" / "my_estimators.py", tmp_path)
    shutil.copy(ROOT / "configs" / "trial_design.csv", tmp_path)
    (tmp_path / "study.yaml").write_text(block(next(k for k in CLAIMED if k.startswith("name: seed-models"))))
    sys.path.insert(0, str(tmp_path))
    try:
        load_config(tmp_path / "study.yaml")
        for nth in (0, 1):
            entry = yaml.safe_load(block("  - model: logistic", nth))
            study = {"name": "fragment", "seed": 1, "replications": 10, "sample_sizes": [50, 100],
                     "models": entry}  # fmt: skip
            (tmp_path / f"fragment{nth}.yaml").write_text(yaml.safe_dump(study))
            load_config(tmp_path / f"fragment{nth}.yaml")
    finally:
        sys.path.remove(str(tmp_path))


def test_plugin_skeleton_defines_a_kernel(tmp_path, monkeypatch):
    # A module of its own, as the comment says (Numba caches a kernel next to its file).
    (tmp_path / "skeleton.py").write_text(block("# configs/my_estimators.py  (a module next to the config, or anywhere on PYTHONPATH)"))
    monkeypatch.syspath_prepend(str(tmp_path))
    import skeleton

    assert hasattr(skeleton.median, "py_func") and skeleton.median.py_func.__name__ == "median"


def test_python_estimator_example_verifies(tmp_path):
    """The README's study is configs/python_huber.yaml, and it verifies (exit 0)."""
    shown = yaml.safe_load(block("name: python-huber"))
    assert shown == yaml.safe_load((ROOT / "configs" / "python_huber.yaml").read_text())
    proc = cli(["simstudy", "verify", "configs/python_huber.yaml", "--out", str(tmp_path), "--quiet",
                "--no-report"], cwd=ROOT)  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "all 20 as expected" in proc.stdout


def test_replay_recipe_regenerates_the_stored_sample(quickstart):
    _, out = quickstart
    result = simstudy.load(out / "quickstart")
    cell = next(c for c in result.cells if c["model"] == "gamma" and c["n"] == 100)
    theta = {"shape": 2.0, "rate": 1.5}
    namespace = {"numpy": np, "seed": result.manifest["seed"], "key1": cell["key1"], "rep": 17,
                 "n": 100, **theta}  # fmt: skip
    exec(block("gen = numpy.random.Generator(numpy.random.Philox(key=seed | (key1 << 64), counter=[0, 0, rep, 0]))"), namespace)  # noqa: S102 -- running the README's own examples is the test
    assert np.array_equal(namespace["x"], result.sample("gamma", theta, 100, 17))


def test_cluster_examples(tmp_path, monkeypatch):
    distributed = pytest.importorskip("distributed")
    work = with_configs(tmp_path)
    first, second = shell_lines(block(next(k for k in CLAIMED if "--executor dask" in k)))
    proc = cli([*first, "--out", str(tmp_path / "a"), "--replications", "20"], cwd=work)
    assert proc.returncode == 0, proc.stderr[-3000:]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=False,
                                  protocol="tcp", dashboard_address=":0") as cluster:  # fmt: skip
        address = cluster.scheduler_address
        on_cluster = [address if a == "tcp://HOST:8786" else a for a in second]
        proc = cli([*on_cluster, "--out", str(tmp_path / "b"), "--replications", "20"], cwd=work)
        assert proc.returncode == 0, proc.stderr[-3000:]
        # dask-jobqueue's SLURMCluster, stood in for by this cluster (no SLURM here).
        fake = types.ModuleType("dask_jobqueue")
        fake.SLURMCluster = lambda **kwargs: types.SimpleNamespace(
            scale=lambda jobs: None, scheduler_address=address, kwargs=kwargs)
        monkeypatch.setitem(sys.modules, "dask_jobqueue", fake)
        exec(block("from dask_jobqueue import SLURMCluster"), {})  # noqa: S102 -- running the README's own examples is the test
        (work / "study.yaml").write_text(yaml.safe_dump({
            "name": "on-slurm", "seed": 1, "replications": 20, "sample_sizes": [10, 20, 40],
            "models": [{"model": "poisson", "params": {"rate": 2.0}}]}))  # fmt: skip
        (argv,) = shell_lines(block("simstudy run study.yaml --scheduler tcp://10.1.2.3:8786 --out /shared/results"))
        argv = [address if a == "tcp://10.1.2.3:8786" else str(tmp_path / "shared") if a == "/shared/results"
                else a for a in argv]  # fmt: skip
        proc = cli(argv, cwd=work)
        assert proc.returncode == 0, proc.stderr[-3000:]
    assert (tmp_path / "shared" / "on-slurm" / "report.html").is_file()


def test_external_example(tmp_path):
    """The analyse example as written (only --out added): its closing line is the README's,
    `verify` on the folder exits 1 as the README says, and the committed table is what its
    script writes."""
    (argv,) = shell_lines(block(next(k for k in CLAIMED if k.startswith("simstudy analyse"))))
    proc = cli([*argv, "--out", str(tmp_path)], cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    shown = block_after("`configs/external_example.csv` (written by")
    folder = tmp_path / "external_example"
    assert proc.stdout.strip().splitlines()[-1] == shown.replace("results/external_example", str(folder))
    assert (folder / "report.html").is_file()
    verify = cli(["simstudy", "verify", str(folder), "--quiet", "--no-report"], cwd=ROOT)
    assert verify.returncode == 1, verify.stderr
    subprocess.run([sys.executable, str(ROOT / "configs" / "external_example.py"), str(tmp_path / "again.csv")],
                   check=True, timeout=120)  # fmt: skip
    assert (tmp_path / "again.csv").read_bytes() == (ROOT / "configs" / "external_example.csv").read_bytes()
