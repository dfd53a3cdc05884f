"""Derived parameters g(θ) (MLE invariance): safe expressions, exact gradients, delta method.

A model entry may declare ``derived: {sd: "sqrt(sigma2)", mean: "shape / rate"}``. By the
invariance of the MLE, g(θ̂) is the MLE of g(θ); its Cramér-Rao bound per observation is
∇g(θ)ᵀ I(θ)⁻¹ ∇g(θ) (delta method; Lehmann & Casella, TPE, Thm 6.2.3 / §2.5). Expressions are
parsed with :mod:`ast` and only numbers, the model's parameter names, + - * / ** and the
functions in :data:`FUNCTIONS` are allowed: nothing is ever ``eval``-ed. Gradients are exact,
by forward-mode automatic differentiation (dual numbers) over the parsed expression.

The per-replication Wald SE of g(θ̂) is the delta method with the covariance
diag(SE)·C·diag(SE) from the estimator's own standard errors and the correlations it reports
per replication (the ``corr_<a>_<b>`` columns). Where an estimator reports none (NaN, e.g. a
plugin writing only SEs), C is the correlation of its estimates across the cell's replications,
which is right on average but not per replication. For g of one parameter C plays no part.
"""

from __future__ import annotations

import ast
from collections.abc import Sequence

import numpy as np

FUNCTIONS = ("sqrt", "log", "exp", "log1p", "expm1", "abs")


class ExpressionError(ValueError):
    """An expression that uses something other than numbers, parameters and allowed functions."""


def parse(expression: str, names: Sequence[str]) -> ast.Expression:
    """Parse and check ``expression``; raise :class:`ExpressionError` saying what is not allowed."""
    try:
        tree = ast.parse(expression, mode="eval")
    except SyntaxError as exc:
        raise ExpressionError(f"cannot parse {expression!r}: {exc.msg}") from None
    for node in ast.walk(tree):
        if isinstance(node, (ast.Expression, ast.Load, ast.operator, ast.unaryop)):
            if isinstance(node, ast.operator) and not isinstance(
                node, (ast.Add, ast.Sub, ast.Mult, ast.Div, ast.Pow)
            ):
                raise ExpressionError(f"operator {type(node).__name__} is not allowed; use + - * / **")
            if isinstance(node, ast.unaryop) and not isinstance(node, (ast.USub, ast.UAdd)):
                raise ExpressionError(f"operator {type(node).__name__} is not allowed")
            continue
        if isinstance(node, (ast.BinOp, ast.UnaryOp)):
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
            continue
        if isinstance(node, ast.Name):
            if node.id not in names and node.id not in FUNCTIONS:
                raise ExpressionError(
                    f"unknown name {node.id!r}; use the model's parameters ({', '.join(names)}) "
                    f"and the functions {', '.join(FUNCTIONS)}"
                )
            continue
        if isinstance(node, ast.Call):
            if not (isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS):
                raise ExpressionError(f"only the functions {', '.join(FUNCTIONS)} may be called")
            if len(node.args) != 1 or node.keywords:
                raise ExpressionError(f"{node.func.id}() takes exactly one argument")
            continue
        raise ExpressionError(f"{type(node).__name__} is not allowed in an expression")
    return tree


class Dual:
    """A value with its gradient with respect to the parameters (forward-mode AD)."""

    __slots__ = ("g", "v")

    def __init__(self, v, g):
        self.v = v
        self.g = g

    @staticmethod
    def lift(x, k):
        return x if isinstance(x, Dual) else Dual(x, [0.0] * k)

    def __add__(self, o):
        o = Dual.lift(o, len(self.g))
        return Dual(self.v + o.v, [a + b for a, b in zip(self.g, o.g)])

    def __sub__(self, o):
        o = Dual.lift(o, len(self.g))
        return Dual(self.v - o.v, [a - b for a, b in zip(self.g, o.g)])

    def __mul__(self, o):
        o = Dual.lift(o, len(self.g))
        return Dual(self.v * o.v, [a * o.v + self.v * b for a, b in zip(self.g, o.g)])

    def __truediv__(self, o):
        o = Dual.lift(o, len(self.g))
        return Dual(self.v / o.v, [(a * o.v - self.v * b) / (o.v * o.v) for a, b in zip(self.g, o.g)])

    def __pow__(self, o):
        o = Dual.lift(o, len(self.g))
        value = self.v**o.v
        # d(u^w) = w u^(w-1) du + u^w log(u) dw; the log term only where w varies.
        grads = []
        for a, b in zip(self.g, o.g):
            term = o.v * self.v ** (o.v - 1) * a
            if np.any(b != 0):
                term = term + value * np.log(self.v) * b
            grads.append(term)
        return Dual(value, grads)

    def __neg__(self):
        return Dual(-self.v, [-a for a in self.g])

    def apply(self, name):
        v = self.v
        value, slope = {
            "sqrt": lambda: (np.sqrt(v), 0.5 / np.sqrt(v)),
            "log": lambda: (np.log(v), 1.0 / v),
            "exp": lambda: (np.exp(v), np.exp(v)),
            "log1p": lambda: (np.log1p(v), 1.0 / (1.0 + v)),
            "expm1": lambda: (np.expm1(v), np.exp(v)),
            "abs": lambda: (np.abs(v), np.sign(v)),
        }[name]()
        return Dual(value, [slope * a for a in self.g])


def _eval(node, env):
    if isinstance(node, ast.Expression):
        return _eval(node.body, env)
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, env)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp):
        left, right = _eval(node.left, env), _eval(node.right, env)
        k = len(next(iter(env.values())).g)
        left, right = Dual.lift(left, k), Dual.lift(right, k)
        op = type(node.op)
        if op is ast.Add:
            return left + right
        if op is ast.Sub:
            return left - right
        if op is ast.Mult:
            return left * right
        if op is ast.Div:
            return left / right
        return left**right
    if isinstance(node, ast.Call):
        arg = Dual.lift(_eval(node.args[0], env), len(next(iter(env.values())).g))
        return arg.apply(node.func.id)
    raise ExpressionError(f"cannot evaluate {type(node).__name__}")


def value_and_gradient(tree: ast.Expression, names: Sequence[str], values: Sequence):
    """g and ∇g at ``values`` (scalars or equal-length arrays, one per parameter in ``names``)."""
    k = len(names)
    env = {
        name: Dual(np.asarray(v, dtype=float), [1.0 if i == j else 0.0 for j in range(k)])
        for i, (name, v) in enumerate(zip(names, values))
    }
    out = Dual.lift(_eval(tree, env), k)
    shape = np.shape(out.v)
    return np.asarray(out.v, dtype=float), [np.broadcast_to(np.asarray(g, dtype=float), shape) for g in out.g]


def delta_method(tree, names, theta, inv_fisher, est_columns, se_columns, usable, corr_columns=None):
    """(true g(θ), per-observation CRLB variance, g(θ̂) per rep, delta-method SE per rep).

    ``corr_columns[(a, b)]``: per-replication correlations (NaN where unknown); ``usable``
    masks the replications whose estimates define the fallback correlation matrix.
    """
    g0, grad0 = value_and_gradient(tree, names, theta)
    grad0 = np.array([float(g) for g in grad0])
    crlb_var = float(grad0 @ inv_fisher @ grad0)
    if len(names) > 1 and usable.sum() > 2:
        corr = np.atleast_2d(np.corrcoef(np.vstack([c[usable] for c in est_columns])))
    else:
        corr = np.eye(len(names))
    g_hat, grads = value_and_gradient(tree, names, est_columns)
    scaled = [g * s for g, s in zip(grads, se_columns)]  # ∂g/∂θ_j · SE_j
    var = np.zeros_like(g_hat)
    for a in range(len(names)):
        var = var + scaled[a] * scaled[a]
        for b in range(a + 1, len(names)):
            rho = np.full_like(g_hat, corr[a, b])
            if corr_columns is not None:
                own = corr_columns[(names[a], names[b])]
                rho = np.where(np.isfinite(own), own, rho)
            var = var + 2.0 * scaled[a] * rho * scaled[b]
    return float(g0), crlb_var, g_hat, np.sqrt(np.maximum(var, 0.0))
