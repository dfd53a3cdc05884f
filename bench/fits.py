"""Item 3 -- numerical fits per replication on identical precomputed data (n = 1000).

simstudy's fit kernels run from a jitted loop over many samples (:func:`bench.loops.fit_loop`,
the kernel passed as the engine's function pointer), so what is timed is the fit, not Python's
per-call overhead. The loop cycles over a pool of ``fit_pool`` samples (512 KiB at 64 x 1000:
L2-resident, as a freshly drawn sample is in the engine); the peers (SciPy, statsmodels) are
called from Python as a user would, on the first ``peer_samples`` samples of the same pool.
Every fit is also compared with its own one-pass floor on the same data: the sufficient
statistics (gamma) or one log-likelihood evaluation.

Agreement: the peers are timed with their default settings; estimates are compared both at the
defaults and with the peers' tolerances tightened (that comparison must reach 1e-6).
"""

from __future__ import annotations

import importlib
import warnings

import numpy as np
from scipy import optimize, stats

from bench import loops
from bench.timing import interleaved
from simstudy.models._base import se_slots

N_OBS = 1000
GAMMA_THETA = (2.0, 1.5)  # shape, rate: the seed study's gamma cell
WEIBULL_THETA = (1.5, 2.0)  # shape, scale
LOGISTIC_BETA = np.array([0.5, 1.0, -1.0, 0.75])  # intercept + 3 covariates
LOGISTIC_COVARIATES = "x1 ~ N(0, 1), x2 ~ N(0, 1), x3 ~ Bernoulli(0.4)"
AGREEMENT_TOL = 1e-6


# ---------------------------------------------------------------------------------------------
# Peers, as a user would write them
# ---------------------------------------------------------------------------------------------
def scipy_gamma(x):
    a, _, scale = stats.gamma.fit(x, floc=0)
    return np.array([a, 1.0 / scale])


def textbook_gamma(x, tight=False):
    """The textbook fit: L-BFGS-B on -Σ gamma.logpdf from the method-of-moments start."""

    def neg_log_likelihood(params):
        alpha, beta = params
        if alpha <= 0 or beta <= 0:
            return np.inf
        return -np.sum(stats.gamma.logpdf(x, a=alpha, scale=1 / beta))

    mean_x, var_x = np.mean(x), np.var(x)
    options = {"ftol": 1e-15, "gtol": 1e-12, "maxiter": 15000, "maxfun": 15000} if tight else {}
    result = optimize.minimize(neg_log_likelihood, x0=[mean_x**2 / var_x, mean_x / var_x],
                               method="L-BFGS-B", bounds=[(1e-6, None), (1e-6, None)],
                               options=options)  # fmt: skip
    return result.x


def _tight_nelder_mead(func, x0, args=(), disp=0):
    return optimize.fmin(func, x0, args=args, disp=0, xtol=1e-12, ftol=1e-14, maxiter=20000,
                         maxfun=40000)  # fmt: skip


def scipy_weibull(x, tight=False):
    kwargs = {"optimizer": _tight_nelder_mead} if tight else {}
    k, _, scale = stats.weibull_min.fit(x, floc=0, **kwargs)
    return np.array([k, scale])


def statsmodels_logit(rows, tight=False):
    import statsmodels.api as sm

    kwargs = {"tol": 1e-12, "maxiter": 100} if tight else {}
    return np.asarray(sm.Logit(rows[:, 0], rows[:, 1:]).fit(disp=0, **kwargs).params)


# ---------------------------------------------------------------------------------------------
# Data
# ---------------------------------------------------------------------------------------------
def gamma_data(samples, seed=1):
    gen = np.random.default_rng(seed)
    return gen.gamma(GAMMA_THETA[0], 1.0 / GAMMA_THETA[1], (samples, N_OBS))


def weibull_data(samples, seed=2):
    gen = np.random.default_rng(seed)
    return gen.weibull(WEIBULL_THETA[0], (samples, N_OBS)) * WEIBULL_THETA[1]


def logistic_data(samples, seed=3):
    """Flat rows (y, 1, x1, x2, x3) per sample, as simstudy's regression kernels take them."""
    gen = np.random.default_rng(seed)
    n = N_OBS
    x = np.empty((samples, n, 5))
    x[:, :, 1] = 1.0
    x[:, :, 2] = gen.normal(size=(samples, n))
    x[:, :, 3] = gen.normal(size=(samples, n))
    x[:, :, 4] = gen.random((samples, n)) < 0.4
    eta = x[:, :, 1:] @ LOGISTIC_BETA
    x[:, :, 0] = gen.random((samples, n)) < 1.0 / (1.0 + np.exp(-eta))
    return x.reshape(samples, n * 5)


def _max_rel_diff(ours, theirs):
    return float(np.max(np.abs(ours - theirs) / np.abs(theirs)))


def _available(module):
    try:
        importlib.import_module(module)
        return None
    except ImportError:
        return f"model not available ({module})"


# ---------------------------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------------------------
def _fit_rows(cfg, *, name, model, data, theta, peers, floor_fn, floor_name, k,
              reshape=None):  # fmt: skip
    """Time simstudy's fit, its floor and every peer on the same data; one row per comparison.

    ``peers``: {label: (function(sample), tight_function or None)}."""
    fit = model.estimators["mle"].fit
    n_se = se_slots(k)
    m = data.shape[0]
    calls = max(cfg.fit_samples, m)  # fits per timing sample, cycling over the pool
    est = np.empty((m, k))
    se = np.empty((m, n_se))
    status = np.empty(m, dtype=np.int64)
    n_iter = np.empty(m, dtype=np.int64)
    loops.fit_all(fit, data, est, se, status, n_iter)
    peer_m = min(cfg.peer_samples, m)
    view = (lambda row: row.reshape(reshape)) if reshape else (lambda row: row)

    fns = {
        "simstudy": lambda: loops.fit_loop(fit, data, k, n_se, calls),
        "floor": lambda: floor_fn(data, calls),
    }
    for label, (peer, _) in peers.items():
        count = min(peer_m, cfg.slow_peer_samples) if label.startswith("textbook") else peer_m
        fns[label] = (lambda peer=peer, count=count: [peer(view(data[i])) for i in range(count)])
    counts = {"simstudy": calls, "floor": calls}
    counts.update({label: min(peer_m, cfg.slow_peer_samples) if label.startswith("textbook")
                   else peer_m for label in peers})  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the peers' optimiser chatter (e.g. inf in logpdf)
        secs = interleaved(fns, cfg.repeats, cfg.min_time)
    per_fit = {label: s.scaled(1.0 / counts[label]) for label, s in secs.items()}
    ours = per_fit["simstudy"]
    common = {"section": "fits", "model": name, "n": N_OBS, "status": "ok", "unit": "s/fit",
              "value": ours.as_dict(), "samples": m, "fits_per_timing": calls,
              "theta": list(theta),
              "fit_status_ok": int(np.sum(status == 0)),
              "n_iter_median": float(np.median(n_iter)),
              "fit_over_floor": ours.median / per_fit["floor"].median,
              "floor_name": floor_name}  # fmt: skip
    rows = []
    for label, (peer, tight) in peers.items():
        count = counts[label]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            default_est = np.array([peer(view(data[i])) for i in range(count)])
            agree_m = min(count, cfg.agreement_samples)
            tight_est = (np.array([tight(view(data[i])) for i in range(agree_m)])
                         if tight else default_est[:agree_m])  # fmt: skip
        rows.append({
            **common, "name": f"{name} vs {label}",
            "anchor": {"name": label, **per_fit[label].as_dict(), "samples": count},
            "ratio": per_fit[label].median / ours.median,
            "ratio_meaning": f"{label} time / simstudy time (speed-up)",
            "max_rel_diff_default": _max_rel_diff(est[:count], default_est),
            "max_rel_diff_tight": _max_rel_diff(est[:agree_m], tight_est),
            "agreement_samples": agree_m,
            "tightened": "no tolerance to tighten (same as default)" if tight is None
            else "yes",
        })  # fmt: skip
    rows.append({
        **common, "name": f"{name} vs its one-pass floor",
        "anchor": {"name": floor_name, **per_fit["floor"].as_dict(), "samples": calls},
        "ratio": ours.median / per_fit["floor"].median,
        "ratio_meaning": "simstudy fit time / floor time (lower is better)",
    })  # fmt: skip
    return rows


def run(cfg) -> list[dict]:
    from simstudy.models._registry import get_model

    m = cfg.fit_pool
    rows = []
    gamma = get_model("gamma")
    rows += _fit_rows(
        cfg, name="gamma", model=gamma, data=gamma_data(m), theta=GAMMA_THETA, k=2,
        peers={"scipy.stats.gamma.fit(x, floc=0)": (scipy_gamma, None),
               "textbook L-BFGS-B on -sum(gamma.logpdf), MoM start":
               (textbook_gamma, lambda x: textbook_gamma(x, tight=True))},
        floor_fn=loops.gamma_sufficient_loop, floor_name="sufficient statistics Σx, Σlog x",
    )  # fmt: skip
    why = _available("simstudy.models.weibull")
    if why:
        rows.append({"section": "fits", "model": "weibull", "name": "weibull", "status": why})
    else:
        weibull = get_model("weibull")
        theta = np.array(WEIBULL_THETA)
        rows += _fit_rows(
            cfg, name="weibull", model=weibull, data=weibull_data(m), theta=WEIBULL_THETA, k=2,
            peers={"scipy.stats.weibull_min.fit(x, floc=0)":
                   (scipy_weibull, lambda x: scipy_weibull(x, tight=True))},
            floor_fn=lambda d, r: loops.loglik_loop(weibull.loglik, d, theta, r),
            floor_name="one log-likelihood evaluation",
        )  # fmt: skip
    from simstudy.models import logistic
    from simstudy.models._design import Covariate, Design

    model = logistic.make_model(Design(True, (Covariate("normal", 0.0, 1.0),
                                              Covariate("normal", 0.0, 1.0),
                                              Covariate("bernoulli", 0.4, 0.0))))  # fmt: skip
    rows += _fit_rows(
        cfg, name="logistic", model=model, data=logistic_data(m), theta=tuple(LOGISTIC_BETA),
        k=4, reshape=(N_OBS, 5),
        peers={"statsmodels Logit(y, X).fit(disp=0)":
               (statsmodels_logit, lambda r: statsmodels_logit(r, tight=True))},
        floor_fn=lambda d, r: loops.loglik_loop(model.loglik, d, LOGISTIC_BETA, r),
        floor_name="one log-likelihood evaluation",
    )  # fmt: skip
    for row in rows:
        if "max_rel_diff_tight" in row:
            row["agrees"] = row["max_rel_diff_tight"] <= AGREEMENT_TOL
    return rows
