"""Pytest plugin of the mutation runs (``-p pin_numba_cache``): one Numba cache for all mutants.

simstudy keys its Numba cache folder on a hash of all of its source (simstudy/_jit.py:
cache_dir), so every mutant would start from an empty cache and recompile every kernel its
tests touch. A mutant of a module without kernels (verdicts, metrics, plan, store, tables)
cannot change a compiled kernel, so the run pins one folder, ``$SIMSTUDY_MUTATION_NUMBA_CACHE``.
A mutant of a model file still recompiles that file's kernels: Numba's own index is keyed on
the file's modification stamp. Loaded before any simstudy kernel is decorated.
"""

from __future__ import annotations

import os

import numba

import simstudy._jit  # noqa: F401  (sets numba.config.CACHE_DIR, which is replaced here)

if os.environ.get("SIMSTUDY_MUTATION_NUMBA_CACHE"):
    numba.config.CACHE_DIR = os.environ["SIMSTUDY_MUTATION_NUMBA_CACHE"]
