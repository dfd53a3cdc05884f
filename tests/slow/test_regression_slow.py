"""Logistic regression: MSE loss is consistent but not efficient; the BCE MLE is both."""

from __future__ import annotations

import pytest

import simstudy

pytestmark = pytest.mark.slow

DESIGN = {"intercept": True, "covariates": [{"dist": "normal", "mean": 0.0, "sd": 1.0},
                                            {"dist": "bernoulli", "p": 0.4}]}  # fmt: skip


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory):
    # Strong effects make the MSE loss's asymptotic efficiencies 0.82, 0.67, 0.80 under this
    # design (its sandwich variance A⁻¹BA⁻¹, A = E[d²xxᵀ], B = E[d³xxᵀ], d = μ(1-μ), against
    # I⁻¹ = E[d xxᵀ]⁻¹, by a 4·10⁵-draw average): far below the 0.9 edge of the margin.
    cfg = {
        "name": "mse-vs-bce", "seed": 31, "replications": 4000, "sample_sizes": [300, 1000, 3000],
        "models": [{"model": "logistic", "params": {"b0": -1.0, "b1": 3.0, "b2": 2.0},
                    "design": DESIGN, "estimators": ["mle", "mse_loss"]}],
    }  # fmt: skip
    result = simstudy.run(cfg, out=tmp_path_factory.mktemp("mse"), report=False)
    return result.verdicts.set_index(["estimator", "param", "property"])


def test_mse_loss_is_consistent_but_not_efficient(verdicts):
    assert verdicts.at[("mse_loss", "b1", "efficient"), "verdict"] == "FAIL"
    for param in ("b0", "b1", "b2"):
        assert verdicts.at[("mse_loss", param, "consistent"), "verdict"] == "PASS"
        assert verdicts.at[("mse_loss", param, "efficient"), "verdict"] in ("FAIL", "INCONCLUSIVE")
        assert verdicts.at[("mse_loss", param, "efficient"), "statistic"] < 0.9


def test_bce_mle_passes_efficiency_and_consistency(verdicts):
    for param in ("b0", "b1", "b2"):
        assert verdicts.at[("mle", param, "consistent"), "verdict"] == "PASS"
        assert verdicts.at[("mle", param, "efficient"), "verdict"] == "PASS"
