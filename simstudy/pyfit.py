"""Python estimators: plain functions ``f(data, **options)`` fitted on each replication.

A study entry ``{python: "module:function", name: LABEL, options: {...}, timeout: SECONDS}``
names one. This module is the one place that calls them: it imports the function (from the
study file's folder or ``sys.path``, as plugins are), turns what it returns into the row the
store keeps, and computes a block of replications of one cell
(:func:`compute_block`). Where that block runs (worker processes, Dask) is the executors'
business (:mod:`simstudy.executors._pyworkers`).

``data`` is exactly what ``StudyResult.sample(model, theta, n, rep)`` returns: replication
``rep`` drawn by plain NumPy from the stream (seed, cell key, rep), bit-identical to the
sample the Numba estimators of the cell fit. The function returns

- ``{param: estimate}`` for every model parameter, or
- ``{"estimate": {...}, "se": {...}, "status": NAME}`` (``se`` and ``status`` optional), or
- a :class:`simstudy.FitResult`,

where estimates and SEs are mappings by parameter name (or sequences in the model's parameter
order) and ``status`` is one of ``ok``, ``not_converged``, ``no_mle``, ``boundary``. A
replication whose fit raises, or returns anything else, is stored with status ``error`` and the
reason in the ``message`` column; one that runs past ``timeout`` seconds gets ``timeout``. The
study goes on either way; :func:`probe` finds a wrong return on the first replication before
anything runs.

No kernel is defined here and nothing here is compiled: the file is left out of the kernels'
source fingerprint, and its hash enters every Python estimator's version instead
(:func:`runner_fingerprint`), so editing it recomputes Python estimators only.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import math
import numbers
import signal
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simstudy.errors import PluginError
from simstudy.estimators import FitResult
from simstudy.models._base import (
    BOUNDARY,
    ERROR,
    NOT_CONVERGED,
    OK,
    STATUS_CODES,
    TIMEOUT,
    se_slots,
)

#: Prefix of a Python estimator's version (a hash of its source, options and timeout follows).
PYTHON_VERSION_PREFIX = "python-"
STATUS_BY_NAME = {name: code for code, name in STATUS_CODES.items()}
#: Replications the probe tries before it gives up on a function that raises on every one.
PROBE_REPLICATIONS = 5


class FitTimeout(BaseException):
    """Raised inside a fit that ran past its timeout (a BaseException, so that the user's own
    ``except Exception`` does not swallow it)."""


class ReturnError(ValueError):
    """A fit returned something the store cannot keep: ``problem`` says what, ``fix`` how."""

    def __init__(self, problem: str, fix: str):
        super().__init__(f"{problem}; {fix}")
        self.problem, self.fix = problem, fix


@dataclass(frozen=True)
class PythonFit:
    """A resolved Python estimator: the function and the settings of every call."""

    reference: str
    function: Any
    options: dict
    timeout: float | None
    base_dir: str | None

    def spec(self) -> tuple:
        """What a worker process needs to import and call it again (plain, picklable data)."""
        return (self.reference, json.dumps(self.options, sort_keys=True), self.timeout, self.base_dir)


def runner_fingerprint() -> str:
    """Hash of the code that runs Python estimators (this module and its worker pool)."""
    digest = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for path in (here / "pyfit.py", here / "executors" / "_pyworkers.py"):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def load(reference: str, *, base_dir: Path | str | None = None, where: str = "python") -> Any:
    """Import ``module:function`` (the study file's folder first, then ``sys.path``) and check
    that it is callable; :class:`PluginError` naming ``where`` otherwise."""
    from simstudy.estimators import import_reference

    fn = import_reference(reference, base_dir=Path(base_dir) if base_dir else None, where=where)
    if not callable(fn):
        raise PluginError(
            f"{where}: python estimator {reference!r} is a {type(fn).__name__}, not a "
            "function; name a function f(data, **options) returning {param: estimate}"
        )
    return fn


def version(fn, reference: str, options: Mapping, timeout: float | None) -> str:
    """The estimator's version: its source (or reference), options, timeout and the runner's
    code, so that editing any of them recomputes its results (and nothing else's)."""
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):
        source = reference
    text = json.dumps({"source": source, "options": options, "timeout": timeout,
                       "runner": runner_fingerprint()}, sort_keys=True)  # fmt: skip
    return PYTHON_VERSION_PREFIX + hashlib.sha256(text.encode()).hexdigest()[:16]


def _on_alarm(_signum, _frame):
    raise FitTimeout


def call(fn, data, options: Mapping, timeout: float | None):
    """``fn(data, **options)``, stopped with :class:`FitTimeout` after ``timeout`` seconds.

    The limit is a real-time interval timer (``signal.setitimer``) of the calling process, so
    it is applied only in a main thread (the worker processes run every fit in theirs); it
    interrupts Python code and sleeps, not a single C call that never returns to Python."""
    if not timeout or threading.current_thread() is not threading.main_thread():
        return fn(data, **options)
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        return fn(data, **options)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


#: Types taken as numbers without further checks (the common case, kept cheap: this runs for
#: every value of every fit).
_PLAIN_NUMBERS = frozenset({float, int, np.float64, np.float32, np.int64, np.int32})


def _number(value, what: str) -> float:
    if type(value) in _PLAIN_NUMBERS:
        return float(value)
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise ReturnError(f"{what} is {value!r} ({type(value).__name__}), not a number",
                          "return a float (or NaN when there is none)")  # fmt: skip
    return float(value)


def _by_param(values, names: Sequence[str], what: str) -> np.ndarray:
    """A mapping by parameter name, or a sequence in parameter order, as a float array."""
    k = len(names)
    if type(values) is dict and len(values) == k:
        # The common case: a dict of plain numbers by name (checked in full below otherwise).
        found = [values.get(p) for p in names]
        if all(type(v) in _PLAIN_NUMBERS for v in found):
            return np.array(found, dtype=np.float64)
    if isinstance(values, (dict, Mapping)):
        missing = [p for p in names if p not in values]
        unknown = [str(p) for p in values if p not in names]
        if missing or unknown:
            parts = []
            if missing:
                parts.append(f"missing {', '.join(map(repr, missing))}")
            if unknown:
                parts.append(f"unknown {', '.join(map(repr, unknown))}")
            raise ReturnError(f"{what} has {' and '.join(parts)}",
                              f"give exactly the model's parameters {', '.join(names)}")  # fmt: skip
        return np.array([_number(values[p], f"{what}[{p!r}]") for p in names])
    if isinstance(values, (str, bytes)) or not isinstance(values, (Sequence, np.ndarray)):
        raise ReturnError(f"{what} is a {type(values).__name__}",
                          f"give a mapping {{{', '.join(f'{p!r}: ...' for p in names)}}}")  # fmt: skip
    flat = list(np.asarray(values, dtype=object).ravel()) if isinstance(values, np.ndarray) else list(values)
    if len(flat) != k:
        raise ReturnError(f"{what} has {len(flat)} values, the model has {k} parameters",
                          f"give one per parameter ({', '.join(names)}), best as a mapping by name")  # fmt: skip
    return np.array([_number(v, f"{what}[{i}]") for i, v in enumerate(flat)])


def coerce(out, names: Sequence[str]) -> tuple[np.ndarray, np.ndarray, int, int]:
    """(estimates, SEs, status code, iterations) of a fit's return value, or :class:`ReturnError`.

    The SE array has :func:`se_slots` entries (correlations NaN, as a fit without them leaves
    them); a missing ``se`` is all NaN."""
    k = len(names)
    se_out = np.full(se_slots(k), np.nan)
    status, n_iter = OK, 0
    if isinstance(out, FitResult):
        estimate, se, status_name, n_iter = out.estimate, out.se, out.status, out.n_iter
    elif isinstance(out, (dict, Mapping)) and "estimate" in out:
        extra = [str(key) for key in out if key not in ("estimate", "se", "status")]
        if extra:
            raise ReturnError(f"the result has the keys {', '.join(map(repr, extra))}",
                              "a result mapping takes only estimate, se and status")  # fmt: skip
        estimate, se, status_name = out["estimate"], out.get("se"), out.get("status", "ok")
    elif isinstance(out, Mapping):
        estimate, se, status_name = out, None, "ok"
    else:
        raise ReturnError(
            f"it returned a {type(out).__name__}",
            f"return a mapping {{{', '.join(f'{p!r}: ...' for p in names)}}}, "
            "{'estimate': {...}, 'se': {...}, 'status': 'ok'} or a simstudy.FitResult",
        )
    est = _by_param(estimate, names, "the estimate")
    if se is not None:
        se_out[:k] = _by_param(se, names, "the se")
    if isinstance(status_name, (int, np.integer)) and not isinstance(status_name, bool):
        status_name = STATUS_CODES.get(int(status_name), status_name)
    if status_name not in STATUS_BY_NAME:
        raise ReturnError(f"the status is {status_name!r}",
                          f"give one of {', '.join(STATUS_BY_NAME)}")  # fmt: skip
    status = STATUS_BY_NAME[status_name]
    if isinstance(n_iter, bool) or not isinstance(n_iter, (int, np.integer)):
        raise ReturnError(f"n_iter is {n_iter!r}", "give a whole number (0 for a closed form)")
    return est, se_out, status, int(n_iter)


def fit_one(fn, data, options, timeout, names) -> tuple[np.ndarray, np.ndarray, int, int, str | None]:
    """One replication's row: (estimates, SEs, status, n_iter, message). An exception gives
    status ``error`` with its type and message, a wrong return ``error`` with what is wrong,
    a fit past ``timeout`` status ``timeout``; estimates are NaN then."""
    k = len(names)
    try:
        out = call(fn, data, options, timeout)
        est, se, status, n_iter = coerce(out, names)
    except FitTimeout:
        return (np.full(k, np.nan), np.full(se_slots(k), np.nan), TIMEOUT, 0,
                f"timeout: the fit took longer than {timeout:g} s")  # fmt: skip
    except ReturnError as exc:
        return (np.full(k, np.nan), np.full(se_slots(k), np.nan), ERROR, 0,
                f"wrong return: {exc}")  # fmt: skip
    except Exception as exc:  # noqa: BLE001 - the user's exception is the replication's outcome
        return np.full(k, np.nan), np.full(se_slots(k), np.nan), ERROR, 0, f"{type(exc).__name__}: {exc}"
    return est, se, status, n_iter, None


# ---- a block of one cell -------------------------------------------------------------------


@dataclass(frozen=True)
class BlockSpec:
    """Replications [start, stop) of one cell for its Python estimators, as plain data (what
    a worker process receives): the model's config entry, the cell and the estimators' specs
    (:meth:`PythonFit.spec`)."""

    entry_json: str
    base_dir: str | None
    key0: int
    key1: int
    theta: tuple[float, ...]
    n: int
    start: int
    stop: int
    estimators: tuple[tuple, ...]


_MODELS: dict[tuple, Any] = {}
_FUNCTIONS: dict[tuple, Any] = {}


def _model(spec: BlockSpec):
    key = (spec.entry_json, spec.base_dir)
    if key not in _MODELS:
        from simstudy.config import ModelEntry
        from simstudy.models._registry import entry_model

        entry = ModelEntry.model_validate(json.loads(spec.entry_json))
        _MODELS[key] = entry_model(entry, base_dir=Path(spec.base_dir) if spec.base_dir else None)
    return _MODELS[key]


def _function(reference: str, base_dir: str | None):
    key = (reference, base_dir)
    if key not in _FUNCTIONS:
        _FUNCTIONS[key] = load(reference, base_dir=base_dir)
    return _FUNCTIONS[key]


def _lr_terms(model):
    """(log-likelihood, sufficient statistics or None) as the engine evaluates lr_stat."""
    if model.n_suff > 0:
        stats = np.empty(model.n_suff)

        def suff(x):
            model.suff_stats(x, stats)
            return stats

        return model.suff_loglik, suff
    return model.loglik, None


def compute_block(spec: BlockSpec):
    """Fit every estimator of ``spec`` on replications [start, stop) of its cell; returns
    ``(BlockResult, seconds, messages)`` with ``messages[j][i]`` the reason of a failed fit
    (None for the others). Replication r's sample is ``StudyResult.sample``'s: NumPy's
    Generator on the stream (key0, key1, r), through the model's NumPy sampler."""
    from simstudy import rng
    from simstudy.engine import BlockResult

    model = _model(spec)
    names = model.param_names
    k, slots = model.k, se_slots(model.k)
    fits = [(_function(ref, base), json.loads(options), timeout)
            for ref, options, timeout, base in spec.estimators]  # fmt: skip
    n_est, n_rep = len(fits), spec.stop - spec.start
    est = np.full((n_est, n_rep, k), np.nan)
    se = np.full((n_est, n_rep, slots), np.nan)
    lr = np.full((n_est, n_rep), np.nan)
    status = np.zeros((n_est, n_rep), dtype=np.int64)
    n_iter = np.zeros((n_est, n_rep), dtype=np.int64)
    messages: list[list[str | None]] = [[None] * n_rep for _ in range(n_est)]
    nonfinite = np.zeros(n_est, dtype=np.int64)
    theta = np.ascontiguousarray(spec.theta, dtype=np.float64)
    loglik, suff = _lr_terms(model)
    t0 = time.perf_counter()
    for i in range(n_rep):
        gen = rng.numpy_generator(spec.key0, spec.key1, spec.start + i, 0)
        x = np.ascontiguousarray(model.numpy_sample(gen, theta, spec.n), dtype=np.float64)
        data = suff(x) if suff is not None else x
        ll0 = loglik(data, theta)
        for j, (fn, options, timeout) in enumerate(fits):
            # Each estimator but the last gets a copy: one that edits its data in place must
            # not change what the next one sees.
            sample = x.copy() if j < n_est - 1 else x
            e, s, code, iters, message = fit_one(fn, sample, options, timeout, names)
            if code in (OK, BOUNDARY) and not np.isfinite(e).all():
                code = NOT_CONVERGED
                nonfinite[j] += 1
            est[j, i], se[j, i], status[j, i], n_iter[j, i] = e, s, code, iters
            messages[j][i] = message
            if code in (OK, BOUNDARY):
                value = 2.0 * (loglik(data, np.ascontiguousarray(e)) - ll0)
                lr[j, i] = value if math.isfinite(value) else np.nan
    seconds = time.perf_counter() - t0
    return BlockResult(spec.start, spec.stop, est, se, lr, status, n_iter, nonfinite, messages), seconds


# ---- the probe before a run ----------------------------------------------------------------


def probe(fit: PythonFit, model, cell, where: str, label: str) -> None:
    """Call the estimator on the first replications of ``cell`` (from replication 0, until one
    returns) and raise :class:`PluginError` if what it returns cannot be stored, or if it
    raises on every one of :data:`PROBE_REPLICATIONS`: user code that cannot work is bad
    input, found before anything is computed or written."""
    from simstudy import rng

    names = model.param_names
    first_error = None
    for rep in range(PROBE_REPLICATIONS):
        gen = rng.numpy_generator(cell.seed, cell.key1, rep, 0)
        x = np.ascontiguousarray(model.numpy_sample(gen, cell.theta_array, cell.n), dtype=np.float64)
        try:
            out = call(fit.function, x, fit.options, fit.timeout)
        except FitTimeout:
            first_error = first_error or f"ran past its timeout of {fit.timeout:g} s"
            continue
        except Exception as exc:  # noqa: BLE001 - stored as status error in the run
            first_error = first_error or f"raised {type(exc).__name__}: {exc}"
            continue
        try:
            coerce(out, names)
        except ReturnError as exc:
            shown = repr(out)
            shown = shown if len(shown) <= 200 else shown[:197] + "..."
            raise PluginError(
                f"{where}: python estimator {label!r} ({fit.reference}) returned {shown} at "
                f"replication {rep} of {cell.label}: {exc.problem}; {exc.fix} (it returns "
                f"{{param: estimate}} for {', '.join(names)}, or {{'estimate': ..., 'se': ..., "
                "'status': ...}} or a simstudy.FitResult)"
            ) from None
        return
    raise PluginError(
        f"{where}: python estimator {label!r} ({fit.reference}) {first_error} at replication 0 "
        f"of {cell.label}, and failed on each of the first {PROBE_REPLICATIONS} replications; "
        "fix the function (call it on `simstudy.load(DIR).sample(...)` data to reproduce)"
    )
