"""Study configuration: YAML -> a frozen, validated :class:`StudyConfig`.

Validation happens once, here, at the boundary (kernels never re-check). The schema is strict
(``extra="forbid"``: a misplaced key is an error, never silently dropped) and every error
message names the file and line, the key path, the value received, what is allowed and a fix.
Model-level checks (model and estimator names, parameter domains) use the model registry's
declarations; :func:`parse_config` with ``check_models=False`` skips them so that reports can
read a stored study without importing any kernel.
"""

from __future__ import annotations

import itertools
import math
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StrictFloat,
    StrictInt,
    Tag,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from simstudy.errors import StudyConfigError

#: Properties a verdict is given for (README "What it verifies"); ``expect`` keys are among them.
PROPERTIES = (
    "consistent",
    "asymptotically_unbiased",
    "efficient",
    "asymptotically_normal",
    "wald_coverage",
)
Verdict = Literal["pass", "fail", "inconclusive"]
VERDICTS = ("pass", "fail", "inconclusive")
#: Metrics a Monte Carlo SE can be targeted for (``checks.target_mcse``, ``until_mcse``).
TARGETABLE = ("bias", "empse", "mse", "coverage", "efficiency")
Targetable = Literal["bias", "empse", "mse", "coverage", "efficiency"]
STUDY_NAME_PATTERN = r"^[a-z0-9_-]+$"
PLUGIN_PATTERN = r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$"
MAX_SEED = 2**64


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PluginEstimator(_Strict):
    """A user estimator: ``plugin: "package.module:function"`` (a Numba-jitted fit kernel)."""

    plugin: str = Field(pattern=PLUGIN_PATTERN)
    name: str | None = Field(default=None, pattern=r"^[A-Za-z_][\w-]*$")

    @property
    def label(self) -> str:
        return self.name or self.plugin.rsplit(":", 1)[1]


class PythonEstimator(_Strict):
    """A plain Python estimator: ``{python: "module:function", name: LABEL, options: {...},
    timeout: SECONDS}``. Each replication calls ``function(data, **options)`` in a worker
    process, ``data`` being the sample ``StudyResult.sample`` returns; it returns
    ``{param: estimate}``, ``{estimate: ..., se: ..., status: ...}`` or a
    :class:`simstudy.FitResult` (see :mod:`simstudy.pyfit`)."""

    python: str = Field(pattern=PLUGIN_PATTERN)
    name: str | None = Field(default=None, pattern=r"^[A-Za-z_][\w-]*$")
    #: keyword arguments of every call (plain YAML values)
    options: dict[str, Any] = Field(default_factory=dict)
    #: seconds one fit may take; a slower one is stopped and stored with status ``timeout``
    timeout: typing.Annotated[float, Field(gt=0.0)] | None = None

    @property
    def label(self) -> str:
        return self.name or self.python.rsplit(":", 1)[1]


class ConfiguredEstimator(_Strict):
    """A built-in estimator with settings: ``{estimator: gradient_ascent, options: {rate: 0.5},
    name: ga_slow}`` (the options a model's estimator takes are listed by ``simstudy models``)."""

    estimator: str
    options: dict[str, StrictFloat | StrictInt] = Field(default_factory=dict)
    name: str | None = Field(default=None, pattern=r"^[A-Za-z_][\w-]*$")

    @property
    def label(self) -> str:
        if self.name:
            return self.name
        settings = "_".join(f"{k}{v:g}" for k, v in sorted(self.options.items()))
        return f"{self.estimator}_{settings}" if settings else self.estimator


def _estimator_kind(value: Any) -> str | None:
    """Which form an estimator entry takes, from its keys, so that a mistake in one form is
    reported once (not once per form it failed to be)."""
    if isinstance(value, str):
        return "str"
    if isinstance(value, Mapping):
        if "plugin" in value:
            return "PluginEstimator"
        if "python" in value:
            return "PythonEstimator"
        if "estimator" in value:
            return "ConfiguredEstimator"
    if isinstance(value, (PluginEstimator, PythonEstimator, ConfiguredEstimator)):
        return type(value).__name__
    return None


EstimatorSpec = typing.Annotated[
    (
        typing.Annotated[str, Tag("str")]
        | typing.Annotated[PluginEstimator, Tag("PluginEstimator")]
        | typing.Annotated[PythonEstimator, Tag("PythonEstimator")]
        | typing.Annotated[ConfiguredEstimator, Tag("ConfiguredEstimator")]
    ),
    Discriminator(
        _estimator_kind,
        custom_error_type="estimator_form",
        custom_error_message=(
            "an estimator is a name (e.g. mle), {plugin: 'package.module:function'}, "
            "{python: 'package.module:function'} or {estimator: NAME, options: {...}}"
        ),
    ),
]


class CovariateSpec(_Strict):
    """One covariate of a regression design: ``{dist: normal, mean: 0, sd: 1}``,
    ``{dist: bernoulli, p: 0.4}`` or ``{dist: uniform, low: 0, high: 1}``."""

    dist: Literal["normal", "bernoulli", "uniform"]
    mean: StrictFloat | None = None
    sd: typing.Annotated[StrictFloat, Field(gt=0.0)] | None = None
    p: typing.Annotated[StrictFloat, Field(gt=0.0, lt=1.0)] | None = None
    low: StrictFloat | None = None
    high: StrictFloat | None = None

    @model_validator(mode="after")
    def _fields_match_dist(self) -> CovariateSpec:
        allowed = {"normal": {"mean", "sd"}, "bernoulli": {"p"}, "uniform": {"low", "high"}}[self.dist]
        given = {k for k in ("mean", "sd", "p", "low", "high") if getattr(self, k) is not None}
        if given - allowed:
            raise ValueError(
                f"a {self.dist} covariate takes {', '.join(sorted(allowed))}; "
                f"remove {', '.join(sorted(given - allowed))}"
            )
        if self.dist == "bernoulli" and self.p is None:
            raise ValueError("a bernoulli covariate needs p, e.g. {dist: bernoulli, p: 0.4}")
        if self.dist == "uniform" and (self.low if self.low is not None else 0.0) >= (
            self.high if self.high is not None else 1.0
        ):
            raise ValueError("a uniform covariate needs low < high")
        return self


class DesignSpec(_Strict):
    """Covariates of a regression model: drawn afresh for every replication (``covariates``),
    or the fixed rows of a CSV/Parquet ``file`` (optionally only its ``columns``), the same in
    every replication; observation i uses file row i mod N (see simstudy.models._design)."""

    intercept: bool = True
    covariates: tuple[CovariateSpec, ...] = ()
    #: a CSV or Parquet file of covariate rows (relative to the study YAML file)
    file: str | None = Field(default=None, min_length=1)
    #: the file's columns to use, in order (default: all)
    columns: tuple[str, ...] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_source(self) -> DesignSpec:
        if self.file is not None and self.covariates:
            raise ValueError(
                "a design takes either covariates (drawn per replication) or a file (fixed "
                "rows), not both; remove one of them"
            )
        if self.columns is not None and self.file is None:
            raise ValueError("columns selects columns of a design file; add 'file: ...' or "
                             "remove columns")  # fmt: skip
        return self


class ModelEntry(_Strict):
    """One data-generating model with its parameter grid, estimators and expected verdicts."""

    model: str | None = None
    #: a user-defined model instead of a built-in one: "package.module:MyModel"
    plugin: str | None = Field(default=None, pattern=PLUGIN_PATTERN)
    # Strict floats: a YAML bool (`yes`) or a quoted number is an error, not silently 1.0 / 0.3.
    params: dict[str, StrictFloat | list[StrictFloat]]
    estimators: tuple[EstimatorSpec, ...] = ("mle",)
    #: {estimator: expectations}: a mapping of properties (or of parameters to properties) to
    #: expected verdicts, or a list of such mappings ("rules"), each optionally limited to the
    #: cells whose true parameters match ``when: {param: value or [values]}``; later rules
    #: override earlier ones (see :meth:`expected_verdict`)
    expect: dict[str, dict[str, Verdict | dict[str, Verdict]] | list[dict[str, Any]]] = Field(
        default_factory=dict
    )
    derived: dict[str, str] = Field(default_factory=dict)
    design: DesignSpec | None = None

    @field_validator("params")
    @classmethod
    def _nonempty_sweeps(cls, value: dict[str, Any]) -> dict[str, Any]:
        for key, v in value.items():
            if isinstance(v, list) and not v:
                # A custom type carries the parameter name so the message points at its line.
                raise PydanticCustomError("empty_sweep", "empty sweep for {key}", {"key": key})
        return value

    @model_validator(mode="after")
    def _model_or_plugin(self) -> ModelEntry:
        if (self.model is None) == (self.plugin is None):
            raise ValueError(
                "give either `model: NAME` (a built-in model, see `simstudy models`) or "
                "`plugin: 'package.module:MyModel'` (a user-defined model), not both or neither"
            )
        return self

    @property
    def model_ref(self) -> str:
        """The built-in model's name or the plugin reference."""
        return self.model if self.model is not None else self.plugin

    @field_validator("estimators")
    @classmethod
    def _nonempty_estimators(cls, value: tuple) -> tuple:
        if not value:
            raise ValueError("list at least one estimator, e.g. [mle]")
        return value

    def estimator_labels(self) -> list[str]:
        return [e if isinstance(e, str) else e.label for e in self.estimators]

    def expectation_rules(self, label: str) -> list[tuple[dict[str, list[float]] | None, dict]]:
        """The expectations of estimator ``label`` as (when, rule) pairs in order: ``when`` is
        None (every cell) or {parameter: the values it matches}."""
        spec = self.expect.get(label)
        if spec is None:
            return []
        out = []
        for rule in spec if isinstance(spec, list) else [spec]:
            rule = dict(rule)
            when = rule.pop("when", None)
            if when is not None:
                when = {k: [float(x) for x in (v if isinstance(v, list) else [v])]
                        for k, v in when.items()}  # fmt: skip
            out.append((when, rule))
        return out

    def expected_verdict(self, label: str, theta: Mapping[str, float], param: str,
                         prop: str) -> str:  # fmt: skip
        """The verdict expected of ``prop`` for parameter ``param`` of estimator ``label`` at
        true parameters ``theta``: "pass" unless a rule says otherwise. Within a rule a
        per-parameter entry (``mu: {efficient: fail}``) wins over a property for every
        parameter (``efficient: fail``); of the rules that match θ, the last one wins."""
        expected = "pass"
        for when, rule in self.expectation_rules(label):
            if when is not None and not all(
                any(math.isclose(float(theta[k]), v, rel_tol=1e-12, abs_tol=1e-300) for v in vs)
                for k, vs in when.items()
            ):
                continue
            per_param = rule.get(param)
            if isinstance(per_param, dict) and prop in per_param:
                expected = per_param[prop]
            elif isinstance(rule.get(prop), str):
                expected = rule[prop]
        return expected

    def grid(self, order: typing.Sequence[str]) -> list[dict[str, float]]:
        """Cartesian product of the parameter sweeps, parameters in ``order``."""
        axes = [self.params[name] for name in order]
        axes = [v if isinstance(v, list) else [v] for v in axes]
        return [dict(zip(order, map(float, combo))) for combo in itertools.product(*axes)]


class Checks(_Strict):
    """Tolerances of the verdicts; the defaults are documented in the README ("What it verifies")."""

    # Strict: a quoted '0.9' or a YAML bool is an error, not silently converted.
    alpha: StrictFloat = Field(0.01, gt=0.0, lt=0.5)
    efficiency_margin: StrictFloat = Field(0.1, gt=0.0, lt=1.0)
    coverage_level: StrictFloat = Field(0.95, gt=0.0, lt=1.0)
    coverage_margin: StrictFloat = Field(0.015, gt=0.0, lt=0.5)
    bias_margin: StrictFloat = Field(0.1, gt=0.0)
    rate_margin: StrictFloat = Field(0.1, gt=0.0, lt=1.0)
    epsilon: StrictFloat = Field(0.1, gt=0.0)
    reference: str = "mle"
    target_mcse: dict[Targetable, typing.Annotated[float, Field(gt=0.0)]] = Field(
        default_factory=dict
    )


class AdaptiveReplications(_Strict):
    """``replications: {start: 1000, until_mcse: {coverage: 0.003}, max: 100000}``: run in
    rounds, each adding replications, until every targeted MCSE holds in every cell."""

    start: StrictInt = Field(1000, ge=2)
    max: StrictInt = Field(100_000, ge=2)
    until_mcse: dict[Targetable, typing.Annotated[float, Field(gt=0.0)]] = Field(min_length=1)


#: Figures a report can draw (``report.figures``); all by default.
FIGURES = (
    "bias", "rmse", "efficiency", "n_var", "qq", "density", "coverage", "zip", "mahalanobis_qq",
)  # fmt: skip
FigureName = Literal[
    "bias", "rmse", "efficiency", "n_var", "qq", "density", "coverage", "zip", "mahalanobis_qq"
]


class CellSelector(_Strict):
    """Which cells the per-cell figures (QQ, density, zip) show; unset fields match all."""

    model: str
    estimator: str | None = None
    theta: dict[str, float] | None = None


class ReportOptions(_Strict):
    """``report: {figures: [bias, rmse, ...], cells: [{model: gamma, estimator: mle}], zip_n: 1000,
    formats: [png, pdf]}``.

    ``formats`` defaults to PNG (300 dpi, what report.md/html show): a PDF with embedded
    TrueType fonts costs more to write than its PNG, so PDF (or SVG) is asked for when a
    paper needs it, here or with ``simstudy report --format png,pdf``."""

    figures: tuple[FigureName, ...] = FIGURES
    cells: tuple[CellSelector, ...] | None = None
    zip_n: typing.Annotated[StrictInt, Field(ge=1)] | None = None
    formats: tuple[Literal["png", "pdf", "svg"], ...] = Field(("png",), min_length=1)


class StudyConfig(_Strict):
    """A validated study (ADEMP: aim, data-generating models, estimands, methods, checks)."""

    name: str = Field(pattern=STUDY_NAME_PATTERN, max_length=64)
    seed: StrictInt = Field(ge=0, lt=MAX_SEED)
    replications: typing.Annotated[StrictInt, Field(ge=2)] | AdaptiveReplications
    sample_sizes: tuple[typing.Annotated[StrictInt, Field(ge=1)], ...] = Field(min_length=1)
    models: tuple[ModelEntry, ...] = Field(min_length=1)
    checks: Checks = Field(default_factory=Checks)
    report: ReportOptions = Field(default_factory=ReportOptions)
    #: stop computing a cell once an estimator's share of failed fits exceeds this
    max_fail_rate: typing.Annotated[float, Field(gt=0.0, le=1.0)] | None = None
    aim: str = ""

    @field_validator("sample_sizes")
    @classmethod
    def _distinct_sizes(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        dupes = sorted({n for n in value if value.count(n) > 1})
        if dupes:
            raise ValueError(f"sample sizes must be distinct; {dupes} repeated")
        return tuple(sorted(value))

    @property
    def initial_replications(self) -> int:
        """R of the first (or only) round."""
        r = self.replications
        return r if isinstance(r, int) else r.start

    @property
    def adaptive(self) -> AdaptiveReplications | None:
        return self.replications if isinstance(self.replications, AdaptiveReplications) else None

    def normalized(self) -> dict[str, Any]:
        """The config as plain data (what ``study.yaml`` stores)."""
        return self.model_dump(mode="json")


# --------------------------------------------------------------------------------------------
# Loading and error messages


def load_config(path: str | Path, *, check_models: bool = True) -> StudyConfig:
    """Read and validate a study YAML file (raises :class:`StudyConfigError`)."""
    path = Path(path)
    if path.is_dir():
        raise StudyConfigError(f"{path}: is a folder; give the path of a study YAML file")
    if not path.is_file():
        raise StudyConfigError(f"{path}: no such file; give the path of a study YAML file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise StudyConfigError(
            f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason}); save the study YAML "
            "file as UTF-8"
        ) from None
    except OSError as exc:
        raise StudyConfigError(
            f"{path}: cannot read ({exc.strerror}); check its permissions"
        ) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc)
        context, opened = getattr(exc, "context", None), getattr(exc, "context_mark", None)
        if context and opened is not None and mark is not None and opened.line != mark.line:
            problem += f" ({context} on line {opened.line + 1})"
        raise StudyConfigError(
            f"{where}: malformed YAML: {problem}; fix the syntax on that line "
            "(indentation, a missing ':' or an unclosed bracket or quote)"
        ) from None
    duplicates = list(_duplicate_keys(yaml.compose(text)))
    if duplicates:
        # PyYAML keeps the last of two equal keys; silently dropping a setting is not allowed.
        raise StudyConfigError(
            "\n".join(
                f"{path}:{line}: {format_path(key_path)}: key {key_path[-1]!r} appears twice "
                f"(lines {first} and {line}); keep one of them"
                for key_path, first, line in duplicates
            )
        )
    return parse_config(data, source=str(path), text=text, check_models=check_models,
                        base_dir=path.resolve().parent)  # fmt: skip


def parse_config(
    data: Any,
    *,
    source: str = "<config>",
    text: str | None = None,
    check_models: bool = True,
    base_dir: Path | None = None,
) -> StudyConfig:
    """Validate already-parsed config data (a dict as from YAML)."""
    locator = _Locator(source, text)
    if not isinstance(data, Mapping):
        got = "nothing (the file is empty)" if data is None else f"a {type(data).__name__}"
        raise StudyConfigError(
            locator.message(
                (),
                "a study must be a mapping of keys (name, seed, replications, sample_sizes, "
                f"models, ...), one 'key: value' per line; got {got}",
            )
        )
    try:
        config = StudyConfig.model_validate(dict(data))
    except ValidationError as exc:
        raise StudyConfigError(_format_validation(exc, data, locator)) from None
    config = _resolve_design_files(config, base_dir)
    if check_models:
        problems = list(_model_problems(config, base_dir))
        if problems:
            raise StudyConfigError(
                "\n".join(locator.message(path, msg) for path, msg in problems)
            )
    return config


def _resolve_design_files(config: StudyConfig, base_dir: Path | None) -> StudyConfig:
    """Design files as absolute paths (relative ones are relative to the study file's folder),
    so every later reader of the config (runs, workers, replay) finds the same file."""
    entries = []
    for entry in config.models:
        design = entry.design
        if design is not None and design.file is not None:
            path = Path(design.file).expanduser()
            if not path.is_absolute():
                path = (Path(base_dir) if base_dir is not None else Path.cwd()) / path
            design = design.model_copy(update={"file": str(path.resolve())})
            entry = entry.model_copy(update={"design": design})
        entries.append(entry)
    return config.model_copy(update={"models": tuple(entries)})


_MERGE_TAG = "tag:yaml.org,2002:merge"


def _duplicate_keys(node: Any, path: tuple = (), seen_nodes: set | None = None):
    """(key path, first line, repeated line) for every key given twice in one YAML mapping."""
    seen_nodes = set() if seen_nodes is None else seen_nodes
    if node is None or id(node) in seen_nodes:  # aliases point at nodes already walked
        return
    seen_nodes.add(id(node))
    if isinstance(node, yaml.MappingNode):
        lines: dict[str, int] = {}
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.tag != _MERGE_TAG:
                line = key.start_mark.line + 1
                if key.value in lines:
                    yield path + (key.value,), lines[key.value], line
                lines.setdefault(key.value, line)
            yield from _duplicate_keys(value, path + (getattr(key, "value", "?"),), seen_nodes)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _duplicate_keys(item, path + (i,), seen_nodes)


class _Locator:
    """Maps key paths to 'file:line' using the YAML node tree (when the text is known)."""

    def __init__(self, source: str, text: str | None):
        self.source = source
        self.root = None
        if text is not None:
            try:
                self.root = yaml.compose(text)
            except yaml.YAMLError:
                self.root = None

    def line(self, path: tuple) -> int | None:
        node, best = self.root, None
        for key in path:
            if node is None:
                break
            best = node.start_mark.line + 1
            if isinstance(node, yaml.MappingNode):
                match = [(k, v) for k, v in node.value if k.value == key]
                if not match:
                    return best
                best = match[0][0].start_mark.line + 1
                node = match[0][1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
                if key >= len(node.value):
                    return best
                node = node.value[key]
                best = node.start_mark.line + 1
            else:
                break
        if node is not None:
            best = node.start_mark.line + 1 if best is None else best
        return best

    def message(self, path: tuple, text: str) -> str:
        line = self.line(path)
        where = f"{self.source}:{line}" if line else self.source
        return f"{where}: {format_path(path)}: {text}"


def format_path(path: tuple) -> str:
    out = ""
    for key in path:
        out += f"[{key}]" if isinstance(key, int) else (f".{key}" if out else str(key))
    return out or "(top level)"


def _data_path(loc: tuple, data: Any) -> tuple:
    """Keep the parts of a pydantic ``loc`` that address the data (drop union-branch tags)."""
    path, node = [], data
    for part in loc:
        if isinstance(node, Mapping) and part in node or isinstance(node, (list, tuple)) and isinstance(part, int) and part < len(node):
            node = node[part]
        elif _is_branch_tag(part):
            continue
        else:
            path.append(part)
            break
        path.append(part)
    return tuple(path)


def _is_branch_tag(part: Any) -> bool:
    """pydantic names union branches in ``loc`` by type: 'float', 'list[float]', 'PluginEstimator',
    'constrained-int' (an ``Annotated`` type with a ``Field`` constraint)."""
    return isinstance(part, str) and (
        part in {"float", "int", "str", "bool", "none"}
        or part.startswith("constrained-")
        or "[" in part
        or part[:1].isupper()
    )


def _schema_at(path: tuple) -> type[BaseModel] | None:
    """The pydantic model class whose fields are allowed at ``path``."""
    cls: Any = StudyConfig
    for part in path:
        if isinstance(part, int):
            continue
        field = cls.model_fields.get(part) if isinstance(cls, type) else None
        if field is None:
            return None
        cls = _first_model(field.annotation)
        if cls is None:
            return None
    return cls


def _first_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _first_model(arg)
        if found is not None:
            return found
    return None


_FIXES = {
    "missing": "add it",
    "int_type": "give a whole number",
    "int_parsing": "give a whole number",
    "int_from_float": "give a whole number",
    "float_type": "give a number",
    "float_parsing": "give a number",
    "dict_type": "give a mapping of key: value lines",
    "string_type": "give a text value",
}

#: Example values for list-valued keys (used by "must be a list" and "is empty" messages).
_LIST_EXAMPLES = {
    "sample_sizes": "[10, 100, 1000]",
    "models": "'- model: normal' with 'params: {mu: 0.0, sigma2: 1.0}' under it",
    "estimators": "[mle]",
}

#: What a union-typed key accepts, for an input that matches none of its branches.
_UNION_TEXT = {
    "replications": (
        "must be a whole number >= 2 or a mapping {start: R0, until_mcse: {metric: target}, "
        "max: R}"
    ),
    "params": "must be a number or a list of numbers",
    "estimators": (
        "must be an estimator name such as mle, a plugin "
        "{plugin: 'package.module:function', name: label} or a Python estimator "
        "{python: 'package.module:function', name: label}"
    ),
}


def _union_text(path: tuple) -> str | None:
    for key in reversed(path):
        if key in _UNION_TEXT:
            return _UNION_TEXT[key]
    return None


def _list_example(path: tuple) -> str:
    key = next((k for k in reversed(path) if isinstance(k, str)), "")
    return _LIST_EXAMPLES.get(key, "[a, b]")


def _format_validation(exc: ValidationError, data: Any, locator: _Locator) -> str:
    from simstudy.models._registry import suggest

    errors = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        path = _data_path(loc, data)
        if err["type"] == "empty_sweep":
            path = path + (err["ctx"]["key"],)
        errors.append((path, err, len(path) < len(loc) and any(map(_is_branch_tag, loc))))
    paths = {path for path, _, _ in errors}
    extras = {path[:-1]: [] for path, err, _ in errors if err["type"] == "extra_forbidden"}
    for path, err, _ in errors:
        if err["type"] == "extra_forbidden":
            extras[path[:-1]].append(path[-1])

    messages: dict[tuple, str] = {}
    mismatch: dict[tuple, bool] = {}  # path -> its message says only "wrong type"
    for path, err, in_branch in errors:
        kind = err["type"]
        deeper = any(p[: len(path)] == path and len(p) > len(path) for p in paths)
        if deeper and (in_branch or kind == "too_short"):
            # A union branch failed deeper inside (the user meant that branch), or a list is
            # "too short" only because its items failed: the deeper message is the useful one.
            continue
        if kind == "missing" and suggest(path[-1], extras.get(path[:-1], [])):
            continue  # a misspelt key: its "unknown key ... did you mean" message says it all
        if kind == "extra_forbidden":
            parent, key = path[:-1], path[-1]
            schema = _schema_at(parent)
            allowed = sorted(schema.model_fields) if schema else []
            text = (
                f"unknown key {key!r}{suggest(key, allowed)}; allowed here: "
                f"{', '.join(allowed)}"
            )
        elif kind == "missing":
            text = f"required key {path[-1]!r} is missing; add it"
        elif kind == "string_pattern_mismatch" and path[-1:] == ("name",) and len(path) == 1:
            text = (
                f"study name {err['input']!r} is not allowed: use only lowercase letters, "
                "digits, '_' and '-' (it becomes a folder name), e.g. 'my-study'"
            )
        elif kind == "string_pattern_mismatch" and ("plugin" in path or "python" in path):
            text = (
                f"{err['input']!r} is not a plugin reference; write it as "
                "'package.module:function'"
            )
        elif kind == "empty_sweep":
            text = "the sweep is an empty list; give at least one value, e.g. [1.0, 2.0] or 1.0"
        elif kind == "too_short":
            text = (
                f"is empty; list at least {err['ctx']['min_length']}, e.g. {_list_example(path)}"
            )
        elif kind in ("list_type", "tuple_type"):
            text = f"must be a list; got {err.get('input')!r}; e.g. {_list_example(path)}"
        elif kind == "model_type":
            schema = _schema_at(path)
            keys = ", ".join(schema.model_fields) if schema else "key: value lines"
            text = f"must be a mapping with the keys {keys}; got {err.get('input')!r}"
        else:
            got = err.get("input")
            fix = _FIXES.get(kind, "")
            reason = err["msg"].removeprefix("Value error, ")
            text = f"{reason}; got {got!r}" + (f"; {fix}" if fix else "")
        wrong_type = kind.endswith(("_type", "_parsing")) or kind == "int_from_float"
        if path in messages and in_branch:
            if mismatch[path] and not wrong_type:
                # This branch has the right type and says which value it wants: keep its text.
                messages[path], mismatch[path] = text, False
            elif mismatch[path]:
                # No branch of a union has the type given: say what the union accepts.
                union = _union_text(path)
                if union:
                    messages[path] = f"{union}; got {err.get('input')!r}"
            continue
        messages.setdefault(path, text)
        mismatch.setdefault(path, wrong_type)
    return "\n".join(locator.message(path, text) for path, text in messages.items())


def _model_problems(config: StudyConfig, base_dir=None):
    """(key path, message) for every model-level problem: names, parameters, estimators."""
    from simstudy.errors import PluginError
    from simstudy.models._base import ModelError
    from simstudy.models._design import DesignFileError
    from simstudy.models._registry import (
        builtin_model,
        load_plugin_model,
        suggest,
        unknown_model_message,
    )

    for i, entry in enumerate(config.models):
        base = ("models", i)
        if entry.plugin is not None:
            try:
                model = load_plugin_model(entry.plugin, base_dir=base_dir)
            except PluginError as exc:
                yield base + ("plugin",), str(exc)
                continue
        else:
            try:
                model = builtin_model(entry.model)
            except ModelError:
                yield base + ("model",), unknown_model_message(entry.model)
                continue
        if entry.design is not None:
            if entry.plugin is not None or model.specialize is None:
                yield base + ("design",), (
                    f"model {model.name!r} takes no design (only regression models do); "
                    "remove the design block"
                )
                continue
            design = entry.design
            if not design.intercept and not design.covariates and design.file is None:
                yield base + ("design",), "a design needs an intercept or at least one covariate"
                continue
            try:
                model = builtin_model(entry.model, design)  # a regression model for this design
            except DesignFileError as exc:
                yield base + ("design", "file"), str(exc)
                continue
        names = model.param_names
        unknown = [key for key in entry.params if key not in names]
        for key in unknown:
            yield base + ("params", key), (
                f"model {model.name!r} has no parameter {key!r}{suggest(key, names)}; "
                f"its parameters are {', '.join(names)}"
            )
        for p in model.params:
            if p.name not in entry.params and suggest(p.name, unknown):
                continue  # misspelt: the "no parameter ... did you mean" message says it all
            if p.name not in entry.params:
                yield base + ("params",), (
                    f"parameter {p.name!r} of model {model.name!r} is missing; add "
                    f"'{p.name}: <value in {p.domain}>'"
                )
                continue
            values = entry.params[p.name]
            for j, v in enumerate(values if isinstance(values, list) else [values]):
                if not p.domain.contains(float(v)):
                    path = base + ("params", p.name) + ((j,) if isinstance(values, list) else ())
                    yield path, (
                        f"{v!r} is outside the domain of {model.name}'s {p.name!r}, "
                        f"{p.domain}; give a value in {p.domain}"
                    )
        # Joint constraints (e.g. probabilities on a simplex) once each value is in its domain.
        if all(k in entry.params for k in names) and not any(
            not p.domain.contains(float(v))
            for p in model.params
            for v in (entry.params[p.name] if isinstance(entry.params[p.name], list) else [entry.params[p.name]])
        ):
            for theta in entry.grid(names):
                try:
                    model.check_theta(theta)
                except ModelError as exc:
                    yield base + ("params",), f"{exc}; got {theta}"
                    break
        from simstudy.metrics.derived import ExpressionError, parse

        for dname, expression in entry.derived.items():
            if dname in names:
                yield base + ("derived", dname), (
                    f"{dname!r} is already a parameter of {model.name!r}; choose another name"
                )
                continue
            try:
                parse(expression, names)
            except ExpressionError as exc:
                yield base + ("derived", dname), f"{exc}; got {expression!r}"
        labels = entry.estimator_labels()
        for j, spec in enumerate(entry.estimators):
            if isinstance(spec, str) and spec not in model.estimators:
                yield base + ("estimators", j), model.unknown_estimator_message(spec)
            elif isinstance(spec, ConfiguredEstimator):
                if spec.estimator not in model.estimators:
                    yield base + ("estimators", j, "estimator"), model.unknown_estimator_message(
                        spec.estimator
                    )
                    continue
                allowed = model.estimators[spec.estimator].options
                for key in spec.options:
                    if key not in allowed:
                        yield base + ("estimators", j, "options", key), (
                            f"estimator {spec.estimator!r} of {model.name!r} takes no option "
                            f"{key!r}{suggest(key, allowed)}; its options: "
                            + (", ".join(f"{k} (default {v:g})" for k, v in allowed.items()) or "none")
                        )
        for label in sorted({x for x in labels if labels.count(x) > 1}):
            yield base + ("estimators",), (
                f"estimator name {label!r} appears twice; give plugins distinct 'name:' values"
            )
        yield from expect_problems(entry, names, base)


def expect_problems(entry: ModelEntry, names, base: tuple = ()):
    """(key path, message) for every problem of ``entry.expect`` (estimators it names, rules,
    properties, verdicts, ``when:`` conditions) for a model with parameters ``names``; also
    what ``simstudy analyse --expect`` checks."""
    from simstudy.models._registry import suggest

    labels = entry.estimator_labels()
    targets = list(names) + list(entry.derived)
    for est, spec in entry.expect.items():
        if est not in labels:
            yield base + ("expect", est), (
                f"{est!r} is not an estimator of this entry{suggest(est, labels)}; "
                f"its estimators are {', '.join(labels)}"
            )
        rules = spec if isinstance(spec, list) else [spec]
        for r, rule in enumerate(rules):
            at = base + ("expect", est) + ((r,) if isinstance(spec, list) else ())
            yield from _rule_problems(rule, at, entry, names, targets)


def _rule_problems(rule, at: tuple, entry, names, targets):
    """(key path, message) for one expectation rule (see ``ModelEntry.expect``)."""
    from simstudy.models._registry import suggest

    if not isinstance(rule, Mapping):
        yield at, (f"an expectation rule is a mapping such as {{when: {{shape: 1.5}}, "
                   f"consistent: fail}}; got {rule!r}")  # fmt: skip
        return
    for key, value in rule.items():
        path = at + (key,)
        if key == "when":
            yield from _when_problems(value, path, entry, names)
        elif isinstance(value, Mapping):
            if key not in targets:
                yield path, (
                    f"{key!r} is neither a property nor a parameter{suggest(key, targets)}; "
                    f"parameters: {', '.join(targets)}; properties: {', '.join(PROPERTIES)}"
                )
            for prop, verdict in value.items():
                if prop not in PROPERTIES:
                    yield path + (prop,), (
                        f"unknown property {prop!r}{suggest(prop, PROPERTIES)}; "
                        f"properties are {', '.join(PROPERTIES)}"
                    )
                elif verdict not in VERDICTS:
                    yield path + (prop,), f"expected verdict {verdict!r}; give one of {', '.join(VERDICTS)}"
        elif key not in PROPERTIES:
            yield path, (
                f"unknown property {key!r}{suggest(key, PROPERTIES + tuple(targets))}; "
                f"properties are {', '.join(PROPERTIES)} (or a parameter name mapping "
                "to properties, e.g. shape: {efficient: fail}, or when: {param: value})"
            )
        elif value not in VERDICTS:
            yield path, f"expected verdict {value!r}; give one of {', '.join(VERDICTS)}"


def _when_problems(when, path: tuple, entry, names):
    """A ``when:`` condition names model parameters, each with values of the entry's sweep."""
    from simstudy.models._registry import suggest

    if not isinstance(when, Mapping) or not when:
        yield path, f"when: is a mapping of parameters to values, e.g. {{shape: 1.5}}; got {when!r}"
        return
    for key, values in when.items():
        if key not in names:
            yield path + (key,), (
                f"{key!r} is not a parameter of this model{suggest(key, names)}; "
                f"its parameters are {', '.join(names)}"
            )
            continue
        swept = entry.params.get(key)
        swept = [] if swept is None else [float(v) for v in (swept if isinstance(swept, list) else [swept])]
        for v in values if isinstance(values, list) else [values]:
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                yield path + (key,), f"{v!r} is not a number; give a value of the sweep {swept}"
            elif not any(math.isclose(float(v), w, rel_tol=1e-12) for w in swept):
                yield path + (key,), (
                    f"{v!r} matches no cell: {key} takes the values {swept} in this entry; "
                    "give one of them"
                )


def parse_theta(model, text: str, *, defaults=None, option: str = "--theta") -> dict[str, float]:
    """``name=value,...`` (what ``simstudy check-model --theta`` and ``simstudy analyse --theta``
    take) as {parameter: value} in the model's declared order.

    ``defaults`` ({parameter: value}) fills the parameters the text leaves out; without it every
    parameter must be given. Raises :class:`~simstudy.errors.StudyConfigError` naming ``option``
    and the item (domains are the caller's to check: ``Model.check_theta``)."""
    from simstudy.models._registry import suggest

    names = model.param_names
    values = dict(defaults or {})
    given: set[str] = set()
    for item in str(text).split(","):
        if not item.strip():
            continue  # "a=1,": a trailing comma
        key, sep, val = (part.strip() for part in item.partition("="))
        if key not in names:
            if not sep or not key:
                raise StudyConfigError(
                    f"{option}: {item.strip()!r} is not name=number; write the parameters as "
                    f"{','.join(f'{p}=VALUE' for p in names)}"
                )
            raise StudyConfigError(
                f"{option}: {key!r} is not a parameter of {model.name!r}{suggest(key, names)}; "
                f"its parameters are {', '.join(names)}"
            )
        if key in given:
            raise StudyConfigError(f"{option}: {key!r} is given twice; give each parameter once")
        try:
            values[key] = float(val)
        except ValueError:
            raise StudyConfigError(
                f"{option}: {item.strip()!r} is not name=number; write the parameters as "
                f"{','.join(f'{p}=VALUE' for p in names)}"
            ) from None
        given.add(key)
    missing = [p for p in names if p not in values]
    if missing:
        raise StudyConfigError(
            f"{option}: {', '.join(map(repr, missing))} of model {model.name!r} "
            f"{'is' if len(missing) == 1 else 'are'} missing; give every parameter, e.g. "
            f"{option} {','.join(f'{p}=VALUE' for p in names)} (parameters: "
            + ", ".join(f"{p.name} in {p.domain}" for p in model.params) + ")"
        )
    return {p: values[p] for p in names}
