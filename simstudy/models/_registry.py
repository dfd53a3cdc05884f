"""The model registry: every built-in model module exposes ``MODEL``; looked up by name."""

from __future__ import annotations

import difflib
import importlib

from simstudy.models._base import Model, ModelError

#: Built-in model modules, in the order ``simstudy models`` lists them.
BUILTIN = ("bernoulli", "normal", "exponential", "poisson", "gamma")

_CACHE: dict[str, Model] = {}


def get_model(name: str) -> Model:
    """The registered :class:`Model` called ``name`` (ModelError with a suggestion if none)."""
    if name not in _CACHE:
        if name not in BUILTIN:
            raise ModelError(unknown_model_message(name))
        module = importlib.import_module(f"simstudy.models.{name}")
        _CACHE[name] = module.MODEL
    return _CACHE[name]


def list_models() -> list[str]:
    return list(BUILTIN)


def suggest(name: str, choices) -> str:
    """' (did you mean 'x'?)' for the closest choice, or ''."""
    close = difflib.get_close_matches(str(name), list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def unknown_model_message(name: str) -> str:
    return f"unknown model {name!r}{suggest(name, BUILTIN)}; available: {', '.join(BUILTIN)}"
