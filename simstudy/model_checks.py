"""The generic model checks: what every model must satisfy, derived from its declarations.

Each check is a function of one :class:`Case` (a model at one θ, with the check settings) that
returns :class:`CheckResult` rows: PASS, FAIL or SKIPPED (a model whose tags say a check does
not apply: ``regular`` / ``differentiable`` / ``mle_always_exists`` with their ``*_reason``,
or a piece the model lacks, e.g. a SciPy distribution). :data:`CHECKS` lists them in order;
:mod:`simstudy.testing` runs them (``check_model``, ``parametrize_with_checks``).

Every sample comes from the model's own sampler kernel at a fixed stream address (the settings'
seed, :data:`CELL_KEY`, a replication index distinct per check), so every result is
deterministic. Monte Carlo comparisons pass within ``z`` combined Monte Carlo standard errors:
the MCSE of the sample average and, where the reference itself is a Monte Carlo estimate (a
plugin's information, ``Model.fisher_mcse``), the reference's, added in quadrature.
Numerical-derivative tolerances are derived from the step (comments at each check).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from simstudy import rng
from simstudy.models._base import (
    NO_MLE,
    OK,
    STATUS_CODES,
    USABLE_STATUSES,
    Model,
    ModelError,
    se_slots,
)

PASS, FAIL, SKIPPED = "PASS", "FAIL", "SKIPPED"
EPS = float(np.finfo(np.float64).eps)
#: Philox key word 1 of every check stream (a study's data-spec hash): hex digits of π.
CELL_KEY = 0x243F6A8885A308D3
#: Central-difference steps as a fraction of the parameter's scale (:meth:`Case.scales`):
#: ε^(1/3) balances truncation O(h²) and rounding O(ε/h) of a first derivative, ε^(1/4) of a
#: second.
REL_STEP_GRAD = EPS ** (1 / 3)
REL_STEP_HESS = EPS ** (1 / 4)
# Distinct replication indices, so that no two checks see the same sample.
REP_SUPPORT, REP_LOGLIK, REP_SCORE, REP_MOMENTS, REP_RECOVERY, REP_PYFUNC, REP_DEGENERATE = range(7)
REP_REFERENCE = 100  # + index of the sample size
REP_SE = 10_000  # replications REP_SE .. REP_SE + se_replications - 1
#: Guard words behind each fit output buffer, and the value they hold: Numba does not check
#: bounds, so a kernel writing past the contract's lengths would corrupt memory silently.
GUARD_WORDS = 4
GUARD_VALUE = -7.77e300


@dataclass(frozen=True)
class CheckSettings:
    """Sizes, seed and tolerances of the checks (the defaults are the project's own suite's)."""

    #: Philox key word 0 of every check stream.
    seed: int = 20261121
    #: Tolerance of Monte Carlo comparisons in combined MCSEs: a two-sided normal tail of 6e-5
    #: per comparison, so a correct model fails one of a few hundred comparisons rarely (and,
    #: the seed being fixed, always the same way).
    z: float = 4.0
    #: Draws for E[score] = 0, Var(score) = I(θ) and -E[Hessian] = I(θ). At 2·10^4 a formula
    #: error of ~10% in Var(score) is caught (its products are heavy tailed), far smaller ones
    #: in -E[Hessian].
    draws: int = 20_000
    #: Draws of the support check.
    support_n: int = 5_000
    #: Sample size and tolerance (in standard errors) of "every estimator recovers θ".
    recovery_n: int = 20_000
    recovery_ses: float = 5.0
    #: Sample sizes on which the MLE is compared with the model's independent reference MLE.
    reference_sizes: tuple[int, ...] = (10, 100, 1000)
    #: Sample size and replications of the reported-SE check (R = 1000: the log ratio of
    #: ModSE/EmpSE has an MCSE of about 0.02-0.03).
    se_n: int = 1_000
    se_replications: int = 1_000
    #: Allowance for the finite-sample bias of that ratio, se_bias_per_n / n: a reported SE is a
    #: first-order approximation and E[SE²]/Var(θ̂) - 1 is O(1/n). Its coefficient is largest
    #: for the method of moments on heavy-tailed data (lognormal `mom` in σ²: n·(ratio - 1) of
    #: -30 to -70 at n = 300-3000); 100 bounds it. A wrong SE formula is far outside (doubling
    #: an SE gives log 2 = 0.69).
    se_bias_per_n: float = 100.0
    #: The reported-SE check on estimators with settings (plain gradient ascent: hundreds of
    #: iterations per fit, minutes for R fits): "skip" them, "include" them, or check "only" them.
    tunable_se: str = "skip"


@dataclass(frozen=True)
class CheckResult:
    """One comparison of a check: ``value`` against ``expected`` within ``tolerance`` (NaN
    where the check compares no numbers), its status and a one-line ``detail``."""

    check: str
    name: str
    status: str
    value: float = math.nan
    expected: float = math.nan
    tolerance: float = math.nan
    detail: str = ""

    @property
    def passed(self) -> bool:
        return self.status == PASS

    @property
    def failed(self) -> bool:
        return self.status == FAIL

    @property
    def skipped(self) -> bool:
        return self.status == SKIPPED

    @property
    def verdict(self) -> str:
        return self.status

    def line(self) -> str:
        """``STATUS  check  name  detail``, for listings."""
        return f"{self.status:7}  {self.check:22} {self.name:34} {self.detail}"


def outcome(check: str, name: str, ok: bool, value=math.nan, expected=math.nan,
            tolerance=math.nan, detail: str = "") -> CheckResult:  # fmt: skip
    """A PASS or FAIL row."""
    return CheckResult(check, name, PASS if ok else FAIL, float(value), float(expected),
                       float(tolerance), detail)  # fmt: skip


def skipped(check: str, reason: str, name: str = "") -> CheckResult:
    return CheckResult(check, name or check, SKIPPED, detail=f"skipped: {reason}")


def _array_text(a) -> str:
    return np.array2string(np.asarray(a, dtype=float), precision=6, separator=", ")


# ---------------------------------------------------------------------------------------------
# The case: a model at θ, with its samples drawn once and shared by the checks
# ---------------------------------------------------------------------------------------------
class Case:
    """A model at one θ under one :class:`CheckSettings`; samples and scores are cached."""

    def __init__(self, model: Model, theta, settings: CheckSettings):
        self.model = model
        self.theta = np.ascontiguousarray(theta, dtype=np.float64)
        self.settings = settings

    def sample(self, n: int, rep: int, *, key0: int | None = None, key1: int = CELL_KEY,
               substream: int = 0, python: bool = False, theta=None) -> np.ndarray:  # fmt: skip
        """n observations from the stream (key0, key1, rep, substream), by the sampler kernel
        (``python=True``: its pure-Python ``py_func``)."""
        m = self.model
        state = np.empty(rng.STATE_SIZE, dtype=np.uint64)
        seed = self.settings.seed if key0 is None else key0
        rng.init_stream(state, np.uint64(seed), np.uint64(key1), rep, substream)
        out = np.empty(n * m.data_width, dtype=np.float64)
        kernel = m.sample.py_func if python else m.sample
        at = self.theta if theta is None else np.ascontiguousarray(theta, dtype=np.float64)
        kernel(state, at, m.design_array, out)
        return out

    def fisher(self, theta=None) -> np.ndarray:
        info = np.zeros((self.model.k, self.model.k))
        at = self.theta if theta is None else theta
        self.model.fisher(np.ascontiguousarray(at, dtype=np.float64), info)
        return info

    @cached_property
    def info(self) -> np.ndarray:
        return self.fisher()

    @cached_property
    def info_mcse(self) -> np.ndarray:
        """MCSE of each entry of I(θ): zero where the information is exact."""
        mcse = self.model.fisher_mcse(self.theta) if self.model.fisher_mcse else None
        return np.zeros((self.model.k,) * 2) if mcse is None else np.asarray(mcse, dtype=float)

    def scales(self, theta) -> np.ndarray:
        """Per-parameter scale of the log-likelihood: 1/sqrt(I_jj), the per-observation
        distance over which ℓ changes by O(1) in coordinate j, capped by the distance to the
        domain's edge so that every θ ± step stays inside the domain."""
        curvature = 1.0 / np.sqrt(np.diag(self.fisher(theta)))
        edge = np.array([min(t - p.domain.low, p.domain.high - t)
                         for p, t in zip(self.model.params, theta)])  # fmt: skip
        return np.minimum(curvature, edge)

    @cached_property
    def moment_sample(self) -> np.ndarray:
        return self.sample(self.settings.draws, REP_MOMENTS)

    @cached_property
    def moment_scores(self) -> np.ndarray:
        from simstudy._check_kernels import score_each

        return score_each(self.model, self.moment_sample, self.theta)

    def total_score(self, x, theta) -> np.ndarray:
        out = np.zeros(self.model.k)
        self.model.score(x, np.ascontiguousarray(theta, dtype=np.float64), out)
        return out

    @cached_property
    def reference_fits(self) -> list[tuple[int, np.ndarray, tuple]]:
        """(n, sample, fit of the MLE) for each of the settings' ``reference_sizes``."""
        fit = self.model.estimator("mle").fit
        out = []
        for index, n in enumerate(self.settings.reference_sizes):
            x = self.sample(n, REP_REFERENCE + index)
            out.append((n, x, fit_with_guards(fit, x, self.model.k)))
        return out


def fit_with_guards(kernel, x, k) -> tuple[int, int, np.ndarray, np.ndarray, bool]:
    """(status, n_iter, estimates, SEs + correlations, within bounds) of one fit on ``x``.

    The buffers have the contract's lengths (k and ``se_slots(k)``), NaN-filled, each followed
    by guard words; ``within bounds`` is False if the kernel wrote into a guard."""
    slots = se_slots(k)
    est_buf = np.full(k + GUARD_WORDS, GUARD_VALUE)
    se_buf = np.full(slots + GUARD_WORDS, GUARD_VALUE)
    est, se = est_buf[:k], se_buf[:slots]
    est[:] = np.nan
    se[:] = np.nan
    status, n_iter = kernel(np.ascontiguousarray(x, dtype=np.float64), est, se)
    bounded = bool((est_buf[k:] == GUARD_VALUE).all() and (se_buf[slots:] == GUARD_VALUE).all())
    return int(status), int(n_iter), est.copy(), se.copy(), bounded


def midpoint(model: Model) -> np.ndarray:
    """The midpoint of each parameter's ``typical`` range."""
    return np.array([0.5 * (p.typical[0] + p.typical[1]) for p in model.params])


def _discrete(model: Model) -> bool:
    return bool(model.tags.get("discrete", False))


def _log_density(model: Model, theta, x) -> np.ndarray | None:
    """SciPy's log density (or mass) of ``x``; None where the model has no SciPy twin."""
    dist = model.scipy_dist(theta)
    if dist is None:
        return None
    return dist.logpmf(x) if _discrete(model) else dist.logpdf(x)


def _reason(model: Model, tag: str) -> str:
    reason = model.tags.get(f"{tag}_reason")
    return f": {reason}" if reason else ""


def _not_regular(case: Case, check: str) -> list[CheckResult] | None:
    m = case.model
    if m.regular:
        return None
    return [skipped(check, f"model {m.name!r} is tagged regular=False: Fisher-information "
                           f"theory does not apply{_reason(m, 'regular')}")]  # fmt: skip


def _not_differentiable(case: Case, check: str) -> list[CheckResult] | None:
    m = case.model
    if m.tags.get("differentiable", True):
        return None
    return [skipped(check, f"model {m.name!r} is tagged differentiable=False: no Hessian"
                           f"{_reason(m, 'differentiable')}")]  # fmt: skip


def _no_mle_allowed(model: Model, status: int) -> bool:
    """``no_mle`` is a correct answer for a model whose MLE may not exist (tag
    ``mle_always_exists: False``)."""
    return status == NO_MLE and not model.tags.get("mle_always_exists", True)


def _unit(k, j, h):
    e = np.zeros(k)
    e[j] = h
    return e


def num_grad(f: Callable, theta: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Central-difference gradient of a scalar function: (f(θ+h e_j) - f(θ-h e_j)) / 2h."""
    k = theta.size
    return np.array([(f(theta + _unit(k, j, h[j])) - f(theta - _unit(k, j, h[j]))) / (2.0 * h[j])
                     for j in range(k)])  # fmt: skip


def num_hessian(f: Callable, theta: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Central-difference Hessian of f (scalar- or vector-valued), (k, k, *f.shape):
    [f(+i+j) - f(+i-j) - f(-i+j) + f(-i-j)] / (4 h_i h_j)."""
    k = theta.size
    rows = [[None] * k for _ in range(k)]
    for i, j in itertools.combinations_with_replacement(range(k), 2):
        ei, ej = _unit(k, i, h[i]), _unit(k, j, h[j])
        value = (f(theta + ei + ej) - f(theta + ei - ej) - f(theta - ei + ej)
                 + f(theta - ei - ej)) / (4.0 * h[i] * h[j])  # fmt: skip
        rows[i][j] = rows[j][i] = value
    return np.array(rows)


def within_mcse(check: str, name: str, value: float, expected: float, mcse: float,
                z: float, floor: float = 0.0) -> CheckResult:  # fmt: skip
    """PASS when |value - expected| <= z·MCSE + floor (MCSE: both sides', combined)."""
    tol = z * mcse + floor
    gap = abs(value - expected)
    apart = gap / mcse if mcse > 0 else (0.0 if gap <= floor else math.inf)
    return outcome(check, name, gap <= tol, value, expected, tol,
                   f"{value:.6g} vs {expected:.6g}: |diff| {gap:.3g} <= {z:g}·MCSE {mcse:.3g}"
                   f"{f' + {floor:.2g}' if floor else ''} = {tol:.3g}? ({apart:.2f} MCSE)")  # fmt: skip


def _pairs(model: Model):
    """The (a, b, "name_a,name_b") entries of the upper triangle of a k × k matrix."""
    names = model.param_names
    return [(a, b, f"{names[a]},{names[b]}") for a, b in
            itertools.combinations_with_replacement(range(model.k), 2)]  # fmt: skip


# ---------------------------------------------------------------------------------------------
# 1-3. Sampling: support, the discrete tag, and replay (bit-identical to numpy_sample)
# ---------------------------------------------------------------------------------------------
def check_samples_in_support(case: Case) -> list[CheckResult]:
    """Draws are finite, in the declared support (covariates finite), integers where the model
    is discrete, and of finite SciPy log density where the model has a SciPy twin."""
    c, m = "samples_in_support", case.model
    x = case.sample(case.settings.support_n, REP_SUPPORT)
    y = x.reshape(-1, m.data_width)[:, 0]
    bad = ~(np.isfinite(x).reshape(-1, m.data_width).all(axis=1) & m.support.contains(y))
    out = [outcome(c, f"draws in {m.support}", not bad.any(), int(bad.sum()), 0, 0,
                   f"{int(bad.sum())} of {y.size} draws outside"
                   + (f", e.g. {_array_text(np.unique(y[bad])[:5])}" if bad.any() else ""))]  # fmt: skip
    if _discrete(m):
        whole = int((x != np.round(x)).sum())
        out.append(outcome(c, "draws are integers", whole == 0, whole, 0, 0,
                           f"{whole} non-integer values"))  # fmt: skip
    with np.errstate(divide="ignore"):
        logd = _log_density(m, case.theta, x)
    if logd is not None:
        bad = int((~np.isfinite(logd)).sum())
        out.append(outcome(c, "finite SciPy log density", bad == 0, bad, 0, 0,
                           f"{bad} draws of zero density under the model's SciPy distribution"))  # fmt: skip
    return out


def check_discrete_tag(case: Case) -> list[CheckResult]:
    """The ``discrete`` tag (which picks logpmf and the integer check) agrees with the
    declared support and, where the model has one, with its SciPy distribution."""
    c, m = "discrete_tag", case.model
    out = []
    if m.data_width == 1:  # a regression row's covariates are reals whatever y is
        out.append(outcome(c, "discrete == integer support", _discrete(m) == m.support.integer,
                           detail=f"tag discrete={_discrete(m)}, support {m.support}"))  # fmt: skip
    dist = m.scipy_dist(case.theta)
    if dist is not None:
        out.append(outcome(c, "discrete == SciPy has logpmf", hasattr(dist, "logpmf") == _discrete(m),
                           detail=f"SciPy logpmf: {hasattr(dist, 'logpmf')}"))  # fmt: skip
    return out or [skipped(c, "rows of several values and no SciPy distribution: nothing to "
                              "compare the tag with")]  # fmt: skip


def check_numpy_replay(case: Case) -> list[CheckResult]:
    """``numpy_sample`` on a Philox Generator at a replication's address gives the kernel's
    sample bit for bit (the replay guarantee), at three addresses including the extremes."""
    c, m, n = "numpy_replay", case.model, 2000
    out = []
    for key0, key1, rep, substream in (
        (case.settings.seed, CELL_KEY, 0, 0),
        (2**64 - 1, 0, 7, 0),  # the largest key word
        (1, 2**63 + 5, 2**40, 3),  # a high replication index and another substream
    ):
        x = case.sample(n, rep, key0=key0, key1=key1, substream=substream)
        expected = np.asarray(m.numpy_sample(rng.numpy_generator(key0, key1, rep, substream),
                                             case.theta, n))  # fmt: skip
        same = expected.dtype == np.float64 and expected.shape == x.shape and np.array_equal(x, expected)
        where = ("dtype " + str(expected.dtype) if expected.dtype != np.float64 else
                 f"shape {expected.shape}" if expected.shape != x.shape else
                 f"first mismatch at index {int(np.argmax(x != expected))} of {x.size}")  # fmt: skip
        mism = int((x != expected).sum()) if expected.shape == x.shape else x.size
        out.append(outcome(c, f"address ({key0:#x}, {key1:#x}, {rep}, {substream})", same, mism, 0, 0,
                           "bit-identical" if same else where))  # fmt: skip
    return out


# ---------------------------------------------------------------------------------------------
# 4-6. Log-likelihood against a reference; sufficient statistics; score against the gradient
# ---------------------------------------------------------------------------------------------
def check_loglik_reference(case: Case) -> list[CheckResult]:
    """``loglik`` equals SciPy's summed log density (rtol 1e-10), at θ and half a scale away;
    without a SciPy twin, a one-value-per-observation density integrates (sums) to 1 over its
    declared support."""
    c, m = "loglik_reference", case.model
    x = case.sample(200, REP_LOGLIK)
    if m.scipy_dist(case.theta) is None:
        if m.data_width != 1:
            return [skipped(c, "no SciPy distribution (scipy_dist) and rows of several values: "
                               "no independent reference")]  # fmt: skip
        mass = _mass(m, case.theta)
        return [outcome(c, "density integrates to 1", abs(mass - 1) <= 1e-7, mass, 1.0, 1e-7,
                        f"∫ exp(ℓ(x; θ)) over {m.support} = {mass:.12g} (no SciPy twin)")]  # fmt: skip
    out = []
    for label, at in (("at θ", case.theta), ("at θ + scale/2", case.theta + 0.5 * case.scales(case.theta))):
        expected = float(_log_density(m, at, x).sum())
        got = float(m.loglik(x, at))
        tol = 1e-10 * abs(expected)
        out.append(outcome(c, f"loglik = SciPy {label}", abs(got - expected) <= tol, got, expected, tol,
                           f"{got:.12g} vs SciPy {expected:.12g} (rtol 1e-10)"))  # fmt: skip
    return out


def _mass(model: Model, theta) -> float:
    """Σ or ∫ of exp(ℓ(x; θ)) over the support, by summation until the remaining mass is below
    1e-15 (integer support) or adaptive quadrature (QUADPACK, rtol 1e-10)."""
    from scipy import integrate

    s = model.support

    def density(v: float) -> float:
        with np.errstate(all="ignore"):
            d = math.exp(model.loglik(np.array([float(v)]), theta))
        return d if math.isfinite(d) else 0.0

    if s.integer:
        total, v = 0.0, s.low
        while v <= s.high and v - s.low < 10_000_000:
            d = density(v)
            total += d
            if 1.0 - total < 1e-15 and d < 1e-15:
                break
            v += 1.0
        return total
    value, _ = integrate.quad(density, s.low, s.high, epsabs=0.0, epsrel=1e-10, limit=500)
    return value


def check_sufficient_statistics(case: Case) -> list[CheckResult]:
    """Optional ``suff_stats``/``suff_loglik`` give ℓ(θ₁) - ℓ(θ₀) as ``loglik`` does, to the
    rounding of the terms (they drop θ-free terms), and the jitted kernels equal ``py_func``."""
    c, m = "sufficient_statistics", case.model
    if m.n_suff == 0:
        return [skipped(c, "no sufficient statistics declared: the engine uses loglik on the sample")]
    x = case.sample(200, REP_LOGLIK)
    stats, py_stats = np.empty(m.n_suff), np.empty(m.n_suff)
    m.suff_stats(x, stats)
    m.suff_stats.py_func(x, py_stats)
    other = case.theta + 0.5 * case.scales(case.theta)
    full = m.loglik(x, other) - m.loglik(x, case.theta)
    from_stats = m.suff_loglik(stats, other) - m.suff_loglik(stats, case.theta)
    # Each side rounds terms of size ~|ℓ|: 1e-12·|ℓ| is ~100 ε·|ℓ| for sums of 200 terms.
    tol = 1e-12 * (abs(m.loglik(x, case.theta)) + abs(m.loglik(x, other)))
    py_ll, jit_ll = m.suff_loglik.py_func(stats, other), m.suff_loglik(stats, other)
    stat_gap = float(np.max(np.abs(py_stats - stats) / np.maximum(np.abs(stats), 1e-300)))
    return [
        outcome(c, "ℓ(θ₁) - ℓ(θ₀) from the statistics", abs(from_stats - full) <= tol,
                from_stats, full, tol, f"{from_stats:.12g} vs loglik {full:.12g}"),
        outcome(c, "suff_stats == py_func", stat_gap <= 1e-12, stat_gap, 0.0, 1e-12,
                f"largest relative difference {stat_gap:.2g}"),
        outcome(c, "suff_loglik == py_func", abs(py_ll - jit_ll) <= 1e-12 * abs(jit_ll),
                py_ll, jit_ll, 1e-12 * abs(jit_ll), f"{py_ll:.15g} vs {jit_ll:.15g}"),
    ]  # fmt: skip


def check_score_gradient(case: Case) -> list[CheckResult]:
    """``score`` equals the central-difference gradient of ``loglik`` on a sample of 200, at θ
    and half a scale away (where the score itself is O(n))."""
    c, m = "score_gradient", case.model
    if (skip := _not_regular(case, c)) is not None:
        return skip
    n = 200
    x = case.sample(n, REP_SCORE)
    out = []
    for label, at in (("θ", case.theta), ("θ + scale/2", case.theta + 0.5 * case.scales(case.theta))):
        h = REL_STEP_GRAD * case.scales(at)
        numeric = num_grad(lambda t: m.loglik(x, t), at, h)
        analytic = case.total_score(x, at)
        # The central difference errs by O(h²ℓ''') + O(ε|ℓ|/h): about 1e-9 of the score's
        # natural size sqrt(n·I_jj) at these steps and n. A wrong formula errs by O(1) of it,
        # so 1e-6 of that size separates the two.
        tol = 1e-6 * np.sqrt(n * np.diag(case.fisher(at)))
        for j, name in enumerate(m.param_names):
            out.append(outcome(c, f"score_{name} at {label}", abs(analytic[j] - numeric[j]) <= tol[j],
                               analytic[j], numeric[j], tol[j],
                               f"{analytic[j]:.10g} vs numerical {numeric[j]:.10g} (tol {tol[j]:.2g})"))  # fmt: skip
    return out


# ---------------------------------------------------------------------------------------------
# 7-9. E[score] = 0, Var(score) = I(θ) = -E[Hessian]
# ---------------------------------------------------------------------------------------------
def check_score_mean_zero(case: Case) -> list[CheckResult]:
    """E[score] = 0: the mean of the per-observation scores over ``draws`` within z MCSEs."""
    c, m = "score_mean_zero", case.model
    if (skip := _not_regular(case, c)) is not None:
        return skip
    s = case.moment_scores
    mcse = s.std(axis=0, ddof=1) / math.sqrt(s.shape[0])
    return [within_mcse(c, f"E[score_{name}] = 0", float(s[:, j].mean()), 0.0, float(mcse[j]),
                        case.settings.z) for j, name in enumerate(m.param_names)]  # fmt: skip


def check_score_variance(case: Case) -> list[CheckResult]:
    """Var(score) = I(θ): E[s_a s_b] over ``draws`` against ``fisher``, within z combined MCSEs
    (the products' and, for a Monte Carlo information, the information's own)."""
    c, m = "score_variance", case.model
    if (skip := _not_regular(case, c)) is not None:
        return skip
    s = case.moment_scores
    out = []
    for a, b, label in _pairs(m):
        # Var(score) = E[s sᵀ] given E[s] = 0 (score_mean_zero): the mean of iid products, so
        # sd(products)/sqrt(m) is exactly its MCSE (the centred covariance's error is dominated
        # by the centring when the products hardly vary, e.g. Bernoulli(1/2): s² = 4 always).
        products = s[:, a] * s[:, b]
        mcse = math.hypot(products.std(ddof=1) / math.sqrt(products.size), case.info_mcse[a, b])
        # The floor admits only rounding, for products that are constant (MCSE 0).
        floor = 1e-12 * math.sqrt(case.info[a, a] * case.info[b, b])
        out.append(within_mcse(c, f"Var(score)[{label}] = I", float(products.mean()),
                               float(case.info[a, b]), mcse, case.settings.z, floor))  # fmt: skip
    return out


def check_hessian_information(case: Case) -> list[CheckResult]:
    """-E[Hessian] = I(θ): the mean of the central-difference Hessian of each observation's
    ℓ over ``draws``, within z combined MCSEs and the difference's own error."""
    c, m = "hessian_information", case.model
    if (skip := _not_regular(case, c) or _not_differentiable(case, c)) is not None:
        return skip
    from simstudy._check_kernels import loglik_each

    x, theta = case.moment_sample, case.theta
    h = REL_STEP_HESS * case.scales(theta)
    hess = num_hessian(lambda t: loglik_each(m, x, t), theta, h)  # (k, k, m)
    neg_mean = -hess.mean(axis=2)
    sample_mcse = hess.std(axis=2, ddof=1) / math.sqrt(x.size // m.data_width)
    info = case.info
    out = []
    for a, b, label in _pairs(m):
        # Where the Hessian does not depend on x its MCSE is ~0, so the finite difference's
        # own error needs room: at h = ε^(1/4)·scale it is O(ε|ℓ_i|/h²) + O(h²ℓ'''') ≈ 1e-7 of
        # sqrt(I_aa I_bb) for these log-densities; 1e-5 of it is far below any formula error.
        floor = 1e-5 * math.sqrt(info[a, a] * info[b, b])
        mcse = math.hypot(sample_mcse[a, b], case.info_mcse[a, b])
        out.append(within_mcse(c, f"-E[Hessian][{label}] = I", float(neg_mean[a, b]),
                               float(info[a, b]), mcse, case.settings.z, floor))  # fmt: skip
    return out


# ---------------------------------------------------------------------------------------------
# 10. Every estimator recovers θ at large n
# ---------------------------------------------------------------------------------------------
def check_recovery(case: Case) -> list[CheckResult]:
    """Each estimator is within ``recovery_ses`` standard errors of θ at ``recovery_n``: the
    larger of the Cramér-Rao SE and the estimator's own SE (a method of moments is less
    efficient: this is a consistency check, not an efficiency check). Where the information is a
    Monte Carlo estimate, the Cramér-Rao variance is taken at its upper bound, z MCSEs up."""
    c, m, s = "recovery", case.model, case.settings
    if (skip := _not_regular(case, c)) is not None:
        return skip
    n = s.recovery_n
    x = case.sample(n, REP_RECOVERY)
    inv_mcse = m.inverse_fisher_mcse(case.theta)
    inv = np.diag(m.inverse_fisher(case.theta)) + (0.0 if inv_mcse is None else s.z * np.diag(inv_mcse))
    crlb_se = np.sqrt(inv / n)
    out = []
    for name, est in m.estimators.items():
        status, _, theta_hat, se, _ = fit_with_guards(est.fit, x, m.k)
        if status != OK:
            out.append(outcome(c, f"{name} recovers θ", False,
                               detail=f"status {STATUS_CODES.get(status, status)!r} at n = {n}"))  # fmt: skip
            continue
        yardstick = np.maximum(crlb_se, se[: m.k])
        ratio = np.abs(theta_hat - case.theta) / yardstick
        worst = int(np.argmax(ratio))
        out.append(outcome(c, f"{name} recovers θ", bool((ratio <= s.recovery_ses).all()),
                           theta_hat[worst], case.theta[worst], s.recovery_ses * yardstick[worst],
                           f"n = {n}: θ̂ {_array_text(theta_hat)}, |error|/SE "
                           f"{_array_text(ratio)} <= {s.recovery_ses:g}?"))  # fmt: skip
    return out


# ---------------------------------------------------------------------------------------------
# 11-13. The MLE: the independent reference, the score at θ̂, the observed-information SE
# ---------------------------------------------------------------------------------------------
def _no_mle_estimator(case: Case, check: str) -> list[CheckResult] | None:
    if "mle" in case.model.estimators:
        return None
    return [skipped(check, f"model {case.model.name!r} has no estimator 'mle'")]


def check_mle_reference(case: Case) -> list[CheckResult]:
    """The MLE equals the model's independent reference MLE (rtol 1e-6) at each of the
    ``reference_sizes``, with a usable status, and in 0 iterations where tagged closed form."""
    c, m = "mle_reference", case.model
    if (skip := _no_mle_estimator(case, c)) is not None:
        return skip
    out = []
    for n, x, (status, n_iter, est, _, bounded) in case.reference_fits:
        if _no_mle_allowed(m, status):
            out.append(skipped(c, f"no MLE on this sample{_reason(m, 'mle_always_exists')}",
                               f"MLE = reference at n = {n}"))  # fmt: skip
            continue
        if status not in USABLE_STATUSES or not bounded:
            why = f"status {STATUS_CODES.get(status, status)!r}" if bounded else \
                "the kernel wrote past out_theta or out_se"
            out.append(outcome(c, f"MLE = reference at n = {n}", False, detail=why))
            continue
        ref = np.asarray(m.reference_mle(x), dtype=float)
        tol = 1e-6 * np.abs(ref)
        worst = int(np.argmax(np.abs(est - ref) - tol))
        out.append(outcome(c, f"MLE = reference at n = {n}", bool((np.abs(est - ref) <= tol).all()),
                           est[worst], ref[worst], 1e-6 * abs(ref[worst]),
                           f"θ̂ {_array_text(est)} vs reference {_array_text(ref)} (rtol 1e-6)"))  # fmt: skip
        if m.tags.get("closed_form_mle", False):
            out.append(outcome(c, f"closed form: 0 iterations at n = {n}", n_iter == 0, n_iter, 0,
                               0, f"n_iter = {n_iter}"))  # fmt: skip
    if not any(r.status != SKIPPED for r in out):
        out.append(outcome(c, "some MLE exists", False,
                           detail=f"no MLE on any of the samples of sizes {case.settings.reference_sizes}"))  # fmt: skip
    return out


def check_score_zero_at_mle(case: Case) -> list[CheckResult]:
    """score(θ̂) ≈ 0 at a converged MLE: within 1e-6 of its natural size sqrt(n·I_jj(θ̂))
    (rounding is O(nε·|terms|), far below; an estimate one SE off gives O(1) of it)."""
    c = "score_zero_at_mle"
    if (skip := _no_mle_estimator(case, c) or _not_regular(case, c)) is not None:
        return skip
    out = []
    for n, x, (status, _, est, _, _) in case.reference_fits:
        if status != OK:  # a boundary MLE is not a root of the score; no MLE has no score
            out.append(skipped(c, f"status {STATUS_CODES.get(status, status)!r}",
                               f"score(θ̂) = 0 at n = {n}"))  # fmt: skip
            continue
        scale = np.sqrt(n * np.diag(case.fisher(est)))
        rel = np.abs(case.total_score(x, est)) / scale
        worst = int(np.argmax(rel))
        out.append(outcome(c, f"score(θ̂) = 0 at n = {n}", bool((rel <= 1e-6).all()),
                           rel[worst], 0.0, 1e-6,
                           f"max |score_j(θ̂)| / sqrt(n I_jj) = {rel[worst]:.2e} <= 1e-6?"))  # fmt: skip
    return out


def check_mle_se_observed(case: Case) -> list[CheckResult]:
    """The MLE's ``out_se`` is the SE from the observed information at θ̂ (numerical Hessian
    of ``loglik``), and its correlation slots the observed information's correlations."""
    c, m = "mle_se_observed", case.model
    if (skip := _no_mle_estimator(case, c) or _not_regular(case, c)
            or _not_differentiable(case, c)) is not None:  # fmt: skip
        return skip
    n = 200
    x = case.sample(n, REP_REFERENCE + len(case.settings.reference_sizes))
    status, _, est, se, _ = fit_with_guards(m.estimator("mle").fit, x, m.k)
    if _no_mle_allowed(m, status):
        return [skipped(c, f"no MLE on this sample{_reason(m, 'mle_always_exists')}")]
    if status != OK:
        return [outcome(c, "MLE converges", False, detail=f"status {STATUS_CODES.get(status, status)!r}")]
    h = REL_STEP_HESS * case.scales(est)
    observed = -num_hessian(lambda t: m.loglik(x, t), est, h)
    # The difference's rounding error, ε·|ℓ's terms|/h², is up to ~1e-6 of n·I here (terms can
    # be much larger than ℓ, e.g. Σ log x! of counts); inverting multiplies it by at most the
    # condition number of the information's correlation form. An SE with n - 1 for n is off by
    # 1/(2n) = 2.5e-3, above this tolerance for every condition number below 250.
    d = 1.0 / np.sqrt(np.diag(observed))
    rtol = 1e-5 * np.linalg.cond(observed * np.outer(d, d))
    cov = np.linalg.inv(observed)
    sd = np.sqrt(np.diag(cov))
    out = []
    for j, name in enumerate(m.param_names):
        out.append(outcome(c, f"SE({name})", abs(se[j] - sd[j]) <= rtol * sd[j], se[j], sd[j],
                           rtol * sd[j], f"reported {se[j]:.8g} vs observed-information "
                           f"{sd[j]:.8g} (rtol {rtol:.2g})"))  # fmt: skip
    corr = (cov / np.outer(sd, sd))[np.triu_indices(m.k, 1)]
    for slot, (a, b) in enumerate(itertools.combinations(m.param_names, 2)):
        got = se[m.k + slot]
        if not np.isnan(got):  # the estimator may not know its correlations
            out.append(outcome(c, f"corr({a},{b})", abs(got - corr[slot]) <= rtol, got, corr[slot],
                               rtol, f"reported {got:.8g} vs {corr[slot]:.8g} (atol {rtol:.2g})"))  # fmt: skip
    return out


# ---------------------------------------------------------------------------------------------
# 14. jitted == py_func
# ---------------------------------------------------------------------------------------------
def _same(c, name, py, jitted, rtol=1e-12) -> CheckResult:
    py, jitted = np.asarray(py, dtype=float), np.asarray(jitted, dtype=float)
    both_nan = np.isnan(py) & np.isnan(jitted)
    gap = np.where(both_nan, 0.0, np.abs(py - jitted))
    tol = rtol * np.abs(jitted)
    ok = bool((gap <= tol).all())
    return outcome(c, name, ok, float(np.max(gap, initial=0.0)), 0.0, float(np.max(tol, initial=0.0)),
                   f"largest |py_func - jitted| {float(np.max(gap, initial=0.0)):.2g} (rtol {rtol:g})")  # fmt: skip


def check_py_func(case: Case) -> list[CheckResult]:
    """Every kernel's pure-Python ``py_func`` gives the jitted result: the sampler bit for bit,
    loglik, score and fisher to rtol 1e-12, and each estimator's status, iterations, estimates
    and SEs."""
    c, m, theta = "py_func", case.model, case.theta
    n = 64  # the pure-Python sampler calls a jitted variate per draw: slow
    jitted = case.sample(n, REP_PYFUNC)
    python = case.sample(n, REP_PYFUNC, python=True)
    out = [outcome(c, "sample", np.array_equal(python, jitted), int((python != jitted).sum()), 0, 0,
                   "bit-identical" if np.array_equal(python, jitted) else "the draws differ")]  # fmt: skip
    x = jitted[: 50 * m.data_width]
    out.append(_same(c, "loglik", m.loglik.py_func(x, theta), m.loglik(x, theta)))
    jit_score, py_score = np.zeros(m.k), np.zeros(m.k)
    m.score(x, theta, jit_score)
    m.score.py_func(x, theta, py_score)
    out.append(_same(c, "score", py_score, jit_score))
    if hasattr(m.fisher, "py_func"):  # design-dependent and plugin models compute it in Python
        jit_info, py_info = np.zeros((m.k, m.k)), np.zeros((m.k, m.k))
        m.fisher(theta, jit_info)
        m.fisher.py_func(theta, py_info)
        out.append(_same(c, "fisher", py_info, jit_info))
    for name, est in m.estimators.items():
        js, ji, je, jse, _ = fit_with_guards(est.fit, x, m.k)
        ps, pi, pe, pse, _ = fit_with_guards(est.fit.py_func, x, m.k)
        out.append(outcome(c, f"{name}: status, n_iter", (ps, pi) == (js, ji), ps, js, 0,
                           f"py_func ({ps}, {pi}) vs jitted ({js}, {ji})"))  # fmt: skip
        out.append(_same(c, f"{name}: estimates and SEs", np.append(pe, pse), np.append(je, jse)))
    return out


# ---------------------------------------------------------------------------------------------
# 15-17. Parameters: out-of-domain θ rejected, θ accepted, names checked
# ---------------------------------------------------------------------------------------------
def outside_values(domain) -> list[float]:
    """Values just outside ``domain``: the open ends themselves, the next float beyond each
    finite end, ±inf beyond an infinite open end, and nan."""
    values = [math.nan]
    for end, beyond, is_open in ((domain.low, -math.inf, domain.low_open),
                                 (domain.high, math.inf, domain.high_open)):  # fmt: skip
        if math.isfinite(end):
            values.append(float(np.nextafter(end, beyond)))
            if is_open:
                values.append(end)
        elif is_open:
            values.append(end)  # -inf / inf are outside an open infinite end
    return values


def _raises_naming(word: str, fn, *args) -> tuple[bool, str]:
    """(whether fn(*args) raised a ModelError naming ``word``, what happened)."""
    try:
        fn(*args)
    except ModelError as exc:
        return word in str(exc), str(exc)
    except Exception as exc:  # noqa: BLE001 -- any other exception is the failure reported
        return False, f"{type(exc).__name__}: {exc}"
    return False, "accepted"


def check_out_of_domain(case: Case) -> list[CheckResult]:
    """θ just outside each parameter's domain (open ends, the next float beyond, ±inf, nan)
    is rejected by ``check_theta`` and ``theta_array`` with a ModelError naming the parameter."""
    c, m = "out_of_domain", case.model
    out = []
    for p in m.params:
        for value in outside_values(p.domain):
            theta = {q.name: float(v) for q, v in zip(m.params, case.theta)}
            theta[p.name] = value
            for how in (m.check_theta, m.theta_array):
                ok, said = _raises_naming(repr(p.name), how, theta)
                out.append(outcome(c, f"{how.__name__}({p.name}={value!r})", ok,
                                   value, math.nan, math.nan, said.splitlines()[0][:160]))  # fmt: skip
    return out


def check_theta_accepted(case: Case) -> list[CheckResult]:
    """θ itself (inside every domain) is accepted and kept in declared order."""
    c, m = "theta_accepted", case.model
    as_dict = dict(zip(m.param_names, case.theta.tolist()))
    try:
        got = m.theta_array(as_dict)
    except ModelError as exc:
        return [outcome(c, "theta_array(θ)", False, detail=str(exc))]
    return [outcome(c, "theta_array(θ)", bool(np.array_equal(got, case.theta)),
                    detail=f"{_array_text(got)} from {as_dict}")]  # fmt: skip


def check_parameter_names(case: Case) -> list[CheckResult]:
    """A θ missing a parameter, or with an unknown one, is rejected naming it."""
    c, m = "parameter_names", case.model
    full = {p.name: float(v) for p, v in zip(m.params, case.theta)}
    out = []
    for p in m.params:
        partial = {key: v for key, v in full.items() if key != p.name}
        ok, said = _raises_naming(repr(p.name), m.theta_array, partial)
        out.append(outcome(c, f"missing {p.name}", ok, detail=said.splitlines()[0][:160]))
    ok, said = _raises_naming("not_a_parameter", m.theta_array, {**full, "not_a_parameter": 1.0})
    out.append(outcome(c, "unknown not_a_parameter", ok, detail=said.splitlines()[0][:160]))
    return out


# ---------------------------------------------------------------------------------------------
# 18-19. Fit status contract on degenerate samples; constant samples' status
# ---------------------------------------------------------------------------------------------
def _zero_in_support(model: Model) -> bool:
    """Whether 0 is a possible observation (one value per observation: an all-zero row of a
    regression is not a meaningful degenerate case)."""
    return model.data_width == 1 and bool(model.support.contains(0.0))


def check_degenerate_samples(case: Case) -> list[CheckResult]:
    """Kernels never raise on degenerate samples (size one, all equal, zeros where 0 is in the
    support); the status is a known code; a usable status comes with finite estimates; the
    public ``simstudy.fit`` reports the same status, or refuses a sample below ``min_n``."""
    import simstudy

    c, m = "degenerate_samples", case.model
    first = case.sample(1, REP_DEGENERATE)  # one observation (row)
    kinds = {"size_one": first, "all_equal": np.tile(first, 10)}
    if _zero_in_support(m):
        kinds.update(size_one_zero=np.zeros(1), all_zero=np.zeros(10))
    out = []
    for est_name, est in m.estimators.items():
        for kind, x in kinds.items():
            name = f"{est_name} on {kind}"
            try:
                status, n_iter, theta_hat, _, bounded = fit_with_guards(est.fit, x, m.k)
            except Exception as exc:  # noqa: BLE001 -- a kernel must return a status, never raise
                out.append(outcome(c, name, False, detail=f"raised {type(exc).__name__}: {exc}"))
                continue
            problems = []
            if status not in STATUS_CODES:
                problems.append(f"unknown status {status}")
            if n_iter < 0:
                problems.append(f"n_iter {n_iter}")
            if not bounded:
                problems.append("wrote past out_theta or out_se")
            if status in USABLE_STATUSES and not np.isfinite(theta_hat).all():
                problems.append(f"usable status {STATUS_CODES[status]!r} with θ̂ {_array_text(theta_hat)}")
            if x.size // m.data_width < est.min_n:
                # Too few observations: the kernel has no estimate, and the public path says so.
                if status != NO_MLE:
                    problems.append(f"status {STATUS_CODES.get(status)!r} below min_n, not 'no_mle'")
                ok, said = _raises_naming("needs at least", simstudy.fit, m, x, est_name)
                if not ok:
                    problems.append(f"simstudy.fit below min_n: {said}")
            else:
                public = simstudy.fit(m, x, est_name).status
                if public != STATUS_CODES.get(status):
                    problems.append(f"simstudy.fit says {public!r}, the kernel {STATUS_CODES.get(status)!r}")
            out.append(outcome(c, name, not problems, status, math.nan, math.nan,
                               "; ".join(problems) or f"status {STATUS_CODES.get(status)!r}"))  # fmt: skip
    return out


def _few_bits(value: float, bits: int = 11) -> float:
    """``value`` rounded to ``bits`` significant bits: sums of up to 2**(53 - bits) copies are
    exact, and (n·v)/n == v, so a constant sample of it has an exactly constant mean."""
    mantissa, exponent = math.frexp(value)
    return math.ldexp(round(mantissa * 2**bits) / 2**bits, exponent)


def check_constant_sample_status(case: Case) -> list[CheckResult]:
    """A constant sample's status does not depend on its length (10, 1000) or on its value's
    last bits: whether an MLE exists is a property of the model, not of rounding (the mean of
    n copies of v is v·(1 ± nε), so a spread test like ``ss > 0`` sees noise for most v but
    exact zeros for values with few significant bits)."""
    c, m = "constant_sample_status", case.model
    if m.data_width != 1:
        return [skipped(c, "a constant sample of scalars only exists for one value per observation")]
    draws = case.sample(5, REP_DEGENERATE)
    out = []
    for est_name, est in m.estimators.items():
        mismatches = []
        for v in draws:
            exact = _few_bits(float(v))
            if not bool(m.support.contains(exact)):
                continue
            seen = {(n, float(value)): STATUS_CODES.get(fit_with_guards(est.fit, np.full(n, value), m.k)[0])
                    for n, value in itertools.product((10, 1000), (exact, float(v)))}  # fmt: skip
            if len(set(seen.values())) > 1:
                mismatches.append(seen)
        out.append(outcome(c, est_name, not mismatches, len(mismatches), 0, 0,
                           f"{{(n, value): status}} differ: {mismatches}" if mismatches
                           else "the same status at every length and rounding"))  # fmt: skip
    return out


# ---------------------------------------------------------------------------------------------
# 20. Every reported SE agrees with the spread of its estimates
# ---------------------------------------------------------------------------------------------
def check_reported_se(case: Case) -> list[CheckResult]:
    """RMS of the reported SEs (ModSE, Morris et al. 2019) vs the empirical SD of the
    estimates over ``se_replications`` samples of ``se_n``:
    |log(ModSE/EmpSE)| <= z·MCSE + se_bias_per_n/n.

    The root mean square, not the mean: E[SE²] is unbiased to O(1/n), the mean SE is biased
    low by Jensen's inequality wherever the SE is noisy. MCSE of the log ratio by the delta
    method on its influence function ½(v_i/v̄ - 1) - ½(d_i²/m₂ - 1) (v = SE², d = θ̂ - mean
    θ̂, m₂ = mean d²): kurtosis-robust, and it includes the correlation between the SEs and
    the squared deviations."""
    c, m, s = "reported_se", case.model, case.settings
    if (skip := _not_regular(case, c)) is not None:
        return skip
    wanted = {"skip": (False,), "include": (False, True), "only": (True,)}[s.tunable_se]
    names = [e for e, est in m.estimators.items() if bool(est.options) in wanted]
    out = [skipped(c, "an estimator with settings (hundreds of iterations a fit); "
                      "CheckSettings(tunable_se='include') includes it", e)
           for e, est in m.estimators.items() if est.options and e not in names]  # fmt: skip
    if not names:
        return out
    samples = [case.sample(s.se_n, REP_SE + r) for r in range(s.se_replications)]
    for e in names:
        fits = [fit_with_guards(m.estimator(e).fit, x, m.k) for x in samples]
        usable = np.array([f[0] in USABLE_STATUSES for f in fits])
        r = int(usable.sum())
        if r < s.se_replications // 2:
            out.append(outcome(c, e, False, r, s.se_replications, math.nan,
                               f"only {r} of {s.se_replications} fits usable"))  # fmt: skip
            continue
        est = np.array([f[2] for f, ok in zip(fits, usable) if ok])
        se = np.array([f[3][: m.k] for f, ok in zip(fits, usable) if ok])
        if not np.isfinite(se).any():
            out.append(skipped(c, f"{e} reports no standard errors", e))
            continue
        if not np.isfinite(se).all():
            out.append(outcome(c, e, False, detail="some usable fits report a non-finite SE"))
            continue
        for q, p in enumerate(m.param_names):
            d = est[:, q] - est[:, q].mean()
            m2 = np.mean(d**2)
            v = se[:, q] ** 2
            log_ratio = 0.5 * np.log(v.mean() / (m2 * r / (r - 1)))
            influence = 0.5 * (v / v.mean() - 1) - 0.5 * (d**2 / m2 - 1)
            mcse = influence.std(ddof=1) / math.sqrt(r)
            tol = s.z * mcse + s.se_bias_per_n / s.se_n
            out.append(outcome(c, f"{e}: ModSE/EmpSE of {p}", abs(log_ratio) <= tol,
                               log_ratio, 0.0, tol,
                               f"ModSE {math.sqrt(v.mean()):.4g} / EmpSE "
                               f"{math.sqrt(m2 * r / (r - 1)):.4g} = {math.exp(log_ratio):.4f}; "
                               f"|log| {abs(log_ratio):.4f} <= {s.z:g}·{mcse:.4f} + "
                               f"{s.se_bias_per_n:g}/{s.se_n}?"))  # fmt: skip
    return out


# ---------------------------------------------------------------------------------------------
# The list
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Check:
    """A named check; ``per_model``: it does not depend on θ beyond needing a valid one, so a
    suite over several θ runs it once per model (at the middle of the typical ranges)."""

    name: str
    run: Callable[[Case], list[CheckResult]]
    per_model: bool = False

    @property
    def doc(self) -> str:
        return (self.run.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")


CHECKS: dict[str, Check] = {c.name: c for c in (
    Check("samples_in_support", check_samples_in_support),
    Check("discrete_tag", check_discrete_tag, per_model=True),
    Check("numpy_replay", check_numpy_replay),
    Check("loglik_reference", check_loglik_reference),
    Check("sufficient_statistics", check_sufficient_statistics),
    Check("score_gradient", check_score_gradient),
    Check("score_mean_zero", check_score_mean_zero),
    Check("score_variance", check_score_variance),
    Check("hessian_information", check_hessian_information),
    Check("recovery", check_recovery),
    Check("mle_reference", check_mle_reference),
    Check("score_zero_at_mle", check_score_zero_at_mle),
    Check("mle_se_observed", check_mle_se_observed),
    Check("py_func", check_py_func),
    Check("out_of_domain", check_out_of_domain, per_model=True),
    Check("theta_accepted", check_theta_accepted),
    Check("parameter_names", check_parameter_names, per_model=True),
    Check("degenerate_samples", check_degenerate_samples, per_model=True),
    Check("constant_sample_status", check_constant_sample_status, per_model=True),
    Check("reported_se", check_reported_se, per_model=True),
)}  # fmt: skip


def run_check(case: Case, name: str) -> list[CheckResult]:
    """The results of check ``name`` on ``case``; an exception inside it is its FAIL."""
    try:
        return CHECKS[name].run(case) or [skipped(name, "nothing of this model to compare")]
    except Exception as exc:  # noqa: BLE001 -- a check that cannot run on this model failed
        return [outcome(name, name, False, detail=f"raised {type(exc).__name__}: {exc}")]
