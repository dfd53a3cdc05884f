"""Cell keys: everything that determines a cell's samples is in its data key (and so in the
Philox key word key1), and everything that determines its fits is in the result keys.

A data key that hashed only part of θ, or dropped n, the seed, the model or the design, would
make two different cells share one random stream and one folder of stored replicates: a rerun
would then silently reuse the other cell's results. Each check here varies one input at a time
against a base study and asks for distinct keys; a Hypothesis property does the same over
random grids. No fit runs (plans only).
"""

from __future__ import annotations

import hashlib
import itertools
import json

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given, settings
from hypothesis import strategies as st

from simstudy.config import parse_config
from simstudy.plan import make_plan

COVARIATES = [{"dist": "normal", "mean": 0.0, "sd": 1.0}, {"dist": "bernoulli", "p": 0.4}]
BASE = {
    "name": "keys",
    "seed": 7,
    "replications": 10,
    "sample_sizes": [10],
    "models": [{"model": "gamma", "params": {"shape": 2.0, "rate": 1.5}, "estimators": ["mle"]}],
}


def study(**changes):
    """BASE with top-level keys or (``entry=``) the model entry replaced."""
    entry = {**BASE["models"][0], **changes.pop("entry", {})}
    return {**BASE, **changes, "models": [entry]}


def cells(config):
    return make_plan(parse_config(config)).cells


def only_cell(config):
    (cell,) = cells(config)
    return cell


def result_keys(cell):
    return [e.result_key for e in cell.estimators]


#: One input changed at a time; each must give a different cell (different samples).
VARIATIONS = {
    "first parameter": study(entry={"params": {"shape": 2.5, "rate": 1.5}}),
    "second parameter": study(entry={"params": {"shape": 2.0, "rate": 1.6}}),
    "parameter in the 17th digit": study(entry={"params": {"shape": 2.0, "rate": 1.5000000000000002}}),
    "sample size": study(sample_sizes=[11]),
    "seed": study(seed=8),
    # exponential and poisson both have one parameter named rate: only the model name differs
    "model": {**BASE, "models": [{"model": "exponential", "params": {"rate": 1.5}}]},
}
VARIATIONS["model (other)"] = {**BASE, "models": [{"model": "poisson", "params": {"rate": 1.5}}]}


def test_each_input_changes_the_data_key_key1_and_result_keys():
    base = only_cell(BASE)
    seen = {"base": base}
    for what, config in VARIATIONS.items():
        cell = only_cell(config)
        seen[what] = cell
    for (a, ca), (b, cb) in itertools.combinations(seen.items(), 2):
        assert ca.data_key != cb.data_key, (a, b)
        assert ca.key1 != cb.key1, (a, b)
        assert set(result_keys(ca)).isdisjoint(result_keys(cb)), (a, b)


def test_key1_is_the_first_64_bits_of_the_data_key():
    cell = only_cell(BASE)
    assert cell.key1 == int(cell.data_key[:16], 16) and cell.key0 == BASE["seed"]
    assert 0 <= cell.key1 < 2**64


def test_the_design_is_part_of_the_data_key():
    def logistic(covariates, intercept=True):
        return {**BASE, "models": [{
            "model": "logistic", "params": {"b0": 0.5, "b1": -0.5, "b2": 1.0},
            "design": {"intercept": intercept, "covariates": covariates},
        }]}  # fmt: skip

    wider = [{**COVARIATES[0], "sd": 2.0}, COVARIATES[1]]
    # describe() prints covariate parameters with 6 significant digits; the key must not.
    nearly = [{**COVARIATES[0], "sd": 1.0000001}, COVARIATES[1]]
    shifted = [COVARIATES[0], {"dist": "bernoulli", "p": 0.4000001}]
    variants = {
        "base": logistic(COVARIATES),
        "sd": logistic(wider),
        "sd beyond 6 digits": logistic(nearly),
        "p beyond 6 digits": logistic(shifted),
        "swapped": logistic([{"dist": "uniform", "low": -1.0, "high": 1.0}, COVARIATES[1]]),
    }
    found = {what: only_cell(config) for what, config in variants.items()}
    for (a, ca), (b, cb) in itertools.combinations(found.items(), 2):
        assert ca.data_key != cb.data_key, (a, b)
        assert set(result_keys(ca)).isdisjoint(result_keys(cb)), (a, b)


def test_estimator_options_change_the_result_key_not_the_data_key():
    """Two settings of one estimator fit the same samples (common random numbers) into
    different folders; two estimators of one cell never share a folder."""
    def ga(rate, name="ga"):
        return {**BASE, "models": [{
            "model": "logistic", "params": {"b0": 0.5, "b1": -0.5, "b2": 1.0},
            "design": {"covariates": COVARIATES},
            "estimators": ["mle", {"estimator": "gradient_ascent", "options": {"rate": rate},
                                   "name": name}],
        }]}  # fmt: skip

    slow, fast = only_cell(ga(0.5)), only_cell(ga(1.0))
    assert slow.data_key == fast.data_key
    assert result_keys(slow)[0] == result_keys(fast)[0]  # the mle is the same fit
    assert result_keys(slow)[1] != result_keys(fast)[1]  # same label, other settings
    assert len(set(result_keys(slow))) == 2


def test_estimators_of_a_cell_have_distinct_result_keys_and_share_the_data_key():
    cell = only_cell(study(entry={"estimators": ["mle", "mom"]}))
    assert len(set(result_keys(cell))) == 2


# --------------------------------------------------------------------------------------------
# Property: any grid gives pairwise distinct keys

#: (model, {parameter: (low, high)}) with two parameters where the model has them.
GRID_MODELS = {
    "gamma": {"shape": (0.1, 20.0), "rate": (0.1, 20.0)},
    "normal": {"mu": (-10.0, 10.0), "sigma2": (0.01, 10.0)},
    "exponential": {"rate": (0.01, 10.0)},
}


@st.composite
def grids(draw):
    entries = []
    names = st.lists(st.sampled_from(sorted(GRID_MODELS)), min_size=1, max_size=2, unique=True)
    for name in draw(names):
        params = {}
        for p, (lo, hi) in GRID_MODELS[name].items():
            values = st.floats(lo, hi, allow_nan=False, allow_infinity=False)
            params[p] = draw(st.lists(values, min_size=1, max_size=3, unique=True))
        entries.append({"model": name, "params": params})
    sizes = draw(st.lists(st.integers(1, 10**6), min_size=1, max_size=3, unique=True))
    seed = draw(st.integers(0, 2**32))
    return {"name": "prop", "seed": seed, "replications": 10, "sample_sizes": sizes,
            "models": entries}  # fmt: skip


@settings(max_examples=60, deadline=None, derandomize=True, database=None)  # fixed seed
@given(grids())
def test_random_grids_have_pairwise_distinct_keys(config):
    found = cells(config)
    expected = sum(
        len(config["sample_sizes"]) * _product(len(v) for v in e["params"].values())
        for e in config["models"]
    )
    assert len(found) == expected
    assert len({c.data_key for c in found}) == len(found)
    assert len({c.key1 for c in found}) == len(found)
    keys = [k for c in found for k in result_keys(c)]
    assert len(set(keys)) == len(keys)


@settings(max_examples=30, deadline=None, derandomize=True, database=None)
@given(grids(), st.integers(0, 2**32))
def test_another_seed_changes_every_key(config, other):
    if other == config["seed"]:
        other += 1
    first = cells(config)
    second = cells({**config, "seed": other})
    assert {c.data_key for c in first}.isdisjoint(c.data_key for c in second)


def _product(values):
    out = 1
    for v in values:
        out *= v
    return out


# --------------------------------------------------------------------------------------------
# The key formats and the plan's totals


def _sha256_json(payload):
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def test_keys_are_sha256_of_their_inputs():
    """DESIGN.md "Store": data key = SHA-256 of the JSON of (seed, model, θ, n, RNG scheme
    [, design]); result key = its first 24 hex digits of SHA-256(data key, estimator, version)."""
    from simstudy.plan import RNG_SCHEME

    cell = only_cell(BASE)
    assert cell.data_key == _sha256_json({"seed": 7, "model": "gamma", "n": 10,
                                          "theta": '{"shape":2.0,"rate":1.5}', "rng": RNG_SCHEME})
    (est,) = cell.estimators
    expected = _sha256_json({"data": cell.data_key, "estimator": "mle", "version": est.version})
    assert est.result_key == expected[:24] and len(est.result_key) == 24


def test_design_key_adds_exact_parameters_only_when_the_description_rounds():
    from simstudy.models._design import Covariate, Design
    from simstudy.plan import design_key

    assert design_key(None) == ""
    printed = Design(True, (Covariate("normal", 0.0, 1.0), Covariate("bernoulli", 0.4, 0.0)))
    assert design_key(printed) == printed.describe()  # keys of such designs are unchanged
    rounded = Design(True, (Covariate("normal", 0.0, 1.0000001),))
    assert design_key(rounded) == rounded.describe() + " exact [0.0, 1.0000001]"
    rounded_up = Design(True, (Covariate("normal", 0.0, 0.99999999),))  # printed as 1
    assert design_key(rounded_up) == rounded_up.describe() + " exact [0.0, 0.99999999]"


def test_plan_totals_and_frozen_plan():
    import dataclasses

    plan = make_plan(parse_config({**BASE, "sample_sizes": [10, 25],
                                   "models": [{**BASE["models"][0], "estimators": ["mle", "mom"]}]}))
    assert plan.replications == 10
    assert plan.total_samples == (10 + 25) * 10
    assert plan.total_fits == 2 * 2 * 10
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.replications = 20
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.cells[0].n = 11
    with pytest.raises(dataclasses.FrozenInstanceError):
        plan.cells[0].estimators[0].result_key = "x"
    assert make_plan(parse_config(BASE), replications=50).replications == 50
    with pytest.raises(TypeError):
        make_plan(parse_config(BASE), None)  # base_dir and the rest are keyword-only


def test_estimator_errors_name_the_study_file_and_entry():
    from simstudy.errors import PluginError

    config = parse_config(study(entry={"estimators": ["mle", {"plugin": "no_such_module:fit"}]}))
    with pytest.raises(PluginError) as info:
        make_plan(config, source="study.yaml")
    assert str(info.value).startswith("study.yaml: models[0].estimators[1]: ")
    with pytest.raises(PluginError) as info:
        make_plan(config)
    assert str(info.value).startswith("models[0].estimators[1]: ")
