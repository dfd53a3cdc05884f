"""Expectations by θ and by parameter: ``expect:`` as a mapping or a list of rules with
``when:``, in a study and in ``assert_mle_properties``, and their located errors."""

from __future__ import annotations

import pytest

import simstudy
from simstudy.config import parse_config
from simstudy.errors import StudyConfigError

PROPS = ("consistent", "asymptotically_unbiased", "efficient", "asymptotically_normal",
         "wald_coverage")  # fmt: skip


def study(expect, params=None, estimators=("mle", "mom")) -> dict:
    return {
        "name": "by-theta", "seed": 3, "replications": 60, "sample_sizes": [20, 40, 80],
        "models": [{"model": "gamma", "params": params or {"shape": [0.5, 2.0], "rate": 1.5},
                    "estimators": list(estimators), "expect": expect}],
        "report": {"figures": ["bias"], "cells": []},
    }  # fmt: skip


RULES = {"mom": [
    {"efficient": "fail"},                                   # every θ, every parameter
    {"when": {"shape": 0.5}, "consistent": "fail"},          # shape = 0.5 only
    {"when": {"shape": [2.0]}, "rate": {"efficient": "pass"}},  # a list of values; one parameter
]}  # fmt: skip


def hand_expected(shape: float, estimator: str, param: str, prop: str) -> str:
    """RULES read by hand: later matching rules override, a parameter's entry beats a property."""
    if estimator != "mom":
        return "pass"
    if prop == "efficient":
        return "pass" if (shape == 2.0 and param == "rate") else "fail"
    if prop == "consistent" and shape == 0.5:
        return "fail"
    return "pass"


def test_expected_verdict_reads_rules_in_order():
    entry = parse_config(study(RULES)).models[0]
    for shape in (0.5, 2.0):
        for param in ("shape", "rate"):
            for prop in PROPS:
                for est in ("mle", "mom"):
                    got = entry.expected_verdict(est, {"shape": shape, "rate": 1.5}, param, prop)
                    assert got == hand_expected(shape, est, param, prop), (shape, param, prop, est)


def test_a_study_judges_each_theta_against_its_own_expectations(tmp_path):
    verdicts = simstudy.verify(study(RULES), out=tmp_path, report=False).verdicts
    assert len(verdicts) == 2 * 2 * 2 * 5  # θ x estimators x parameters x properties
    for v in verdicts.itertuples():
        shape = 0.5 if '"shape":0.5' in v.theta else 2.0
        assert v.expected == hand_expected(shape, v.estimator, v.param, v.property), v


def test_the_mapping_form_still_means_every_theta(tmp_path):
    verdicts = simstudy.verify(study({"mom": {"efficient": "fail", "shape": {"consistent": "fail"}}}),
                               out=tmp_path, report=False).verdicts  # fmt: skip
    mom = verdicts[verdicts.estimator == "mom"].set_index(["theta", "param", "property"]).expected
    assert set(mom.xs("efficient", level="property")) == {"fail"}
    assert set(mom.xs(("shape", "consistent"), level=("param", "property"))) == {"fail"}
    assert set(mom.xs(("rate", "consistent"), level=("param", "property"))) == {"pass"}


@pytest.mark.parametrize("expect, where, fragment", [
    ({"mom": [{"when": {"shap": 0.5}, "consistent": "fail"}]},
     "models[0].expect.mom[0].when.shap", "did you mean 'shape'?"),
    ({"mom": [{"when": {"shape": 1.5}, "consistent": "fail"}]},
     "models[0].expect.mom[0].when.shape", "1.5 matches no cell: shape takes the values [0.5, 2.0]"),
    ({"mom": [{"efficient": "fial"}]}, "models[0].expect.mom[0].efficient",
     "expected verdict 'fial'; give one of pass, fail, inconclusive"),
    ({"mom": ["efficient"]}, "models[0].expect.mom[0]", "give a mapping of key: value lines"),
    ({"mom": [{"when": 0.5}]}, "models[0].expect.mom[0].when", "when: is a mapping of parameters"),
    ({"mom": [{"shape": {"efficent": "fail"}}]}, "models[0].expect.mom[0].shape.efficent",
     "did you mean 'efficient'?"),
])  # fmt: skip
def test_bad_rules_are_located(expect, where, fragment):
    with pytest.raises(StudyConfigError) as err:
        parse_config(study(expect), source="s.yaml")
    assert f"s.yaml: {where}: " in str(err.value) and fragment in str(err.value), str(err.value)


def test_assert_mle_properties_builds_the_rules(tmp_path, monkeypatch):
    import simstudy.study
    import simstudy.testing

    seen = {}
    real = simstudy.study.run

    def spy(config, **options):
        seen["expect"] = config["models"][0]["expect"]
        return real(config, **options)

    monkeypatch.setattr(simstudy.study, "run", spy)
    with pytest.raises(AssertionError):
        simstudy.testing.assert_mle_properties(
            "normal", {"mu": 0.0, "sigma2": [1.0, 4.0]}, [30, 60, 120], replications=40,
            efficient="fail", expect=[{"when": {"sigma2": 4.0}, "mu": {"efficient": "pass"}}],
        )  # fmt: skip
    assert seen["expect"] == {"mle": [
        {"efficient": "fail"}, {"when": {"sigma2": 4.0}, "mu": {"efficient": "pass"}}]}
