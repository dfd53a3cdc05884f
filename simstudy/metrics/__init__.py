"""Performance measures: the long metrics table (value + MCSE) computed from stored replicates.

This package never samples and never imports a Numba kernel: everything it needs about the
model (inverse Fisher information, tags) is recorded in the study's manifest at run time.
Its submodules are imported on demand, so that reading one (``derived``, to check an
expression) does not load pandas.
"""

__all__ = ["compute_metrics"]


def __getattr__(name):
    if name == "compute_metrics":
        from simstudy.metrics.summarise import compute_metrics

        return compute_metrics
    raise AttributeError(f"module 'simstudy.metrics' has no attribute {name!r}")
