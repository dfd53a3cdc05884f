"""The public check suite (``simstudy.testing``) on plugin models with known answers.

Models in tests/plugins/exact_models.py: every correct variant (exact pieces, pieces removed so
that simstudy's fallbacks stand in, a Monte Carlo information) PASSes every check, and each
planted error FAILs exactly the checks it breaks, no other. Also: the report's form, the
pytest parametrization's cases and ids, and ``simstudy check-model``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_plugin_models import PLUGINS, model, plugins_on_path  # noqa: F401 -- autouse fixture

from simstudy.testing import (
    CHECKS,
    BoundCheck,
    CheckSettings,
    assert_model,
    check_model,
    parametrize_with_checks,
)

CORRECT = ["Pareto", "ParetoNoFisher", "ParetoNoScore", "ParetoLogpdfOnly", "ZeroInflatedPoisson",
           "ZipNoFisher", "ZipLogpdfOnly", "ShiftedNormal"]  # fmt: skip

#: Each planted error and the checks it must FAIL (all others PASS or SKIP).
PLANTED = {
    # The score 10% too large: the gradient and Var(score) = 1.21 I; its mean is still 0 and
    # it still vanishes at the (correct) MLE.
    "ParetoWrongScore": {"score_gradient", "score_variance"},
    # E[score] = 0.1/α per observation: the gradient, the mean, and score(θ̂) ≠ 0.
    "ParetoBiasedScore": {"score_gradient", "score_mean_zero", "score_zero_at_mle"},
    # I 20% too large: both identities that compare with I.
    "ParetoWrongFisher": {"score_variance", "hessian_information"},
    # The off-diagonal information with the wrong sign.
    "ZipWrongFisher": {"score_variance", "hessian_information"},
    # numpy_sample of the right law but not the kernel's bits.
    "ParetoWrongReplay": {"numpy_replay"},
}


@pytest.mark.parametrize("variant", CORRECT)
def test_a_correct_plugin_passes_every_check(variant):
    report = check_model(model(variant))
    assert report.ok, "\n".join(report.lines())
    ran = {r.check for r in report}
    assert ran == set(CHECKS), f"checks without a row: {set(CHECKS) - ran}"


@pytest.mark.parametrize("variant", sorted(PLANTED))
def test_a_planted_error_fails_exactly_the_checks_it_breaks(variant):
    report = check_model(model(variant))
    failed = {r.check for r in report.failures}
    assert failed == PLANTED[variant], "\n".join(r.line() for r in report.failures)


def test_a_monte_carlo_information_widens_the_tolerance_by_its_own_mcse():
    """The reference of Var(score) = I is itself Monte Carlo for two values per observation:
    the tolerance combines both MCSEs, z·sqrt(MCSE_sample² + MCSE_I²)."""
    m = model("ShiftedNormal")
    theta = np.array([1.0])
    report = check_model(m, theta, checks=["score_variance"])
    (row,) = report
    info_mcse = m.fisher_mcse(theta)[0, 0]
    s = report_scores(m, theta)
    sample_mcse = (s**2).std(ddof=1) / np.sqrt(s.size)
    z = CheckSettings().z
    assert row.tolerance == pytest.approx(z * np.hypot(sample_mcse, info_mcse) + 1e-12 * row.expected,
                                          rel=1e-9)  # fmt: skip
    assert row.passed and info_mcse > 0


def report_scores(m, theta):
    """The per-observation scores the moment checks average (same stream address)."""
    from simstudy._check_kernels import score_each
    from simstudy.model_checks import Case

    case = Case(m, theta, CheckSettings())
    return score_each(m, case.moment_sample, case.theta)[:, 0]


def test_a_plugin_reference_resolves_as_the_cli_does(monkeypatch):
    monkeypatch.chdir(PLUGINS)
    report = check_model("exact_models:ParetoWrongReplay", [2.0], checks=["numpy_replay"])
    assert report.model.tags["plugin"] == "exact_models:ParetoWrongReplay"
    assert [r.status for r in report] == ["FAIL"] * 3
    assert all(r.value > 0 and r.tolerance == 0 for r in report)  # mismatching draws, none allowed


def test_the_report_is_structured_and_raises_with_every_failure():
    report = check_model(model("ParetoWrongFisher"), {"alpha": 2.0},
                         checks=["theta_accepted", "score_variance", "discrete_tag"])  # fmt: skip
    assert [r.check for r in report] == ["theta_accepted", "score_variance", "discrete_tag"]
    var = report[1]
    assert var.status == "FAIL" and var.expected == pytest.approx(1.2 / 4)
    assert abs(var.value - 0.25) < var.tolerance < abs(var.value - var.expected)
    assert report.counts() == {"PASS": 2, "FAIL": 1, "SKIPPED": 0}
    with pytest.raises(AssertionError, match=r"pareto at alpha=2: 1 of 3 checks FAIL:\n.*"
                                             r"FAIL +score_variance +Var\(score\)\[alpha,alpha\] = I"):  # fmt: skip
        report.raise_for_failures()
    with pytest.raises(AssertionError, match="score_variance"):
        assert_model(model("ParetoWrongFisher"), [2.0], checks=["score_variance"])
    assert assert_model(model("Pareto"), [2.0], checks=["score_variance"]).ok


def test_settings_and_check_names_are_validated():
    from simstudy.models import ModelError

    with pytest.raises(ModelError, match="unknown check"):
        check_model("exponential", checks=["score_mean_0"])
    with pytest.raises(ModelError, match="'rate'"):
        check_model("exponential", [-1.0])
    with pytest.raises(TypeError):
        check_model("exponential", draws_=10)


def test_parametrize_with_checks_makes_one_case_per_model_theta_and_check():
    mark = parametrize_with_checks(["exponential", model("ZeroInflatedPoisson")],
                                   thetas={"exponential": [[2.0], {"rate": 0.5}]})  # fmt: skip
    name, params = mark.args
    assert name == "check"
    ids = [p.id for p in params]
    assert "exponential-rate=2-score_mean_zero" in ids and "exponential-rate=0.5-score_mean_zero" in ids
    per_model = [c for c in CHECKS.values() if c.per_model]
    # θ-free checks once per model, at its first θ; the others at every θ.
    assert "exponential-rate=2-out_of_domain" in ids and "exponential-rate=0.5-out_of_domain" not in ids
    zip_points = 5  # the default grid: the midpoint and each parameter's two ends
    assert len(ids) == 2 * len(CHECKS) - len(per_model) + zip_points * len(CHECKS) - 4 * len(per_model)
    assert len(set(ids)) == len(ids)
    assert "zip-pi=0.3,lam=3.5-numpy_replay" in ids


def test_a_bound_check_fails_skips_or_passes_as_a_test():
    settings = CheckSettings()
    with pytest.raises(AssertionError, match="numpy_replay"):
        BoundCheck(model("ParetoWrongReplay"), (2.0,), "numpy_replay", settings)()
    with pytest.raises(pytest.skip.Exception, match="no sufficient statistics"):
        BoundCheck(model("ZeroInflatedPoisson"), (0.3, 3.5), "sufficient_statistics", settings)()
    assert BoundCheck(model("Pareto"), (2.0,), "score_mean_zero", settings)().ok


def _cli(*argv, cwd=PLUGINS, code="pass"):
    """``simstudy ARGV`` in a fresh interpreter in ``cwd``, then ``code`` (before the exit)."""
    script = f"import sys; from simstudy.cli import main; rc = main(sys.argv[1:]); {code}; sys.exit(rc)"
    return subprocess.run([sys.executable, "-c", script, *argv], cwd=cwd, capture_output=True,
                          text=True, check=False, timeout=600)  # fmt: skip


def test_cli_prints_every_check_and_exits_1_on_a_fail():
    proc = _cli("check-model", "exact_models:ParetoWrongReplay", "--theta", "alpha=2")
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "check-model pareto at alpha=2"
    rows = lines[1:-1]
    assert {row.split()[1] for row in rows} == set(CHECKS)
    assert all(row.split()[0] in ("PASS", "FAIL", "SKIPPED") for row in rows)
    assert [row.split()[1] for row in rows if row.split()[0] == "FAIL"] == ["numpy_replay"] * 3
    assert "first mismatch at index" in proc.stdout
    assert lines[-1] == "39 passed, 3 failed, 0 skipped"


def test_cli_loads_only_the_kernels_the_chosen_checks_call():
    probe = ("from simstudy.models import get_model; m = get_model('exponential'); "
             "print('compiled', [d.signatures for d in (m.sample, m.loglik, m.score)], "
             "'simstudy.engine' in sys.modules, 'simstudy.study' in sys.modules)")  # fmt: skip
    proc = _cli("check-model", "exponential", "--checks", "out_of_domain,parameter_names,theta_accepted",
                code=probe)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "compiled [[], [], []] False False" in proc.stdout
    assert proc.stdout.count("PASS") > 5 and "0 failed" in proc.stdout
    proc = _cli("check-model", "exponential", "--checks", "score_mean_zero", code=probe)
    assert proc.returncode == 0 and "False False" in proc.stdout  # the sampler and score only


def test_the_generic_mle_of_a_plugin_stays_in_the_domain(monkeypatch):
    """The Rayleigh density of configs/my_models.py is finite for σ < 0 (σ enters as σ²): the
    generic Newton MLE, started at σ = 1 on a sample of σ = 0.5, once crossed to -σ̂."""
    configs = Path(__file__).resolve().parents[1] / "configs"
    monkeypatch.syspath_prepend(str(configs))
    monkeypatch.chdir(configs)
    report = check_model("my_models:Rayleigh", {"sigma": 0.5}, checks=["mle_reference"])
    assert report.ok, "\n".join(report.lines())
