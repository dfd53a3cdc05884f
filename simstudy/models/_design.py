"""Covariate designs of the regression models: declaration, kernel encoding, NumPy oracle.

Two kinds of design give the covariates x of observation i:

- **random** (``design: {intercept: true, covariates: [{dist: normal, mean: 0, sd: 1},
  {dist: bernoulli, p: 0.4}]}``, :class:`Design`): each replication draws its covariates
  independently per observation, column by column, from sub-stream 1 of the replication's
  Philox stream (the response uses sub-stream 0). The Fisher information is the expectation
  E[w(η) x xᵀ] over the covariate distribution, the same at every n.
- **fixed** (``design: {file: design.csv, columns: [age, dose], intercept: true}``,
  :class:`FixedDesign`): the rows of a CSV or Parquet file, the same in every replication
  (inference conditional on X). Observation i uses file row i mod N, so n ≤ N takes the first
  n rows and a larger n recycles the file. The per-observation Fisher information at n is
  exact, (1/n) Σ_{i<n} w(η_i) x_i x_iᵀ, and depends on n; its limit (n a multiple of N) is
  the average over the file's rows.

The sample buffer holds rows (y, x_0, ..., x_{p-1}) where x_0 = 1 when there is an intercept,
so estimators need no design flags.

The kernel sees the design as a float array [p, intercept, ...]: for a random design
(code, a, b) per covariate with codes 0 normal(mean=a, sd=b), 1 bernoulli(p=a),
2 uniform(low=a, high=b); for a fixed design [FIXED, N, q, then the N × q file values row by
row].
"""

from __future__ import annotations

import functools
import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from simstudy import rng
from simstudy._jit import jit

NORMAL, BERNOULLI, UNIFORM = 0, 1, 2
#: Kernel code of a fixed design (in place of the first covariate code).
FIXED = -1
#: File suffixes a fixed design may be read from.
DESIGN_FILE_SUFFIXES = {".csv": "CSV", ".parquet": "Parquet", ".pq": "Parquet"}
_CODES = {"normal": NORMAL, "bernoulli": BERNOULLI, "uniform": UNIFORM}
#: Sub-stream of the covariates (the response uses sub-stream 0).
COVARIATE_SUBSTREAM = 1
#: Draws of the Monte Carlo Fisher information, where no closed form exists.
FISHER_DRAWS = 1_000_000


@dataclass(frozen=True)
class Covariate:
    dist: str
    a: float
    b: float

    @property
    def mean(self) -> float:
        return {"normal": self.a, "bernoulli": self.a, "uniform": 0.5 * (self.a + self.b)}[self.dist]

    @property
    def second_moment(self) -> float:
        if self.dist == "normal":
            return self.b**2 + self.a**2
        if self.dist == "bernoulli":
            return self.a
        return (self.a**2 + self.a * self.b + self.b**2) / 3.0


@dataclass(frozen=True)
class Design:
    """Intercept flag and independent covariate distributions."""

    intercept: bool
    covariates: tuple[Covariate, ...]

    @property
    def p(self) -> int:
        """Columns of X (including the intercept column)."""
        return int(self.intercept) + len(self.covariates)

    def coefficient_names(self) -> list[str]:
        start = 0 if self.intercept else 1
        return [f"b{j}" for j in range(start, start + self.p)]

    def encode(self) -> np.ndarray:
        out = [float(self.p), float(self.intercept)]
        for c in self.covariates:
            out += [float(_CODES[c.dist]), c.a, c.b]
        return np.array(out, dtype=np.float64)

    def second_moments_at(self, n: int) -> np.ndarray:
        """E[x xᵀ] per observation at sample size n: the same at every n for a random design."""
        return self.second_moments()

    def second_moments(self) -> np.ndarray:
        """E[x xᵀ] per observation (independent covariates)."""
        means = ([1.0] if self.intercept else []) + [c.mean for c in self.covariates]
        second = ([1.0] if self.intercept else []) + [c.second_moment for c in self.covariates]
        m = np.outer(means, means)
        np.fill_diagonal(m, second)
        return m

    def draw_numpy(self, gen: np.random.Generator, n: int) -> np.ndarray:
        """The covariates (n, p) exactly as the kernel draws them (gen: sub-stream 1)."""
        cols = [np.ones(n)] if self.intercept else []
        for c in self.covariates:
            if c.dist == "normal":
                cols.append(gen.normal(c.a, c.b, n))
            elif c.dist == "bernoulli":
                cols.append((gen.random(n) < c.a).astype(np.float64))
            else:
                cols.append(gen.uniform(c.a, c.b, n))
        return np.column_stack(cols) if cols else np.zeros((n, 0))

    def describe(self) -> str:
        parts = (["intercept"] if self.intercept else []) + [
            f"{c.dist}({c.a:g}" + (f", {c.b:g})" if c.dist != "bernoulli" else ")")
            for c in self.covariates
        ]
        return " + ".join(parts)


class DesignFileError(ValueError):
    """A fixed design file that cannot be used (missing, unreadable, non-numeric, ...)."""


@dataclass(frozen=True, eq=False)
class FixedDesign:
    """Covariate rows read from a file, the same in every replication; observation i uses
    file row i mod N (see the module docstring). Equality and hashing go by content."""

    intercept: bool
    #: the file's covariate columns (N × q, float64, read-only)
    matrix: np.ndarray = field(repr=False)
    columns: tuple[str, ...]
    #: the file name (for descriptions; the content digest identifies the design)
    source: str
    #: SHA-256 of the columns' names and values
    digest: str

    def __eq__(self, other) -> bool:
        return isinstance(other, FixedDesign) and (self.intercept, self.digest) == (
            other.intercept, other.digest,
        )  # fmt: skip

    def __hash__(self) -> int:
        return hash((self.intercept, self.digest))

    @property
    def p(self) -> int:
        """Columns of X (including the intercept column)."""
        return int(self.intercept) + len(self.columns)

    @property
    def rows_in_file(self) -> int:
        return int(self.matrix.shape[0])

    def coefficient_names(self) -> list[str]:
        start = 0 if self.intercept else 1
        return [f"b{j}" for j in range(start, start + self.p)]

    def encode(self) -> np.ndarray:
        """The kernel's design array (built once: every block of every cell passes it)."""
        return self._encoded

    @functools.cached_property
    def _encoded(self) -> np.ndarray:
        head = [float(self.p), float(self.intercept), float(FIXED), float(self.rows_in_file),
                float(len(self.columns))]  # fmt: skip
        return np.concatenate([np.array(head), self.matrix.ravel()])

    def rows(self, n: int) -> np.ndarray:
        """X of a sample of size n (n × p): file rows 0..n-1, recycled, after the intercept."""
        x = self.matrix[np.arange(n) % self.rows_in_file]
        return np.column_stack([np.ones(n), x]) if self.intercept else np.array(x)

    def second_moments_at(self, n: int) -> np.ndarray:
        """(1/n) X_nᵀ X_n: the per-observation E[x xᵀ] of a sample of size n."""
        x = self.rows(n)
        return x.T @ x / n

    def second_moments(self) -> np.ndarray:
        """The limit of (1/n) X_nᵀ X_n: the average over the file's rows."""
        return self.second_moments_at(self.rows_in_file)

    def draw_numpy(self, gen: np.random.Generator, n: int) -> np.ndarray:
        """The covariates (n, p) as the kernel writes them (nothing is drawn from ``gen``)."""
        return self.rows(n)

    def describe(self) -> str:
        cols = ", ".join(self.columns)
        return (("intercept + " if self.intercept else "") + f"{self.source}[{cols}] "
                f"({self.rows_in_file} fixed rows, sha256 {self.digest[:12]})")  # fmt: skip


def read_design_file(path: str | Path, columns=None, *, intercept: bool = True) -> FixedDesign:
    """A :class:`FixedDesign` from a CSV or Parquet file (all columns unless ``columns``);
    raises :class:`DesignFileError` saying what is wrong and how to fix it."""
    path = Path(path)
    try:
        stat = path.stat()
    except OSError:
        raise DesignFileError(
            f"design file {str(path)!r} does not exist; give the path of a CSV or Parquet file "
            "(relative paths are relative to the study YAML file)"
        ) from None
    return _read_design_file(str(path.resolve()), stat.st_mtime_ns, stat.st_size,
                             tuple(columns) if columns else None, bool(intercept))  # fmt: skip


@functools.lru_cache(maxsize=16)
def _read_design_file(path: str, mtime_ns: int, size: int, columns, intercept: bool):
    """The cached reader behind :func:`read_design_file` (keyed by path, mtime and size)."""
    import pandas as pd

    suffix = Path(path).suffix.lower()
    if suffix not in DESIGN_FILE_SUFFIXES:
        raise DesignFileError(
            f"design file {path!r}: unknown format {suffix or '(no suffix)'!r}; use a .csv or "
            ".parquet file"
        )
    try:
        frame = pd.read_csv(path) if suffix == ".csv" else pd.read_parquet(path)
    except Exception as exc:  # noqa: BLE001 -- any reader failure is a bad file, said as such
        raise DesignFileError(
            f"design file {path!r}: cannot be read as {DESIGN_FILE_SUFFIXES[suffix]} "
            f"({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); check "
            "the file"
        ) from None
    names = [str(c) for c in frame.columns]
    if columns is None:
        columns = tuple(names)
    missing = [c for c in columns if c not in names]
    if missing:
        raise DesignFileError(
            f"design file {path!r} has no column {', '.join(map(repr, missing))}; its columns "
            f"are {', '.join(names) or '(none)'}"
        )
    if not columns:
        raise DesignFileError(f"design file {path!r} has no columns; give covariate columns")
    if len(frame) == 0:
        raise DesignFileError(f"design file {path!r} has no rows; give at least one row")
    frame = frame.loc[:, list(columns)]
    for name in columns:
        col = frame[name]
        if col.dtype == bool:
            continue
        if not pd.api.types.is_numeric_dtype(col):
            text = (pd.to_numeric(col, errors="coerce").isna() & col.notna()).to_numpy()
            row = int(np.argmax(text)) if text.any() else 0
            raise DesignFileError(
                f"design file {path!r}: column {name!r} is not numeric (data row {row + 1} is "
                f"{col.iloc[row]!r}); encode categories as 0/1 columns or drop the column with "
                "'columns: [...]'"
            )
    matrix = frame.to_numpy(dtype=np.float64, copy=True)
    bad = np.argwhere(~np.isfinite(matrix))
    if bad.size:
        r, c = bad[0]
        raise DesignFileError(
            f"design file {path!r}: column {columns[c]!r}, data row {r + 1} is "
            f"{float(matrix[r, c])} ({len(bad)} non-finite value(s) in all); fill or drop those "
            "rows"
        )
    matrix = np.ascontiguousarray(matrix)
    matrix.setflags(write=False)
    digest = hashlib.sha256(repr(tuple(columns)).encode() + matrix.tobytes()).hexdigest()
    return FixedDesign(intercept, matrix, tuple(columns), Path(path).name, digest)


def covariate_generator(gen: np.random.Generator) -> np.random.Generator:
    """The covariates' NumPy generator (sub-stream 1) of the replication whose fresh response
    generator (sub-stream 0) is ``gen``; call it before ``gen`` draws anything."""
    state = gen.bit_generator.state["state"]
    counter = np.array(state["counter"], dtype=np.uint64)
    counter[3] = COVARIATE_SUBSTREAM
    return np.random.Generator(np.random.Philox(key=np.array(state["key"], dtype=np.uint64), counter=counter))


def design_from_spec(spec) -> Design | FixedDesign:
    """The design of a config's ``design:`` block (or a plain dict; a design passes through):
    a :class:`FixedDesign` when it names a ``file`` (loading the config made it absolute;
    a relative path here is relative to the working directory), else a random
    :class:`Design`."""
    if spec is None:
        return DEFAULT_DESIGN
    if isinstance(spec, (Design, FixedDesign)):
        return spec
    data = spec if isinstance(spec, dict) else spec.model_dump()
    if data.get("file") is not None:
        return read_design_file(Path(data["file"]).expanduser(), data.get("columns"),
                                intercept=data.get("intercept", True))  # fmt: skip
    covs = []
    for c in data.get("covariates", ()):
        dist = c["dist"]
        if dist == "normal":
            covs.append(Covariate("normal", float(c.get("mean", 0.0)), float(c.get("sd", 1.0))))
        elif dist == "bernoulli":
            covs.append(Covariate("bernoulli", float(c["p"]), 0.0))
        else:
            covs.append(Covariate("uniform", float(c.get("low", 0.0)), float(c.get("high", 1.0))))
    return Design(bool(data.get("intercept", True)), tuple(covs))


#: Used when a regression entry gives no design, and by the generic model tests.
DEFAULT_DESIGN = Design(True, (Covariate("normal", 0.0, 1.0), Covariate("bernoulli", 0.4, 0.0)))


@jit(inline="always")
def substream_of(out, state, substream):
    """Initialise ``out`` as sub-stream ``substream`` of ``state``'s replication (same key and
    replication index: counter [0, 0, rep, substream])."""
    rng.init_stream(out, state[rng._KEY], state[rng._KEY + 1], state[rng._CTR + 2], substream)


@jit(inline="always")
def copy_fixed_rows(design, out, n, width):
    """Fill columns 1.. of ``out`` with a fixed design's rows: file row i mod N for row i."""
    col = 1
    if design[1] != 0.0:
        for i in range(n):
            out[i * width + col] = 1.0
        col += 1
    rows = int(design[3])
    q = int(design[4])
    for i in range(n):
        base = 5 + (i % rows) * q
        for j in range(q):
            out[i * width + col + j] = design[base + j]


@jit(inline="always")
def covariate_rows(state, design, out):
    """Fill the covariate columns of a regression sample buffer ``out`` (rows (y, x...)) and
    return (p, width, n): the regression sample kernels' common first step."""
    p = int(design[0])
    width = p + 1
    n = out.size // width
    draw_covariates(state, design, out, n, width)
    return p, width, n


@jit(inline="always")
def draw_covariates(state, design, out, n, width):
    """Fill columns 1.. of the row-major buffer ``out`` (n rows of ``width``) with covariates
    from a sub-stream of ``state``'s replication, column by column as :meth:`Design.draw_numpy`
    (or copy a fixed design's rows).
    """
    if design.size > 2 and design[2] == FIXED:
        copy_fixed_rows(design, out, n, width)
        return
    sub = np.empty(rng.STATE_SIZE, dtype=np.uint64)
    substream_of(sub, state, COVARIATE_SUBSTREAM)
    col = 1
    if design[1] != 0.0:
        for i in range(n):
            out[i * width + col] = 1.0
        col += 1
    n_cov = (design.size - 2) // 3
    for j in range(n_cov):
        code = design[2 + 3 * j]
        a = design[3 + 3 * j]
        b = design[4 + 3 * j]
        for i in range(n):
            if code == NORMAL:
                value = a + b * rng.standard_normal(sub)
            elif code == BERNOULLI:
                value = 1.0 if rng.next_double(sub) < a else 0.0
            else:
                value = a + (b - a) * rng.next_double(sub)
            out[i * width + col] = value
        col += 1


@jit(inline="always")
def linear_predictor(out, i, width, theta):
    """η_i = Σ_j x_ij β_j over row i (columns in order: the NumPy oracle sums the same way)."""
    eta = 0.0
    for j in range(width - 1):
        eta += out[i * width + 1 + j] * theta[j]
    return eta


def linear_predictor_numpy(x: np.ndarray, beta: np.ndarray) -> np.ndarray:
    """Σ_j x_j β_j column by column in the kernel's order (not BLAS, whose order differs)."""
    eta = np.zeros(x.shape[0])
    for j in range(x.shape[1]):
        eta = eta + x[:, j] * beta[j]
    return eta


def exact_exp(values: np.ndarray) -> np.ndarray:
    """exp element by element with the C library's exp, as the kernels compute it: NumPy's
    vectorised exp may differ in the last bit, which would break replay bit-identity."""
    return np.array([math.exp(v) for v in values], dtype=np.float64)
