"""The model declaration: the one extension point of simstudy.

A model is a frozen :class:`Model` value built from declarations (parameters with domains,
support, tags) and pure Numba functions. Nothing here runs logic at construction time;
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
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from simstudy.errors import SimstudyError

#: Fit status codes: int in kernels and Parquet, string in tables (README "What a run stores").
OK, NOT_CONVERGED, NO_MLE, BOUNDARY = 0, 1, 2, 3
STATUS_CODES = {OK: "ok", NOT_CONVERGED: "not_converged", NO_MLE: "no_mle", BOUNDARY: "boundary"}
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
    """

    name: str
    fit: Any
    doc: str
    options: Mapping[str, float] = field(default_factory=dict)
    factory: Callable[..., Any] | None = None


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
    """

    name: str
    params: tuple[Param, ...]
    support: str
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
    specialize: Callable[[Any], "Model"] | None = None
    #: the design this model was specialized for (a Design or FixedDesign of
    #: simstudy.models._design), if any
    design: Any = None
    #: ``fisher_at(theta, n) -> (k, k)``: the per-observation information of a sample of size
    #: n when it depends on n (a fixed regression design); None: ``fisher`` at every n
    fisher_at: Callable[[np.ndarray, int], np.ndarray] | None = None
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
