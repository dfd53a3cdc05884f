"""Estimators: built-in ones (declared on each model), plugins, and ``simstudy.fit``.

A plugin estimator is any Numba-jitted ``f(x, out_theta, out_se) -> (status, n_iter)`` that
writes the model's parameters in declared order (status codes in
:data:`simstudy.models.STATUS_CODES`); the engine calls it exactly like a built-in.
"""

from __future__ import annotations

import hashlib
import importlib
import inspect
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simstudy._version import __version__
from simstudy.config import ConfiguredEstimator, PluginEstimator, PythonEstimator
from simstudy.errors import PluginError
from simstudy.models._base import STATUS_CODES, Model, se_slots
from simstudy.models._registry import get_model

#: Prefix of a plugin estimator's version (a hash of its source follows).
PLUGIN_VERSION_PREFIX = "plugin-"


@dataclass(frozen=True)
class FitResult:
    """One fit: estimates and model-based SEs by parameter name, status name, iterations.

    What :func:`fit` returns, and one of the forms a Python estimator may return
    (``FitResult({"rate": 2.1}, se={"rate": 0.2})``: no SE, status ``ok`` and 0 iterations
    unless given)."""

    estimate: dict[str, float]
    se: dict[str, float] | None = None
    status: str = "ok"
    n_iter: int = 0


def fit(model: str | Model, data, estimator: str = "mle") -> FitResult:
    """Fit ``estimator`` (a built-in name or a ``"pkg.module:function"`` plugin) to ``data``.

    ``model`` is a built-in name, a plugin model ``"package.module:Class"`` (imported from
    PYTHONPATH or the current working directory) or a :class:`Model`. ``data`` is checked
    against the model's declaration (:meth:`Model.check_data`): a 1-D array of n values for
    iid models, rows (y, x_0, ..., x_{p-1}) as an (n, p+1) array or flat for regression
    models; every value finite and in the model's support; at least the estimator's
    ``min_n`` observations. Anything else raises :class:`ModelError` naming the model, the
    first offending index and value, and what is allowed.
    """
    m = get_model(model)
    if ":" in estimator:
        plugin, min_n = load_plugin(estimator), 1
    else:
        plugin, min_n = None, m.estimator(estimator).min_n
    x = m.check_data(data, min_n=min_n, estimator=estimator, where=f"fit {m.name}")
    kernel = m.estimator(estimator).fit if plugin is None else compile_plugin(plugin, estimator)
    theta = np.full(m.k, np.nan)
    se = np.full(se_slots(m.k), np.nan)
    status, n_iter = kernel(x, theta, se)
    names = m.param_names
    return FitResult(
        estimate=dict(zip(names, map(float, theta))),
        se=dict(zip(names, map(float, se))),
        status=STATUS_CODES.get(int(status), f"unknown({int(status)})"),
        n_iter=int(n_iter),
    )


def resolve_estimator(
    model: Model, spec: str | PluginEstimator, *, base_dir: Path | None, where: str
) -> tuple[str, Any, str, str]:
    """(label, fit kernel, version, source) for a built-in name or a plugin reference."""
    if isinstance(spec, str):
        est = model.estimator(spec)
        return spec, est.fit, code_version(), f"simstudy.models.{model.name}:{est.fit.__name__}"
    if isinstance(spec, ConfiguredEstimator):
        est = model.estimator(spec.estimator)
        settings = {**est.options, **spec.options}
        if est.factory is None or not spec.options:
            kernel = est.fit
        else:
            kernel = est.factory(**settings)
        text = json.dumps(settings, sort_keys=True)
        return (spec.label, kernel, f"{code_version()}+{text}",
                f"simstudy.models.{model.name}:{spec.estimator}{text}")  # fmt: skip
    if isinstance(spec, PythonEstimator):
        from simstudy import pyfit

        fn = pyfit.load(spec.python, base_dir=base_dir, where=where)
        runner = pyfit.PythonFit(spec.python, fn, dict(spec.options), spec.timeout,
                                 str(base_dir) if base_dir is not None else None)  # fmt: skip
        return spec.label, runner, pyfit.version(fn, spec.python, spec.options, spec.timeout), spec.python
    fit = load_plugin(spec.plugin, base_dir=base_dir, where=where)
    try:
        source = inspect.getsource(fit.py_func)
    except (OSError, TypeError):
        source = spec.plugin
    version = PLUGIN_VERSION_PREFIX + hashlib.sha256(source.encode()).hexdigest()[:16]
    return spec.label, fit, version, spec.plugin


def code_version() -> str:
    """Version of the built-in estimators: the release plus a hash of simstudy's source, so
    results computed by different code never share a result key (and are never mixed)."""
    from simstudy._jit import source_fingerprint

    return f"{__version__}+{source_fingerprint()}"


def import_reference(reference: str, *, base_dir: Path | None = None, where: str = "plugin") -> Any:
    """The object ``package.module:attribute`` names (the config's folder is searched too)."""
    module_name, _, attr = reference.partition(":")
    added = False
    if base_dir is not None and str(base_dir) not in sys.path:
        sys.path.insert(0, str(base_dir))
        added = True
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - any import failure is the user's to see
        raise PluginError(
            f"{where}: cannot import module {module_name!r} for plugin {reference!r} "
            f"({type(exc).__name__}: {exc}); put it on PYTHONPATH or next to the config file"
        ) from None
    finally:
        if added:
            sys.path.remove(str(base_dir))
    fit = getattr(module, attr, None)
    if fit is None:
        from simstudy.models._registry import suggest

        public = [n for n in vars(module) if not n.startswith("_")]
        raise PluginError(
            f"{where}: module {module_name!r} has no attribute {attr!r}{suggest(attr, public)}; "
            f"it defines: {', '.join(sorted(public)) or 'nothing public'}"
        )
    return fit


def load_plugin(reference: str, *, base_dir: Path | None = None, where: str = "plugin") -> Any:
    """Import ``package.module:function`` (also from the config's folder) and check that it is
    a Numba-jitted function. Nothing is compiled here: :func:`compile_plugin` compiles it for
    the engine's signature when a run needs it."""
    fit = import_reference(reference, base_dir=base_dir, where=where)
    if not hasattr(fit, "py_func") or not hasattr(fit, "compile"):
        raise PluginError(
            f"{where}: plugin {reference!r} must be a Numba-jitted function; decorate it "
            "with @numba.njit(cache=True) and the signature f(x, out_theta, out_se) -> "
            "(status, n_iter)"
        )
    return fit


def compile_plugin(fit, reference: str, where: str = "plugin"):
    """``fit`` compiled for the engine's signature ``(x, out_theta, out_se) -> (status,
    n_iter)`` (see :func:`simstudy._jit.as_fit_kernel`), or a :class:`PluginError` with the
    gist of Numba's typing error."""
    from simstudy._jit import as_fit_kernel

    try:
        return as_fit_kernel(fit)
    except Exception as exc:  # noqa: BLE001 - Numba typing errors are long; keep the gist
        text = str(exc)
        gist = next(
            (line.strip() for line in text.splitlines()
             if "No conversion" in line or "Cannot" in line or "Invalid" in line
             or "not" in line and "Failed in" not in line),
            text.strip().splitlines()[0] if text.strip() else type(exc).__name__,
        )  # fmt: skip
        raise PluginError(
            f"{where}: plugin {reference!r} must compile as f(x: float64[:], out_theta: "
            "float64[:], out_se: float64[:]) returning a tuple of two integers "
            f"(status, n_iter), e.g. `return 0, 0`; Numba says: {gist}"
        ) from None


def probe_plugin(fit, reference: str, model: Model, x: np.ndarray, where: str) -> None:
    """Call a plugin estimator's pure-Python ``py_func`` once on a sample ``x`` of the study
    and raise :class:`PluginError` if it raises, does not return ``(status, n_iter)`` or
    returns a status that is not a fit status: user code that cannot work is bad input, found
    before the run computes anything."""
    theta = np.full(model.k, np.nan)
    se = np.full(se_slots(model.k), np.nan)
    sample = np.ascontiguousarray(x, dtype=np.float64)
    try:
        out = fit.py_func(sample, theta, se)
    except Exception as exc:  # noqa: BLE001 - the user's exception, reported as bad input
        raise PluginError(
            f"{where}: plugin {reference!r} raised {type(exc).__name__}: {exc} when called on "
            f"a sample of the study (n = {sample.size // model.data_width}, replication 0 of "
            "its first cell); fix the plugin (call it on `simstudy.load(DIR).sample(...)` or "
            "`simstudy replay` data to reproduce)"
        ) from None
    if not (isinstance(out, tuple) and len(out) == 2
            and all(isinstance(v, (int, np.integer)) for v in out)):  # fmt: skip
        raise PluginError(
            f"{where}: plugin {reference!r} returned {out!r}; it must return a tuple of two "
            "integers (status, n_iter), e.g. `return 0, 0`"
        )
    check_status_code(int(out[0]), reference, where, "on a sample of the study (replication 0 "
                      "of its first cell)")  # fmt: skip


def probe_plugins(work, *, builtin_models_only: bool = False) -> None:
    """:func:`probe_plugin` for each plugin estimator of ``work`` ((cell, estimator plans)
    pairs), once per config entry, on replication 0 of the first cell it is paired with, and
    :func:`simstudy.pyfit.probe` for each Python estimator.
    ``builtin_models_only`` skips plugin models, whose samples need their compiled sampler."""
    from simstudy import rng

    seen = set()
    for cell, estimators in work:
        if builtin_models_only and cell.model.tags.get("plugin"):
            continue
        for e in estimators:
            if not (e.is_plugin or e.is_python) or (cell.entry, e.label) in seen:
                continue
            seen.add((cell.entry, e.label))
            if e.is_python:
                from simstudy import pyfit

                pyfit.probe(e.fit, cell.model, cell, where=e.origin, label=e.label)
                continue
            gen = rng.numpy_generator(cell.seed, cell.key1, 0, 0)
            x = cell.model.numpy_sample(gen, cell.theta_array, cell.n)
            probe_plugin(e.fit, e.source, cell.model, x, where=e.origin)


def probe_plugins_offline(plan) -> None:
    """The plugin probes ``simstudy validate`` runs: those needing no compiled kernel."""
    probe_plugins(((c, c.estimators) for c in plan.cells), builtin_models_only=True)


def check_status_code(code: int, reference: str, where: str, context: str) -> None:
    """:class:`PluginError` unless ``code`` is one of :data:`STATUS_CODES`."""
    if code not in STATUS_CODES:
        allowed = ", ".join(f"{k} ({v})" for k, v in STATUS_CODES.items())
        raise PluginError(
            f"{where}: plugin {reference!r} returned status {code} {context}; a fit returns one "
            f"of {allowed} (simstudy.models.OK, NOT_CONVERGED, NO_MLE, BOUNDARY)"
        )
