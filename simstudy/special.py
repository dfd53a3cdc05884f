"""Numba-callable special functions that run SciPy's own compiled code.

``digamma``, ``trigamma``, ``gammaln`` and ``ndtri`` map float64 to float64 and can be called
from any ``@jit`` kernel, which stays cacheable.

Why not ctypes: calling a ctypes/cffi function pointer from jitted code embeds its address as a
"dynamic global", and Numba then refuses to cache the caller and everything that links it, so
every warm process would recompile. Instead, each SciPy address is registered once, at import,
under a stable symbol name (``llvmlite.binding.add_symbol``), and an intrinsic emits a call to an
external function of that name. The compiled (and cached) code holds only the name; the JIT
linker resolves it against the current process's address when a cached kernel is loaded, which
is why this module must be imported before any kernel using it runs (importing it is enough).

Where the code comes from (written against SciPy 1.17; each assumption is checked at import):

- ``digamma``, ``gammaln``, ``ndtri``: the C functions that ``scipy.special.cython_special``
  exports in ``__pyx_capi__`` (``__pyx_fuse_1psi``, ``gammaln``, ``ndtri``), each with the C
  signature ``double (double, int __pyx_skip_dispatch)``.
- ``trigamma``: ``cython_special`` exports neither ``polygamma`` nor the Hurwitz ``zeta``.
  ``scipy.special.polygamma(1, x)`` is computed as ``(-1.0)**2 * gamma(2.0) * zeta(2, x)``,
  bitwise equal to the ``scipy.special._ufuncs._zeta`` ufunc at ``(2.0, x)``, so ``trigamma``
  calls that ufunc's own ``dd->d`` inner loop with its loop data (both read from the public
  ``PyUFuncObject`` fields ``functions`` and ``data``; the layout is checked against the ufunc's
  Python attributes first). The inner loop is ``void (char **args, npy_intp *dims,
  npy_intp *steps, void *data)``; it is called on one element.

SciPy's error handling applies unchanged: by default (``scipy.special.seterr``: ignore) these
functions return nan/inf without raising or warning.
"""

from __future__ import annotations

import ctypes

import llvmlite.binding as llvm
import numpy as np
import scipy.special
import scipy.special._ufuncs
import scipy.special.cython_special
from llvmlite import ir
from numba.core import cgutils, types
from numba.extending import get_cython_function_address, intrinsic

from simstudy._jit import jit

__all__ = ["digamma", "gammaln", "ndtri", "trigamma"]

# cython_special's exports used here, with the C signature each capsule must carry. The trailing
# ``int __pyx_skip_dispatch`` is Cython's cpdef calling convention; module-level functions
# ignore it, and 0 is passed.
_CYTHON_SIGNATURE = b"double (double, int __pyx_skip_dispatch)"
_CYTHON_EXPORTS = {
    "simstudy.scipy.cython_special.psi": "__pyx_fuse_1psi",
    "simstudy.scipy.cython_special.gammaln": "gammaln",
    "simstudy.scipy.cython_special.ndtri": "ndtri",
}
_ZETA_LOOP = "simstudy.scipy._ufuncs._zeta.dd_d.loop"
_ZETA_DATA = "simstudy.scipy._ufuncs._zeta.dd_d.data"

_DOUBLE = ir.DoubleType()
_INT = ir.IntType(32)
_BYTE_PTR = ir.IntType(8).as_pointer()
_INTP = ir.IntType(64)


class _UFuncHead(ctypes.Structure):
    """The leading fields of NumPy's public ``PyUFuncObject`` (``numpy/ufuncobject.h``)."""

    _fields_ = [
        ("ob_base", ctypes.c_byte * object.__basicsize__),  # PyObject_HEAD
        ("nin", ctypes.c_int),
        ("nout", ctypes.c_int),
        ("nargs", ctypes.c_int),
        ("identity", ctypes.c_int),
        ("functions", ctypes.c_void_p),
        ("data", ctypes.c_void_p),
        ("ntypes", ctypes.c_int),
        ("reserved1", ctypes.c_int),
        ("name", ctypes.c_char_p),
        ("types", ctypes.c_void_p),
    ]


def _capsule_signature(module, name):
    """The C signature string a Cython ``__pyx_capi__`` capsule was created with."""
    # A private prototype, so the shared ctypes.pythonapi entry keeps its own restype/argtypes.
    get_name = ctypes.PYFUNCTYPE(ctypes.c_char_p, ctypes.py_object)(
        ("PyCapsule_GetName", ctypes.pythonapi)
    )
    return get_name(module.__pyx_capi__[name])


def _cython_address(name):
    """Address of ``cython_special.<name>`` after checking its C signature."""
    module = scipy.special.cython_special
    if name not in module.__pyx_capi__:
        raise ImportError(
            f"scipy.special.cython_special (SciPy {scipy.__version__}) does not export {name!r}; "
            "simstudy.special needs SciPy's digamma, gammaln and ndtri from it."
        )
    signature = _capsule_signature(module, name)
    if signature != _CYTHON_SIGNATURE:
        raise ImportError(
            f"scipy.special.cython_special.{name} has C signature {signature!r}; "
            f"simstudy.special expects {_CYTHON_SIGNATURE!r}."
        )
    return get_cython_function_address("scipy.special.cython_special", name)


def _ufunc_loop(ufunc, types_):
    """(inner-loop address, loop-data address) of ``ufunc`` for the type signature ``types_``."""
    head = _UFuncHead.from_address(id(ufunc))
    # The struct is public NumPy ABI; still, check it against what Python reports before
    # trusting any pointer read from it.
    layout_ok = (
        (head.nin, head.nout, head.nargs, head.ntypes)
        == (ufunc.nin, ufunc.nout, ufunc.nargs, ufunc.ntypes)
        and head.name == ufunc.__name__.encode()
    )
    if not layout_ok or types_ not in ufunc.types:
        raise ImportError(
            f"cannot read the inner loops of scipy.special ufunc {ufunc.__name__!r} "
            f"(NumPy {np.__version__}, SciPy {scipy.__version__}); trigamma needs its "
            f"{types_!r} loop."
        )
    index = ufunc.types.index(types_)
    typenums = (ctypes.c_byte * (head.nargs * head.ntypes)).from_address(head.types)
    expected = [np.dtype(c).num for c in types_.replace("->", "")]
    if list(typenums[index * head.nargs : (index + 1) * head.nargs]) != expected:
        raise ImportError(f"the {types_!r} loop of {ufunc.__name__!r} has unexpected types.")
    functions = (ctypes.c_void_p * head.ntypes).from_address(head.functions)
    data = (ctypes.c_void_p * head.ntypes).from_address(head.data)
    return functions[index], data[index]


def _register_symbols():
    """Bind every SciPy address used here to its stable symbol name (idempotent)."""
    for symbol, export in _CYTHON_EXPORTS.items():
        llvm.add_symbol(symbol, _cython_address(export))
    # scipy.special._zeta is a private name; the public route to it is scipy.special.zeta(x, q).
    loop, data = _ufunc_loop(scipy.special._ufuncs._zeta, "dd->d")
    llvm.add_symbol(_ZETA_LOOP, loop)
    llvm.add_symbol(_ZETA_DATA, data)


_register_symbols()


def _is_real(ty):
    return isinstance(ty, (types.Float, types.Integer, types.Boolean))


def _declare(module, name, return_type, arg_types):
    """Declare (once per LLVM module) the external function ``name``."""
    return cgutils.get_or_insert_function(module, ir.FunctionType(return_type, arg_types), name)


def _cython_unary(symbol):
    """Intrinsic ``double f(double)`` calling ``symbol(x, __pyx_skip_dispatch=0)``."""

    @intrinsic
    def call(typingctx, x):
        if not _is_real(x):
            return None

        def codegen(context, builder, signature, args):
            value = context.cast(builder, args[0], signature.args[0], types.float64)
            fn = _declare(builder.module, symbol, _DOUBLE, [_DOUBLE, _INT])
            return builder.call(fn, [value, _INT(0)])

        return types.float64(x), codegen

    return call


_psi = _cython_unary("simstudy.scipy.cython_special.psi")
_gammaln = _cython_unary("simstudy.scipy.cython_special.gammaln")
_ndtri = _cython_unary("simstudy.scipy.cython_special.ndtri")


@intrinsic
def _hurwitz_zeta(typingctx, s, q):
    """zeta(s, q) through one call of the ``_zeta`` ufunc's ``dd->d`` inner loop."""
    if not (_is_real(s) and _is_real(q)):
        return None

    def codegen(context, builder, signature, args):
        operands = [
            context.cast(builder, value, ty, types.float64)
            for value, ty in zip(args, signature.args)
        ]
        # char *args[3] = {&s, &q, &out}; npy_intp dims[1] = {1}; npy_intp steps[3] = {0, 0, 0}
        slots = [cgutils.alloca_once(builder, _DOUBLE) for _ in range(3)]
        for slot, value in zip(slots, operands):
            builder.store(value, slot)
        arg_ptrs = cgutils.alloca_once(builder, _BYTE_PTR, size=3)
        for i, slot in enumerate(slots):
            builder.store(builder.bitcast(slot, _BYTE_PTR), builder.gep(arg_ptrs, [_INT(i)]))
        dims = cgutils.alloca_once_value(builder, _INTP(1))
        steps = cgutils.alloca_once(builder, _INTP, size=3)
        for i in range(3):
            builder.store(_INTP(0), builder.gep(steps, [_INT(i)]))

        module = builder.module
        data = module.globals.get(_ZETA_DATA)
        if data is None:
            data = ir.GlobalVariable(module, ir.IntType(8), _ZETA_DATA)  # external declaration
        loop = _declare(
            module,
            _ZETA_LOOP,
            ir.VoidType(),
            [_BYTE_PTR.as_pointer(), _INTP.as_pointer(), _INTP.as_pointer(), _BYTE_PTR],
        )
        builder.call(loop, [arg_ptrs, dims, steps, builder.bitcast(data, _BYTE_PTR)])
        return builder.load(slots[2])

    return types.float64(s, q), codegen


@jit
def digamma(x):
    """Digamma function psi(x); binds ``scipy.special.cython_special.psi`` (``scipy.special.psi``).

    Parameters
    ----------
    x : float
        Argument.

    Returns
    -------
    float
        ``psi(x) = d/dx log Gamma(x)``; ``-inf`` at +0, ``inf`` at -0, ``nan`` at negative
        integers and at ``-inf``.
    """
    return _psi(x)


@jit
def trigamma(x):
    """Trigamma function psi'(x); binds SciPy's Hurwitz zeta ``zeta(2, x)`` (= ``polygamma(1, x)``).

    Parameters
    ----------
    x : float
        Argument.

    Returns
    -------
    float
        ``psi'(x) = sum_k 1 / (x + k)**2``; ``inf`` at 0 and at negative integers.
    """
    return _hurwitz_zeta(2.0, x)


@jit
def gammaln(x):
    """Log of the absolute gamma function; binds ``scipy.special.cython_special.gammaln``.

    Parameters
    ----------
    x : float
        Argument.

    Returns
    -------
    float
        ``log |Gamma(x)|``; ``inf`` at 0 and at negative integers.
    """
    return _gammaln(x)


@jit
def ndtri(p):
    """Standard normal quantile Phi^-1(p); binds ``scipy.special.cython_special.ndtri``.

    Parameters
    ----------
    p : float
        Probability in [0, 1].

    Returns
    -------
    float
        ``z`` with ``Phi(z) = p``; ``-inf`` at 0, ``inf`` at 1, ``nan`` outside [0, 1].
    """
    return _ndtri(p)
