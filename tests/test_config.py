"""Study config validation: every bad config is one StudyConfigError naming file:line, key path,
the value received and what is allowed or how to fix it.

Each case edits one thing in ``BASE``, whose line numbers the expected locations refer to.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pydantic
import pytest

import simstudy
from simstudy.config import ModelEntry, StudyConfig, load_config, parse_config

CONFIGS = Path(__file__).resolve().parents[1] / "configs"

BASE = """\
name: quick
seed: 7
replications: 20
sample_sizes: [5, 10]
models:
  - model: bernoulli
    params: {p: 0.3}
    estimators: [mle]
  - model: gamma
    params:
      shape: [0.5, 2.0]
      rate: 1.5
    estimators: [mle, mom]
    expect: {mom: {efficient: fail}}
"""
HEAD = "name: quick\nseed: 7\nreplications: 20\nsample_sizes: [5, 10]\n"


def edit(old: str, new: str) -> str:
    """BASE with exactly one occurrence of ``old`` replaced (guards the table against typos)."""
    assert BASE.count(old) == 1, f"{old!r} occurs {BASE.count(old)} times in BASE"
    return BASE.replace(old, new)


def case(id, text, path, line, *fragments):
    return pytest.param(text, path, line, fragments, id=id)


# (yaml text, key path or None, line or None, fragments that must appear in the message)
BAD = [
    # names: model, estimator, keys -- each with a "did you mean"
    case("unknown-model", edit("model: gamma", "model: gama"), "models[1].model", 9,
         "'gama'", "did you mean 'gamma'?", "available: bernoulli, normal"),
    case("unknown-estimator", edit("[mle, mom]", "[mle, mom, mon]"), "models[1].estimators[2]",
         13, "'mon'", "did you mean 'mom'?", "available: mle, mom"),
    case("estimator-absent-for-model", edit("estimators: [mle]", "estimators: [mom]"),
         "models[0].estimators[0]", 8, "'mom'", "use mle"),
    case("estimator-not-a-name", edit("[mle, mom]", "[mle, mom, 3]"), "models[1].estimators[2]",
         13, "got 3", "an estimator is a name", "plugin"),
    case("plugin-reference-malformed", edit("[mle, mom]", "[mle, mom, {plugin: nocolon}]"),
         "models[1].estimators[2].plugin", 13, "'nocolon'", "'package.module:function'"),
    case("plugin-unknown-key", edit("[mle, mom]", "[mle, mom, {plugin: 'a.b:c', nam: x}]"),
         "models[1].estimators[2].nam", 13, "did you mean 'name'?"),
    case("estimator-twice", edit("[mle, mom]", "[mle, mom, mom]"), "models[1].estimators", 13,
         "'mom' appears twice"),
    case("estimators-empty", edit("[mle, mom]", "[]"), "models[1].estimators", 13,
         "got []", "at least one estimator"),
    case("unknown-top-level-key", edit("replications: 20", "replication: 20"), "replication", 3,
         "unknown key 'replication'", "did you mean 'replications'?", "allowed here:"),
    case("unknown-nested-key", edit("    estimators: [mle]\n", "    estimator: [mle]\n"),
         "models[0].estimator", 8, "did you mean 'estimators'?", "allowed here:", " estimators,"),
    case("unknown-checks-key", BASE + "checks: {alfa: 0.01}\n", "checks.alfa", 15,
         "did you mean 'alpha'?"),
    case("unknown-model-entry-key", edit("  - model: gamma\n", "  - modle: gamma\n"),
         "models[1].modle", 9, "did you mean 'model'?"),
    # parameters: domains, sweeps, names, types
    case("p-outside-domain", edit("p: 0.3", "p: 1.5"), "models[0].params.p", 7,
         "1.5", "(0, 1)"),
    case("p-nan", edit("p: 0.3", "p: .nan"), "models[0].params.p", 7, "nan", "(0, 1)"),
    case("rate-negative", edit("rate: 1.5", "rate: -1.5"), "models[1].params.rate", 12,
         "-1.5", "(0, inf)"),
    case("rate-infinite", edit("rate: 1.5", "rate: .inf"), "models[1].params.rate", 12,
         "inf", "(0, inf)"),
    case("sweep-element-outside", edit("[0.5, 2.0]", "[0.5, -2.0]"),
         "models[1].params.shape[1]", 11, "-2.0", "(0, inf)"),
    case("sweep-element-own-line",
         edit("      shape: [0.5, 2.0]\n", "      shape:\n        - 0.5\n        - -2.0\n"),
         "models[1].params.shape[1]", 13, "-2.0", "(0, inf)"),
    case("sweep-element-not-number", edit("[0.5, 2.0]", "[0.5, abc]"),
         "models[1].params.shape[1]", 11, "'abc'", "number"),
    case("sweep-empty", edit("[0.5, 2.0]", "[]"), "models[1].params.shape", 11,
         "empty", "at least one value"),
    case("param-missing", edit("      rate: 1.5\n", ""), "models[1].params", 10,
         "'rate'", "missing", "add 'rate: <value in (0, inf)>'"),
    case("param-unknown", edit("{p: 0.3}", "{p: 0.3, q: 1}"), "models[0].params.q", 7,
         "'q'", "its parameters are p"),
    case("param-misspelt", edit("rate: 1.5", "rte: 1.5"), "models[1].params.rte", 12,
         "did you mean 'rate'?", "its parameters are shape, rate"),
    case("param-yaml-bool", edit("p: 0.3", "p: yes"), "models[0].params.p", 7,
         "got True", "a number or a list of numbers"),
    case("param-quoted-number", edit("p: 0.3", "p: '0.3'"), "models[0].params.p", 7,
         "got '0.3'", "a number or a list of numbers"),
    case("params-not-mapping", edit("{p: 0.3}", "[0.3]"), "models[0].params", 7,
         "got [0.3]", "mapping"),
    case("params-missing", edit("    params: {p: 0.3}\n", ""), "models[0].params", 6,
         "'params'", "missing"),
    # sample sizes and replications
    case("n-zero", edit("[5, 10]", "[0, 10]"), "sample_sizes[0]", 4,
         "got 0", "greater than or equal to 1"),
    case("n-not-integer", edit("[5, 10]", "[5, 10.5]"), "sample_sizes[1]", 4,
         "got 10.5", "whole number"),
    case("n-duplicate", edit("[5, 10]", "[5, 10, 5]"), "sample_sizes", 4,
         "distinct", "[5] repeated"),
    case("sample-sizes-empty", edit("[5, 10]", "[]"), "sample_sizes", 4,
         "is empty", "[10, 100, 1000]"),
    case("sample-sizes-scalar", edit("[5, 10]", "10"), "sample_sizes", 4,
         "must be a list", "got 10"),
    case("replications-one", edit("replications: 20", "replications: 1"), "replications", 3,
         "got 1", "greater than or equal to 2"),
    case("replications-float", edit("replications: 20", "replications: 20.5"), "replications",
         3, "got 20.5", "whole number"),
    case("replications-text", edit("replications: 20", "replications: many"), "replications",
         3, "got 'many'", "whole number"),
    case("replications-bool", edit("replications: 20", "replications: true"), "replications",
         3, "got True", "whole number"),
    case("replications-list", edit("replications: 20", "replications: [20]"), "replications",
         3, "got [20]", "whole number >= 2 or a mapping"),
    case("replications-mapping-unknown-key",
         edit("replications: 20", "replications: {start: 100, until: {bias: 0.01}}"),
         "replications.until", 3, "did you mean 'until_mcse'?"),
    # seed
    case("seed-missing", edit("seed: 7\n", ""), "seed", 1, "'seed'", "missing", "add it"),
    case("seed-negative", edit("seed: 7", "seed: -1"), "seed", 2,
         "got -1", "greater than or equal to 0"),
    case("seed-2-to-64", edit("seed: 7", f"seed: {2**64}"), "seed", 2,
         f"got {2**64}", f"less than {2**64}"),
    case("seed-float", edit("seed: 7", "seed: 7.5"), "seed", 2, "got 7.5", "whole number"),
    # study name: it becomes a folder name
    case("name-uppercase", edit("name: quick", "name: Quick"), "name", 1,
         "'Quick'", "lowercase letters, digits, '_' and '-'"),
    case("name-space", edit("name: quick", "name: my study"), "name", 1,
         "'my study'", "e.g. 'my-study'"),
    case("name-slash", edit("name: quick", "name: a/b"), "name", 1, "'a/b'", "folder name"),
    case("name-too-long", edit("name: quick", "name: " + "a" * 65), "name", 1,
         "at most 64 characters"),
    # models list
    case("models-empty", HEAD + "models: []\n", "models", 5, "is empty", "model: normal"),
    case("models-not-list", HEAD + "models:\n  model: bernoulli\n  params: {p: 0.3}\n",
         "models", 5, "must be a list", "got {'model': 'bernoulli'"),
    case("models-item-not-mapping", HEAD + "models:\n  - {model: exponential, params: "
         "{rate: 1.0}}\n  - gamma\n", "models[1]", 7, "got 'gamma'", "keys model, plugin, params"),
    case("model-key-missing", edit("  - model: gamma\n    params:\n", "  - params:\n"),
         "models[1]", 9, "give either `model: NAME`", "not both or neither"),
    # expect and checks
    case("expect-unknown-estimator", edit("{mom: {efficient", "{mon: {efficient"),
         "models[1].expect.mon", 14, "'mon'", "did you mean 'mom'?", "its estimators are mle, mom"),
    case("expect-unknown-property", edit("{efficient: fail}", "{eficient: fail}"),
         "models[1].expect.mom.eficient", 14, "did you mean 'efficient'?", "wald_coverage"),
    case("expect-bad-verdict", edit("{efficient: fail}", "{efficient: failed}"),
         "models[1].expect.mom.efficient", 14, "got 'failed'", "'pass', 'fail' or 'inconclusive'"),
    case("checks-alpha-out-of-range", BASE + "checks: {alpha: 0.7}\n", "checks.alpha", 15,
         "got 0.7", "less than 0.5"),
    case("checks-quoted-number", BASE + "checks: {coverage_level: '0.9'}\n",
         "checks.coverage_level", 15, "got '0.9'", "give a number"),
    # file-level problems
    case("yaml-unclosed-brace", edit("{p: 0.3}", "{p: 0.3"), None, 8,
         "malformed YAML", "flow mapping on line 7", "fix the syntax"),
    case("yaml-bad-indent", edit("  - model: gamma", " - model: gamma"), None, 9,
         "malformed YAML", "fix the syntax"),
    case("yaml-duplicate-key", edit("seed: 7\n", "seed: 7\nseed: 8\n"), "seed", 3,
         "appears twice", "lines 2 and 3", "keep one"),
    case("yaml-duplicate-nested-key", edit("{p: 0.3}", "{p: 0.3, p: 0.4}"),
         "models[0].params.p", 7, "appears twice"),
    case("top-level-list", "- name: quick\n- seed: 7\n", "(top level)", 1,
         "must be a mapping", "got a list"),
    case("top-level-scalar", "quick\n", "(top level)", 1, "must be a mapping", "got a str"),
    case("empty-file", "", "(top level)", None, "must be a mapping", "the file is empty"),
]  # fmt: skip


@pytest.mark.parametrize("text, path, line, fragments", BAD)
def test_bad_config_is_one_located_error(tmp_path, text, path, line, fragments):
    config = tmp_path / "quick.yaml"
    config.write_text(text, encoding="utf-8")
    with pytest.raises(simstudy.StudyConfigError) as info:
        load_config(config)
    message = str(info.value)
    assert len(message.splitlines()) == 1, f"expected one problem, got:\n{message}"
    where = f"{config}:{line}: " if line else f"{config}: "
    assert message.startswith(where), message
    if path is not None:
        assert message.startswith(f"{where}{path}: "), message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"


def test_every_problem_is_reported_on_its_own_line(tmp_path):
    config = tmp_path / "quick.yaml"
    config.write_text(edit("p: 0.3", "p: 1.5").replace("[mle, mom]", "[mle, mom, mon]"))
    message = str(pytest.raises(simstudy.StudyConfigError, load_config, config).value)
    lines = message.splitlines()
    assert [ln.split(": ")[1] for ln in lines] == ["models[0].params.p", "models[1].estimators[2]"]
    assert lines[0].startswith(f"{config}:7: ") and lines[1].startswith(f"{config}:13: ")


def test_missing_file_is_named(tmp_path):
    missing = tmp_path / "nope.yaml"
    with pytest.raises(simstudy.StudyConfigError, match="no such file") as info:
        load_config(missing)
    assert str(missing) in str(info.value)


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(simstudy.StudyConfigError, match="is a folder"):
        load_config(tmp_path)


def test_non_utf8_file(tmp_path):
    config = tmp_path / "quick.yaml"
    config.write_bytes(b"name: qu\xffick\n")
    with pytest.raises(simstudy.StudyConfigError, match="not UTF-8") as info:
        load_config(config)
    assert str(info.value).startswith(f"{config}: ")


def test_dict_config_errors_name_the_key_path():
    data = {"name": "quick", "seed": 7, "replications": 20, "sample_sizes": [5, 10],
            "models": [{"model": "bernoulli", "params": {"p": 1.5}}]}  # fmt: skip
    with pytest.raises(simstudy.StudyConfigError) as info:
        parse_config(data)
    assert str(info.value).startswith("<config>: models[0].params.p: 1.5 is outside")


def test_model_checks_can_be_skipped():
    """Reading a stored study must not need the model registry (check_models=False)."""
    data = {"name": "quick", "seed": 7, "replications": 20, "sample_sizes": [5],
            "models": [{"model": "not-a-model", "params": {"z": 1.0}}]}  # fmt: skip
    assert parse_config(data, check_models=False).models[0].model == "not-a-model"
    with pytest.raises(simstudy.StudyConfigError, match="unknown model"):
        parse_config(data)


# --------------------------------------------------------------------------------------------
# Good configs


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_configs_validate(path):
    cfg = load_config(path)
    assert isinstance(cfg, StudyConfig)
    assert parse_config(cfg.normalized()) == cfg  # what study.yaml stores reads back the same


def test_quickstart_values():
    cfg = load_config(CONFIGS / "quickstart.yaml")
    assert cfg.name == "quickstart"
    assert cfg.seed == 20261121 and cfg.replications == 10_000
    assert cfg.sample_sizes == (10, 30, 100, 300, 1000, 3000, 10000)
    # R is large enough for every default margin to decide a perfect estimator's verdicts.
    from simstudy.metrics.precision import study_warnings

    assert study_warnings(cfg) == []
    assert [m.model for m in cfg.models] == ["exponential", "gamma"]
    assert cfg.models[1].estimator_labels() == ["mle", "mom"]
    assert cfg.models[1].expect == {"mom": {"efficient": "fail"}}
    assert cfg.checks.alpha == 0.01  # default


def test_config_is_frozen():
    cfg = load_config(CONFIGS / "quickstart.yaml")
    with pytest.raises(pydantic.ValidationError, match="frozen"):
        cfg.seed = 1


def test_sample_sizes_are_sorted_and_ints_accepted_as_params(tmp_path):
    config = tmp_path / "quick.yaml"
    config.write_text(edit("[5, 10]", "[10, 5]").replace("rate: 1.5", "rate: 2"))
    cfg = load_config(config)
    assert cfg.sample_sizes == (5, 10)
    assert cfg.models[1].params["rate"] == 2.0


def test_grid_is_the_cartesian_product_of_the_sweeps():
    entry = ModelEntry(model="gamma", params={"shape": [0.5, 2.0, 4.0], "rate": [1, 3]})
    grid = entry.grid(("shape", "rate"))
    expected = [
        {"shape": s, "rate": float(r)} for s, r in itertools.product([0.5, 2.0, 4.0], [1, 3])
    ]
    assert grid == expected
    assert all(type(v) is float for point in grid for v in point.values())
    # the order argument (the model's declared order) decides which parameter varies fastest
    assert entry.grid(("rate", "shape"))[:2] == [
        {"rate": 1.0, "shape": 0.5},
        {"rate": 1.0, "shape": 2.0},
    ]


def test_scalar_parameters_give_one_design_point():
    entry = ModelEntry(model="normal", params={"mu": 0.0, "sigma2": 4.0})
    assert entry.grid(("mu", "sigma2")) == [{"mu": 0.0, "sigma2": 4.0}]


def test_plan_has_one_cell_per_grid_point_and_sample_size(tmp_path):
    from simstudy.plan import make_plan

    config = tmp_path / "quick.yaml"
    config.write_text(edit("rate: 1.5", "rate: [1.0, 1.5, 3.0]"))
    cfg = load_config(config)
    plan = make_plan(cfg)
    # bernoulli: 1 point; gamma: 2 shapes x 3 rates; each at 2 sample sizes
    assert len(plan.cells) == (1 + 6) * 2
    gamma = [(c.theta["shape"], c.theta["rate"], c.n) for c in plan.cells if c.entry == 1]
    assert gamma == list(itertools.product([0.5, 2.0], [1.0, 1.5, 3.0], [5, 10]))
    # Each cell draws its own samples and stores its own fits: keys differ pairwise.
    assert len({c.data_key for c in plan.cells}) == len(plan.cells)
    assert len({c.key1 for c in plan.cells}) == len(plan.cells)
    result_keys = [e.result_key for c in plan.cells for e in c.estimators]
    assert len(result_keys) == 2 * 1 + 12 * 2 and len(set(result_keys)) == len(result_keys)
