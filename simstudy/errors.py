"""Exception types, one per layer; the CLI prints any :class:`SimstudyError` without a traceback."""

from __future__ import annotations


class SimstudyError(Exception):
    """Base class: a user-facing error whose message says what is wrong and how to fix it."""


class StudyConfigError(SimstudyError, ValueError):
    """The study YAML (or the Python dict) is not a valid study."""


class PluginError(SimstudyError):
    """A plugin estimator could not be imported or does not have the kernel signature."""


class StoreError(SimstudyError):
    """The results folder cannot be used (locked, foreign, unreadable)."""


class EstimatorError(SimstudyError):
    """User code failed during a run: a plugin estimator raised, or returned a status that is
    not a fit status. Every block finished before it is stored; the message names the plugin,
    the cell and the replication (also kept as ``data_key`` and ``rep``)."""

    def __init__(self, message: str, *, data_key: str | None = None, rep: int | None = None):
        super().__init__(message)
        self.data_key, self.rep = data_key, rep

    def __reduce__(self):  # keep the location when a Dask worker sends it to the driver
        return _rebuild_estimator_error, (str(self), self.data_key, self.rep)


def _rebuild_estimator_error(message, data_key, rep):
    return EstimatorError(message, data_key=data_key, rep=rep)


class OutputError(SimstudyError):
    """A results folder or file cannot be written (permissions, a read-only or full disk)."""
