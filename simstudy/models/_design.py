"""Covariate designs of the regression models: declaration, kernel encoding, NumPy oracle.

A design (``design: {intercept: true, covariates: [{dist: normal, mean: 0, sd: 1},
{dist: bernoulli, p: 0.4}]}``) says how each replication draws its covariates: independently
per observation, column by column, from sub-stream 1 of the replication's Philox stream (the
response uses sub-stream 0). The sample buffer holds rows (y, x_0, ..., x_{p-1}) where x_0 = 1
when there is an intercept, so estimators need no design flags.

The kernel sees the design as a float array: [p, intercept, then (code, a, b) per covariate]
with codes 0 normal(mean=a, sd=b), 1 bernoulli(p=a), 2 uniform(low=a, high=b).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from simstudy import rng
from simstudy._jit import jit

NORMAL, BERNOULLI, UNIFORM = 0, 1, 2
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


def covariate_generator(gen: np.random.Generator) -> np.random.Generator:
    """The covariates' NumPy generator (sub-stream 1) of the replication whose fresh response
    generator (sub-stream 0) is ``gen``; call it before ``gen`` draws anything."""
    state = gen.bit_generator.state["state"]
    counter = np.array(state["counter"], dtype=np.uint64)
    counter[3] = COVARIATE_SUBSTREAM
    return np.random.Generator(np.random.Philox(key=np.array(state["key"], dtype=np.uint64), counter=counter))


def design_from_spec(spec) -> Design:
    """A :class:`Design` from the config's ``design:`` block (or a plain dict)."""
    if spec is None:
        return DEFAULT_DESIGN
    data = spec if isinstance(spec, dict) else spec.model_dump()
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
def draw_covariates(state, design, out, n, width):
    """Fill columns 1.. of the row-major buffer ``out`` (n rows of ``width``) with covariates
    from a sub-stream of ``state``'s replication, column by column as :meth:`Design.draw_numpy`.
    """
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
