"""The public verification API: model self-checks and assertions for users' pytest suites.

``check_model(model, theta)`` runs every generic model check of :mod:`simstudy.model_checks`
(sampling, replay, log-likelihood, score, information, the fits, the kernels' ``py_func``,
parameter validation) and returns a :class:`ModelReport`; ``assert_model`` raises instead.
``parametrize_with_checks(models)`` makes one pytest test per (model, θ, check), like
scikit-learn's. ``assert_mle_properties(...)`` runs a small study and raises an
``AssertionError`` listing every property whose verdict differs from what was expected.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from simstudy.model_checks import (
    CHECKS,
    FAIL,
    PASS,
    SKIPPED,
    Case,
    CheckResult,
    CheckSettings,
    run_check,
)

__all__ = [
    "CHECKS", "FAIL", "PASS", "SKIPPED", "BoundCheck", "CheckResult", "CheckSettings",
    "ModelReport", "assert_mle_properties", "assert_model", "check_model",
    "parametrize_with_checks", "typical_theta",
]  # fmt: skip


def typical_theta(model) -> np.ndarray:
    """The midpoint of each parameter's ``typical`` range (geometric for positive ranges)."""
    out = []
    for p in model.params:
        lo, hi = p.typical
        out.append(math.sqrt(lo * hi) if lo > 0 else 0.5 * (lo + hi))
    return np.array(out)


class ModelReport(list):
    """The :class:`CheckResult` rows of one model at one θ, in check order (a list), with
    ``failures``, ``ok`` and :meth:`raise_for_failures`."""

    def __init__(self, model, theta, results=()):
        super().__init__(results)
        self.model = model
        self.theta = np.asarray(theta, dtype=np.float64)

    @property
    def where(self) -> str:
        """``name a=1, b=2``: the model and θ."""
        shown = ", ".join(f"{p}={v:g}" for p, v in zip(self.model.param_names, self.theta))
        return f"{self.model.name} at {shown}"

    @property
    def failures(self) -> list[CheckResult]:
        return [r for r in self if r.failed]

    @property
    def ok(self) -> bool:
        """No check FAILed (PASS or SKIPPED everywhere)."""
        return not self.failures

    def counts(self) -> dict[str, int]:
        return {s: sum(r.status == s for r in self) for s in (PASS, FAIL, SKIPPED)}

    def lines(self) -> list[str]:
        return [r.line() for r in self]

    def raise_for_failures(self) -> None:
        """AssertionError listing every FAILed comparison (check, what, numbers, tolerance)."""
        if self.failures:
            raise AssertionError(
                f"{self.where}: {len(self.failures)} of {len(self)} checks FAIL:\n"
                + "\n".join("  " + r.line() for r in self.failures)
            )


def _resolve(model):
    """A Model from a Model, a built-in name or a plugin reference "module:Class" (the
    resolution ``simstudy.get_model`` and ``simstudy check-model`` use)."""
    from simstudy.models._registry import get_model

    return get_model(model)


def _theta_vector(model, theta) -> np.ndarray:
    """θ as an array in declared order, from a sequence or a {name: value} mapping, after
    checking it against the domains (ModelError naming the parameter)."""
    if isinstance(theta, Mapping):
        return model.theta_array(theta)
    values = np.asarray(theta, dtype=np.float64).reshape(-1)
    if values.size != model.k:
        from simstudy.models._base import ModelError

        raise ModelError(f"model {model.name!r} takes {model.k} parameters "
                         f"{list(model.param_names)}; got {values.size} values")  # fmt: skip
    return model.theta_array(dict(zip(model.param_names, values.tolist())))


def check_model(model, theta=None, *, checks: Sequence[str] | None = None,
                settings: CheckSettings | None = None, **sizes) -> ModelReport:  # fmt: skip
    """Every generic check of a model at θ (default: its typical parameters,
    :func:`typical_theta`). ``model`` is a :class:`~simstudy.models.Model`, a built-in name or
    a plugin reference ``"package.module:Class"`` (imported from PYTHONPATH or the current
    folder). ``checks`` picks some of :data:`CHECKS` by name (default: all, in order);
    ``settings`` (or keyword overrides of its fields, e.g. ``draws=10**6``) sets sizes, seed and
    tolerance. Deterministic: every sample comes from a fixed stream address."""
    m = _resolve(model)
    at = typical_theta(m) if theta is None else _theta_vector(m, theta)
    settings = _settings(settings, sizes)
    names = list(CHECKS) if checks is None else list(checks)
    unknown = [n for n in names if n not in CHECKS]
    if unknown:
        from simstudy.models._base import ModelError

        raise ModelError(f"unknown check(s) {unknown}; the checks: {', '.join(CHECKS)}")
    case = Case(m, at, settings)
    return ModelReport(m, at, [r for name in names for r in run_check(case, name)])


def assert_model(model, theta=None, **options) -> ModelReport:
    """:func:`check_model`, raising AssertionError listing every FAIL; returns the report."""
    report = check_model(model, theta, **options)
    report.raise_for_failures()
    return report


def _settings(settings: CheckSettings | None, sizes: Mapping[str, Any]) -> CheckSettings:
    import dataclasses

    base = settings or CheckSettings()
    return dataclasses.replace(base, **sizes) if sizes else base


# ---------------------------------------------------------------------------------------------
# pytest
# ---------------------------------------------------------------------------------------------
#: Up to this many θ points the default grid is every combination of (low, mid, high) of the
#: typical ranges; beyond (2+ parameters) each parameter in turn takes its ends with the others
#: at their midpoints (2k + 1 points: every parameter's extremes at a fraction of the cost).
MAX_GRID_POINTS = 3


def theta_grid(model) -> list[tuple[float, ...]]:
    """The default θ points of :func:`parametrize_with_checks` (midpoint first)."""
    import itertools

    grids = [(lo, 0.5 * (lo + hi), hi) for lo, hi in (p.typical for p in model.params)]
    mid = tuple(g[1] for g in grids)
    if 3 ** len(grids) <= MAX_GRID_POINTS:
        return [mid] + [t for t in itertools.product(*grids) if t != mid]
    points = [mid]
    for j, g in enumerate(grids):
        points += [mid[:j] + (g[0],) + mid[j + 1 :], mid[:j] + (g[2],) + mid[j + 1 :]]
    return points


class BoundCheck:
    """One check of one model at one θ, as a pytest parameter: calling it runs the check and
    raises AssertionError on a FAIL, or skips the test when every row is SKIPPED. Cases are
    shared by the checks of the same (model, θ, settings), so samples are drawn once."""

    _cases: ClassVar[dict] = {}

    def __init__(self, model, theta, check: str, settings: CheckSettings):
        self.model, self.theta, self.check, self.settings = model, tuple(theta), check, settings

    @property
    def id(self) -> str:
        shown = ",".join(f"{p}={v:g}" for p, v in zip(self.model.param_names, self.theta))
        return f"{self.model.name}-{shown}-{self.check}"

    def results(self) -> ModelReport:
        key = (id(self.model), self.theta, self.settings)
        if key not in self._cases:
            if len(self._cases) >= 4:  # the parametrization runs one (model, θ) after another
                self._cases.pop(next(iter(self._cases)))
            self._cases[key] = Case(self.model, np.array(self.theta), self.settings)
        case = self._cases[key]
        return ModelReport(self.model, self.theta, run_check(case, self.check))

    def __call__(self) -> ModelReport:
        report = self.results()
        report.raise_for_failures()
        if report and all(r.skipped for r in report):
            import pytest

            pytest.skip("; ".join(sorted({r.detail for r in report})))
        return report

    def __repr__(self) -> str:
        return f"BoundCheck({self.id})"


def parametrize_with_checks(models, thetas=None, *, checks: Sequence[str] | None = None,
                            settings: CheckSettings | None = None):  # fmt: skip
    """A pytest decorator: one test per (model, θ, check), ids like
    ``exponential-rate=2-score_mean_zero``. The test takes one argument ``check`` and calls it::

        @parametrize_with_checks(["exponential", "my_models:Rayleigh"])
        def test_model(check):
            check()

    ``models``: Models, built-in names or plugin references. ``thetas``: None (each model's
    :func:`theta_grid`), a list of θ (sequences or {name: value}) for every model, or a mapping
    {model name: list of θ}. Checks that do not depend on θ (``Check.per_model``) run once per
    model, at its first θ. ``checks`` and ``settings`` as for :func:`check_model`."""
    import pytest

    settings = settings or CheckSettings()
    names = list(CHECKS) if checks is None else list(checks)
    params = []
    for ref in models:
        m = _resolve(ref)
        if thetas is None:
            points = theta_grid(m)
        elif isinstance(thetas, Mapping):
            points = thetas.get(m.name, theta_grid(m))
        else:
            points = thetas
        vectors = [tuple(_theta_vector(m, t).tolist()) for t in points]
        for i, theta in enumerate(vectors):
            for name in names:
                if CHECKS[name].per_model and i > 0:
                    continue
                bound = BoundCheck(m, theta, name, settings)
                params.append(pytest.param(bound, id=bound.id))
    return pytest.mark.parametrize("check", params)


def assert_mle_properties(model: str, params: Mapping[str, Any], sample_sizes: Sequence[int],
                          replications: int, estimator: str = "mle", *, seed: int = 20261121,
                          checks: Mapping[str, Any] | None = None, out: str | None = None,
                          expect: Mapping[str, Any] | Sequence[Mapping[str, Any]] | None = None,
                          **properties: str) -> Any:  # fmt: skip
    """Run a study of one model and estimator; raise AssertionError unless every verdict is as
    expected (default: PASS). Returns the verdict table.

    Expectations take the forms of a study's ``expect:``: ``efficient="fail"`` (keyword
    arguments) applies to every parameter; ``expect={"mu": {"efficient": "fail"}}`` to one
    parameter (the others keep PASS); ``expect=[{"when": {"shape": 1.5}, "consistent": "fail"},
    ...]`` to the cells whose true parameters match (``params`` may sweep); they combine, later
    rules overriding earlier ones. ``estimator`` is a built-in name or
    a plugin reference ``"package.module:function"``.
    """
    from simstudy.study import run
    from simstudy.verdicts import all_met

    spec: Any = {"plugin": estimator, "name": "candidate"} if ":" in estimator else estimator
    label = "candidate" if ":" in estimator else estimator
    # The forms of a study's expect: a mapping, or a list of rules (each with an optional
    # when: {param: value}); keyword properties are a first rule for every parameter.
    rules = list(expect) if isinstance(expect, list) else ([dict(expect)] if expect else [])
    wanted = ([dict(properties)] if properties else []) + rules
    config = {
        "name": "assert-mle-properties",
        "seed": seed,
        "replications": replications,
        "sample_sizes": list(sample_sizes),
        "models": [{
            "model": model,
            "params": dict(params),
            "estimators": [spec],
            "expect": {label: wanted} if wanted else {},
        }],
        "checks": dict(checks or {}, reference=label),
    }  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="simstudy-") as tmp:
        result = run(config, out=out or tmp, report=False)
        _, verdicts = result.analyse()
    if not all_met(verdicts):
        bad = verdicts[~verdicts.met]
        lines = [
            f"  {v.param}: {v.property} is {v.verdict}, expected {v.expected.upper()} -- {v.detail}"
            for v in bad.itertuples()
        ]
        raise AssertionError(
            f"{model} {dict(params)} estimator {estimator!r}: {len(bad)} of {len(verdicts)} "
            "verdicts not as expected:\n" + "\n".join(lines)
        )
    return verdicts
