"""Models: one file per model, each exposing ``MODEL`` (see ``_base.py``)."""

from simstudy.models._base import (
    BINARY,
    BOUNDARY,
    COUNTS,
    NO_MLE,
    NON_NEGATIVE_REALS,
    NOT_CONVERGED,
    OK,
    POSITIVE,
    REAL,
    STATUS_CODES,
    UNIT_OPEN,
    Estimator,
    Interval,
    Model,
    ModelError,
    Param,
    POSITIVE,
    POSITIVE_REALS,
    REAL,
    REALS,
    UNIT_INTERVAL,
    UNIT_OPEN,
    Support,
)
from simstudy.models._registry import get_model, list_models

__all__ = [
    "BINARY", "BOUNDARY", "COUNTS", "NO_MLE", "NON_NEGATIVE_REALS", "NOT_CONVERGED", "OK",
    "POSITIVE_REALS", "REALS", "STATUS_CODES", "UNIT_INTERVAL", "Estimator", "Interval", "Model",
    "ModelError", "POSITIVE", "Param", "REAL", "Support", "UNIT_OPEN", "get_model", "list_models",
]
