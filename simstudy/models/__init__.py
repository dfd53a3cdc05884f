"""Models: one file per model, each exposing ``MODEL`` (see ``_base.py``)."""

from simstudy.models._base import (
    BOUNDARY,
    NO_MLE,
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
)
from simstudy.models._registry import get_model, list_models

__all__ = [
    "BOUNDARY", "NO_MLE", "NOT_CONVERGED", "OK", "STATUS_CODES", "Estimator", "Interval",
    "Model", "ModelError", "POSITIVE", "Param", "REAL", "UNIT_OPEN", "get_model", "list_models",
]
