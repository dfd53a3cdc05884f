"""The one place that owns Numba's options.

Every kernel in simstudy is compiled through :func:`jit` (lazy, cached), :func:`fit_kernel`
(lazy, cached, one pinned signature: the estimators the engine's driver takes as first-class
function pointers) or :func:`jit_sig` (eager, one explicit signature). Importing a model
compiles nothing: kernels are compiled, or loaded from the cache, when first used. ``cache=True`` keeps compile time a one-off cost per machine;
``error_model="numpy"`` lets a division by zero give inf/nan, which the fit status codes report,
instead of raising inside a parallel loop. Fast-math is never enabled: the random variates must
be bit-identical to NumPy's, which depends on IEEE ``exp``/``log``.
"""

from __future__ import annotations

import hashlib
import os
import warnings
from pathlib import Path

import numba
from numba.core import sigutils
from numba.core.errors import NumbaExperimentalFeatureWarning
from numba.core.registry import CPUDispatcher

# First-class function types (function pointers passed to the driver) are stable in practice
# for the plain (array, array, array) -> tuple signatures used here; the warning is noise.
warnings.filterwarnings("ignore", category=NumbaExperimentalFeatureWarning)

_OPTIONS = {"cache": True, "nogil": True, "error_model": "numpy"}


#: Source files (and folders) that neither define a kernel nor change a stored replicate: the
#: command line, orchestration, validation, analysis and reports. They are left out of
#: :func:`source_fingerprint`, so that editing them neither empties Numba's cache nor makes
#: stored results "other code". tests/test_jit.py checks that none of them defines a kernel.
NOT_FINGERPRINTED = (
    "__init__.py", "__main__.py", "_lazy.py", "_text.py", "cli.py", "config.py", "errors.py",
    "external.py", "model_checks.py", "progress.py", "study.py", "summary.py", "testing.py",
    "verdicts.py",
    "metrics/", "report/",
    # Python estimators' runner: no kernel; its hash is in their versions (pyfit.version).
    "pyfit.py", "executors/_pyworkers.py",
)  # fmt: skip


def fingerprinted_sources() -> list[Path]:
    """The source files whose contents identify the compiled kernels and the stored bytes."""
    root = Path(__file__).resolve().parent
    files = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root).as_posix()
        if not any(rel == x or (x.endswith("/") and rel.startswith(x)) for x in NOT_FINGERPRINTED):
            files.append(path)
    return files


def source_fingerprint() -> str:
    """Hash of the source files that compute replicates (:func:`fingerprinted_sources`): the
    identity of the compiled kernels and of the estimators' results."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in fingerprinted_sources():
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def cache_dir() -> Path:
    """Where Numba caches simstudy's kernels: one folder per source fingerprint.

    Numba invalidates a cached kernel only when its own file changes, but kernels inline
    functions from other files (every sampler inlines :mod:`simstudy.rng`): after an edit or an
    upgrade it would load stale machine code. Keying the folder on a hash of the kernels'
    source (every file but :data:`NOT_FINGERPRINTED`) makes any such change start from an
    empty cache. ``NUMBA_CACHE_DIR`` (if set) is the
    parent folder; otherwise the user cache folder (``$XDG_CACHE_HOME`` or ``~/.cache``).
    """
    base = os.environ.get("NUMBA_CACHE_DIR") or os.environ.get("XDG_CACHE_HOME") or (
        Path.home() / ".cache"
    )
    return Path(base) / "simstudy-numba" / source_fingerprint()


# Set before any kernel is decorated: every simstudy module imports this one first.
numba.config.CACHE_DIR = str(cache_dir())


# Kernel signatures of the first-class functions the engine's driver calls (see
# simstudy/models/_base.py for the contracts). All arrays are C-contiguous.
_F64 = numba.types.float64[::1]
#: fit(x, out_theta, out_se) -> (status, n_iter)
FIT_SIG = numba.types.UniTuple(numba.types.int64, 2)(_F64, _F64, _F64)
#: sample(stream_state, theta, design, out)
SAMPLE_SIG = numba.types.void(numba.types.uint64[::1], _F64, _F64, _F64)
#: loglik(x, theta) -> total log-likelihood; also suff_loglik(stats, theta)
LOGLIK_SIG = numba.types.float64(_F64, _F64)
#: suff_stats(x, out_stats): a replication's sufficient statistics for lr_stat
SUFF_SIG = numba.types.void(_F64, _F64)


def jit(func=None, **extra):
    """Lazily compiled, cached ``numba.njit``; ``extra`` may add e.g. ``inline="always"``."""
    options = {**_OPTIONS, **extra}
    if func is None:
        return numba.njit(**options)
    return numba.njit(**options)(func)


def jit_sig(signature, **extra):
    """Eagerly compiled ``numba.njit`` with one explicit signature (first-class function use)."""
    return numba.njit(signature, **{**_OPTIONS, **extra})


class FitDispatcher(CPUDispatcher):
    """A lazily compiled estimator kernel whose one signature is :data:`FIT_SIG`.

    Nothing is compiled or loaded from the cache until the kernel is first used (by the engine,
    or called from Python), so that listing models or validating a study touches no machine
    code. A plain lazy dispatcher called from Python would compile an inferred return type such
    as ``UniTuple(Literal[int](0) x 2)``, which the driver cannot take as a ``FIT_SIG`` function
    pointer; here a call with ``FIT_SIG``'s argument types compiles ``FIT_SIG`` itself.
    """

    def compile(self, sig):
        args, return_type = sigutils.normalize_signature(sig)
        if return_type is None and tuple(args) == tuple(FIT_SIG.args):
            sig = FIT_SIG
        return super().compile(sig)


def fit_kernel(func=None, *, cache: bool = True):
    """Decorator of estimators: a :class:`FitDispatcher` (compiled on first use, for
    :data:`FIT_SIG`), cached on disk unless ``cache=False`` (kernels closing over values
    built at run time, which Numba cannot cache)."""
    if func is None:
        return lambda f: fit_kernel(f, cache=cache)
    options = {k: v for k, v in _OPTIONS.items() if k != "cache"}
    dispatcher = FitDispatcher(
        py_func=func, locals={}, targetoptions={**options, "nopython": True, "boundscheck": None}
    )
    if cache:
        dispatcher.enable_caching()
    return dispatcher


def ensure_compiled(dispatcher, signature) -> None:
    """Compile (or load from cache) ``signature`` unless the dispatcher already has it
    (dispatchers with an explicit signature refuse ``compile`` even for their own)."""
    if tuple(signature.args) not in dispatcher.overloads:
        dispatcher.compile(signature)


#: Plugin kernels re-wrapped by :func:`as_fit_kernel`, by the id of the user's dispatcher.
_REWRAPPED: dict[int, tuple[object, object]] = {}


def as_fit_kernel(dispatcher):
    """``dispatcher`` compiled for :data:`FIT_SIG` (compiling or loading it if needed), or a
    re-wrapped (uncached) copy when an earlier Python call left it with an inferred return type
    the driver cannot use; the same copy for every later call."""
    if id(dispatcher) in _REWRAPPED:
        return _REWRAPPED[id(dispatcher)][1]
    ensure_compiled(dispatcher, FIT_SIG)
    (overload,) = [
        cres for args, cres in dispatcher.overloads.items() if args == tuple(FIT_SIG.args)
    ]
    if overload.signature.return_type == FIT_SIG.return_type:
        return dispatcher
    copy = numba.njit(FIT_SIG, **{**_OPTIONS, "cache": False})(dispatcher.py_func)
    # The original is kept alive with its copy, so that its id is never reused.
    _REWRAPPED[id(dispatcher)] = (dispatcher, copy)
    return copy
