"""The package version; part of every built-in estimator's result key."""

__version__ = "0.1.0"
