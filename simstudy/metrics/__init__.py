"""Performance measures: the long metrics table (value + MCSE) computed from stored replicates.

This package never samples and never imports a Numba kernel: everything it needs about the
model (inverse Fisher information, tags) is recorded in the study's manifest at run time.
"""

from simstudy.metrics.summarise import compute_metrics

__all__ = ["compute_metrics"]
