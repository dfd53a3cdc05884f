"""Estimates computed elsewhere: ``simstudy analyse TABLE`` and :func:`analyse`.

A tidy table of replicate estimates made by another program (R, Stan, ...) becomes a results
folder laid out as ``simstudy run`` lays one out, so that metrics, verdicts, ``simstudy
report`` and ``simstudy verify`` work on it unchanged. This module plays the part of the run's
plan/compute/store stages for such a table; everything downstream (``StudyResult.analyse``,
``write_report``) is the run's own code.

The table (CSV, Parquet or a pandas DataFrame) has one row per (estimator, n, rep) with the
columns

- ``estimator`` (a label), ``n`` (the sample size, a whole number >= 1), ``rep`` (the
  replication's id, a whole number; any ids, in any order);
- one column per model parameter (the estimate; empty/NA for a failed fit);
- optionally ``<param>_se`` (standard errors, >= 0), ``corr_<a>_<b>`` (correlations of the
  estimates, as the engine stores them) and ``status`` (``ok``, ``not_converged``,
  ``no_mle``, ``boundary`` or their codes 0-3; empty: ``ok`` if every estimate is finite,
  else ``not_converged``). A usable status (ok, boundary) with a non-finite estimate is
  stored as ``not_converged``, as the engine does;
- columns whose name starts with ``_`` are ignored; any other column is an error (a typo such
  as ``sigma_se`` for ``sigma2_se`` must not pass silently).

Every estimator must have the same rep ids at a given n (the fits of one replication are
paired, as the engine's common random numbers pair them) and every n the same number R of
them. What is written:

- ``study.yaml``: a normalized study: ``name``, ``seed: 0``, ``replications: R``, the table's
  sample sizes, one model entry (the model or plugin, θ, the table's estimator labels in order
  of first appearance, ``expect``), ``checks`` and ``report``;
- ``manifest.json``: as a run's (:func:`simstudy.study._manifest`: Fisher information and its
  inverse from the model at θ and each n) with ``"external": {table, format, sha256, rows,
  columns}``, no random stream (``key1`` null; ``rng`` says no samples were drawn);
- ``store/<result_key>/reps-000000000-<R>.parquet``: one block per (estimator, n) with the
  columns of :func:`simstudy.executors._tasks.block_table`: ``rep`` 0..R-1 (the i-th
  smallest rep id of that n is replication i), ``status``, ``n_iter`` 0, the estimates, the
  SEs and correlations (NaN where the table has none) and ``lr_stat`` NaN (no likelihood
  without the data);
- data key = H(the table's SHA-256, model, θ, n), result key = H(data key, label,
  "external"): another table (or θ) gets other keys. A rerun rewrites everything (it is
  cheap); after another table, the previous one's blocks and everything derived from them
  (metrics, verdicts, report) are removed, so one folder never mixes two tables.

Bad input raises :class:`~simstudy.errors.StudyConfigError` naming the column, the row (the
CSV's line number, a Parquet file's data row, a DataFrame's index label), the value and the
fix, before anything is written.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from simstudy._lazy import lazy_import
from simstudy.config import STUDY_NAME_PATTERN, StudyConfig, parse_config
from simstudy.errors import StoreError, StudyConfigError
from simstudy.models._base import BOUNDARY, NOT_CONVERGED, OK, STATUS_CODES, Model, ModelError
from simstudy.store import Store, StudyLock, atomic_write_text

pd = lazy_import("pandas")

#: The result-key version of every external estimator (no code computed the estimates here).
EXTERNAL_VERSION = "external"
#: Cell values read as missing (case-insensitive, after stripping blanks).
NA_TOKENS = frozenset({"", "na", "nan", "n/a", "null", "none"})
PARQUET_SUFFIXES = (".parquet", ".pq")
REQUIRED = ("estimator", "n", "rep")
STATUS_BY_NAME = {name: code for code, name in STATUS_CODES.items()}
#: The ``table`` a DataFrame is recorded as (in messages and the manifest).
DATAFRAME_SOURCE = "<DataFrame>"


@dataclass(frozen=True)
class _Names:
    """How the inputs are called in messages: Python keywords or command-line options."""

    model: str = "model"
    theta: str = "theta"
    expect: str = "expect"
    name: str = "name"


PYTHON_NAMES = _Names()
CLI_NAMES = _Names("--model", "--theta", "--expect", "--name")


@dataclass
class ExternalTable:
    """A validated table: per (estimator, n) the arrays of a stored block, in rep order."""

    source: str
    format: str
    sha256: str
    rows: int
    columns: list[str]
    labels: list[str]
    sizes: list[int]
    replications: int
    blocks: dict[tuple[str, int], dict[str, np.ndarray]] = field(default_factory=dict)
    #: {(label, n): rows whose status said ok/boundary but whose estimate is not finite}
    nonfinite: dict[tuple[str, int], int] = field(default_factory=dict)


def analyse(table, *, model, theta, out: str | Path = "results", name: str | None = None,
            expect=None, checks=None, report: bool | Mapping[str, Any] = True,
            echo=None):  # fmt: skip
    """Judge estimates computed elsewhere: build ``out/<name>/`` from ``table`` as
    ``simstudy run`` would for the same estimates, compute metrics and verdicts, and write the
    report; returns the folder's :class:`~simstudy.study.StudyResult`.

    ``table``: a CSV or Parquet file (``.parquet``/``.pq``; anything else is read as CSV) or a
    pandas DataFrame, in the format of the module docstring. ``model``: a built-in name, a
    plugin ``"package.module:Class"`` (imported from the current folder or PYTHONPATH) or a
    :class:`~simstudy.models.Model`; ``theta``: the true parameters, a mapping or
    ``"a=1,b=2"``. ``name``: the study name (default: the file's stem, ``external`` for a
    DataFrame). ``expect``: a study's ``expect:`` mapping, or a YAML file or inline YAML text
    of one. ``checks``: a study's ``checks:``. ``report``: False for metrics and verdicts only,
    or a study's ``report:`` options (e.g. ``{"figures": ["bias"], "cells": []}``).
    """
    return _analyse(table, model=model, theta=theta, out=out, name=name, expect=expect,
                    checks=checks, report=report, echo=echo, names=PYTHON_NAMES)  # fmt: skip


def _analyse(table, *, model, theta, out, name, expect, checks, report, echo, names: _Names):
    from simstudy.metrics.precision import study_warnings
    from simstudy.study import RunSummary, StudyResult, check_writable, output_errors

    say = echo or (lambda _msg: None)
    t0 = time.perf_counter()
    # Every check of the input comes first: bad input writes nothing.
    the_model, reference = _resolve_model(model, names)
    theta_values = _parse_theta(the_model, theta, names)
    frame, rows, fmt, sha = _read_table(table)
    ext = validate_table(frame, the_model, rows=rows, fmt=fmt, sha256=sha)
    study_name = _study_name(name, table, names)
    expect_data = _parse_expect(expect, ext.labels, reference, theta_values, names)
    cfg = _study_config(study_name, ext, reference, theta_values, expect_data, checks, report)
    _check_information(the_model, theta_values, ext.sizes, names)
    root = Path(out) / cfg.name
    old = _previous_manifest(root, cfg)
    check_writable(root)
    plan = _plan(cfg, the_model, theta_values, ext, reference)
    for line in study_warnings(cfg):
        say(f"warning: {line}")
    with output_errors(root):
        root.mkdir(parents=True, exist_ok=True)
        with StudyLock(root):
            store = Store(root)
            stale = _stale_keys(old, plan)
            if stale is not None:
                # Another table (or θ): nothing derived from it may outlive its replicates.
                _remove_derived(root)
            atomic_write_text(root / "study.yaml", yaml.safe_dump(
                cfg.normalized(), sort_keys=False, allow_unicode=True))  # fmt: skip
            _write_blocks(store, plan, ext)
            summary = RunSummary(wall_seconds=time.perf_counter() - t0)
            store.write_manifest(_external_manifest(plan, store, summary, ext, old, reference))
            for key in stale or ():
                store.remove_result(key)
                folder = store.blocks_dir / key
                if folder.is_dir() and not any(folder.iterdir()):
                    folder.rmdir()
    result = StudyResult(root)
    result.last_run = RunSummary(
        wall_seconds=time.perf_counter() - t0,
        nonfinite={(c.data_key, e.label): ext.nonfinite[(e.label, c.n)]
                   for c in plan.cells for e in c.estimators},
    )  # fmt: skip
    result.analyse()
    if report is not False:
        result.write_report()
    return result


# ---- inputs -----------------------------------------------------------------------------


def _resolve_model(model, names: _Names) -> tuple[Model, dict[str, str]]:
    """(the Model, its study-entry reference: {"model": name} or {"plugin": "mod:Class"})."""
    from simstudy.errors import PluginError
    from simstudy.models._registry import BUILTIN, REGRESSION, builtin_model, get_model

    try:
        resolved = get_model(model)
    except (ModelError, PluginError) as exc:
        raise StudyConfigError(f"{names.model}: {exc}") from None
    plugin = resolved.tags.get("plugin")
    if plugin:
        return resolved, {"plugin": plugin}
    if resolved.name in BUILTIN + REGRESSION and resolved is builtin_model(resolved.name):
        return resolved, {"model": resolved.name}
    raise StudyConfigError(
        f"{names.model}: the Model object {resolved.name!r} is neither a built-in model (with "
        "its default design) nor a plugin model, so study.yaml cannot name it; give a built-in "
        "model's name or a plugin reference 'package.module:MyModel'"
    )


def _parse_theta(model: Model, theta, names: _Names) -> dict[str, float]:
    from simstudy.config import parse_theta
    from simstudy.models._registry import suggest

    if isinstance(theta, str):
        values = parse_theta(model, theta, option=names.theta)
    elif isinstance(theta, Mapping):
        text = []
        for key, value in theta.items():
            if key not in model.param_names:
                raise StudyConfigError(
                    f"{names.theta}: {key!r} is not a parameter of {model.name!r}"
                    f"{suggest(str(key), model.param_names)}; its parameters are "
                    f"{', '.join(model.param_names)}"
                )
            if isinstance(value, bool) or not isinstance(value, (int, float, np.number)):
                raise StudyConfigError(f"{names.theta}: {key} = {value!r} is not a number")
            text.append(f"{key}={float(value)!r}")
        values = parse_theta(model, ",".join(text), option=names.theta)
    else:
        raise StudyConfigError(
            f"{names.theta}: give the true parameters as a mapping or as "
            f"{','.join(f'{p}=VALUE' for p in model.param_names)}; got {theta!r}"
        )
    try:
        model.check_theta(values)
    except ModelError as exc:
        raise StudyConfigError(f"{names.theta}: {exc}; give a value in the domain") from None
    return values


def _check_information(model: Model, theta, sizes, names: _Names) -> None:
    """The Cramér-Rao bound the manifest records, computed before anything is written: a
    Fisher information that cannot be inverted at θ is bad input, not a half-written folder."""
    vector = np.array([theta[p] for p in model.param_names], dtype=np.float64)
    for size in sizes:
        try:
            inverse = model.inverse_fisher(vector, size)
        except (np.linalg.LinAlgError, ValueError, ArithmeticError) as exc:
            raise StudyConfigError(
                f"{names.theta}: the Fisher information of {model.name!r} at {theta} (n={size}) "
                f"cannot be inverted ({exc}); give a θ inside the parameter space"
            ) from None
        if not np.all(np.isfinite(inverse)):
            raise StudyConfigError(
                f"{names.theta}: the Fisher information of {model.name!r} at {theta} (n={size}) "
                "is not finite; give a θ inside the parameter space"
            )


def _study_name(name, table, names: _Names) -> str:
    if name is None:
        stem = "" if _is_frame(table) else Path(table).stem
        name = re.sub(r"[^a-z0-9_-]+", "-", stem.lower()).strip("-")[:64] or "external"
    if not isinstance(name, str) or not re.match(STUDY_NAME_PATTERN, name) or len(name) > 64:
        raise StudyConfigError(
            f"{names.name}: study name {name!r} is not allowed: use only lowercase letters, "
            "digits, '_' and '-' (at most 64; it becomes a folder name), e.g. 'my-study'"
        )
    return name


def _is_frame(table) -> bool:
    return type(table).__name__ == "DataFrame" and hasattr(table, "columns")


@dataclass(frozen=True)
class _Rows:
    """Where row i of the table is, as its user sees it: a CSV line, a Parquet data row
    (from 1) or a DataFrame index label."""

    source: str
    kind: str  # csv, parquet, dataframe
    labels: tuple  # csv: line numbers; parquet: data row numbers; dataframe: index labels

    def at(self, i: int) -> str:
        if self.kind == "csv":
            return f"{self.source}:{self.labels[i]}"
        if self.kind == "parquet":
            return f"{self.source}: data row {self.labels[i]}"
        return f"{self.source} row {self.labels[i]!r}"

    def pair(self, i: int, j: int) -> str:
        if self.kind == "csv":
            return f"{self.source}: lines {self.labels[i]} and {self.labels[j]}"
        if self.kind == "parquet":
            return f"{self.source}: data rows {self.labels[i]} and {self.labels[j]}"
        return f"{self.source} rows {self.labels[i]!r} and {self.labels[j]!r}"


def _read_table(table):
    """(frame, rows, format, sha256) of a path or a DataFrame. CSV files are read with the csv
    module so that every row keeps its line number (blank lines are skipped; a quoted value may
    span lines); their values stay text until :func:`validate_table` reads them."""
    if _is_frame(table):
        sha = hashlib.sha256(table.to_csv(index=False).encode()).hexdigest()
        rows = _Rows(DATAFRAME_SOURCE, "dataframe", tuple(table.index))
        return table.reset_index(drop=True), rows, "dataframe", sha
    if not isinstance(table, (str, Path)):
        raise StudyConfigError(
            "the table is the path of a CSV or Parquet file or a pandas DataFrame; got "
            f"{type(table).__name__}"
        )
    path = Path(table)
    if path.is_dir():
        raise StudyConfigError(f"{path}: is a folder; give a CSV or Parquet table of estimates")
    if not path.is_file():
        raise StudyConfigError(
            f"{path}: no such file; give the path of a CSV or Parquet table of estimates"
        )
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StudyConfigError(f"{path}: cannot read ({exc.strerror}); check its permissions") from None
    sha = hashlib.sha256(data).hexdigest()
    if not data.strip():
        raise StudyConfigError(
            f"{path}: the file is empty; give a table with a header line (estimator,n,rep,...) "
            "and one row per estimate"
        )
    if path.suffix.lower() in PARQUET_SUFFIXES or data[:4] == b"PAR1":
        try:
            frame = pd.read_parquet(io.BytesIO(data))
        except Exception as exc:  # noqa: BLE001 -- any reader failure is a bad file, said as such
            first = str(exc).splitlines()[0] if str(exc) else ""
            raise StudyConfigError(
                f"{path}: cannot be read as Parquet ({type(exc).__name__}: {first}); check the "
                "file, or give a CSV table"
            ) from None
        return frame, _Rows(str(path), "parquet", tuple(range(1, len(frame) + 1))), "parquet", sha
    frame, lines = _read_csv(path, data)
    return frame, _Rows(str(path), "csv", lines), "csv", sha


def _read_csv(path: Path, data: bytes):
    """(frame of text values, the line number of each row) of a CSV file."""
    try:
        text = data.decode("utf-8-sig")  # a byte-order mark (Excel, R on Windows) is dropped
    except UnicodeDecodeError as exc:
        raise StudyConfigError(
            f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason}); save the table as a "
            "UTF-8 CSV file, or give a Parquet file"
        ) from None
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = "\t" if path.suffix.lower() == ".tsv" else ","
    if delimiter == "," and "," not in first:
        delimiter = next((d for d in ("\t", ";") if d in first), ",")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    body, lines = [], []
    try:
        for row in reader:
            if not any(value.strip() for value in row):
                continue  # a blank line
            if header is None:
                header = [value.strip() for value in row]
                header_line = reader.line_num
                continue
            if len(row) != len(header):
                raise StudyConfigError(
                    f"{path}:{reader.line_num}: {len(row)} values, but the header (line "
                    f"{header_line}) names {len(header)} columns; give every row one value per "
                    f"column (an empty value for a missing one; quote values containing "
                    f"{delimiter!r})"
                )
            body.append([value.strip() for value in row])
            lines.append(reader.line_num)
    except csv.Error as exc:
        raise StudyConfigError(
            f"{path}:{reader.line_num}: malformed CSV ({exc}); fix the quoting on that line"
        ) from None
    if not body:
        raise StudyConfigError(
            f"{path}: the table has a header but no rows; give one row per estimator, n and rep"
        )
    frame = pd.DataFrame(body, columns=header, dtype=object)
    return frame, tuple(lines)


# ---- validation -------------------------------------------------------------------------


def _columns_text(model: Model) -> str:
    from simstudy.models._base import correlation_pairs

    params = model.param_names
    corr = [f"corr_{a}_{b}" for a, b in correlation_pairs(params)]
    return (
        f"a table of model {model.name!r} has the columns estimator, n, rep and one per "
        f"parameter ({', '.join(params)}), optionally {', '.join(f'{p}_se' for p in params)} "
        "(standard errors), status" + (f", {', '.join(corr)} (correlations)" if corr else "")
        + ", and columns named _... that are ignored"
    )


def validate_table(frame, model: Model, *, rows: _Rows, fmt: str, sha256: str) -> ExternalTable:
    """The table's replicate blocks after every check of the module docstring (the first
    problem found raises :class:`StudyConfigError`, located and with its fix)."""
    from simstudy.models._base import correlation_pairs
    from simstudy.models._registry import suggest

    source = rows.source
    columns = [str(c) for c in frame.columns]
    params = model.param_names
    corr_cols = [f"corr_{a}_{b}" for a, b in correlation_pairs(params)]
    allowed = [*REQUIRED, *params, *(f"{p}_se" for p in params), "status", *corr_cols]
    first_seen: dict[str, int] = {}
    for i, col in enumerate(columns):
        if col in first_seen:
            raise StudyConfigError(
                f"{source}: column {col!r} appears twice (columns {first_seen[col] + 1} and "
                f"{i + 1}); keep one of them"
            )
        first_seen[col] = i
    missing = [c for c in (*REQUIRED, *params) if c not in columns]
    unknown = [c for c in columns if c not in allowed and not c.startswith("_")]
    if missing:
        also = f" (nor {', '.join(map(repr, missing[1:]))})" if len(missing) > 1 else ""
        raise StudyConfigError(
            f"{source}: no column {missing[0]!r}{suggest(missing[0], unknown)}{also}; "
            f"{_columns_text(model)}; this table's columns are {', '.join(columns) or '(none)'}"
        )
    if unknown:
        col = unknown[0]
        if col == "" or col.startswith("Unnamed:"):
            raise StudyConfigError(
                f"{source}: column {columns.index(col) + 1} has no name (a row index written "
                "with the table?); write the table without it (R: write.csv(..., row.names = "
                "FALSE); pandas: to_csv(index=False)) or name it _index to have it ignored"
            )
        raise StudyConfigError(
            f"{source}: unknown column {col!r}{suggest(col, allowed)}; {_columns_text(model)}; "
            "rename a column you want kept in the table but not read to start with '_'"
        )
    if len(frame) == 0:
        raise StudyConfigError(
            f"{source}: the table has no rows; give one row per estimator, n and rep"
        )

    labels = _labels(frame["estimator"], rows)
    n = _whole(frame["n"], "n", rows, "the sample size", minimum=1)
    rep = _whole(frame["rep"], "rep", rows, "the replication's id")
    est = {p: _numbers(frame[p], p, rows, "the estimate, or nothing (NA) for a failed fit")
           for p in params}  # fmt: skip
    se = {p: _numbers(frame[f"{p}_se"], f"{p}_se", rows, "a standard error >= 0, or nothing (NA)",
                      nonnegative=True)
          for p in params if f"{p}_se" in columns}  # fmt: skip
    corr = {c: _numbers(frame[c], c, rows, "a correlation, or nothing (NA)")
            for c in corr_cols if c in columns}  # fmt: skip
    given = _statuses(frame["status"], rows) if "status" in columns else np.full(len(frame), -1)

    finite = np.logical_and.reduce([np.isfinite(est[p]) for p in params])
    usable = (given == OK) | (given == BOUNDARY)
    nonfinite = usable & ~finite
    status = np.where(given == -1, np.where(finite, OK, NOT_CONVERGED), given)
    status[nonfinite] = NOT_CONVERGED

    _check_duplicates(labels, n, rep, rows)
    order = list(dict.fromkeys(labels.tolist()))
    sizes = sorted(set(n.tolist()))
    reps = _check_pairing(labels, n, rep, order, sizes, rows)

    k = len(params)
    ext = ExternalTable(source=source, format=fmt, sha256=sha256, rows=len(frame),
                        columns=columns, labels=order, sizes=sizes,
                        replications=reps)  # fmt: skip
    slots = k + len(corr_cols)
    for size in sizes:
        at_n = n == size
        for label in order:
            idx = np.flatnonzero(at_n & (labels == label))
            idx = idx[np.argsort(rep[idx], kind="stable")]
            values = np.full((reps, slots), np.nan)
            for q, p in enumerate(params):
                if p in se:
                    values[:, q] = se[p][idx]
            for q, c in enumerate(corr_cols, start=k):
                if c in corr:
                    values[:, q] = corr[c][idx]
            ext.blocks[(label, size)] = {
                "estimates": np.column_stack([est[p][idx] for p in params]),
                "se": values,
                "status": status[idx],
            }
            ext.nonfinite[(label, size)] = int(nonfinite[idx].sum())
    return ext


def _shown(value) -> str:
    """A table value as a message shows it: text quoted, numbers plain."""
    if isinstance(value, (bool, np.bool_)):
        return repr(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    return repr(value if isinstance(value, str) else str(value))


def _more(count: int, what: str = "rows") -> str:
    return f" ({count - 1} more {what} like it)" if count > 1 else ""


def _as_numbers(series) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(float values, missing, not a number) of a column: numbers as they are, text parsed
    (``inf``, ``1e-3``; the :data:`NA_TOKENS` are missing)."""
    from pandas.api import types

    if types.is_numeric_dtype(series) and not types.is_bool_dtype(series):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return values, np.isnan(values), np.zeros(values.size, dtype=bool)
    text = series.astype(str).str.strip()
    missing = (series.isna() | text.str.lower().isin(NA_TOKENS)).to_numpy()
    values = pd.to_numeric(text.where(~missing), errors="coerce").to_numpy(dtype=np.float64)
    return values, missing, np.isnan(values) & ~missing


def _numbers(series, col: str, rows: _Rows, what: str, *, nonnegative: bool = False) -> np.ndarray:
    values, _, bad = _as_numbers(series)
    if bad.any():
        i = int(np.argmax(bad))
        raise StudyConfigError(
            f"{rows.at(i)}: {col} = {_shown(series.iloc[i])} is not a number{_more(int(bad.sum()))}; "
            f"give {what}"
        )
    if nonnegative:
        negative = values < 0
        if negative.any():
            i = int(np.argmax(negative))
            raise StudyConfigError(
                f"{rows.at(i)}: {col} = {_shown(series.iloc[i])} is negative"
                f"{_more(int(negative.sum()))}; give {what}"
            )
    return values


def _whole(series, col: str, rows: _Rows, what: str, *, minimum: int | None = None) -> np.ndarray:
    values, missing, bad = _as_numbers(series)
    if missing.any():
        i = int(np.argmax(missing))
        raise StudyConfigError(
            f"{rows.at(i)}: {col} is empty{_more(int(missing.sum()))}; every row needs {col}, "
            f"{what} (a whole number)"
        )
    with np.errstate(invalid="ignore"):
        fractional = bad | ~np.isfinite(values) | (values != np.round(values))
    if fractional.any():
        i = int(np.argmax(fractional))
        raise StudyConfigError(
            f"{rows.at(i)}: {col} = {_shown(series.iloc[i])} is not a whole number"
            f"{_more(int(fractional.sum()))}; {col} is {what}, e.g. 100"
        )
    if minimum is not None and (values < minimum).any():
        low = values < minimum
        i = int(np.argmax(low))
        raise StudyConfigError(
            f"{rows.at(i)}: {col} = {_shown(series.iloc[i])} must be >= {minimum}"
            f"{_more(int(low.sum()))}; {col} is {what}"
        )
    return values.astype(np.int64)


def _labels(series, rows: _Rows) -> np.ndarray:
    text = series.astype(str).str.strip()
    missing = (series.isna() | text.str.lower().isin(NA_TOKENS)).to_numpy()
    if missing.any():
        i = int(np.argmax(missing))
        raise StudyConfigError(
            f"{rows.at(i)}: estimator is empty{_more(int(missing.sum()))}; every row names "
            "the estimator that made it (a label such as mle)"
        )
    return text.to_numpy(dtype=object).astype(str)


def _statuses(series, rows: _Rows) -> np.ndarray:
    """Status codes (-1 where the table leaves the status empty)."""
    text = series.astype(str).str.strip().str.lower()
    missing = (series.isna() | text.isin(NA_TOKENS)).to_numpy()
    codes = text.map(STATUS_BY_NAME)
    numeric = pd.to_numeric(text.where(codes.isna() & ~missing), errors="coerce")
    whole = numeric.where(numeric.isin(list(STATUS_CODES)))
    codes = codes.fillna(whole).to_numpy(dtype=np.float64)
    bad = np.isnan(codes) & ~missing
    if bad.any():
        i = int(np.argmax(bad))
        allowed = ", ".join(f"{name} ({code})" for code, name in STATUS_CODES.items())
        raise StudyConfigError(
            f"{rows.at(i)}: status = {_shown(series.iloc[i])} is not a fit status"
            f"{_more(int(bad.sum()))}; give one of {allowed}, or leave it empty (a finite "
            "estimate is then ok, a missing one not_converged)"
        )
    return np.where(missing, -1, np.nan_to_num(codes, nan=-1)).astype(np.int64)


def _check_duplicates(labels, n, rep, rows: _Rows) -> None:
    keys = pd.DataFrame({"label": labels, "n": n, "rep": rep})
    dup = keys.duplicated(keep=False).to_numpy()
    if not dup.any():
        return
    i = int(np.argmax(dup))
    j = int(np.flatnonzero((labels == labels[i]) & (n == n[i]) & (rep == rep[i]))[1])
    extra = int(keys.duplicated().sum())
    raise StudyConfigError(
        f"{rows.pair(i, j)}: estimator {str(labels[i])!r}, n={n[i]}, rep {rep[i]} appears twice"
        f"{_more(extra, 'repeated rows')}; keep one row per estimator, n and rep"
    )


def _check_pairing(labels, n, rep, order, sizes, rows: _Rows) -> int:
    """R, after checking that every estimator has the same rep ids (at least 2) at every n and
    that every n has the same number of them."""
    source = rows.source
    per_n = {}
    for size in sizes:
        at_n = n == size
        for label in order:
            mine = np.flatnonzero(at_n & (labels == label))
            if mine.size == 0:
                other = next(x for x in order if (at_n & (labels == x)).any())
                raise StudyConfigError(
                    f"{source}: estimator {label!r} has no rows at n={size} (estimator "
                    f"{other!r} has {int((at_n & (labels == other)).sum())}); every estimator "
                    f"needs rows at every n of the table ({', '.join(map(str, sizes))}): add its "
                    f"rows (status not_converged for failed fits) or drop n={size} for every "
                    "estimator"
                )
            if mine.size < 2:
                raise StudyConfigError(
                    f"{rows.at(int(mine[0]))}: estimator {label!r} has only 1 replication at "
                    f"n={size}; give at least 2 replications per estimator and n (a study's "
                    "replications are >= 2, and the Monte Carlo SEs shrink only as 1/sqrt(R))"
                )
        union = np.unique(rep[at_n])
        for label in order:
            lacking = np.setdiff1d(union, rep[at_n & (labels == label)])
            if lacking.size:
                r = lacking[0]
                other = int(np.flatnonzero(at_n & (rep == r))[0])
                raise StudyConfigError(
                    f"{rows.at(other)}: rep {r} of n={size} has a row for estimator "
                    f"{str(labels[other])!r} but none for {label!r}"
                    f"{_more(int(lacking.size), 'reps missing for it at this n')}; the "
                    "estimators of one n are paired by rep (the fits of one replication), so "
                    "each needs the same rep ids: add the missing row (with status "
                    f"not_converged if that fit failed) or remove rep {r} of n={size} for every "
                    "estimator"
                )
        per_n[size] = int(union.size)
    counts = sorted(set(per_n.values()))
    if len(counts) > 1:
        (n1, r1), (n2, r2) = next(
            ((a, per_n[a]), (b, per_n[b])) for a in sizes for b in sizes if per_n[a] != per_n[b]
        )
        raise StudyConfigError(
            f"{source}: n={n1} has {r1} replications per estimator but n={n2} has {r2}; every n "
            "needs the same number of replications R (a study's replications): add the missing "
            "replications or drop the extra ones"
        )
    return counts[0]


def _parse_expect(expect, labels, reference, theta, names: _Names) -> dict[str, Any]:
    """A study's ``expect:`` mapping, from a mapping, a YAML file or inline YAML, checked
    against the table's estimators and the model's parameters (:func:`config.expect_problems`)."""
    from pydantic import ValidationError

    from simstudy.config import ModelEntry, _duplicate_keys, _format_validation, expect_problems

    if expect is None:
        return {}
    source, text = names.expect, None
    if isinstance(expect, Mapping):
        data = expect
    elif isinstance(expect, (str, Path)):
        candidate = Path(expect)
        looks_inline = isinstance(expect, str) and ("\n" in expect or expect.lstrip()[:1] in "{[")
        if not looks_inline and candidate.is_file():
            try:
                text = candidate.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError) as exc:
                raise StudyConfigError(
                    f"{names.expect}: {candidate}: cannot read ({exc}); give a readable UTF-8 "
                    "YAML file"
                ) from None
            source = str(candidate)
        elif isinstance(expect, Path):
            raise StudyConfigError(f"{names.expect}: {expect}: no such file")
        else:
            text = expect
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"{source}:{mark.line + 1}" if mark is not None and text is not expect else source
            problem = getattr(exc, "problem", None) or str(exc)
            raise StudyConfigError(
                f"{where}: malformed YAML: {problem}; give a mapping of estimators to "
                "expectations, e.g. '{mom: {efficient: fail}}'"
            ) from None
        duplicates = list(_duplicate_keys(yaml.compose(text)))
        if duplicates:
            path, first, line = duplicates[0]
            raise StudyConfigError(
                f"{source}:{line}: key {path[-1]!r} appears twice (lines {first} and {line}); "
                "keep one of them"
            )
        if data is None:
            data = {}
    else:
        data = expect
    if not isinstance(data, Mapping):
        raise StudyConfigError(
            f"{names.expect}: {expect!r} is neither a YAML file nor a YAML mapping of the "
            "table's estimators to their expected verdicts, such as '{mom: {efficient: fail}}' "
            "(the form of a study's expect:)"
        )
    locator = _ExpectLocator(source, text if source != names.expect else None)
    entry_data = {**reference, "params": theta, "estimators": list(labels), "expect": dict(data)}
    try:
        entry = ModelEntry.model_validate(entry_data)
    except ValidationError as exc:
        raise StudyConfigError(_format_validation(exc, entry_data, locator)) from None
    problems = list(expect_problems(entry, list(theta)))
    if problems:
        raise StudyConfigError("\n".join(locator.message(path, msg) for path, msg in problems))
    return entry.model_dump(mode="json")["expect"]


class _ExpectLocator:
    """Messages for ``--expect`` key paths: ``FILE:LINE: mom.efficient: ...`` (the file holds
    the expect mapping itself, so a path's leading ``expect`` is dropped)."""

    def __init__(self, source: str, text: str | None):
        from simstudy.config import _Locator

        self.source = source
        self._locator = _Locator(source, text)

    def message(self, path: tuple, text: str) -> str:
        from simstudy.config import format_path

        inner = path[1:] if path[:1] == ("expect",) else path
        line = self._locator.line(inner) if self._locator.root is not None else None
        where = f"{self.source}:{line}" if line else self.source
        return f"{where}: {format_path(inner)}: {text}"


# ---- the results folder -------------------------------------------------------------------


def _study_config(name, ext: ExternalTable, reference, theta, expect, checks, report) -> StudyConfig:
    """The normalized study the folder's study.yaml holds (see the module docstring)."""
    entry: dict[str, Any] = {**reference, "params": dict(theta), "estimators": list(ext.labels)}
    if expect:
        entry["expect"] = expect
    data: dict[str, Any] = {
        "name": name,
        "aim": (f"estimates computed elsewhere, read from {ext.source} ({ext.rows:,} rows) by "
                "simstudy analyse; no samples were drawn"),
        "seed": 0,
        "replications": ext.replications,
        "sample_sizes": list(ext.sizes),
        "models": [entry],
    }
    if checks is not None:
        data["checks"] = checks.model_dump() if hasattr(checks, "model_dump") else checks
    if isinstance(report, Mapping):
        data["report"] = dict(report)
    elif not isinstance(report, bool):
        raise StudyConfigError(
            f"report: {report!r}: give True (write the report), False (metrics and verdicts "
            "only) or a study's report: options such as {'figures': ['bias'], 'cells': []}"
        )
    return parse_config(data, source="analyse", check_models=False)


def _previous_manifest(root: Path, cfg: StudyConfig) -> dict[str, Any]:
    """The manifest of the folder's previous analysis ({} if none); a folder that holds a
    simulated study, or another study, is refused."""
    old = Store(root).read_manifest()
    if old and not old.get("external"):
        raise StoreError(
            f"{root} holds the study {old.get('study')!r} computed by `simstudy run`, not "
            "estimates read from a table; give another --out or --name to keep it"
        )
    stored = root / "study.yaml"
    if stored.is_file():
        try:
            name = (yaml.safe_load(stored.read_text()) or {}).get("name")
        except (yaml.YAMLError, AttributeError, OSError):
            name = None
        if name not in (None, cfg.name):
            raise StoreError(f"{root} holds study {name!r}, not {cfg.name!r}; use another --out")
    return old


def _plan(cfg: StudyConfig, model: Model, theta, ext: ExternalTable, reference):
    """A :class:`simstudy.plan.Plan` of the table's cells, keyed by the table's contents."""
    from simstudy.plan import Cell, EstimatorPlan, Plan, _digest, result_key, theta_json

    tj = theta_json(model, theta)
    cells = []
    for size in ext.sizes:
        key = _digest({"external": ext.sha256, **reference, "theta": tj, "n": size})
        estimators = tuple(
            EstimatorPlan(label=label, fit=None, version=EXTERNAL_VERSION,
                          source=f"table {ext.source}",
                          result_key=result_key(key, label, EXTERNAL_VERSION),
                          origin=f"{ext.source}: estimator {label!r}")
            for label in ext.labels
        )  # fmt: skip
        cells.append(Cell(0, model, dict(theta), size, key, estimators, cfg.seed))
    return Plan(cfg, tuple(cells), ext.replications)


def _write_blocks(store: Store, plan, ext: ExternalTable) -> None:
    """One block per (estimator, n), with the columns the engine's blocks have."""
    from simstudy.engine import BlockResult
    from simstudy.executors._tasks import block_table

    reps = ext.replications
    for cell in plan.cells:
        parts = [ext.blocks[(e.label, cell.n)] for e in cell.estimators]
        result = BlockResult(
            start=0, stop=reps,
            estimates=np.stack([p["estimates"] for p in parts]),
            se=np.stack([p["se"] for p in parts]),
            lr_stat=np.full((len(parts), reps), np.nan),
            status=np.stack([p["status"] for p in parts]),
            n_iter=np.zeros((len(parts), reps), dtype=np.int64),
        )  # fmt: skip
        for j, est in enumerate(cell.estimators):
            store.write_block(est.result_key, 0, reps, block_table(cell, result, j))


def _external_manifest(plan, store: Store, summary, ext: ExternalTable, old, reference):
    from simstudy.study import _manifest

    config_dir = str(Path.cwd()) if "plugin" in reference else None
    manifest = _manifest(plan, store, {}, summary, config_dir)
    for cell in manifest["cells"]:
        cell["key1"] = None  # no random stream: nothing was sampled
    manifest["rng"] = {
        "scheme": "none: estimates read from a table by simstudy analyse, no samples drawn",
        "key": None,
        "replay": None,
    }
    manifest["external"] = {
        "table": ext.source,
        "format": ext.format,
        "sha256": ext.sha256,
        "rows": ext.rows,
        "columns": ext.columns,
    }
    runs = manifest["runs"]
    if (old.get("external") or {}).get("sha256") != ext.sha256:
        runs = runs[-1:]  # the analyses of another table are not this folder's history
    runs[-1] = {
        "finished": runs[-1]["finished"],
        "wall_seconds": summary.wall_seconds,
        "analysed": f"{ext.rows:,} rows of {ext.source}",
    }
    manifest["runs"] = runs
    return manifest


def _stale_keys(old, plan) -> set[str] | None:
    """The result keys of the folder's previous analysis that this one does not have, or None
    when the folder held no analysis or one of the same table, model and θ."""
    if not old:
        return None
    new = {e.result_key for c in plan.cells for e in c.estimators}
    previous = {info["result_key"] for c in old.get("cells", []) for info in c["estimators"].values()}
    return previous - new if previous != new else None


#: What an analysis derives from the stored replicates (removed when the table changes).
DERIVED = ("metrics.parquet", "metrics.csv", "verdicts.json", "verdicts.csv", "report.md",
           "report.html", "tables", "figures")  # fmt: skip


def _remove_derived(root: Path) -> None:
    """Remove the metrics, verdicts and report of the folder's previous table, so the folder
    never shows the analysis of other estimates (not even if this one stops half-way)."""
    import shutil

    for name in DERIVED:
        path = root / name
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink(missing_ok=True)
