"""The model registry: every built-in model module exposes ``MODEL``; looked up by name.

:func:`get_model` is the one resolver of a model reference given to the public API
(``simstudy.get_model``, ``simstudy.fit``, ``simstudy.testing.check_model``,
``simstudy check-model``): a built-in name, a plugin ``"package.module:Class"`` or a
:class:`Model`. A study file's ``model:`` is a built-in name only (:func:`builtin_model`); its
plugin models are ``plugin:`` entries, imported from the study file's folder.
"""

from __future__ import annotations

import difflib
import importlib
from pathlib import Path

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


def get_model(model: str | Model, design=None) -> Model:
    """The :class:`Model` that ``model`` refers to: a built-in name (see :func:`list_models`), a
    plugin reference ``"package.module:Class"`` (imported from PYTHONPATH or the current
    working directory, as ``simstudy check-model`` does) or a :class:`Model`, returned as is.

    Regression models are specialized for ``design`` (a config's ``design:`` block; their
    default design when None); other models reject a design.
    """
    if isinstance(model, Model):
        return model if design is None else _specialize(model, design)
    if not isinstance(model, str):
        raise ModelError(
            f"a model is a built-in name ({', '.join(_all())}), a plugin reference "
            f"'package.module:Class' or a simstudy Model; got {type(model).__name__} {model!r}"
        )
    if ":" in model:
        plugin = load_plugin_model(model, base_dir=Path.cwd())
        return plugin if design is None else _specialize(plugin, design)
    return builtin_model(model, design)


def builtin_model(name: str, design=None) -> Model:
    """The built-in :class:`Model` called ``name`` (ModelError with a suggestion if none),
    specialized for ``design`` if given (see :func:`get_model`)."""
    if name not in _CACHE:
        if name not in _all():
            raise ModelError(unknown_model_message(name))
        module = importlib.import_module(f"simstudy.models.{name}")
        _CACHE[name] = module.MODEL
    model = _CACHE[name]
    return model if design is None else _specialize(model, design)


def _specialize(model: Model, design) -> Model:
    if model.specialize is None:
        raise ModelError(f"model {model.name!r} takes no design (it is not a regression model)")
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
    return builtin_model(entry.model, entry.design) if entry.design else builtin_model(entry.model)


def list_models() -> list[str]:
    return list(_all())


def suggest(name: str, choices) -> str:
    """' (did you mean 'x'?)' for the closest choice, or ''."""
    close = difflib.get_close_matches(str(name), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_model_message(name: str) -> str:
    return f"unknown model {name!r}{suggest(name, _all())}; available: {', '.join(_all())}"
