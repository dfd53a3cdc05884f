"""Modules imported on first attribute access: ``stats = lazy_import("scipy.stats")``.

Importing ``scipy.stats`` or ``scipy.optimize`` costs about a second. Models use them only in
their independent references (``scipy_dist``, ``reference_mle``) and tests, so a model module
binds them lazily: listing models, validating a study or running one never pays for them.
"""

from __future__ import annotations

import importlib
from types import ModuleType


class _LazyModule(ModuleType):
    def __init__(self, name: str):
        super().__init__(name)
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str):
        module = object.__getattribute__(self, "_module")
        if module is None:
            module = importlib.import_module(self.__name__)
            self._module = module
        return getattr(module, attr)


def lazy_import(name: str) -> ModuleType:
    """A stand-in for module ``name`` that imports it when an attribute is first read."""
    return _LazyModule(name)
