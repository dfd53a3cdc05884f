"""Fill Numba's cache with the engine kernels of every built-in model, split over processes.

``python tests/warm_cache.py PART PARTS`` compiles (or loads) what the engine needs for the
models ``i`` with ``i % PARTS == PART``: their sampler, log-likelihood, sufficient statistics,
every estimator and the parallel driver for their number of estimators. tests/conftest.py runs
one part per pytest-xdist worker before the workers start, so that the workers and the
subprocesses they spawn load these kernels from the cache instead of each compiling them again.
"""

from __future__ import annotations

import sys


def warm(part: int, parts: int) -> None:
    from simstudy import engine
    from simstudy.models import get_model, list_models

    for i, name in enumerate(list_models()):
        if i % parts == part:
            model = get_model(name)
            engine.prepare(model, [e.fit for e in model.estimators.values()])


if __name__ == "__main__":
    warm(int(sys.argv[1]), int(sys.argv[2]))
