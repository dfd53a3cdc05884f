"""The public verification API: model self-checks and assertions for users' pytest suites.

``check_model(name)`` verifies a model's likelihood machinery at its typical parameters
(Monte Carlo identities of the score and information, with tolerances from Monte Carlo
standard errors). ``assert_mle_properties(...)`` runs a small study and raises an
``AssertionError`` listing every property whose verdict differs from what was expected.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: Tolerance of the Monte Carlo identities, in Monte Carlo standard errors (two-sided
#: P(|Z| > 4) = 6e-5 per check, so a correct model fails a check about once in 16,000).
MC_TOLERANCE = 4.0
#: Score at the MLE, relative to the score's standard deviation sqrt(n·I_jj).
SCORE_AT_MLE_RTOL = 1e-6
#: Allowance for the central-difference Hessian, relative to sqrt(I_aa I_bb): its truncation
#: and rounding errors (~1e-10 and ~1e-11/h) are far below this, and a Hessian that does not
#: depend on x (exponential, gamma) has an MCSE of zero, so the test needs some allowance.
HESSIAN_RTOL = 1e-5


@dataclass(frozen=True)
class CheckResult:
    """One self-check: its name, PASS/FAIL, the statistic, the tolerance and the evidence."""

    name: str
    passed: bool
    statistic: float
    tolerance: float
    detail: str

    @property
    def verdict(self) -> str:
        return "PASS" if self.passed else "FAIL"


def typical_theta(model) -> np.ndarray:
    """The midpoint of each parameter's ``typical`` range (geometric for positive ranges)."""
    out = []
    for p in model.params:
        lo, hi = p.typical
        out.append(math.sqrt(lo * hi) if lo > 0 else 0.5 * (lo + hi))
    return np.array(out)


def per_observation_scores(model, x: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Score of each observation (m, k): the model's total score on one-observation samples
    (an observation is ``model.data_width`` values, e.g. a regression row (y, x...))."""
    width = model.data_width
    m = x.size // width
    scores = np.empty((m, model.k))
    buf = np.empty(model.k)
    for i in range(m):
        model.score(x[i * width : (i + 1) * width], theta, buf)
        scores[i] = buf
    return scores


def per_observation_hessians(model, x: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """Hessian of each observation's log-likelihood (m, k, k), by central differences of the
    analytic score (step 1e-5·max(1, |θ_j|): truncation O(h²) ~ 1e-10, rounding ~ 1e-11/h)."""
    k = model.k
    out = np.empty((x.size // model.data_width, k, k))
    for j in range(k):
        h = 1e-5 * max(1.0, abs(theta[j]))
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        out[:, :, j] = (per_observation_scores(model, x, up) - per_observation_scores(model, x, down)) / (2 * h)
    return out


def check_model(model, theta: Sequence[float] | None = None, *, draws: int = 20_000,
                fit_n: int = 2_000, seed: int = 20261121) -> list[CheckResult]:  # fmt: skip
    """Self-checks of a model at θ (default: its typical parameters). ``model`` is a built-in
    name, a plugin model ``"package.module:Class"`` (imported from PYTHONPATH or the current
    working directory) or a :class:`~simstudy.models.Model`.

    E[score] = 0, Var(score) = I(θ), -E[Hessian] = I(θ) (each entry within
    :data:`MC_TOLERANCE` MCSEs over ``draws`` observations) and score(θ̂) ≈ 0 at the MLE of a
    sample of ``fit_n``. Samples come from the model's NumPy oracle, so no sampler is compiled.
    """
    from simstudy import rng
    from simstudy.models._registry import get_model

    m = get_model(model)
    theta = np.asarray(typical_theta(m) if theta is None else theta, dtype=np.float64)
    m.check_theta(dict(zip(m.param_names, theta)))
    if not m.regular:
        # The identities below are Fisher-information theory, which a non-regular model
        # (support depending on θ, ...) does not satisfy: say so instead of failing.
        reason = m.tags.get("regular_reason", "the model is tagged regular: false")
        return [CheckResult("regularity", True, math.nan, math.nan, f"skipped: {reason}")]
    differentiable = bool(m.tags.get("differentiable", True))
    info = np.zeros((m.k, m.k))
    m.fisher(theta, info)
    x = m.numpy_sample(rng.numpy_generator(seed, 0, 0, 0), theta, draws)
    results = []

    scores = per_observation_scores(m, x, theta)
    for j, name in enumerate(m.param_names):
        mean = scores[:, j].mean()
        se = scores[:, j].std(ddof=1) / math.sqrt(draws)
        results.append(_within(f"E[score_{name}] = 0", mean, 0.0, se))
    centred = scores - scores.mean(axis=0)
    hess = per_observation_hessians(m, x, theta) if differentiable else None
    for a in range(m.k):
        for b in range(a, m.k):
            label = f"{m.param_names[a]},{m.param_names[b]}"
            prod = centred[:, a] * centred[:, b]
            results.append(_within(f"Var(score)[{label}] = I", prod.mean(), info[a, b],
                                   prod.std(ddof=1) / math.sqrt(draws)))  # fmt: skip
            if not differentiable:
                continue
            neg_h = -hess[:, a, b]
            allowance = HESSIAN_RTOL * math.sqrt(info[a, a] * info[b, b])
            results.append(_within(f"-E[Hessian][{label}] = I", neg_h.mean(), info[a, b],
                                   neg_h.std(ddof=1) / math.sqrt(draws), allowance))  # fmt: skip
    if not differentiable:
        results.append(CheckResult(
            "-E[Hessian] = I", True, math.nan, math.nan,
            "skipped: " + m.tags.get("differentiable_reason", "the log-likelihood is not differentiable"),
        ))  # fmt: skip

    sample = m.numpy_sample(rng.numpy_generator(seed, 1, 0, 0), theta, fit_n)
    est, se = np.full(m.k, np.nan), np.full(m.k + m.k * (m.k - 1) // 2, np.nan)
    status, _ = m.estimator("mle").fit(sample, est, se)
    total = np.zeros(m.k)
    m.score(sample, est, total)
    scale = np.sqrt(fit_n * np.diag(info))
    worst = float(np.max(np.abs(total) / scale)) if np.all(np.isfinite(total)) else math.inf
    if differentiable:
        results.append(CheckResult(
            "score(θ̂) = 0", worst <= SCORE_AT_MLE_RTOL and status in (0, 3), worst,
            SCORE_AT_MLE_RTOL,
            f"max |score_j(θ̂)| / sqrt(n I_jj) = {worst:.2e} at n = {fit_n}, fit status {status}",
        ))  # fmt: skip
    return results


def _within(name: str, value: float, expected: float, mcse: float,
            allowance: float = 0.0) -> CheckResult:  # fmt: skip
    """PASS when |value - expected| <= MC_TOLERANCE·MCSE + allowance; statistic in MCSEs."""
    gap = max(abs(value - expected) - allowance, 0.0)
    z = gap / mcse if mcse > 0 else (0.0 if gap == 0 else math.inf)
    return CheckResult(
        name, z <= MC_TOLERANCE, z, MC_TOLERANCE,
        f"{value:.6g} vs {expected:.6g} (MCSE {mcse:.3g}, {z:.2f} MCSE apart"
        + (f" beyond a {allowance:.2g} numerical allowance)" if allowance else ")"),
    )  # fmt: skip


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
