"""Estimators: built-in ones (declared on each model), plugins, and ``simstudy.fit``.

A plugin estimator is any Numba-jitted ``f(x, out_theta, out_se) -> (status, n_iter)`` that
writes the model's parameters in declared order (status codes in
:data:`simstudy.models.STATUS_CODES`); the engine calls it exactly like a built-in.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import inspect
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simstudy._version import __version__
from simstudy.config import ConfiguredEstimator, PluginEstimator
from simstudy.errors import PluginError
from simstudy.models._base import STATUS_CODES, Model, ModelError, se_slots
from simstudy.models._registry import get_model


@dataclass(frozen=True)
class FitResult:
    """One fit: estimates and model-based SEs by parameter name, status name, iterations."""

    estimate: dict[str, float]
    se: dict[str, float]
    status: str
    n_iter: int


def fit(model: str | Model, data, estimator: str = "mle") -> FitResult:
    """Fit ``estimator`` (a built-in name or a ``"pkg.module:function"`` plugin) to ``data``."""
    m = get_model(model) if isinstance(model, str) else model
    x = np.ascontiguousarray(data, dtype=np.float64).ravel()
    if x.size < 1:
        raise ModelError("data is empty; give at least one observation")
    kernel = load_plugin(estimator) if ":" in estimator else m.estimator(estimator).fit
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
    fit = load_plugin(spec.plugin, base_dir=base_dir, where=where)
    try:
        source = inspect.getsource(fit.py_func)
    except (OSError, TypeError):
        source = spec.plugin
    version = "plugin-" + hashlib.sha256(source.encode()).hexdigest()[:16]
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
    """Import ``package.module:function`` (also from the config's folder) and check it is a
    Numba-jitted fit kernel ``f(x, out_theta, out_se) -> (status, n_iter)``."""
    fit = import_reference(reference, base_dir=base_dir, where=where)
    if not hasattr(fit, "py_func") or not hasattr(fit, "compile"):
        raise PluginError(
            f"{where}: plugin {reference!r} must be a Numba-jitted function; decorate it "
            "with @numba.njit(cache=True) and the signature f(x, out_theta, out_se) -> "
            "(status, n_iter)"
        )
    from simstudy._jit import as_fit_kernel

    try:
        fit = as_fit_kernel(fit)
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
    return fit
