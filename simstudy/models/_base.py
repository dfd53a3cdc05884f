"""The model declaration: the one extension point of simstudy.

A model is a frozen :class:`Model` value built from declarations (parameters with domains,
the :class:`Support` of its data, tags) and pure Numba functions. Nothing here runs logic at construction time;
validation, documentation (``simstudy models``) and the generic test suite are derived from the
declarations.

Kernel contracts (all arrays C-contiguous float64 unless noted; ``theta`` in declared order):

``sample(state, theta, design, out)``
    fill ``out`` (length n × ``data_width``) from the replication's random stream ``state``
    (see :mod:`simstudy.rng`), drawing each value exactly as the model's ``numpy_sample`` does
    with NumPy, so every sample can be regenerated with plain NumPy. ``design`` carries
    covariate settings for regression models (empty for iid models); regression data are
    packed row by row (y, x_1, ..., x_p).
``loglik(x, theta) -> float``
    total log-likelihood of the sample.
``score(x, theta, out)``
    total score vector (gradient of ``loglik``) written to ``out`` (length k).
``fisher(theta, out)``
    per-observation expected information matrix, ``out`` is (k, k) (for a fixed regression
    design, its limit as n grows; ``Model.fisher_at`` gives it at each n).
``suff_stats(x, out)`` and ``suff_loglik(stats, theta) -> float`` (optional, together)
    ``out`` (length ``n_suff``) receives sufficient statistics of the sample in one pass, and
    ``suff_loglik`` is ℓ(θ) from them up to terms free of θ (e.g. Σ log x!), which cancel in
    ``lr_stat`` = 2[ℓ(θ̂) - ℓ(θ₀)]: the engine then makes one pass over the sample for every
    θ of a replication instead of a full log-likelihood pass per θ.
``fit(x, out_theta, out_se) -> (status, n_iter)``
    an estimator: estimates and their model-based standard errors in declared order, a fit
    status code (:data:`STATUS_CODES`) and the number of iterations (0 for closed forms).
    ``out_se`` has :func:`se_slots` (k) entries: the k standard errors, then the k(k-1)/2
    correlations of the estimates (upper triangle, row by row: (0,1), (0,2), ..., (1,2), ...),
    which arrive as NaN and may stay NaN when the estimator does not know them.
    ``simstudy.fit`` passes only data in the model's declared :class:`Support` with at least
    the estimator's ``min_n`` observations (:meth:`Model.check_data`); the engine passes the
    model's own samples at the study's sizes. Either way a kernel returns a status, never
    raises: ``no_mle`` below ``min_n`` and for degenerate samples (constant, all zeros,
    separated).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from simstudy.errors import SimstudyError

#: Fit status codes: int in kernels and Parquet, string in tables (README "What a run stores").
OK, NOT_CONVERGED, NO_MLE, BOUNDARY = 0, 1, 2, 3
STATUS_CODES = {OK: "ok", NOT_CONVERGED: "not_converged", NO_MLE: "no_mle", BOUNDARY: "boundary"}
#: Statuses only a run gives, never a fit: a Python estimator that raised (``error``, its
#: exception stored in the ``message`` column) or ran past its ``timeout`` (``timeout``).
ERROR, TIMEOUT = 4, 5
#: Every status a stored replication can have, by code (fit statuses and the run's own).
RUN_STATUS_CODES = {**STATUS_CODES, ERROR: "error", TIMEOUT: "timeout"}
#: Statuses whose estimates enter the metrics (a boundary MLE is a valid MLE).
USABLE_STATUSES = (OK, BOUNDARY)


def se_slots(k: int) -> int:
    """Length of ``out_se``: k standard errors and k(k-1)/2 correlations."""
    return k + k * (k - 1) // 2


def correlation_pairs(names) -> list[tuple[str, str]]:
    """The (a, b) parameter pairs of the correlation slots, in slot order."""
    return [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]


class ModelError(SimstudyError, ValueError):
    """A model was asked for something outside its declaration (bad θ, unknown estimator)."""


@dataclass(frozen=True)
class Interval:
    """A real interval; ``low_open``/``high_open`` say whether each end is excluded."""

    low: float
    high: float
    low_open: bool = True
    high_open: bool = True

    def contains(self, value: float) -> bool:
        if math.isnan(value):
            return False
        lo_ok = value > self.low if self.low_open else value >= self.low
        hi_ok = value < self.high if self.high_open else value <= self.high
        return lo_ok and hi_ok

    def __str__(self) -> str:
        def fmt(v: float) -> str:
            return "inf" if v == math.inf else "-inf" if v == -math.inf else f"{v:g}"

        return (
            f"{'(' if self.low_open else '['}{fmt(self.low)}, "
            f"{fmt(self.high)}{')' if self.high_open else ']'}"
        )


REAL = Interval(-math.inf, math.inf)
POSITIVE = Interval(0.0, math.inf)
UNIT_OPEN = Interval(0.0, 1.0)


@dataclass(frozen=True)
class Support:
    """The values one observed value may take: a real interval, or the integers in one.

    Every model declares it (``Model.support``: each value of an iid sample, the response y of
    a regression row) and :meth:`Model.check_data` (``simstudy.fit``) checks data against it.
    Values are always finite: an infinite end means unbounded, never that ±inf is a value.
    An integer support includes its finite ends (build it with :meth:`integers`).
    ``str()`` is the display form: ``(0, inf)``, ``[0, inf)``, ``{0, 1}``, ``{0, 1, 2, ...}``.
    """

    low: float = -math.inf
    high: float = math.inf
    low_open: bool = True
    high_open: bool = True
    integer: bool = False

    def __post_init__(self) -> None:
        if not self.low < self.high:
            raise ValueError(f"a support needs low < high; got {self.low!r}, {self.high!r}")
        if self.integer:
            for end, is_open in ((self.low, self.low_open), (self.high, self.high_open)):
                if math.isfinite(end) and (is_open or end != math.floor(end)):
                    raise ValueError(
                        "the finite ends of an integer support are integers it includes; "
                        "use Support.integers(low, high)"
                    )

    @classmethod
    def integers(cls, low: float = 0, high: float = math.inf) -> Support:
        """The integers from ``low`` to ``high`` (both included; ``high`` may be inf)."""
        return cls(float(low), float(high), low_open=False, high_open=False, integer=True)

    @classmethod
    def of_interval(cls, interval: Interval) -> Support:
        """The real values of a parameter-style :class:`Interval`."""
        return cls(interval.low, interval.high, interval.low_open, interval.high_open)

    def contains(self, values) -> np.ndarray:
        """Element-wise: finite, within the ends (open or closed) and, if integer, whole."""
        x = np.asarray(values, dtype=np.float64)
        with np.errstate(invalid="ignore"):
            ok = np.isfinite(x)
            if self.low > -math.inf:
                ok &= x > self.low if self.low_open else x >= self.low
            if self.high < math.inf:
                ok &= x < self.high if self.high_open else x <= self.high
            if self.integer:
                ok &= np.floor(x) == x
        return ok

    def contains_all(self, values: np.ndarray) -> bool:
        """``contains(values).all()``, cheaply: min and max (NaN propagates through both) and,
        for an integer support, one comparison with the floor."""
        if values.size == 0:
            return True
        lo, hi = float(values.min()), float(values.max())
        if not (math.isfinite(lo) and math.isfinite(hi)):
            return False
        if not (lo > self.low if self.low_open else lo >= self.low):
            return False
        if not (hi < self.high if self.high_open else hi <= self.high):
            return False
        return not self.integer or bool((np.floor(values) == values).all())

    def why_not(self, value: float) -> str:
        """Why ``value`` (one that :meth:`contains` rejects) is not in the support."""
        if math.isnan(value):
            return "is not a number"
        if math.isinf(value):
            return "is not finite"
        if not bool(Support(self.low, self.high, self.low_open, self.high_open).contains(value)):
            return f"is outside the support {self}"
        return "is not an integer"

    def describe(self) -> str:
        """A plural noun phrase: "positive reals", "non-negative integers", "0 or 1", ..."""
        lo, hi = self.low, self.high
        if self.integer:
            if lo == 0 and hi == 1:
                return "0 or 1"
            if hi == math.inf:
                return "non-negative integers (counts)" if lo == 0 else f"integers >= {lo:g}"
            return f"integers {lo:g} to {hi:g}"
        if lo == -math.inf and hi == math.inf:
            return "finite reals"
        if hi == math.inf and lo == 0:
            return "positive reals" if self.low_open else "non-negative reals"
        return f"reals in {self}"

    def __str__(self) -> str:
        if self.integer:
            lo, hi = int(self.low), self.high
            if hi == math.inf:
                return f"{{{lo}, {lo + 1}, {lo + 2}, ...}}"
            if hi - lo <= 3:
                return "{" + ", ".join(str(v) for v in range(lo, int(hi) + 1)) + "}"
            return f"{{{lo}, {lo + 1}, ..., {int(hi)}}}"
        # Infinite ends are never values: always shown open.
        return str(Interval(self.low, self.high, self.low_open or self.low == -math.inf,
                            self.high_open or self.high == math.inf))  # fmt: skip


#: Supports the built-in models declare (plugin models default to ``REALS``).
REALS = Support()
POSITIVE_REALS = Support(0.0)
NON_NEGATIVE_REALS = Support(0.0, low_open=False)
UNIT_INTERVAL = Support(0.0, 1.0)
COUNTS = Support.integers(0)
BINARY = Support.integers(0, 1)
#: What each covariate value of a regression row may be (Model.check_data relies on it being
#: every finite number).
COVARIATES = REALS


#: The design of an iid model: nothing.
NO_DESIGN = np.zeros(0, dtype=np.float64)


@dataclass(frozen=True)
class Param:
    """One estimand: its name, domain, and a ``typical`` range used by the generic tests."""

    name: str
    domain: Interval
    typical: tuple[float, float]
    doc: str = ""


@dataclass(frozen=True)
class Estimator:
    """A named estimator of a model: a Numba ``fit`` kernel and a one-line description.

    An estimator with settings (e.g. a gradient-ascent step) declares their defaults in
    ``options`` and a ``factory(**options)`` returning the fit kernel for other values.

    ``min_n``: the fewest observations (rows, for regression) the estimator can compute an
    estimate from at all: below it the kernel returns ``no_mle`` for *every* sample (e.g.
    (n-1)/Σx with its SE λ/sqrt(n-2) needs n >= 3; a variance needs two values; a regression
    with p coefficients needs n > p rows), and ``simstudy.fit`` refuses such data as too few.
    A sample of min_n or more that is degenerate (constant, all zeros, separated) is not
    refused: whether it has an estimate is the kernel's answer, its fit status.
    """

    name: str
    fit: Any
    doc: str
    options: Mapping[str, float] = field(default_factory=dict)
    factory: Callable[..., Any] | None = None
    min_n: int = 1


@dataclass(frozen=True)
class Model:
    """Declaration of a parametric model (see the module docstring for the kernel contracts).

    ``tags``: ``regular`` (bool, default True: Cramér-Rao and normality theory apply),
    ``rate`` (convergence rate exponent of the RMSE in n, default -0.5),
    ``closed_form_mle`` (bool), ``discrete`` (bool: integer-valued data).
    ``numpy_sample(gen, theta, n, design)`` draws the same sample with a NumPy Generator (the
    oracle). ``data_width``: values per observation (1 for iid models).
    ``scipy_dist(theta)`` returns the frozen scipy.stats distribution (tests, docs).
    ``reference_mle(x)`` returns the MLE by an independent route (closed form with NumPy or a
    SciPy fit) for the generic tests.
    ``support``: the declared :class:`Support` of each value (iid) or of the response y of each
    row (regression: covariates are finite reals); :meth:`check_data` checks data against it.
    """

    name: str
    params: tuple[Param, ...]
    support: Support
    sample: Any
    loglik: Any
    score: Any
    fisher: Any
    estimators: Mapping[str, Estimator]
    numpy_sample: Callable[..., np.ndarray]
    scipy_dist: Callable[[np.ndarray], Any]
    reference_mle: Callable[[np.ndarray], np.ndarray]
    tags: Mapping[str, Any] = field(default_factory=dict)
    doc: str = ""
    #: estimator names a user may ask for that this model deliberately lacks, with the reason
    absent_estimators: Mapping[str, str] = field(default_factory=dict)
    #: values per observation in the sample buffer (1 for iid models)
    data_width: int = 1
    #: regression models: ``specialize(design_spec) -> Model`` for a config's ``design:``
    #: (parameters b0..bp follow the design); None for iid models
    specialize: Callable[[Any], Model] | None = None
    #: the design this model was specialized for (a Design or FixedDesign of
    #: simstudy.models._design), if any
    design: Any = None
    #: ``fisher_at(theta, n) -> (k, k)``: the per-observation information of a sample of size
    #: n when it depends on n (a fixed regression design); None: ``fisher`` at every n
    fisher_at: Callable[[np.ndarray, int], np.ndarray] | None = None
    #: ``fisher_mcse(theta, n=None) -> (k, k)``: the Monte Carlo standard error of each entry
    #: of the information when it is a Monte Carlo estimate (carried into every measure that
    #: uses it); None: the information is exact
    fisher_mcse: Callable[..., np.ndarray | None] | None = None
    #: optional one-pass sufficient statistics for ``lr_stat`` (module docstring); ``n_suff``
    #: is their count (0: the engine uses ``loglik`` on the sample)
    suff_stats: Any = None
    suff_loglik: Any = None
    n_suff: int = 0

    @property
    def design_array(self) -> np.ndarray:
        """The design as the sample kernel receives it (empty for iid models)."""
        return NO_DESIGN if self.design is None else self.design.encode()

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    @property
    def k(self) -> int:
        return len(self.params)

    @property
    def regular(self) -> bool:
        return bool(self.tags.get("regular", True))

    @property
    def rate(self) -> float:
        return float(self.tags.get("rate", -0.5))

    def theta_array(self, theta: Mapping[str, float]) -> np.ndarray:
        """θ as a float64 array in declared order, after checking names and domains."""
        self.check_theta(theta)
        return np.array([float(theta[p.name]) for p in self.params], dtype=np.float64)

    def check_theta(self, theta: Mapping[str, float]) -> None:
        """Raise :class:`ModelError` naming the parameter, the value and the domain."""
        names = self.param_names
        missing = [n for n in names if n not in theta]
        extra = [n for n in theta if n not in names]
        if missing or extra:
            raise ModelError(
                f"model {self.name!r} takes parameters {list(names)}; "
                f"missing {missing}, unexpected {extra}"
            )
        for p in self.params:
            value = theta[p.name]
            if not p.domain.contains(float(value)):
                raise ModelError(
                    f"parameter {p.name!r} of model {self.name!r} must lie in {p.domain}; "
                    f"got {value!r}"
                )

    @property
    def column_names(self) -> tuple[str, ...]:
        """Names of the values of one observation: ("x",) iid, ("y", "x_0", ...) regression."""
        if self.data_width == 1:
            return ("x",)
        return ("y",) + tuple(f"x_{j}" for j in range(self.data_width - 1))

    def describe_values(self, show_support: bool = True) -> str:
        """What the values of this model's data may be, for messages."""
        s = self.support
        if self.data_width > 1:
            return (
                f"{self.name} data are rows ({', '.join(self.column_names)}) of finite numbers "
                f"with y in {s}"
            )
        phrase = s.describe()
        if show_support and str(s) not in phrase:
            phrase += f" {s}"
        return f"{self.name} data are {phrase}"

    def describe_data(self) -> str:
        """What data this model takes, for messages: the values and the accepted shapes."""
        if self.data_width == 1:
            return f"{self.describe_values()}, given as a 1-D array of n values"
        w = self.data_width
        return (
            f"{self.describe_values()}; give an array of shape (n, {w}), or the flat packed "
            f"form of {w}n values, row by row, that StudyResult.sample returns"
        )

    def check_data(self, data, *, min_n: int = 1, estimator: str | None = None,
                   where: str | None = None) -> np.ndarray:  # fmt: skip
        """``data`` as the fit kernels take it (flat, C-contiguous float64), after checking it
        against the declaration; else :class:`ModelError` naming the model, the first offending
        index and value, and what is allowed.

        Checked: numbers; the shape (iid: 1-D; regression: (n, data_width) rows or the flat
        packed form of a multiple of data_width values); at least one observation, and at
        least ``min_n`` (the estimator's :attr:`Estimator.min_n`); every value finite and in
        :attr:`support` (regression: y in the support, covariates finite). Vectorised: a few
        passes over the data.
        """
        where = where or f"model {self.name!r}"
        try:
            arr = np.asarray(data)
        except (TypeError, ValueError) as exc:  # ragged nested lists
            raise ModelError(
                f"{where}: data is not an array of numbers ({exc}); {self.describe_data()}"
            ) from None
        if arr.dtype.kind not in "biuf":
            kinds = {"U": "strings", "S": "bytes", "O": "Python objects", "c": "complex numbers"}
            raise ModelError(
                f"{where}: data must be real numbers; got {kinds.get(arr.dtype.kind, arr.dtype)}; "
                f"{self.describe_data()}"
            )
        w = self.data_width
        rows_ok = arr.ndim == 2 and arr.shape[1] == w
        if not ((arr.ndim == 1 and arr.size % w == 0) or (w > 1 and rows_ok)):
            if arr.ndim == 0:
                got = "is a single number"
            elif arr.ndim == 1:
                got = f"has {arr.size} values, not a multiple of the row width {w}"
            else:
                got = f"has shape {arr.shape}"
                if w == 1:
                    got += " (np.ravel it if its values are one sample)"
            raise ModelError(f"{where}: data {got}; {self.describe_data()}")
        n = arr.size // w
        rows = "observations" if w == 1 else "rows"
        if n == 0:
            least = f"{min_n} {rows}" if min_n > 1 else f"one {rows[:-1]}"
            raise ModelError(f"{where}: data is empty; give at least {least}; {self.describe_data()}")
        if n < min_n:
            who = f"estimator {estimator!r}" if estimator else "this estimator"
            raise ModelError(
                f"{where}: {who} needs at least {min_n} {rows} (with fewer it has no estimate "
                f"for any sample); got {n}"
            )
        x = np.ascontiguousarray(arr, dtype=np.float64).reshape(-1)
        table = x.reshape(n, w)
        if w == 1:
            if self.support.contains_all(x):
                return x
        # Covariates may be any finite number: all values finite covers them (one fast pass
        # over contiguous memory), then y (a strided column, copied once) against the support.
        elif REALS.contains_all(x) and self.support.contains_all(table[:, 0].copy()):
            return x
        # Something is wrong: find the first offending value.
        ok = np.empty((n, w), dtype=bool)
        ok[:, 0] = self.support.contains(table[:, 0])
        ok[:, 1:] = COVARIATES.contains(table[:, 1:])
        i = int(np.argmin(ok.reshape(-1)))
        raise ModelError(f"{where}: {self._describe_bad_value(arr, x, i)}")

    def _describe_bad_value(self, arr: np.ndarray, x: np.ndarray, i: int) -> str:
        """The message "data[i] = v is ...; <allowed values>" for the flat index ``i``."""
        w = self.data_width
        value = float(x[i])
        row, col = divmod(i, w)
        if w == 1:
            where, support = f"data[{i}]", self.support
        else:
            name = self.column_names[col]
            where = (f"data[{row}, {col}] ({name} of row {row})" if arr.ndim == 2
                     else f"data[{i}] ({name} of row {row})")  # fmt: skip
            support = self.support if col == 0 else COVARIATES
        why = support.why_not(value)
        values = self.describe_values(show_support=not why.startswith("is outside"))
        return f"{where} = {value!r} {why}; {values}"

    def estimator(self, name: str) -> Estimator:
        try:
            return self.estimators[name]
        except KeyError:
            raise ModelError(self.unknown_estimator_message(name)) from None

    def unknown_estimator_message(self, name: str) -> str:
        if name in self.absent_estimators:
            return (
                f"model {self.name!r} has no estimator {name!r}: "
                f"{self.absent_estimators[name]}"
            )
        from simstudy.models._registry import suggest

        return (
            f"model {self.name!r} has no estimator {name!r}{suggest(name, self.estimators)}; "
            f"available: {', '.join(sorted(self.estimators))}, or a plugin "
            "{plugin: 'package.module:function'}"
        )

    def information(self, theta: np.ndarray, n: int | None = None) -> np.ndarray:
        """Per-observation Fisher information I(θ) (k × k) of a sample of size n: ``fisher``,
        or ``fisher_at`` when the model's information depends on n (fixed designs)."""
        theta = np.ascontiguousarray(theta, dtype=np.float64)
        if n is not None and self.fisher_at is not None:
            return np.array(self.fisher_at(theta, int(n)), dtype=np.float64)
        info = np.zeros((self.k, self.k))
        self.fisher(theta, info)
        return info

    def inverse_fisher(self, theta: np.ndarray, n: int | None = None) -> np.ndarray:
        """Per-observation inverse Fisher information I(θ)^-1 (the Cramér-Rao bound × n)."""
        return np.linalg.inv(self.information(theta, n))

    def inverse_fisher_mcse(self, theta: np.ndarray, n: int | None = None) -> np.ndarray | None:
        """The Monte Carlo standard error of each entry of I(θ)^-1 when I is a Monte Carlo
        estimate (``fisher_mcse``), by the perturbation of the inverse; None when I is exact."""
        if self.fisher_mcse is None:
            return None
        mcse = self.fisher_mcse(np.ascontiguousarray(theta, dtype=np.float64), n)
        if mcse is None:
            return None
        from simstudy.models._information import inverse_mcse

        return inverse_mcse(self.information(theta, n), np.asarray(mcse, dtype=np.float64))
