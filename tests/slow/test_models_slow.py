"""The Monte Carlo model checks of tests/test_models.py with 50x the draws (slow, ~1 min).

The fast suite's 2·10^4 draws catch formula errors of roughly 5-10% in Var(score) = I(θ) (heavy
tailed score products); 10^6 draws bring that to about 1%. Same cases, same helpers, same
MCSE-based tolerances: only the sizes differ.
"""

from __future__ import annotations

import pytest
from test_models import (
    ESTIMATOR_CASES,
    SE_CASES_TUNABLE,
    THETA_CASES,
    check_expected_hessian,
    check_recovery,
    check_reported_se,
    check_score_moments,
)

pytestmark = pytest.mark.slow

N_MOMENTS_SLOW = 1_000_000
N_RECOVERY_SLOW = 1_000_000


@pytest.mark.parametrize(("name", "theta"), THETA_CASES)
def test_score_moments_many_draws(name, theta, kernel_sample):
    check_score_moments(name, theta, N_MOMENTS_SLOW, kernel_sample)


@pytest.mark.parametrize(("name", "theta"), THETA_CASES)
def test_expected_hessian_many_draws(name, theta, kernel_sample):
    check_expected_hessian(name, theta, N_MOMENTS_SLOW, kernel_sample)


@pytest.mark.parametrize(("name", "theta", "estimator"), ESTIMATOR_CASES)
def test_recovery_at_very_large_n(name, theta, estimator, kernel_sample):
    check_recovery(name, theta, estimator, N_RECOVERY_SLOW, kernel_sample)


@pytest.mark.parametrize(("name", "estimator"), SE_CASES_TUNABLE)
def test_reported_se_of_tunable_estimators(name, estimator):
    """The fast suite's SE check for the estimators it leaves out (gradient ascent: hundreds of
    iterations per fit), same n, R and tolerance."""
    check_reported_se(name, estimator, SE_CASES_TUNABLE)
