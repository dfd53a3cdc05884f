"""The kernel cache's key: every file that defines a kernel is fingerprinted."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import numba

import simstudy
from simstudy._jit import fingerprinted_sources

ROOT = Path(simstudy.__file__).resolve().parent


def test_every_module_defining_a_kernel_is_fingerprinted():
    modules = [m.name for m in pkgutil.walk_packages(simstudy.__path__, "simstudy.")]
    fingerprinted = {p.resolve() for p in fingerprinted_sources()}
    defining = set()
    for name in modules:
        if name.endswith("__main__"):
            continue
        module = importlib.import_module(name)
        for value in vars(module).values():
            if isinstance(value, numba.core.dispatcher.Dispatcher) and value.py_func.__module__ == name:
                defining.add(Path(module.__file__).resolve())
    assert defining, "no kernel found: the scan is broken"
    assert defining <= fingerprinted, sorted(str(p) for p in defining - fingerprinted)
    # The analysis side is left out (editing it must not empty Numba's cache).
    assert ROOT / "cli.py" not in fingerprinted and ROOT / "report" / "figures.py" not in fingerprinted
    assert ROOT / "rng.py" in fingerprinted and ROOT / "models" / "gamma.py" in fingerprinted
