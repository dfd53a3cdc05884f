"""Item 1 -- sampling at the limit: in-kernel draws per second of every variate the models use,
against NumPy's ``Generator(PCG64)`` filling an array of the same size, one thread each.

The kernel side is a jitted loop writing ``rng.<variate>(state, ...)`` into a float64 array from
one Philox stream (state buffer and inlined variates exactly as in the models' ``sample``
kernels; the models only add an affine transform). The array (2^16 doubles, 512 KiB) stays in
L2 cache on both sides, so the rate measured is that of the generator, not of DRAM; each timing
sample refills it until ``min_time`` has passed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bench.timing import interleaved
from simstudy import rng
from simstudy._jit import jit

# ---------------------------------------------------------------------------------------------
# Kernel fills: one small loop per variate (a direct call, so the variate is inlined as in the
# models; a variate passed as a function argument would not be).
# ---------------------------------------------------------------------------------------------


@jit
def _fill_normal(state, out, a, b):
    for i in range(out.size):
        out[i] = rng.standard_normal(state)


@jit
def _fill_exponential(state, out, a, b):
    for i in range(out.size):
        out[i] = rng.standard_exponential(state)


@jit
def _fill_gamma(state, out, a, b):
    for i in range(out.size):
        out[i] = rng.standard_gamma(state, a)


@jit
def _fill_poisson(state, out, a, b):
    for i in range(out.size):
        out[i] = float(rng.poisson(state, a))


@jit
def _fill_bernoulli(state, out, a, b):
    for i in range(out.size):
        out[i] = float(rng.bernoulli(state, a))


@jit
def _fill_uniform(state, out, a, b):
    for i in range(out.size):
        out[i] = rng.uniform(state, a, b)


@jit
def _fill_weibull(state, out, a, b):
    for i in range(out.size):
        out[i] = rng.weibull(state, a)


@jit
def _fill_beta(state, out, a, b):
    for i in range(out.size):
        out[i] = rng.beta(state, a, b)


@jit
def _fill_standard_t(state, out, a, b):
    for i in range(out.size):
        out[i] = rng.standard_t(state, a)


@jit
def _fill_cauchy(state, out, a, b):
    for i in range(out.size):
        out[i] = rng.standard_cauchy(state)


@jit
def _fill_laplace(state, out, a, b):
    for i in range(out.size):
        out[i] = rng.laplace(state, a, b)


@jit
def _fill_lognormal(state, out, a, b):
    for i in range(out.size):
        out[i] = rng.lognormal(state, a, b)


@jit
def _fill_negative_binomial(state, out, a, b):
    for i in range(out.size):
        out[i] = float(rng.negative_binomial(state, a, b))


@jit
def _fill_categorical(state, out, cdf, b):
    for i in range(out.size):
        out[i] = float(rng.categorical(state, cdf))


@jit
def _fill_raw(state, out, a, b):
    for i in range(out.size):
        out[i] = rng.next_uint64(state)


_CATEGORICAL_P = np.array([0.2, 0.3, 0.5])


@dataclass(frozen=True)
class Variate:
    """One variate at the parameters a model uses it with."""

    name: str
    rng_function: str  # must exist in simstudy.rng
    kernel: Callable
    numpy: Callable  # (gen, out) -> NumPy's fill of out.size draws
    numpy_label: str
    models: tuple[str, ...]
    a: float = 0.0
    b: float = 0.0

    def kernel_call(self, state, size):
        """A no-argument call filling a buffer of ``size`` (allocated once, here)."""
        dtype = np.uint64 if self.rng_function == "next_uint64" else np.float64
        out = np.empty(size, dtype=dtype)
        a = rng.categorical_cdf(_CATEGORICAL_P) if self.rng_function == "categorical" else self.a
        return lambda: self.kernel(state, out, a, self.b)

    def numpy_call(self, gen, size):
        out = np.empty(size)
        return lambda: self.numpy(gen, out)


#: The bit stream itself: what every variate pays per 64-bit word.
RAW = Variate("raw 64-bit words", "next_uint64", _fill_raw,
              lambda g, o: g.bit_generator.random_raw(o.size), "bit_generator.random_raw(n)",
              ("all",))

VARIATES = (
    Variate("normal", "standard_normal", _fill_normal,
            lambda g, o: g.standard_normal(out=o), "standard_normal(out=x)",
            ("normal", "linear_gaussian", "lognormal", "student_t", "cauchy", "covariates")),
    Variate("exponential", "standard_exponential", _fill_exponential,
            lambda g, o: g.standard_exponential(out=o), "standard_exponential(out=x)",
            ("exponential", "weibull", "gamma(<1)")),
    Variate("gamma(2)", "standard_gamma", _fill_gamma,
            lambda g, o: g.standard_gamma(2.0, out=o), "standard_gamma(2, out=x)",
            ("gamma",), a=2.0),
    Variate("gamma(0.5)", "standard_gamma", _fill_gamma,
            lambda g, o: g.standard_gamma(0.5, out=o), "standard_gamma(0.5, out=x)",
            ("gamma",), a=0.5),
    Variate("poisson(3)", "poisson", _fill_poisson,
            lambda g, o: g.poisson(3.0, o.size), "poisson(3, n)",
            ("poisson", "poisson_regression", "negative_binomial"), a=3.0),
    Variate("poisson(30)", "poisson", _fill_poisson,
            lambda g, o: g.poisson(30.0, o.size), "poisson(30, n)",
            ("poisson", "negative_binomial"), a=30.0),
    Variate("bernoulli(0.3)", "bernoulli", _fill_bernoulli,
            lambda g, o: np.less(g.random(out=o), 0.3), "random(out=x) < 0.3",
            ("bernoulli", "logistic", "covariates"), a=0.3),
    Variate("uniform", "uniform", _fill_uniform,
            lambda g, o: g.uniform(0.0, 2.0, o.size), "uniform(0, 2, n)",
            ("uniform", "covariates"), a=0.0, b=2.0),
    Variate("weibull(1.5)", "weibull", _fill_weibull,
            lambda g, o: g.weibull(1.5, o.size), "weibull(1.5, n)", ("weibull",), a=1.5),
    Variate("beta(2, 3)", "beta", _fill_beta,
            lambda g, o: g.beta(2.0, 3.0, o.size), "beta(2, 3, n)", ("beta",), a=2.0, b=3.0),
    Variate("beta(0.5, 0.5)", "beta", _fill_beta,
            lambda g, o: g.beta(0.5, 0.5, o.size), "beta(0.5, 0.5, n)", ("beta",), a=0.5, b=0.5),
    Variate("student_t(5)", "standard_t", _fill_standard_t,
            lambda g, o: g.standard_t(5.0, o.size), "standard_t(5, n)", ("student_t",), a=5.0),
    Variate("cauchy", "standard_cauchy", _fill_cauchy,
            lambda g, o: g.standard_cauchy(o.size), "standard_cauchy(n)", ("cauchy",)),
    Variate("laplace", "laplace", _fill_laplace,
            lambda g, o: g.laplace(0.0, 1.0, o.size), "laplace(0, 1, n)", ("laplace",),
            a=0.0, b=1.0),
    Variate("lognormal", "lognormal", _fill_lognormal,
            lambda g, o: g.lognormal(0.0, 1.0, o.size), "lognormal(0, 1, n)", ("lognormal",),
            a=0.0, b=1.0),
    Variate("negative_binomial(2, 0.4)", "negative_binomial", _fill_negative_binomial,
            lambda g, o: g.negative_binomial(2.0, 0.4, o.size), "negative_binomial(2, 0.4, n)",
            ("negative_binomial",), a=2.0, b=0.4),
    Variate("categorical(3)", "categorical", _fill_categorical,
            lambda g, o: g.choice(3, o.size, p=_CATEGORICAL_P), "choice(3, n, p=p)",
            ("categorical",)),
)  # fmt: skip

#: The variate whose rate anchors each closed-form cell (item 2) and the study (item 4).
MODEL_VARIATE = {"normal": "normal", "exponential": "exponential", "poisson": "poisson(3)",
                 "bernoulli": "bernoulli(0.3)"}  # fmt: skip


def available(variate: Variate) -> str | None:
    """None if the variate can be measured, else why not (model or rng function missing)."""
    if not hasattr(rng, variate.rng_function):
        return f"simstudy.rng.{variate.rng_function} not available"
    for model in variate.models:
        if model.startswith(("gamma(", "covariates", "all")):
            continue
        try:
            importlib.import_module(f"simstudy.models.{model}")
        except ImportError:
            return f"model not available (simstudy.models.{model})"
    return None


def measure_rates(variates, size: int, repeats: int, min_time: float, philox: bool = True) -> dict:
    """{variate: {"kernel", "numpy" (PCG64), "numpy_philox"?: Stats}} in draws per second."""
    state = np.empty(rng.STATE_SIZE, dtype=np.uint64)
    rng.init_stream(state, np.uint64(20261121), np.uint64(0x243F6A8885A308D3), 0, 0)
    pcg = np.random.Generator(np.random.PCG64(20261121))
    phx = np.random.Generator(np.random.Philox(20261121))
    rates = {}
    for v in variates:
        fns = {"kernel": v.kernel_call(state, size), "numpy": v.numpy_call(pcg, size)}
        if philox:
            fns["numpy_philox"] = v.numpy_call(phx, size)
        secs = interleaved(fns, repeats, min_time)
        rates[v.name] = {k: s.inverted(size) for k, s in secs.items()}
    return rates


def run(cfg) -> tuple[list[dict], dict]:
    """Rows of item 1 and the measured kernel rates (draws/s) by variate name."""
    rows, kernel_rates = [], {}
    todo = []
    for v in (RAW, *VARIATES):
        why = available(v)
        if why:
            rows.append({"section": "sampling", "name": v.name, "models": list(v.models),
                         "status": why})  # fmt: skip
        else:
            todo.append(v)
    rates = measure_rates(todo, cfg.sample_size, cfg.repeats, cfg.min_time)
    for v in todo:
        k, a, p = (rates[v.name][key] for key in ("kernel", "numpy", "numpy_philox"))
        kernel_rates[v.name] = k.median
        rows.append({
            "section": "sampling", "name": v.name, "models": list(v.models), "status": "ok",
            "unit": "draws/s", "value": k.as_dict(),
            "anchor": {"name": f"NumPy Generator(PCG64).{v.numpy_label}", **a.as_dict()},
            "ratio": k.median / a.median, "ratio_meaning": "kernel rate / NumPy PCG64 rate",
            "ratio_range": k.paired_ratio(a),
            "numpy_philox": p.as_dict(), "ratio_vs_numpy_philox": k.median / p.median,
            "size": cfg.sample_size, "is_variate": v is not RAW,
        })  # fmt: skip
    return rows, kernel_rates
