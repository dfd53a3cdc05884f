"""The generic model checks, over every registered model: a thin parametrization of the public
suite (``simstudy.testing.parametrize_with_checks``; the checks are in
``simstudy/model_checks.py``).

Cases come from the registry (``list_models()``) and from each model's declarations (``Param``
typical ranges and domains, its estimators, ``tags``), like scikit-learn's
``parametrize_with_checks``: a new model gets every check with no new test code. No test
branches on a model's name; a model that cannot meet a check says so with a tag and its reason
(``regular`` / ``regular_reason``, ``differentiable`` / ``differentiable_reason``,
``mle_always_exists`` / ``mle_always_exists_reason``), and the check is SKIPPED.

Theta grid (``theta_grid``): the midpoint and both ends of a one-parameter model's ``typical``
range; with more parameters each one in turn takes its ends, the others at their midpoints.
Checks that do not depend on θ run once per model, at the midpoint. Every stream address is
fixed (the settings' seed, a distinct replication index per check), so each test is
deterministic. tests/slow/test_models_slow.py repeats the Monte Carlo checks with 50x the draws.
"""

from __future__ import annotations

from simstudy.models import list_models
from simstudy.testing import parametrize_with_checks


@parametrize_with_checks(list_models())
def test_model(check):
    check()
