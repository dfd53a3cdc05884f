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
