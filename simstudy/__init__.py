"""simstudy: Monte Carlo verification of maximum-likelihood estimator properties.

Public API: :func:`run`, :func:`load`, :func:`verify`, :func:`analyse`, :func:`fit`,
:func:`get_model`, :func:`list_models`, :class:`FitResult`; :mod:`simstudy.testing` for pytest
(``assert_mle_properties``, ``check_model``).
"""

from simstudy._version import __version__
from simstudy.errors import PluginError, SimstudyError, StoreError, StudyConfigError
from simstudy.models._base import ModelError
from simstudy.models._registry import get_model, list_models


def run(config, **options):
    """Run (or complete) a study; see :func:`simstudy.study.run`."""
    from simstudy.study import run as _run

    return _run(config, **options)


def load(results_dir):
    """Open a results folder; see :class:`simstudy.study.StudyResult`."""
    from simstudy.study import load as _load

    return _load(results_dir)


def verify(config_or_dir, **options):
    """Run or read a study and judge every property; see :func:`simstudy.study.verify`."""
    from simstudy.study import verify as _verify

    return _verify(config_or_dir, **options)


def analyse(table, **options):
    """Judge estimates computed elsewhere (a CSV/Parquet table or a DataFrame of replicates);
    see :func:`simstudy.external.analyse`."""
    from simstudy.external import analyse as _analyse

    return _analyse(table, **options)


def fit(model, data, estimator="mle"):
    """Fit one sample; see :func:`simstudy.estimators.fit`."""
    from simstudy.estimators import fit as _fit

    return _fit(model, data, estimator)


def __getattr__(name):
    # FitResult lives with the estimators; imported on first use, so that ``import simstudy``
    # stays light.
    if name == "FitResult":
        from simstudy.estimators import FitResult

        return FitResult
    raise AttributeError(f"module 'simstudy' has no attribute {name!r}")


__all__ = [
    "FitResult", "ModelError", "PluginError", "SimstudyError", "StoreError", "StudyConfigError",
    "__version__", "analyse", "fit", "get_model", "list_models", "load", "run", "verify",
]
