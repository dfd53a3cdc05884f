"""User-defined models from a plugin: ``{plugin: "package.module:MyModel"}`` in a study YAML.

The contract (the minimum; everything else falls back, and says so in the model's tags):

.. code-block:: python

    from simstudy import rng
    from simstudy.models import POSITIVE, Param

    class MyModel:
        name = "my_model"                     # how tables call it
        params = (Param("k", POSITIVE, typical=(0.5, 3.0)), ...)
        start = (1.0, ...)                    # optional: Newton's start (default: typical midpoints)
        support = POSITIVE                    # optional: what simstudy.fit accepts, a Support or
                                              # an Interval (default: finite reals)

        @staticmethod
        @numba.njit(cache=True)
        def logpdf(x, theta):                 # log density of ONE observation (float x)
            ...

        @staticmethod
        @numba.njit(cache=True)
        def sample(state, theta, out):        # fill `out` with draws from simstudy.rng streams
            ...

Fallbacks (the contract asks for little, and every fallback is named in the tags): the score is a central
difference of the log-likelihood (step ε^(1/3)·max(1, |θ_j|)); the per-observation Fisher
information is the Monte Carlo average of the outer product of per-observation scores over
``FISHER_DRAWS`` draws from the model's own sampler (cached per θ; relative error ~sqrt(2/m));
the MLE is a damped Newton-Raphson on the numerical gradient and Hessian from the stated start
(step halving, at most ``MAX_ITER`` iterations, converged when the Newton decrement is below
1e-10·max(1, |ℓ|), after which the last step is taken), with SEs from the numerical observed
information. Replaying a replication
runs the model's own sampler on the replication's stream (bit-identical by construction).
"""

from __future__ import annotations

import functools
import hashlib
import inspect

import numba
import numpy as np

from simstudy import rng
from simstudy._jit import _OPTIONS, fit_kernel
from simstudy.errors import PluginError
from simstudy.models._base import (
    NO_MLE,
    NOT_CONVERGED,
    OK,
    REALS,
    Estimator,
    Interval,
    Model,
    Param,
    Support,
)
from simstudy.models._linalg import cholesky, cholesky_inverse, cholesky_solve

FISHER_DRAWS = 200_000
MAX_ITER = 200
MAX_HALVINGS = 40
NEWTON_TOL = 1e-10


def build_model(obj, reference: str) -> Model:
    """A :class:`Model` from a user's plugin class or module (see the module docstring)."""
    name = getattr(obj, "name", None) or reference.rsplit(":", 1)[1]
    params = tuple(getattr(obj, "params", ()) or ())
    if not params or not all(isinstance(p, Param) for p in params):
        raise PluginError(
            f"plugin model {reference!r}: `params` must be a tuple of simstudy.models.Param "
            "(name, domain, typical range), e.g. (Param('k', POSITIVE, typical=(0.5, 3.0)),)"
        )
    for attr in ("logpdf", "sample"):
        fn = getattr(obj, attr, None)
        if fn is None or not hasattr(fn, "py_func"):
            raise PluginError(
                f"plugin model {reference!r}: `{attr}` is missing or not Numba-jitted; "
                f"decorate it with @numba.njit (see the README, 'Plugin models')"
            )
    logpdf, user_sample = obj.logpdf, obj.sample
    k = len(params)
    start = np.array(
        getattr(obj, "start", None) or [0.5 * (p.typical[0] + p.typical[1]) for p in params],
        dtype=np.float64,
    )
    if start.size != k:
        raise PluginError(f"plugin model {reference!r}: `start` has {start.size} values for {k} parameters")

    support = getattr(obj, "support", None)
    if support is None:
        support = REALS
    elif isinstance(support, Interval):
        support = Support.of_interval(support)
    elif not isinstance(support, Support):
        raise PluginError(
            f"plugin model {reference!r}: `support` must be a simstudy.models.Support (e.g. "
            "Support(0.0) for positive reals, Support.integers(0) for counts) or an Interval "
            f"such as POSITIVE; got {support!r}"
        )

    kernels = _kernels(logpdf, user_sample, start)
    version = hashlib.sha256(
        (inspect.getsource(logpdf.py_func) + inspect.getsource(user_sample.py_func)).encode()
    ).hexdigest()[:16]

    @functools.lru_cache(maxsize=64)
    def _fisher(theta: tuple) -> np.ndarray:
        th = np.array(theta)
        state = np.empty(rng.STATE_SIZE, dtype=np.uint64)
        rng.init_stream(state, np.uint64(0x5EED), np.uint64(0xF15E), 0, 0)
        x = np.empty(FISHER_DRAWS)
        kernels["sample"](state, th, np.zeros(0), x)
        scores = _scores_each(kernels["loglik"], x, th)
        return scores.T @ scores / FISHER_DRAWS

    def fisher(theta, out):
        out[:, :] = _fisher(tuple(float(t) for t in theta))

    def numpy_sample(gen, theta, n, design=None):
        state = gen.bit_generator.state["state"]
        st = np.empty(rng.STATE_SIZE, dtype=np.uint64)
        ctr, key = state["counter"], state["key"]
        rng.init_stream(st, np.uint64(key[0]), np.uint64(key[1]), int(ctr[2]), int(ctr[3]))
        out = np.empty(n)
        kernels["sample"](st, np.ascontiguousarray(theta, dtype=np.float64), np.zeros(0), out)
        return out

    def reference_mle(x):
        from scipy.optimize import minimize

        res = minimize(lambda t: -kernels["loglik"](np.ascontiguousarray(x), t), start,
                       method="Nelder-Mead", options={"xatol": 1e-12, "fatol": 1e-12, "maxiter": 20000})  # fmt: skip
        return res.x

    return Model(
        name=name,
        params=params,
        support=support,
        sample=kernels["sample"],
        loglik=kernels["loglik"],
        score=kernels["score"],
        fisher=fisher,
        estimators={"mle": Estimator("mle", kernels["fit"], "damped Newton on numerical derivatives")},
        numpy_sample=numpy_sample,
        scipy_dist=lambda theta: None,
        reference_mle=reference_mle,
        tags={
            "plugin": reference,
            "plugin_version": version,
            "score": "numerical (central differences)",
            "fisher": f"Monte Carlo, {FISHER_DRAWS} draws",
            "mle": "generic damped Newton on numerical derivatives",
        },
        doc=str(getattr(obj, "__doc__", "") or "").strip().split("\n")[0],
    )


def _kernels(logpdf, user_sample, start):
    """The engine-facing kernels, closing over the user's functions (compiled per process)."""
    k = start.size
    jit = numba.njit(**{**_OPTIONS, "cache": False})

    @jit
    def sample(state, theta, design, out):
        user_sample(state, theta, out)

    @jit
    def loglik(x, theta):
        total = 0.0
        for v in x:
            total += logpdf(v, theta)
        return total

    @jit
    def _step(theta, j):
        return 6.055454452393343e-06 * max(1.0, abs(theta[j]))  # ε^(1/3)

    @jit
    def score(x, theta, out):
        t = theta.copy()
        for j in range(theta.size):
            h = _step(theta, j)
            t[j] = theta[j] + h
            up = loglik(x, t)
            t[j] = theta[j] - h
            down = loglik(x, t)
            t[j] = theta[j]
            out[j] = (up - down) / (2.0 * h)

    @jit
    def hessian(x, theta, out):
        g_up = np.empty(theta.size)
        g_down = np.empty(theta.size)
        t = theta.copy()
        for j in range(theta.size):
            h = _step(theta, j)
            t[j] = theta[j] + h
            score(x, t, g_up)
            t[j] = theta[j] - h
            score(x, t, g_down)
            t[j] = theta[j]
            for i in range(theta.size):
                out[i, j] = (g_up[i] - g_down[i]) / (2.0 * h)
        for i in range(theta.size):
            for j in range(i):
                avg = 0.5 * (out[i, j] + out[j, i])
                out[i, j] = avg
                out[j, i] = avg

    start_vec = start.copy()

    @fit_kernel(cache=False)
    def fit(x, out_theta, out_se):
        theta = start_vec.copy()
        grad = np.empty(k)
        hess = np.empty((k, k))
        ll = loglik(x, theta)
        if not np.isfinite(ll):
            for j in range(k):
                out_theta[j] = np.nan
            return (NO_MLE, 0)
        chol = np.empty((k, k))
        step = np.empty(k)
        for it in range(1, MAX_ITER + 1):
            score(x, theta, grad)
            hessian(x, theta, hess)
            neg = -hess
            # Newton where -H is positive definite, else a gradient step (both then halved).
            try_newton = cholesky(neg, chol)
            if try_newton:
                cholesky_solve(chol, grad, step)
            else:
                step[:] = grad
            decrement = 0.0
            for j in range(k):
                decrement += step[j] * grad[j]
            if try_newton and decrement >= 0.0 and decrement <= NEWTON_TOL * max(1.0, abs(ll)):
                # The last, tiny Newton step (quadratic convergence: lands at rounding level).
                for j in range(k):
                    out_theta[j] = theta[j] + step[j]
                cov = np.empty((k, k))
                cholesky_inverse(chol, cov)
                for j in range(k):
                    out_se[j] = np.sqrt(cov[j, j]) if cov[j, j] > 0 else np.nan
                slot = k
                for a in range(k):
                    for b in range(a + 1, k):
                        out_se[slot] = cov[a, b] / np.sqrt(cov[a, a] * cov[b, b])
                        slot += 1
                return (OK, it)
            t = 1.0
            moved = False
            for _ in range(MAX_HALVINGS):
                trial = theta + t * step
                new_ll = loglik(x, trial)
                if np.isfinite(new_ll) and new_ll >= ll:
                    theta = trial
                    ll = new_ll
                    moved = True
                    break
                t *= 0.5
            if not moved:
                break
        for j in range(k):
            out_theta[j] = np.nan
        return (NOT_CONVERGED, MAX_ITER)

    return {"sample": sample, "loglik": loglik, "score": score, "fit": fit}


def _scores_each(loglik, x, theta):
    k = theta.size
    out = np.empty((x.size, k))
    for j in range(k):
        h = 6.055454452393343e-06 * max(1.0, abs(theta[j]))
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        out[:, j] = (_each(loglik, x, up) - _each(loglik, x, down)) / (2 * h)
    return out


def _each(loglik, x, theta):
    return np.array([loglik(x[i : i + 1], theta) for i in range(x.size)])


__all__ = ["FISHER_DRAWS", "build_model"]
