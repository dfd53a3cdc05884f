"""User-defined models from a plugin: ``{plugin: "package.module:MyModel"}`` in a study YAML.

The contract: two Numba functions and the parameters; everything else is optional, and what is
missing falls back, which the model's tags say.

.. code-block:: python

    from simstudy import rng
    from simstudy.models import POSITIVE, Param, Support

    class MyModel:
        name = "my_model"                     # how tables call it
        params = (Param("k", POSITIVE, typical=(0.5, 3.0)), ...)

        @staticmethod
        @numba.njit(cache=True)
        def logpdf(x, theta):                 # log density of ONE observation (a float x, or
            ...                               # a row x[0:data_width] when data_width > 1)

        @staticmethod
        @numba.njit(cache=True)
        def sample(state, theta, out):        # fill `out` with draws from simstudy.rng streams
            ...

        # Optional:
        start = (1.0, ...)                    # Newton's start (default: typical midpoints)
        support = Support(0.0)                # the data's support (default: finite reals)
        data_width = 1                        # values per observation (rows of a regression)
        tags = {"regular": True, "rate": -0.5}
        score = ...      # @njit score(x, theta, out): the total score of a sample
        fisher = ...     # fisher(theta, out): per-observation expected information, (k, k)
        fisher_at = ...  # fisher_at(theta, n) -> (k, k), when it depends on n
        fit_mle = ...    # @njit fit_mle(x, out_theta, out_se) -> (status, n_iter)
        suff_stats, suff_loglik, n_suff = ...  # one-pass sufficient statistics (see _base)
        numpy_sample = ...  # numpy_sample(gen, theta, n): the same draws with plain NumPy

Fallbacks: the score is a central difference of the log-likelihood (step ε^(1/3)·max(1,
|θ_j|)); the Fisher information is computed without Monte Carlo where the data are one value
per observation with a declared support (quadrature of s sᵀ f over a continuous support,
summation over a discrete one; :mod:`simstudy.models._information`), and only otherwise is a
Monte Carlo average over ``FISHER_DRAWS`` draws from the model's own sampler, whose standard
error is carried into every measure that uses it; the MLE is a damped Newton-Raphson on the
gradient (exact if ``score`` is given) and the numerical Hessian from the start (step
halving, a step leaving a parameter's domain halved too, at most ``MAX_ITER`` iterations,
converged when the Newton decrement is below 1e-10·max(1, |ℓ|), after which the last step is
taken), with SEs from the numerical observed information. Replaying a replication runs ``numpy_sample`` if given, else the model's own
sampler on the replication's stream (bit-identical by construction).
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
    for attr in ("score", "fit_mle", "suff_stats", "suff_loglik"):
        fn = getattr(obj, attr, None)
        if fn is not None and not hasattr(fn, "py_func"):
            raise PluginError(
                f"plugin model {reference!r}: `{attr}` must be Numba-jitted (the engine calls it "
                "from its kernels); decorate it with @numba.njit"
            )
    logpdf, user_sample = obj.logpdf, obj.sample
    k = len(params)
    start = np.array(
        getattr(obj, "start", None) or [0.5 * (p.typical[0] + p.typical[1]) for p in params],
        dtype=np.float64,
    )
    if start.size != k:
        raise PluginError(f"plugin model {reference!r}: `start` has {start.size} values for {k} parameters")
    width = int(getattr(obj, "data_width", 1) or 1)
    if width < 1:
        raise PluginError(f"plugin model {reference!r}: `data_width` must be >= 1; got {width}")

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
    user_score = getattr(obj, "score", None)
    kernels = _kernels(logpdf, user_sample, start, width, user_score, params)
    fit = getattr(obj, "fit_mle", None) or kernels["fit"]
    pieces = [logpdf, user_sample] + [getattr(obj, a) for a in (
        "score", "fisher", "fisher_at", "fit_mle", "suff_stats", "suff_loglik", "numpy_sample")
        if getattr(obj, a, None) is not None]  # fmt: skip
    version = hashlib.sha256("".join(_source(f) for f in pieces).encode()).hexdigest()[:16]

    information, info_tag = _information_of(obj, reference, kernels, logpdf, user_score,
                                            support, width)  # fmt: skip
    fisher_at = getattr(obj, "fisher_at", None)

    def fisher(theta, out):
        out[:, :] = information(tuple(float(t) for t in theta))[0]

    def fisher_mcse(theta, n=None):
        return information(tuple(float(t) for t in theta))[1]

    user_numpy = getattr(obj, "numpy_sample", None)

    def numpy_sample(gen, theta, n, design=None):
        if user_numpy is not None:
            return np.asarray(user_numpy(gen, np.asarray(theta, dtype=np.float64), n), dtype=np.float64)
        state = gen.bit_generator.state["state"]
        st = np.empty(rng.STATE_SIZE, dtype=np.uint64)
        ctr, key = state["counter"], state["key"]
        rng.init_stream(st, np.uint64(key[0]), np.uint64(key[1]), int(ctr[2]), int(ctr[3]))
        out = np.empty(n * width)
        kernels["sample"](st, np.ascontiguousarray(theta, dtype=np.float64), np.zeros(0), out)
        return out

    def reference_mle(x):
        from scipy.optimize import minimize

        res = minimize(lambda t: -kernels["loglik"](np.ascontiguousarray(x), t), start,
                       method="Nelder-Mead", options={"xatol": 1e-12, "fatol": 1e-12, "maxiter": 20000})  # fmt: skip
        return res.x

    suff = {}
    if all(getattr(obj, a, None) is not None for a in ("suff_stats", "suff_loglik", "n_suff")):
        suff = {"suff_stats": obj.suff_stats, "suff_loglik": obj.suff_loglik,
                "n_suff": int(obj.n_suff)}  # fmt: skip
    user_fisher = getattr(obj, "fisher", None)
    tags = {
        "plugin": reference,
        "plugin_version": version,
        "discrete": support.integer,
        "score": "exact (the plugin's score)" if user_score is not None
        else "numerical (central differences of the log density)",
        "fisher": info_tag,
        "mle": "the plugin's fit_mle" if getattr(obj, "fit_mle", None) is not None
        else "generic damped Newton on numerical derivatives",
        "replay": "the plugin's numpy_sample" if user_numpy is not None
        else "the model's sampler on the replication's stream",
        **dict(getattr(obj, "tags", None) or {}),
    }  # fmt: skip
    model = Model(
        name=name,
        params=params,
        support=support,
        sample=kernels["sample"],
        loglik=kernels["loglik"],
        score=kernels["score"],
        fisher=fisher,
        estimators={"mle": Estimator("mle", fit, tags["mle"])},
        numpy_sample=numpy_sample,
        scipy_dist=lambda theta: None,
        reference_mle=reference_mle,
        tags=tags,
        doc=str(getattr(obj, "__doc__", "") or "").strip().split("\n")[0],
        data_width=width,
        fisher_at=(lambda theta, n: np.array(fisher_at(theta, n), dtype=np.float64))
        if fisher_at is not None else None,
        fisher_mcse=fisher_mcse if user_fisher is None and fisher_at is None else None,
        **suff,
    )  # fmt: skip
    return model


def _source(fn) -> str:
    target = getattr(fn, "py_func", fn)
    try:
        return inspect.getsource(target)
    except (OSError, TypeError):
        return repr(target)


def _information_of(obj, reference, kernels, logpdf, user_score, support, width):
    """(information(θ tuple) -> (I, MCSE or None), tag): the plugin's own ``fisher`` or
    ``fisher_at``, else quadrature/summation over a one-dimensional support, else Monte
    Carlo (module docstring); cached per θ."""
    from simstudy.models import _information

    user_fisher = getattr(obj, "fisher", None)
    k = kernels["k"]
    if user_fisher is not None or getattr(obj, "fisher_at", None) is not None:
        if user_fisher is None:  # only fisher_at: its limit is not known; use it at a large n
            def exact(theta):
                return np.array(obj.fisher_at(np.array(theta), 10**9), dtype=np.float64), None
        else:
            def exact(theta):
                out = np.zeros((k, k))
                user_fisher(np.array(theta, dtype=np.float64), out)
                return out, None
        return functools.lru_cache(maxsize=64)(exact), "exact (the plugin's fisher)"

    def log_density(x, theta):
        return np.array([logpdf(v, theta) for v in x])

    if user_score is not None:
        def scores(x, theta):
            out = np.empty((x.size, k))
            buf = np.empty(k)
            for i in range(x.size):
                user_score(x[i : i + 1], theta, buf)
                out[i] = buf
            return out
    else:
        def scores(x, theta):
            return _information.numerical_scores(log_density, x, theta)

    how = ("summation over the support" if support.integer else
           "quadrature over the support (scipy.integrate.quad)")  # fmt: skip
    failures: dict[tuple, str] = {}

    @functools.lru_cache(maxsize=64)
    def information(theta: tuple):
        th = np.array(theta)
        if width == 1:
            try:
                return _information.iid_information(log_density, scores, support, th), None
            except ValueError as exc:
                raise PluginError(f"plugin model {reference!r} at θ = {list(theta)}: {exc}") from None
            except _information.NotComputable as exc:
                failures[theta] = str(exc)
        return _monte_carlo(kernels, th, width)

    tag = (f"{how} (relative error about 1e-12)" if width == 1
           else f"Monte Carlo, {FISHER_DRAWS:,} draws (its MCSE is carried)")  # fmt: skip
    return information, tag


def _monte_carlo(kernels, theta, width):
    """(I, MCSE) by the Monte Carlo average of per-observation score products."""
    from simstudy.models._information import monte_carlo_information

    state = np.empty(rng.STATE_SIZE, dtype=np.uint64)
    rng.init_stream(state, np.uint64(0x5EED), np.uint64(0xF15E), 0, 0)
    x = np.empty(FISHER_DRAWS * width)
    kernels["sample"](state, theta, np.zeros(0), x)
    return monte_carlo_information(_scores_each(kernels["loglik"], x, theta, width))


def _kernels(logpdf, user_sample, start, width=1, user_score=None, params=()):
    """The engine-facing kernels, closing over the user's functions (compiled per process).
    The generic MLE keeps every step inside the parameters' domains (``params``): a log
    density may be finite outside them (a scale σ that enters as σ², say), and Newton's step
    must not cross to the mirror-image maximum."""
    k = start.size
    jit = numba.njit(**{**_OPTIONS, "cache": False})
    lows = np.array([p.domain.low for p in params] or [-np.inf] * k, dtype=np.float64)
    highs = np.array([p.domain.high for p in params] or [np.inf] * k, dtype=np.float64)
    low_open = np.array([p.domain.low_open for p in params] or [True] * k)
    high_open = np.array([p.domain.high_open for p in params] or [True] * k)

    @jit
    def inside(theta):
        for j in range(theta.size):
            if not (theta[j] > lows[j] if low_open[j] else theta[j] >= lows[j]):
                return False
            if not (theta[j] < highs[j] if high_open[j] else theta[j] <= highs[j]):
                return False
        return True

    @jit
    def sample(state, theta, design, out):
        user_sample(state, theta, out)

    @jit
    def loglik_values(x, theta):
        total = 0.0
        for v in x:
            total += logpdf(v, theta)
        return total

    @jit
    def loglik_rows(x, theta):
        total = 0.0
        for i in range(x.size // width):
            total += logpdf(x[i * width : (i + 1) * width], theta)
        return total

    loglik = loglik_values if width == 1 else loglik_rows

    @jit
    def _step(theta, j):
        return 6.055454452393343e-06 * max(1.0, abs(theta[j]))  # ε^(1/3)

    @jit
    def numerical_score(x, theta, out):
        t = theta.copy()
        for j in range(theta.size):
            h = _step(theta, j)
            t[j] = theta[j] + h
            up = loglik(x, t)
            t[j] = theta[j] - h
            down = loglik(x, t)
            t[j] = theta[j]
            out[j] = (up - down) / (2.0 * h)

    score = user_score if user_score is not None else numerical_score

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
                # The last, tiny Newton step (quadratic convergence: lands at rounding level),
                # unless it would leave the domain (a maximum on its edge).
                last = theta + step
                for j in range(k):
                    out_theta[j] = last[j] if inside(last) else theta[j]
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
                new_ll = loglik(x, trial) if inside(trial) else -np.inf
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

    return {"sample": sample, "loglik": loglik, "score": score, "fit": fit, "k": k}


def _scores_each(loglik, x, theta, width=1):
    """Per-observation scores (m, k) by central differences of the log-likelihood kernel on
    each observation (``width`` values)."""
    k = theta.size
    out = np.empty((x.size // width, k))
    for j in range(k):
        h = 6.055454452393343e-06 * max(1.0, abs(theta[j]))
        up, down = theta.copy(), theta.copy()
        up[j] += h
        down[j] -= h
        out[:, j] = (_each(loglik, x, up, width) - _each(loglik, x, down, width)) / (2 * h)
    return out


def _each(loglik, x, theta, width=1):
    return np.array([loglik(x[i : i + width], theta) for i in range(0, x.size, width)])


__all__ = ["FISHER_DRAWS", "build_model"]
