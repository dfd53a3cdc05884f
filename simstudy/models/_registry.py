"""The model registry: every built-in model module exposes ``MODEL``; looked up by name."""

from __future__ import annotations

import difflib
import importlib

from simstudy.models._base import Model, ModelError

#: Built-in model modules, in the order ``simstudy models`` lists them.
BUILTIN = (
    "bernoulli", "normal", "exponential", "poisson", "gamma",
    # numerical families and the non-regular model
    "weibull", "beta", "negative_binomial", "student_t", "cauchy", "lognormal", "laplace",
    "categorical", "uniform",
)

#: Regression models: data rows (y, x); a config's ``design:`` block specializes them.
REGRESSION = ("linear_gaussian", "logistic", "poisson_regression")

_CACHE: dict[str, Model] = {}


def _all() -> tuple[str, ...]:
    return BUILTIN + REGRESSION


def get_model(name: str, design=None) -> Model:
    """The registered :class:`Model` called ``name`` (ModelError with a suggestion if none).

    Regression models are specialized for ``design`` (the config's ``design:`` block; their
    default design when None); iid models reject a design.
    """
    if name not in _CACHE:
        if name not in _all():
            raise ModelError(unknown_model_message(name))
        module = importlib.import_module(f"simstudy.models.{name}")
        _CACHE[name] = module.MODEL
    model = _CACHE[name]
    if design is None:
        return model
    if model.specialize is None:
        raise ModelError(f"model {name!r} takes no design (it is not a regression model)")
    return model.specialize(design)


_PLUGINS: dict[str, Model] = {}


def load_plugin_model(reference: str, *, base_dir=None) -> Model:
    """A user-defined model from ``"package.module:MyModel"`` (imported from PYTHONPATH or the
    config's folder); see :mod:`simstudy.models._plugin` for the contract and fallbacks."""
    if reference not in _PLUGINS:
        from simstudy.estimators import import_reference
        from simstudy.models._plugin import build_model

        obj = import_reference(reference, base_dir=base_dir, where=f"plugin model {reference!r}")
        _PLUGINS[reference] = build_model(obj, reference)
    return _PLUGINS[reference]


def entry_model(entry, *, base_dir=None) -> Model:
    """The model of a config entry: a plugin, or a built-in specialized for its design."""
    if getattr(entry, "plugin", None):
        return load_plugin_model(entry.plugin, base_dir=base_dir)
    return get_model(entry.model, entry.design) if entry.design else get_model(entry.model)


def list_models() -> list[str]:
    return list(_all())


def suggest(name: str, choices) -> str:
    """' (did you mean 'x'?)' for the closest choice, or ''."""
    close = difflib.get_close_matches(str(name), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_model_message(name: str) -> str:
    return f"unknown model {name!r}{suggest(name, _all())}; available: {', '.join(_all())}"
