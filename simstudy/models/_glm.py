"""Generalized linear models with canonical links (logistic, Poisson): the shared kernels.

Data are rows (y, x_0, ..., x_{p-1}) (see :mod:`simstudy.models._design`). For a canonical
link the observed and expected information coincide, XᵀWX with W = Var(y | x)
(McCullagh & Nelder, *Generalized Linear Models*, 2nd ed., §2.5):
logistic μ = 1/(1+e^{-η}), W = μ(1-μ); Poisson μ = e^η, W = μ.

Newton-Raphson (= IRLS here) from β = 0 with step halving (the step is halved until the
log-likelihood does not decrease, at most ``MAX_HALVINGS`` times); converged when the Newton
decrement dᵀg (which is 2 × the predicted log-likelihood gain) falls below ``NEWTON_TOL``·|ℓ|,
and then takes that last step (quadratic convergence puts it at rounding level);
at most ``MAX_ITER`` iterations. Each iterate costs one pass over the rows
(:func:`fused_pass`: ℓ, score, XᵀWX and max |η| together, one exp per row); the pass at an
accepted trial point serves the next iteration.

Non-existence of the MLE is detected, not guessed from iteration caps: once the iterates make
some |η_i| > ``DIVERGENCE_ETA`` (fitted probabilities within 1e-13 of 0 or 1, or a Poisson mean
below e^-30), the direction a = β/‖β‖ is tested as a certificate. Logistic: (2y_i - 1)·x_iᵀa >= 0
for every i is (quasi-)complete separation (Albert & Anderson 1984), along which the likelihood
rises to its supremum without attaining it. Poisson: x_iᵀa <= 0 for all i, = 0 wherever
y_i > 0 and < 0 somewhere (the likelihood rises as t→∞ along a; Haberman 1973). A certified
direction gives ``no_mle``; divergence without a certificate gives ``not_converged``.
"""

from __future__ import annotations

import numpy as np

from simstudy._jit import jit
from simstudy.models._base import NO_MLE, NOT_CONVERGED, OK
from simstudy.models._common import fail
from simstudy.models._linalg import cholesky, cholesky_inverse, cholesky_solve
from simstudy.models._reduce import run_product_step
from simstudy.special import gammaln

LOGISTIC, POISSON = 0, 1
MAX_ITER = 100
MAX_HALVINGS = 40
#: Stop when the Newton decrement is below this × max(1, |ℓ|), above the rounding floor of a
#: sum of n terms (~sqrt(n)·ε·|ℓ|: a tighter bound stalls there at n ~ 1e6); the last step is
#: then taken, and convergence being quadratic it leaves an error at rounding level.
NEWTON_TOL = 1e-12
DIVERGENCE_ETA = 30.0
#: A decrement this small (× max(1, |ℓ|)) that step halving cannot realise is rounding noise in
#: ℓ = Σℓ_i (relative error ~ sqrt(n)·ε), i.e. the maximum has been reached.
ROUNDING_DECREMENT = 1e-9
#: tolerance of the certificate's sign tests, relative to max |x_iᵀa|
CERTIFICATE_RTOL = 1e-7


@jit
def eta_at(x, i, width, beta):
    eta = 0.0
    for j in range(width - 1):
        eta += x[i * width + 1 + j] * beta[j]
    return eta


@jit
def mean_of(eta, family):
    if family == LOGISTIC:
        return 1.0 / (1.0 + np.exp(-eta))
    return np.exp(eta)


@jit
def loglik_term(y, eta, family):
    """ℓ_i: logistic y·η - log(1 + e^η) (stable form), Poisson y·η - e^η - log y!."""
    if family == LOGISTIC:
        return y * eta - (max(eta, 0.0) + np.log1p(np.exp(-abs(eta))))
    return y * eta - np.exp(eta) - gammaln(y + 1.0)


@jit
def total_loglik(x, beta, family):
    width = beta.size + 1
    n = x.size // width
    total = 0.0
    for i in range(n):
        total += loglik_term(x[i * width], eta_at(x, i, width, beta), family)
    return total


@jit
def total_score(x, beta, family, out):
    width = beta.size + 1
    n = x.size // width
    for j in range(beta.size):
        out[j] = 0.0
    for i in range(n):
        r = x[i * width] - mean_of(eta_at(x, i, width, beta), family)
        for j in range(beta.size):
            out[j] += r * x[i * width + 1 + j]


@jit
def information(x, beta, family, out):
    """XᵀWX at β (observed = expected for a canonical link)."""
    p = beta.size
    width = p + 1
    n = x.size // width
    out[:, :] = 0.0
    for i in range(n):
        mu = mean_of(eta_at(x, i, width, beta), family)
        w = mu * (1.0 - mu) if family == LOGISTIC else mu
        for a in range(p):
            xa = w * x[i * width + 1 + a]
            for b in range(a + 1):
                out[a, b] += xa * x[i * width + 1 + b]
    for a in range(p):
        for b in range(a):
            out[b, a] = out[a, b]


@jit
def certified_divergence(x, beta, family):
    """True if β's direction certifies that no MLE exists (see the module docstring)."""
    p = beta.size
    width = p + 1
    n = x.size // width
    norm = 0.0
    for j in range(p):
        norm += beta[j] * beta[j]
    norm = np.sqrt(norm)
    if not norm > 0.0:
        return False
    scale = 0.0
    for i in range(n):
        scale = max(scale, abs(eta_at(x, i, width, beta)) / norm)
    tol = CERTIFICATE_RTOL * max(scale, 1e-300)
    some_negative = False
    for i in range(n):
        a = eta_at(x, i, width, beta) / norm
        y = x[i * width]
        if family == LOGISTIC:
            if (2.0 * y - 1.0) * a < -tol:
                return False
        else:
            if a > tol or (y > 0.0 and a < -tol):
                return False
            if a < -tol:
                some_negative = True
    return family == LOGISTIC or some_negative


@jit
def _max_abs_eta(x, beta):
    width = beta.size + 1
    n = x.size // width
    m = 0.0
    for i in range(n):
        m = max(m, abs(eta_at(x, i, width, beta)))
    return m


@jit
def _degenerate_response(x, width, family):
    """All y equal (logistic) or all y = 0 (Poisson): the MLE does not exist."""
    n = x.size // width
    first = x[0]
    for i in range(n):
        y = x[i * width]
        if family == POISSON and y != 0.0:
            return False
        if family == LOGISTIC and y != first:
            return False
    return True


@jit
def write_covariance_se(cov, out_se):
    """SEs and correlations (upper triangle, row by row) of a p×p covariance into out_se."""
    p = cov.shape[0]
    for j in range(p):
        out_se[j] = np.sqrt(cov[j, j])
    slot = p
    for a in range(p):
        for b in range(a + 1, p):
            out_se[slot] = cov[a, b] / np.sqrt(cov[a, a] * cov[b, b])
            slot += 1


@jit
def _predictors(x, beta, family, eta, ee):
    """η_i = x_iᵀβ and e_i (logistic e^{-|η|}, Poisson e^η) of every row into ``eta``,
    ``ee``. The exp calls get a loop of their own: a call inside the accumulation loop makes
    the compiler save and restore every live accumulator around it (x86-64 has no
    callee-saved vector registers), which cost ~40% of the pass."""
    p = beta.size
    width = p + 1
    for i in range(eta.size):
        row = i * width
        s = 0.0
        for j in range(p):
            s += x[row + 1 + j] * beta[j]
        eta[i] = s
        # η = 0 exactly at the start β = 0 (e^0 = 1 exactly): the first pass makes no exp call.
        if s == 0.0:
            ee[i] = 1.0
        elif family == LOGISTIC:
            ee[i] = np.exp(-abs(s))
        else:
            ee[i] = np.exp(s)


@jit
def _add_row(y, eta, e, family, linear, log_sum, run, top):
    """One row of :func:`fused_pass`: adds ℓ_i (without log(1 + e)) to ``linear``, 1 + e to
    the run product (``log_sum``, ``run``) and |η| to the maximum ``top``; returns them with
    the residual y - μ and the weight W (Poisson: μ = e, and ℓ_i has no log term)."""
    if family == LOGISTIC:
        inv = 1.0 / (1.0 + e)
        mu = inv if eta >= 0.0 else e * inv
        w = e * inv * inv
        linear += y * eta - max(eta, 0.0)
        log_sum, run = run_product_step(log_sum, run, 1.0 + e)
    else:
        mu = e
        w = e
        linear += y * eta - e
    return linear, log_sum, run, max(top, abs(eta)), y - mu, w


@jit
def fused_pass(x, beta, family, grad, info, eta, ee):
    """One pass over the rows at β: returns (ℓ without its θ-free terms, max |η|) and writes
    the score to ``grad`` and XᵀWX to ``info``; ``eta`` and ``ee`` (length n) are scratch.

    Logistic, with e = exp(-|η|): μ = 1/(1+e) (η >= 0) or e/(1+e), W = μ(1-μ) = e/(1+e)² and
    ℓ_i = yη - max(η, 0) - log(1+e) (the stable forms of McCullagh & Nelder §4.3), with
    Σ log(1+e) as the log of run products (:func:`simstudy.models._reduce.run_product_step`:
    one libm log per run instead of a log1p per row; absolute error ~ε per row, below the
    rounding of ℓ). Poisson: μ = W = e^η, ℓ_i = yη - e^η (-log y! is θ-free).
    Up to 4 coefficients the sums live in registers (:func:`_fused_pass_small`).
    """
    _predictors(x, beta, family, eta, ee)
    p = beta.size
    if p <= 4:
        return _fused_pass_small(x, p, family, grad, info, eta, ee)
    width = p + 1
    for a in range(p):
        grad[a] = 0.0
        for b in range(p):
            info[a, b] = 0.0
    linear = log_sum = top = 0.0
    run = 1.0  # Π(1 + e) of the current run (see run_product_step)
    for i in range(eta.size):
        row = i * width
        linear, log_sum, run, top, r, w = _add_row(
            x[row], eta[i], ee[i], family, linear, log_sum, run, top
        )
        for a in range(p):
            xa = x[row + 1 + a]
            grad[a] += r * xa
            wxa = w * xa
            for b in range(a + 1):
                info[a, b] += wxa * x[row + 1 + b]
    for a in range(p):
        for b in range(a):
            info[b, a] = info[a, b]
    return linear - (log_sum + np.log(run)), top


@jit
def _fused_pass_small(x, p, family, grad, info, eta, ee):
    """The accumulation of :func:`fused_pass` for p <= 4 coefficients: the same sums in the
    same order, held in scalars (the array version keeps XᵀWX in memory, a load and a store
    per entry and row); absent columns read as 0 and add exact zeros."""
    width = p + 1
    g0 = g1 = g2 = g3 = 0.0
    h00 = h10 = h11 = h20 = h21 = h22 = h30 = h31 = h32 = h33 = 0.0
    linear = log_sum = top = 0.0
    run = 1.0  # Π(1 + e) of the current run (see run_product_step)
    for i in range(eta.size):
        row = i * width
        x0 = x[row + 1]
        x1 = x[row + 2] if p > 1 else 0.0
        x2 = x[row + 3] if p > 2 else 0.0
        x3 = x[row + 4] if p > 3 else 0.0
        linear, log_sum, run, top, r, w = _add_row(
            x[row], eta[i], ee[i], family, linear, log_sum, run, top
        )
        g0 += r * x0
        g1 += r * x1
        g2 += r * x2
        g3 += r * x3
        w0, w1, w2, w3 = w * x0, w * x1, w * x2, w * x3
        h00 += w0 * x0
        h10 += w1 * x0
        h11 += w1 * x1
        h20 += w2 * x0
        h21 += w2 * x1
        h22 += w2 * x2
        h30 += w3 * x0
        h31 += w3 * x1
        h32 += w3 * x2
        h33 += w3 * x3
    g = (g0, g1, g2, g3)
    h = ((h00, h10, h20, h30), (h10, h11, h21, h31), (h20, h21, h22, h32), (h30, h31, h32, h33))
    for a in range(p):
        grad[a] = g[a]
        for b in range(p):
            info[a, b] = h[a][b]
    return linear - (log_sum + np.log(run)), top


@jit
def _log_factorials(x, width):
    """Σ log y! of the responses: the θ-free part of the Poisson ℓ."""
    n = x.size // width
    total = 0.0
    for i in range(n):
        total += gammaln(x[i * width] + 1.0)
    return total


@jit
def newton(x, out_theta, out_se, family):
    """The MLE by Newton-Raphson with step halving (module docstring); (status, n_iter)."""
    p = out_theta.size
    width = p + 1
    n = x.size // width
    if n <= p or _degenerate_response(x, width, family):
        return fail(out_theta, out_se, NO_MLE, 0)
    beta = np.zeros(p)
    trial = np.empty(p)
    grad = np.empty(p)
    trial_grad = np.empty(p)
    step = np.empty(p)
    info = np.empty((p, p))
    trial_info = np.empty((p, p))
    chol = np.empty((p, p))
    eta = np.empty(n)
    ee = np.empty(n)
    # ℓ in full (the stopping rule is relative to |ℓ|); only its θ-dependent part is recomputed.
    constant = _log_factorials(x, width) if family == POISSON else 0.0
    ll, _ = fused_pass(x, beta, family, grad, info, eta, ee)
    ll -= constant
    for it in range(1, MAX_ITER + 1):
        if not cholesky(info, chol):
            if certified_divergence(x, beta, family):
                return fail(out_theta, out_se, NO_MLE, it)
            return fail(out_theta, out_se, NOT_CONVERGED, it)
        cholesky_solve(chol, grad, step)
        decrement = 0.0
        for j in range(p):
            decrement += step[j] * grad[j]
        if decrement <= NEWTON_TOL * max(1.0, abs(ll)):
            # Take this last, tiny Newton step: convergence is quadratic, so it lands at
            # rounding level. The SEs come from the information at β, whose Cholesky factor is
            # at hand, not from another pass at β + step: the step is below
            # sqrt(NEWTON_TOL·|ℓ|) in the information norm, so the information (and the SEs)
            # differ by about that relative to the SE scale, far below the SEs' Monte Carlo
            # error; R's glm.fit likewise takes the covariance from the last iteration's weights.
            for j in range(p):
                out_theta[j] = beta[j] + step[j]
            cov = np.empty((p, p))
            cholesky_inverse(chol, cov)
            write_covariance_se(cov, out_se)
            return (OK, it)
        t = 1.0
        improved = False
        top = 0.0
        for _ in range(MAX_HALVINGS):
            for j in range(p):
                trial[j] = beta[j] + t * step[j]
            new_ll, top = fused_pass(x, trial, family, trial_grad, trial_info, eta, ee)
            new_ll -= constant
            # A halved step must strictly raise ℓ: once t·step is below rounding, trial == β
            # and an equal ℓ would be "accepted" forever.
            if new_ll > ll or (new_ll == ll and t == 1.0):
                improved = True
                break
            t *= 0.5
        if not improved:
            # No step raises ℓ: either a genuine failure, or (at very large n) we are at the
            # maximum already and the rounding noise of the sum ℓ hides the tiny gain.
            if decrement <= ROUNDING_DECREMENT * max(1.0, abs(ll)):
                for j in range(p):
                    out_theta[j] = beta[j]
                cov = np.empty((p, p))
                cholesky_inverse(chol, cov)
                write_covariance_se(cov, out_se)
                return (OK, it)
            return fail(out_theta, out_se, NOT_CONVERGED, it)
        beta[:] = trial
        grad[:] = trial_grad
        info[:, :] = trial_info
        ll = new_ll
        if top > DIVERGENCE_ETA and certified_divergence(x, beta, family):
            return fail(out_theta, out_se, NO_MLE, it)
    return fail(out_theta, out_se, NOT_CONVERGED, MAX_ITER)


@jit
def gradient_ascent(x, out_theta, out_se, family, rate, max_iter, tol):
    """Plain gradient ascent on ℓ/n: β ← β + rate·∇ℓ(β)/n from β = 0, until ‖∇ℓ/n‖∞ < tol
    (``not_converged`` after ``max_iter`` steps): the textbook learner, whose iteration counts
    and failures a study makes visible. SEs from the information at the final β."""
    p = out_theta.size
    width = p + 1
    n = x.size // width
    if n <= p or _degenerate_response(x, width, family):
        return fail(out_theta, out_se, NO_MLE, 0)
    beta = np.zeros(p)
    grad = np.empty(p)
    for it in range(1, max_iter + 1):
        total_score(x, beta, family, grad)
        worst = 0.0
        for j in range(p):
            worst = max(worst, abs(grad[j]) / n)
        if worst < tol:
            info = np.empty((p, p))
            chol = np.empty((p, p))
            information(x, beta, family, info)
            for j in range(p):
                out_theta[j] = beta[j]
            if not cholesky(info, chol):
                return fail(out_theta, out_se, NOT_CONVERGED, it)
            cov = np.empty((p, p))
            cholesky_inverse(chol, cov)
            write_covariance_se(cov, out_se)
            return (OK, it)
        for j in range(p):
            beta[j] += rate * grad[j] / n
        if not np.isfinite(beta[0]):
            return fail(out_theta, out_se, NOT_CONVERGED, it)
    if certified_divergence(x, beta, family):
        return fail(out_theta, out_se, NO_MLE, max_iter)
    for j in range(p):
        out_theta[j] = beta[j]
    return (NOT_CONVERGED, max_iter)


def gradient_ascent_factory(family: int):
    """``factory(rate, max_iter, tol)`` -> a fit kernel running :func:`gradient_ascent` with
    those settings (compiled once per distinct setting, then cached on disk)."""
    from simstudy._jit import fit_kernel

    def factory(rate: float, max_iter: float, tol: float):
        rate, max_iter, tol = float(rate), int(max_iter), float(tol)

        @fit_kernel
        def fit_gradient_ascent_with(x, out_theta, out_se):
            return gradient_ascent(x, out_theta, out_se, family, rate, max_iter, tol)

        return fit_gradient_ascent_with

    return factory


def glm_model(*, name: str, family: int, design, make_model, sample, loglik, score, fit_mle,
              fit_gradient_ascent, ga_defaults: tuple[float, int, float], draw_y, row_logpmf,
              statsmodels_family: str, typical: tuple[float, float], extra_estimators=None,
              coefficient_doc: str, doc: str, response_support):  # fmt: skip
    """The :class:`Model` of a canonical-link GLM for one design: what logistic and Poisson
    regression share (the Fisher information, exact where the covariate law allows (see
    :mod:`simstudy.models._information`) and cached, the NumPy oracle,
    the statsmodels reference MLE, the estimators); each module passes only what differs
    (``response_support``: the :class:`Support` of y). Every estimator here needs n > p rows
    (:func:`newton` and :func:`gradient_ascent` return ``no_mle`` below): ``min_n`` = p + 1."""
    import functools

    from simstudy.models._base import REAL, Estimator, Model, Param
    from simstudy.models._design import (
        FISHER_DRAWS,
        FixedDesign,
        covariate_generator,
        linear_predictor_numpy,
    )
    from simstudy.models._information import (
        NotComputable,
        glm_information,
        glm_information_is_exact,
    )

    p = design.p
    rate, max_iter, tol = ga_defaults

    fixed = isinstance(design, FixedDesign)

    @functools.lru_cache(maxsize=256)
    def _fisher(beta: tuple, n: int | None) -> tuple[np.ndarray, np.ndarray | None]:
        """(I, MCSE of I or None when I is exact) at β (and n, for a fixed design)."""
        if fixed:
            return fixed_design_fisher(design, np.array(beta), family, n or design.rows_in_file), None
        try:
            info = glm_information(design.covariates, design.intercept, np.array(beta),
                                   lambda eta: _weights(eta, family))  # fmt: skip
            return info, None
        except NotComputable:
            return monte_carlo_fisher(design, np.array(beta), family, FISHER_DRAWS)

    def fisher(theta, out):
        out[:, :] = _fisher(tuple(float(b) for b in theta[:p]), None)[0]

    def fisher_at(theta, n):
        return _fisher(tuple(float(b) for b in theta[:p]), int(n))[0].copy()

    def fisher_mcse(theta, n=None):
        return _fisher(tuple(float(b) for b in theta[:p]), None if n is None else int(n))[1]

    def numpy_sample(gen, theta, n, design_array=None):
        covariates = design.draw_numpy(covariate_generator(gen), n)
        y = draw_y(gen, linear_predictor_numpy(covariates, theta[:p]))
        return np.column_stack([y, covariates]).ravel()

    def reference_mle(x):
        """statsmodels by Newton to 1e-12: an independent implementation (a test-time
        dependency, in the [dev] extra)."""
        import statsmodels.api as sm

        rows = np.asarray(x).reshape(-1, p + 1)
        fit = getattr(sm, statsmodels_family)(rows[:, 0], rows[:, 1:])
        return np.asarray(fit.fit(method="newton", tol=1e-12, maxiter=200, disp=0).params)

    class _RowDensity:
        """log P(y_i | x_i) per observation of a flat (y, x...) buffer, SciPy-style."""

        def __init__(self, beta):
            self.beta = np.asarray(beta)
            self.dist = type("dist", (), {"name": name})

        def logpdf(self, x):
            rows = np.asarray(x, dtype=np.float64).reshape(-1, self.beta.size + 1)
            return row_logpmf(rows[:, 0], linear_predictor_numpy(rows[:, 1:], self.beta))

    estimators = {
        "mle": Estimator("mle", fit_mle, "Newton-Raphson (IRLS) with step halving", min_n=p + 1)
    }
    estimators.update(extra_estimators or {})
    estimators["gradient_ascent"] = Estimator(
        "gradient_ascent", fit_gradient_ascent,
        f"gradient ascent on ℓ/n, rate {rate:g}, at most {max_iter} steps",
        options={"rate": rate, "max_iter": max_iter, "tol": tol},
        factory=gradient_ascent_factory(family), min_n=p + 1,
    )  # fmt: skip
    params = tuple(
        Param(coef, REAL, typical=typical, doc=f"{coefficient_doc} of column {j} of X")
        for j, coef in enumerate(design.coefficient_names())
    )
    exact = fixed or glm_information_is_exact(design.covariates)
    fisher_tag = (
        "exact at each n: (1/n) Σ w(η_i) x_i x_iᵀ of the file's rows" if fixed
        else "exact: normal conditioning and Gauss-Legendre quadrature over the covariates"
        if exact else f"Monte Carlo over {FISHER_DRAWS:,} design draws (its MCSE is carried)"
    )  # fmt: skip
    return Model(
        name=name, params=params, support=response_support, sample=sample, loglik=loglik,
        score=score, fisher=fisher, estimators=estimators, numpy_sample=numpy_sample,
        scipy_dist=lambda theta: _RowDensity(theta[:p]), reference_mle=reference_mle,
        tags={"closed_form_mle": False, "regression": True, "fisher": fisher_tag},
        doc=doc.format(design=design.describe()), data_width=p + 1, specialize=make_model,
        design=design, fisher_at=fisher_at if fixed else None,
        fisher_mcse=None if fixed or exact else fisher_mcse,
    )  # fmt: skip


def _weights(eta: np.ndarray, family: int) -> np.ndarray:
    """GLM working weights w(η) = Var(y | η) of a canonical link: μ(1-μ) (logit), μ (log);
    the logistic one as e^{-|η|}/(1 + e^{-|η|})², which never overflows."""
    if family == LOGISTIC:
        e = np.exp(-np.abs(eta))
        return e / (1.0 + e) ** 2
    return np.exp(eta)


def fixed_design_fisher(design, beta, family: int, n: int) -> np.ndarray:
    """(1/n) Σ_{i<n} w(η_i) x_i x_iᵀ: the exact per-observation information of a fixed design
    at sample size n (McCullagh & Nelder 1989, §2.5: I = XᵀWX for a canonical link)."""
    xs = design.rows(n)
    w = _weights(xs @ beta, family)
    return (xs * w[:, None]).T @ xs / n


def monte_carlo_fisher(design, beta, family: int, draws: int,
                       seed: int = 20261121) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """(E[w(η) x xᵀ], its MCSE) per observation by averaging over ``draws`` design draws
    (fixed seed): for designs that :func:`glm_information` cannot integrate exactly."""
    gen = np.random.Generator(np.random.Philox(seed))
    total = np.zeros((design.p, design.p))
    squares = np.zeros((design.p, design.p))
    chunk = 200_000
    done = 0
    while done < draws:
        m = min(chunk, draws - done)
        xs = design.draw_numpy(gen, m)
        w = _weights(xs @ beta, family)
        terms = xs[:, :, None] * xs[:, None, :] * w[:, None, None]
        total += terms.sum(axis=0)
        squares += (terms * terms).sum(axis=0)
        done += m
    mean = total / draws
    var = np.maximum(squares / draws - mean * mean, 0.0) * draws / (draws - 1)
    return mean, np.sqrt(var / draws)
