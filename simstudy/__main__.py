"""``python -m simstudy``: the same as the ``simstudy`` console script."""

from simstudy.cli import entry

entry()
