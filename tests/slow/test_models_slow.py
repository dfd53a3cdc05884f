"""The Monte Carlo model checks of tests/test_models.py with 50x the draws (slow, ~1 min), and
the reported-SE check of the estimators the fast suite leaves out (gradient ascent).

The fast suite's 2·10^4 draws catch formula errors of roughly 5-10% in Var(score) = I(θ) (heavy
tailed score products); 10^6 draws bring that to about 1%. Same cases, same checks
(``simstudy.model_checks``), same MCSE-based tolerances: only the sizes differ.
"""

from __future__ import annotations

import pytest

from simstudy.models import get_model, list_models
from simstudy.testing import CheckSettings, parametrize_with_checks

pytestmark = pytest.mark.slow

MANY = CheckSettings(draws=1_000_000, recovery_n=1_000_000)


@parametrize_with_checks(list_models(), settings=MANY,
                         checks=["score_mean_zero", "score_variance", "hessian_information", "recovery"])  # fmt: skip
def test_moments_and_recovery_many_draws(check):
    check()


TUNABLE = [n for n in list_models() if any(e.options for e in get_model(n).estimators.values())]


@parametrize_with_checks(TUNABLE, checks=["reported_se"], settings=CheckSettings(tunable_se="only"))
def test_reported_se_of_tunable_estimators(check):
    """The fast suite's SE check for the estimators it leaves out (gradient ascent: hundreds of
    iterations per fit), same n, R and tolerance."""
    check()
