"""Expected Fisher information without Monte Carlo: numerical integration over the support.

The per-observation information is I(θ) = E_θ[s(X; θ) s(X; θ)ᵀ], s the score of one
observation (Lehmann & Casella, *Theory of Point Estimation*, 2nd ed., §2.5). Where a model
does not state it in closed form, simstudy computes it as follows, in that order of preference:

- **iid models with a one-dimensional support**: continuous ones by adaptive Gauss-Kronrod
  quadrature of s_a s_b f over the support (``scipy.integrate.quad``, QUADPACK, relative
  tolerance 1e-12); discrete ones by summation over the support until the remaining mass is
  below 1e-15. Both also integrate f itself and refuse a density whose mass is not 1 (a
  density that is not normalized, or a support that is too small, gives a wrong I);
- **canonical-link GLMs with random covariates** (:func:`glm_information`): E[w(η) x xᵀ] over
  the covariate law, exactly reduced to one-dimensional normal integrals (below), summed over
  the Bernoulli covariates' values and integrated by Gauss-Legendre over the uniform ones;
- otherwise a Monte Carlo average (:func:`monte_carlo_information`), whose MCSE is returned with
  it so that every measure that uses I can carry its error.

Scores come from the model (its exact ``score``) or from a fourth-order central difference of
the log density, [-ℓ(θ+2h) + 8ℓ(θ+h) - 8ℓ(θ-h) + ℓ(θ-2h)]/(12h) with h = ε^(1/5)·max(1, |θ_j|):
truncation O(h⁴) and rounding O(ε/h), both near 1e-13 relative (Fornberg 1988, "Generation of
finite difference formulas on arbitrarily spaced grids", Math. Comp. 51:699-706).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np

#: Relative tolerance asked of each quadrature.
QUAD_RTOL = 1e-12
#: Largest relative error estimate of a quadrature that is accepted (else: not computable).
QUAD_ACCEPT = 1e-9
#: A density whose total mass differs from 1 by more than this is refused.
MASS_TOLERANCE = 1e-7
#: Summation of a discrete support stops once the mass left is below this.
TAIL_MASS = 1e-15
#: Most support points summed (a guard for extreme parameters).
MAX_TERMS = 20_000_000
#: Step of the fourth-order difference, relative to max(1, |θ_j|): ε^(1/5).
H5 = float(np.finfo(float).eps) ** 0.2


class NotComputable(Exception):
    """The information cannot be computed to the stated accuracy this way (the caller falls
    back to the next method, and says so)."""


def numerical_scores(log_density: Callable[[np.ndarray, np.ndarray], np.ndarray],
                     x: np.ndarray, theta: np.ndarray) -> np.ndarray:  # fmt: skip
    """Per-observation scores (m, k) by the fourth-order central difference of
    ``log_density(x, θ)`` (vectorized over x) in each parameter (module docstring)."""
    theta = np.asarray(theta, dtype=np.float64)
    out = np.empty((x.size, theta.size))
    for j in range(theta.size):
        h = H5 * max(1.0, abs(theta[j]))
        values = []
        for step in (2.0, 1.0, -1.0, -2.0):
            t = theta.copy()
            t[j] += step * h
            values.append(log_density(x, t))
        out[:, j] = (-values[0] + 8.0 * values[1] - 8.0 * values[2] + values[3]) / (12.0 * h)
    return out


def iid_information(log_density, scores, support, theta: np.ndarray) -> np.ndarray:
    """I(θ) (k, k) of an iid model with a one-dimensional ``support`` (a
    :class:`~simstudy.models._base.Support`): quadrature (continuous) or summation (discrete).

    ``log_density(x, θ)`` and ``scores(x, θ) -> (m, k)`` are vectorized over a float array x.
    Raises :class:`NotComputable` when the integrals do not converge to :data:`QUAD_ACCEPT`,
    and ``ValueError`` when the density's mass is not 1."""
    theta = np.asarray(theta, dtype=np.float64)
    if support.integer:
        info, mass = _summed(log_density, scores, support, theta)
    else:
        info, mass = _integrated(log_density, scores, support, theta)
    if not abs(mass - 1.0) <= MASS_TOLERANCE:
        raise ValueError(
            f"the density integrates to {mass:.10g} over the support {support}, not 1: is "
            "the log density normalized, and is the declared support the whole support?"
        )
    return info


def _integrated(log_density, scores, support, theta):
    from scipy import integrate

    k = theta.size

    def density(x):
        with np.errstate(all="ignore"):
            value = float(np.exp(log_density(np.array([x]), theta))[0])
        return value if math.isfinite(value) else 0.0

    def product(a, b):
        def f(x):
            d = density(x)
            if d == 0.0:
                return 0.0
            s = scores(np.array([x]), theta)[0]
            return s[a] * s[b] * d

        return f

    lo, hi = support.low, support.high
    results = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error", integrate.IntegrationWarning)
        try:
            mass, _ = integrate.quad(density, lo, hi, epsabs=0.0, epsrel=QUAD_RTOL,
                                     limit=500)  # fmt: skip
            for a in range(k):
                for b in range(a, k):
                    value, err = integrate.quad(product(a, b), lo, hi, epsabs=0.0,
                                                epsrel=QUAD_RTOL, limit=500)  # fmt: skip
                    results[a, b] = (value, err)
        except integrate.IntegrationWarning as exc:
            raise NotComputable(f"quadrature did not converge ({str(exc).splitlines()[0]})") from None
    info = np.empty((k, k))
    for (a, b), (value, err) in results.items():
        scale = math.sqrt(abs(results[a, a][0] * results[b, b][0])) or abs(value) or 1.0
        if not err <= QUAD_ACCEPT * scale:
            raise NotComputable(f"quadrature error estimate {err:.2g} for entry ({a}, {b})")
        info[a, b] = info[b, a] = value
    return info, mass


def _summed(log_density, scores, support, theta, chunk: int = 4096):
    k = theta.size
    start = support.low if math.isfinite(support.low) else None
    if start is None:
        raise NotComputable("summation needs a support bounded below")
    info = np.zeros((k, k))
    mass = 0.0
    x0 = float(start)
    terms = 0
    while True:
        x = x0 + np.arange(chunk, dtype=np.float64)
        x = x[x <= support.high]
        if x.size == 0:
            break
        with np.errstate(all="ignore"):
            p = np.exp(log_density(x, theta))
        p = np.where(np.isfinite(p), p, 0.0)
        s = scores(x, theta)
        live = p > 0
        info += (s[live] * p[live, None]).T @ s[live]
        mass += float(p.sum())
        terms += x.size
        x0 = float(x[-1]) + 1.0
        if 1.0 - mass < TAIL_MASS and p[-1] < TAIL_MASS:
            break
        if terms >= MAX_TERMS:
            raise NotComputable(f"the support's mass was not exhausted after {terms:,} terms")
    return info, mass


def monte_carlo_information(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(I, MCSE of each entry) from per-observation scores (m, k) drawn at θ: the mean of
    s sᵀ and the standard error of that mean (Morris, White & Crowther 2019, Table 6, mean)."""
    m = scores.shape[0]
    products = scores[:, :, None] * scores[:, None, :]
    info = products.mean(axis=0)
    mcse = products.std(axis=0, ddof=1) / math.sqrt(m)
    return info, mcse


def inverse_mcse(info: np.ndarray, mcse: np.ndarray) -> np.ndarray:
    """MCSE of each entry of I⁻¹ from the MCSEs of I's entries, by the first-order
    perturbation d(I⁻¹) = -I⁻¹ dI I⁻¹ (Magnus & Neudecker, *Matrix Differential Calculus*,
    3rd ed., ch. 8), treating the errors of distinct entries I_ab (a <= b) as independent
    (I_ab and I_ba are one estimate)."""
    inv = np.linalg.inv(info)
    k = info.shape[0]
    var = np.zeros((k, k))
    for a in range(k):
        for b in range(a, k):
            # ∂(I⁻¹)_ij/∂I_ab for a symmetric perturbation of entries (a, b) and (b, a).
            d = np.outer(inv[:, a], inv[b, :])
            if a != b:
                d = d + np.outer(inv[:, b], inv[a, :])
            var += (d * mcse[a, b]) ** 2
    return np.sqrt(var)


# ---- canonical-link GLMs --------------------------------------------------------------------

#: Gauss-Legendre nodes per uniform covariate, and panels of the normal integral.
UNIFORM_NODES = 64
_PANEL_NODES = 16
#: Largest count of (Bernoulli values x uniform nodes) combinations computed exactly.
MAX_COMBINATIONS = 200_000


def glm_information_is_exact(covariates) -> bool:
    """Whether :func:`glm_information` integrates this covariate law (else: Monte Carlo)."""
    bern = sum(c.dist == "bernoulli" for c in covariates)
    unif = sum(c.dist == "uniform" for c in covariates)
    return 2**bern * UNIFORM_NODES**unif <= MAX_COMBINATIONS


def glm_information(covariates, intercept: bool, beta: np.ndarray,
                    weight: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:  # fmt: skip
    """E[w(xᵀβ) x xᵀ] per observation for independent covariates (McCullagh & Nelder 1989,
    §2.5: the information of a canonical-link GLM), ``covariates`` a sequence of
    ``simstudy.models._design.Covariate``, ``weight`` the working weight w(η), vectorized.

    With the normal covariates Z (means μ, SDs σ_j) gathered in S = β_Zᵀ Z ~ N(m, v), Z given
    S = s is normal with mean μ + κ (s - m), κ_j = σ_j² β_j / v, and covariance
    diag(σ²) - v κκᵀ (normal conditioning; e.g. Anderson, *An Introduction to Multivariate
    Statistical Analysis*, 3rd ed., Thm 2.5.1), so every entry reduces to the one-dimensional
    integrals J_k(c) = E[w(c + S)(S - m)^k], k = 0, 1, 2, where c collects the intercept, the
    Bernoulli covariates (summed over their 2^b values) and the uniform ones (Gauss-Legendre,
    :data:`UNIFORM_NODES` per covariate). J_k is a composite Gauss-Legendre rule on ±12 (or
    wider) SDs. Raises :class:`NotComputable` past :data:`MAX_COMBINATIONS`."""
    beta = np.asarray(beta, dtype=np.float64)
    offset = 1 if intercept else 0
    b0 = beta[0] if intercept else 0.0
    kinds = [c.dist for c in covariates]
    normal = [j for j, d in enumerate(kinds) if d == "normal"]
    bern = [j for j, d in enumerate(kinds) if d == "bernoulli"]
    unif = [j for j, d in enumerate(kinds) if d == "uniform"]
    if not glm_information_is_exact(covariates):
        raise NotComputable(f"{len(bern)} Bernoulli and {len(unif)} uniform covariates")
    p = offset + len(covariates)

    # The discrete/uniform part: points (values of every non-normal covariate) and weights.
    points = np.zeros((1, len(covariates)))
    weights = np.ones(1)
    for j in bern:
        prob = covariates[j].a
        two = np.repeat(points, 2, axis=0)
        two[1::2, j] = 1.0
        weights = np.repeat(weights, 2) * np.tile([1.0 - prob, prob], weights.size)
        points = two
    nodes, node_w = np.polynomial.legendre.leggauss(UNIFORM_NODES)
    for j in unif:
        lo, hi = covariates[j].a, covariates[j].b
        u = 0.5 * (hi - lo) * nodes + 0.5 * (hi + lo)
        many = np.repeat(points, UNIFORM_NODES, axis=0)
        many[:, j] = np.tile(u, points.shape[0])
        weights = np.repeat(weights, UNIFORM_NODES) * np.tile(0.5 * node_w, weights.size)
        points = many

    mu = np.array([covariates[j].a for j in normal])
    sd = np.array([covariates[j].b for j in normal])
    bz = np.array([beta[offset + j] for j in normal])
    m = float(mu @ bz) if normal else 0.0
    v = float(np.sum((bz * sd) ** 2)) if normal else 0.0
    others = np.array([0.0 if d == "normal" else beta[offset + j] for j, d in enumerate(kinds)])
    c = b0 + points @ others + m

    if v > 0:
        j0, j1, j2 = _normal_moments(c, math.sqrt(v), weight)
        kappa = sd**2 * bz / v
    else:
        j0 = weight(c)
        j1 = j2 = np.zeros_like(j0)
        kappa = np.zeros(len(normal))

    # x = (1, covariates): the expectation of each product given the non-normal values, then
    # averaged over them with their weights.
    info = np.zeros((p, p))
    normal_index = {j: i for i, j in enumerate(normal)}

    def mean_terms(j):
        """E[w x_j | c] = A·J0 + B·J1 (arrays over the points)."""
        if j in normal_index:
            i = normal_index[j]
            return mu[i] * np.ones_like(c), kappa[i] * np.ones_like(c)
        return points[:, j], np.zeros_like(c)

    columns = ([None] if intercept else []) + list(range(len(covariates)))
    for a, ja in enumerate(columns):
        for b in range(a, p):
            jb = columns[b]
            if ja is None and jb is None:
                e = j0
            elif ja is None or jb is None:
                A, B = mean_terms(jb if ja is None else ja)
                e = A * j0 + B * j1
            elif ja in normal_index and jb in normal_index:
                ia, ib = normal_index[ja], normal_index[jb]
                cov = (sd[ia] ** 2 if ia == ib else 0.0) - v * kappa[ia] * kappa[ib]
                e = ((cov + mu[ia] * mu[ib]) * j0 + (mu[ia] * kappa[ib] + mu[ib] * kappa[ia]) * j1
                     + kappa[ia] * kappa[ib] * j2)  # fmt: skip
            else:
                Aa, Ba = mean_terms(ja)
                Ab, Bb = mean_terms(jb)
                # one of the two is a non-normal covariate (B = 0): no conditional covariance
                e = Aa * Ab * j0 + (Aa * Bb + Ab * Ba) * j1 + Ba * Bb * j2
            info[a, b] = info[b, a] = float(np.sum(weights * e))
    return info


def _normal_moments(c: np.ndarray, sd: float, weight) -> tuple[np.ndarray, ...]:
    """(J0, J1, J2)(c) = E[w(c + S - m)(S - m)^k] for S - m ~ N(0, sd²), k = 0, 1, 2, by a
    composite Gauss-Legendre rule in t = (S - m)/sd over [-L, L] (panels no wider than
    min(1, 2/sd) so that w varies little within one; L = 12 + 2 sd covers a weight growing
    like e^η, whose mass sits near t = sd)."""
    half = 12.0 + 2.0 * sd
    width = min(1.0, 2.0 / sd)
    panels = max(1, math.ceil(2 * half / width))
    nodes, node_w = np.polynomial.legendre.leggauss(_PANEL_NODES)
    edges = np.linspace(-half, half, panels + 1)
    mid = 0.5 * (edges[1:] + edges[:-1])
    rad = 0.5 * (edges[1:] - edges[:-1])
    t = (mid[:, None] + rad[:, None] * nodes[None, :]).ravel()
    tw = (rad[:, None] * node_w[None, :]).ravel() * np.exp(-0.5 * t * t) / math.sqrt(2 * math.pi)
    s = sd * t
    out = []
    w = weight(c[:, None] + s[None, :])
    for k in range(3):
        out.append(w @ (tw * s**k))
    return tuple(out)
