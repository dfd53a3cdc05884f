"""``python -m simstudy``: the same as the ``simstudy`` console script."""

import sys

from simstudy.cli import main

sys.exit(main())
