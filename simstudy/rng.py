"""Philox4x64-10 random streams inside Numba, bit-identical to NumPy's ``Generator(Philox)``.

Every replication draws from its own counter-based stream (Salmon et al. 2011, "Parallel random
numbers: as easy as 1, 2, 3"): no stream depends on any other, on threads or on order.

Addressing
----------
The key is (key0, key1): key0 is the study seed, key1 a 64-bit hash of the cell's data spec
(supplied by the caller). The 256-bit counter words are ``[block, 0, rep, substream]``:
``block`` is Philox's own running block counter, starting at 0 and incremented *before* each
4-word block is generated (as NumPy does, so the first block is computed at counter
``[1, 0, rep, substream]``); ``rep`` is the replication index; ``substream`` is 0 for the data of
an iid model and other indices for further independent streams of the same replication (e.g.
covariates). The NumPy oracle, built by :func:`numpy_generator`, is::

    np.random.Generator(np.random.Philox(key=key0 | (key1 << 64),
                                         counter=np.array([0, 0, rep, substream], np.uint64)))

``n`` sequential calls of a variate here equal NumPy's vectorised call on a fresh oracle, bit for
bit: ``standard_normal`` == ``gen.standard_normal(n)``, ``scale * standard_exponential`` ==
``gen.exponential(scale, n)``, ``scale * standard_gamma(shape)`` == ``gen.gamma(shape, scale,
n)``, ``poisson(lam)`` == ``gen.poisson(lam, n)``, ``bernoulli(p)`` == ``gen.random(n) < p``,
``next_double`` == ``gen.random(n)``, ``next_uint64`` == ``gen.bit_generator.random_raw(n)``;
and ``uniform(lo, hi)``, ``weibull(a)``, ``beta(a, b)``, ``standard_t(df)``,
``standard_cauchy()``, ``laplace(loc, scale)``, ``lognormal(mean, sigma)``,
``negative_binomial(n, p)`` == the ``Generator`` methods of the same names, and
``categorical(categorical_cdf(p))`` == ``gen.choice(len(p), p=p)``.
Callers apply location and scale exactly as NumPy does (``loc + scale * z``).

Algorithms
----------
NumPy's own (``numpy/random/src/philox/philox.h``, ``numpy/random/src/distributions/
distributions.c``, checked against the compiled NumPy 2.4): 53-bit doubles; 256-layer ziggurat
normal and exponential (Marsaglia & Tsang 2000) with NumPy's tables; Marsaglia & Tsang (2000)
gamma, with a Weibull-exponential rejection method for shape < 1; Poisson by multiplying
uniforms for lam < 10 and by PTRS (Hoermann 1993) for lam >= 10. Expressions keep NumPy's
operation order, and Numba calls the same libm ``exp``, ``log``, ``log1p`` and ``pow`` as
NumPy; fast-math would break bit-identity and is never used.

State and performance
---------------------
A stream lives in a caller-allocated ``uint64[::1]`` array of :data:`STATE_SIZE` words (one per
thread, re-initialised per replication by :func:`init_stream`): counter (4 words), key (2),
output buffer (8), buffer position (1). The buffer holds two consecutive Philox blocks, so one
refill runs two independent 10-round chains side by side (about 15% faster than one block; the
words come out in NumPy's order all the same).

The refill is one small LLVM function (an ``i128`` multiply per ``mulhilo``), emitted by an
intrinsic, marked ``noinline`` and called with a pointer to the state: every call site shares
it, which keeps compile time low, and a call that cannot raise lets Numba drop reference counting
of the state array from the hot loop. Everything else (buffer pop, variates, their rare paths)
is inlined into the caller: a non-inlined Numba call that takes the state array costs an
atomic incref/decref pair per draw, which roughly halved throughput in measurements.
"""

from __future__ import annotations

import math

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic

from simstudy._jit import jit

__all__ = [
    "STATE_SIZE", "bernoulli", "init_stream", "next_double", "next_uint64", "numpy_generator",
    "philox_counter", "philox_key", "poisson", "standard_exponential", "standard_gamma",
    "standard_normal",
]

# ---------------------------------------------------------------------------------------------
# State layout (word offsets into the uint64 state array)
# ---------------------------------------------------------------------------------------------
_WORDS_PER_BLOCK = 4
_BLOCKS_PER_REFILL = 2  # two independent 10-round chains per refill (4 gained nothing)
_BUFFER_SIZE = _WORDS_PER_BLOCK * _BLOCKS_PER_REFILL
_CTR = 0  # 4 counter words: block, 0, rep, substream (block = the last block generated)
_KEY = 4  # 2 key words: key0 (study seed), key1 (data-spec hash)
_BUF = 6  # buffered output words of the last refill
_POS = _BUF + _BUFFER_SIZE  # index of the next unread buffer word; _BUFFER_SIZE = empty
STATE_SIZE = _POS + 1

_BUF_U = np.uint64(_BUF)  # uint64 copies: unsigned indexing needs no negative-index wraparound
_BUFFER_SIZE_U = np.uint64(_BUFFER_SIZE)

_UINT64_BITS = 64
_UINT64_LIMIT = 1 << _UINT64_BITS

# Philox4x64 constants (Salmon et al. 2011; numpy/random/src/philox/philox.h)
_PHILOX_ROUNDS = 10
_PHILOX_M0 = 0xD2E7470EE14C6C93  # round multipliers
_PHILOX_M1 = 0xCA5A826395121157
_PHILOX_W0 = 0x9E3779B97F4A7C15  # Weyl key increments: golden ratio, sqrt(3) - 1
_PHILOX_W1 = 0xBB67AE8584CAA73B

_U1 = np.uint64(1)

# next_double: the top 53 bits of a word, scaled to [0, 1)
_DOUBLE_SHIFT = np.uint64(11)
_TWO_POW_M53 = 1.0 / 9007199254740992.0  # 2**-53

# Ziggurat word layouts (distributions.c): normal = 8-bit layer, 1 sign bit, 52-bit magnitude;
# exponential = 3 discarded bits, 8-bit layer, 53-bit magnitude. The tables end this file.
_LAYER_MASK = np.uint64(0xFF)
_LAYER_BITS = np.uint64(8)
_NOR_MANTISSA_MASK = np.uint64(0x000FFFFFFFFFFFFF)
_EXP_DISCARD_BITS = np.uint64(3)
_NOR_R = 3.6541528853610088  # start of the normal tail (ziggurat_nor_r)
_NOR_INV_R = 0.27366123732975828  # 1 / _NOR_R as NumPy spells it (ziggurat_nor_inv_r)
_EXP_R = 7.6971174701310497  # start of the exponential tail (ziggurat_exp_r)

# Marsaglia & Tsang (2000) gamma: d = shape - 1/3, c = 1/sqrt(9 d), squeeze constant 0.0331
_ONE_THIRD = 1.0 / 3.0
_MT_NINE = 9.0
_MT_SQUEEZE = 0.0331

# Poisson: below this mean, multiplication of uniforms; at or above it, PTRS (Hoermann 1993)
_POISSON_PTRS_MIN_LAM = 10.0
# PTRS constants (Hoermann 1993) as distributions.c spells them
_PTRS_B0, _PTRS_B1 = 0.931, 2.53  # b = B0 + B1 sqrt(lam)
_PTRS_A0, _PTRS_A1 = -0.059, 0.02483  # a = A0 + A1 b
_PTRS_IA0, _PTRS_IA1, _PTRS_IA_SHIFT = 1.1239, 1.1328, 3.4  # 1/alpha = IA0 + IA1 / (b - SHIFT)
_PTRS_VR0, _PTRS_VR1, _PTRS_VR_SHIFT = 0.9277, 3.6224, 2.0  # v_r = VR0 - VR1 / (b - SHIFT)
_PTRS_K_OFFSET = 0.43  # k = floor((2a/us + b) u + lam + 0.43)
_PTRS_US_ACCEPT = 0.07  # immediate acceptance needs us >= 0.07 and v <= v_r
_PTRS_US_REJECT = 0.013  # immediate rejection if us < 0.013 and v > us
_INT64_MIN = np.int64(-(2**63))
_TWO_POW_63 = 9223372036854775808.0

# random_loggam (distributions.c; Zhang & Jin 1996, "Computation of Special Functions"):
# Stirling series coefficients, after shifting x up to x0 >= 7 by recurrence.
_LOGGAM_COEFFS = np.array(
    [
        8.333333333333333e-02, -2.777777777777778e-03, 7.936507936507937e-04,
        -5.952380952380952e-04, 8.417508417508418e-04, -1.917526917526918e-03,
        6.410256410256410e-03, -2.955065359477124e-02, 1.796443723688307e-01,
        -1.39243221690590e00,
    ]
)
_LOGGAM_RECURSE_BELOW = 7.0
_TWO_PI = 2.0 * math.pi


# ---------------------------------------------------------------------------------------------
# Philox4x64-10 bit stream
# ---------------------------------------------------------------------------------------------
def _mulhilo_ir(builder, a, b):
    """``(high, low)`` 64-bit words of the full product ``a * b``: one LLVM i128 multiply."""
    wide, narrow = ir.IntType(2 * _UINT64_BITS), ir.IntType(_UINT64_BITS)
    product = builder.mul(builder.zext(a, wide), builder.zext(b, wide))
    high = builder.trunc(builder.lshr(product, ir.Constant(wide, _UINT64_BITS)), narrow)
    return high, builder.trunc(product, narrow)


def _philox_block_ir(builder, counter, key):
    """The 4 output words of Philox4x64-10 at ``counter`` (4 words) and ``key`` (2 words)."""
    word = ir.IntType(_UINT64_BITS)
    m0, m1 = ir.Constant(word, _PHILOX_M0), ir.Constant(word, _PHILOX_M1)
    w0, w1 = ir.Constant(word, _PHILOX_W0), ir.Constant(word, _PHILOX_W1)
    (c0, c1, c2, c3), (k0, k1) = counter, key
    for round_index in range(_PHILOX_ROUNDS):
        if round_index > 0:  # the key is bumped between rounds
            k0, k1 = builder.add(k0, w0), builder.add(k1, w1)
        hi0, lo0 = _mulhilo_ir(builder, m0, c0)
        hi1, lo1 = _mulhilo_ir(builder, m1, c2)
        c0, c1, c2, c3 = (
            builder.xor(builder.xor(hi1, c1), k0),
            lo1,
            builder.xor(builder.xor(hi0, c3), k1),
            lo0,
        )
    return c0, c1, c2, c3


def _increment_ir(builder, counter):
    """``counter + 1`` over the 4 words, low word first, carrying as philox.h does."""
    word = ir.IntType(_UINT64_BITS)
    carry = ir.Constant(ir.IntType(1), 1)
    incremented = []
    for value in counter:
        value = builder.add(value, builder.zext(carry, word))
        incremented.append(value)
        carry = builder.and_(carry, builder.icmp_unsigned("==", value, ir.Constant(word, 0)))
    return incremented


_REFILL_SYMBOL = "simstudy_rng_philox4x64_10_refill"


def _refill_function(module):
    """``uint64 refill(uint64 *state)`` in ``module``, defined on first use.

    Generates the next ``_BLOCKS_PER_REFILL`` blocks into the buffer, advances the counter, sets
    the buffer position to 1 and returns the first word.
    """
    word = ir.IntType(_UINT64_BITS)
    function = cgutils.get_or_insert_function(
        module, ir.FunctionType(word, [word.as_pointer()]), _REFILL_SYMBOL
    )
    if not function.is_declaration:
        return function
    function.linkage = "internal"
    function.attributes.add("noinline")
    function.attributes.add("nounwind")
    builder = ir.IRBuilder(function.append_basic_block())
    state = function.args[0]

    def slot(offset):
        return builder.gep(state, [ir.Constant(ir.IntType(32), offset)], inbounds=True)

    counter = [builder.load(slot(_CTR + i)) for i in range(_WORDS_PER_BLOCK)]
    key = [builder.load(slot(_KEY + i)) for i in range(2)]
    first_word = None
    for block in range(_BLOCKS_PER_REFILL):
        counter = _increment_ir(builder, counter)  # NumPy increments, then generates
        words = _philox_block_ir(builder, counter, key)
        first_word = words[0] if first_word is None else first_word
        for i, value in enumerate(words):
            builder.store(value, slot(_BUF + _WORDS_PER_BLOCK * block + i))
    for i, value in enumerate(counter):
        builder.store(value, slot(_CTR + i))
    builder.store(ir.Constant(word, 1), slot(_POS))
    builder.ret(first_word)
    return function


@intrinsic
def _refill(typingctx, state):
    """Refill the buffer of ``state`` (uint64[::1]) and return its first word."""
    contiguous_words = (
        isinstance(state, types.Array) and state.dtype == types.uint64 and state.ndim == 1
        and state.layout == "C"
    )  # the LLVM function addresses the words by fixed offsets from the data pointer
    if not contiguous_words:
        return None
    signature = types.uint64(state)

    def codegen(context, builder, sig, args):
        array = context.make_array(sig.args[0])(context, builder, args[0])
        return builder.call(_refill_function(builder.module), [array.data])

    return signature, codegen


@jit(inline="always")
def next_uint64(state):
    """The stream's next raw 64-bit word (``Philox.random_raw``)."""
    pos = state[_POS]
    if pos < _BUFFER_SIZE_U:
        state[_POS] = pos + _U1
        return state[_BUF_U + pos]
    return _refill(state)


@jit(inline="always")
def next_double(state):
    """Uniform on [0, 1): ``(next_uint64 >> 11) * 2**-53`` (``Generator.random``)."""
    return (next_uint64(state) >> _DOUBLE_SHIFT) * _TWO_POW_M53


@jit
def init_stream(state, key0, key1, rep, substream):
    """Make ``state`` (uint64[::1] of ``STATE_SIZE``) a fresh stream at key (key0, key1) and
    counter ``[0, 0, rep, substream]``, equal to ``numpy_generator(key0, key1, rep, substream)``.

    The words are unsigned 64-bit; a negative int64 is taken modulo 2**64.
    """
    if state.size < STATE_SIZE:
        raise ValueError("init_stream: the state array must hold STATE_SIZE uint64 words")
    state[_CTR] = 0
    state[_CTR + 1] = 0
    state[_CTR + 2] = rep
    state[_CTR + 3] = substream
    state[_KEY] = key0
    state[_KEY + 1] = key1
    for i in range(_BUFFER_SIZE):
        state[_BUF + i] = 0
    state[_POS] = _BUFFER_SIZE


# ---------------------------------------------------------------------------------------------
# Variates (distributions.c)
# ---------------------------------------------------------------------------------------------
@jit(inline="always")
def _normal_rare(state, idx, rabs, x):
    """Tail (layer 0) or wedge test of the normal ziggurat: ``(accepted, value)``.

    The tail uses ``log1p(-U)`` as compiled NumPy does (never log(0); older copies of
    distributions.c read ``log(1.0 - U)``, which rounds differently).
    """
    if idx == 0:
        while True:
            xx = -_NOR_INV_R * math.log1p(-next_double(state))
            yy = -math.log1p(-next_double(state))
            if yy + yy > xx * xx:
                if (rabs >> _LAYER_BITS) & _U1:
                    return True, -(_NOR_R + xx)
                return True, _NOR_R + xx
    wedge = (_FI_NOR[idx - 1] - _FI_NOR[idx]) * next_double(state) + _FI_NOR[idx]
    return wedge < math.exp(-0.5 * x * x), x


@jit(inline="always")
def standard_normal(state):
    """Standard normal by NumPy's 256-layer ziggurat (``Generator.standard_normal``)."""
    while True:
        r = next_uint64(state)
        idx = np.intp(r & _LAYER_MASK)
        r >>= _LAYER_BITS
        rabs = (r >> _U1) & _NOR_MANTISSA_MASK
        x = rabs * _WI_NOR[idx]
        if r & _U1:
            x = -x
        if rabs < _KI_NOR[idx]:
            return x  # about 99.3% of draws
        accepted, value = _normal_rare(state, idx, rabs, x)
        if accepted:
            return value


@jit(inline="always")
def standard_exponential(state):
    """Standard exponential by NumPy's 256-layer ziggurat (``Generator.standard_exponential``;
    ``Generator.exponential(scale)`` is ``scale * standard_exponential``)."""
    while True:
        ri = next_uint64(state) >> _EXP_DISCARD_BITS
        idx = np.intp(ri & _LAYER_MASK)
        ri >>= _LAYER_BITS
        x = ri * _WE_EXP[idx]
        if ri < _KE_EXP[idx]:
            return x  # about 98.9% of draws
        if idx == 0:  # the tail, with log1p(-U) as in _normal_rare
            return _EXP_R - math.log1p(-next_double(state))
        wedge = (_FE_EXP[idx - 1] - _FE_EXP[idx]) * next_double(state) + _FE_EXP[idx]
        if wedge < math.exp(-x):
            return x
        # NumPy restarts by recursion after a rejected wedge; the loop draws the same words.


@jit(inline="always")
def standard_gamma(state, shape):
    """Standard gamma (``Generator.standard_gamma``; ``gamma(shape, scale)`` is ``scale *``).

    shape == 1: one exponential; shape == 0: 0. shape < 1: NumPy's rejection sampler (a power
    of a uniform, or its transformed tail, accepted against an exponential). shape > 1:
    Marsaglia & Tsang (2000): with d = shape - 1/3,
    c = 1/sqrt(9 d), z normal and v = (1 + c z)^3 > 0, accept d v if u < 1 - 0.0331 z^4 or
    log u < z^2/2 + d (1 - v + log v).
    """
    if shape == 1.0:
        return standard_exponential(state)
    if shape == 0.0:
        return 0.0
    if shape < 1.0:
        while True:
            u = next_double(state)
            v = standard_exponential(state)
            if u <= 1.0 - shape:
                x = math.pow(u, 1.0 / shape)
                if x <= v:
                    return x
            else:
                y = -math.log((1.0 - u) / shape)
                x = math.pow(1.0 - shape + shape * y, 1.0 / shape)
                if x <= v + y:
                    return x
    b = shape - _ONE_THIRD
    c = 1.0 / math.sqrt(_MT_NINE * b)
    while True:
        while True:
            z = standard_normal(state)
            v = 1.0 + c * z
            if v > 0.0:
                break
        v = v * v * v
        u = next_double(state)
        if u < 1.0 - _MT_SQUEEZE * (z * z) * (z * z):
            return b * v
        if math.log(u) < 0.5 * z * z + b * (1.0 - v + math.log(v)):  # log(0) = -inf is fine
            return b * v


@jit(inline="always")
def _loggam(x):
    """log Gamma(x) exactly as NumPy's ``random_loggam`` rounds it (PTRS compares against it)."""
    if x == 1.0 or x == 2.0:
        return 0.0
    n = 0
    x0 = x
    if x <= _LOGGAM_RECURSE_BELOW:
        n = np.int64(_LOGGAM_RECURSE_BELOW - x)
        x0 = x + n
    x2 = 1.0 / (x0 * x0)
    last = _LOGGAM_COEFFS.size - 1
    gl0 = _LOGGAM_COEFFS[last]
    for k in range(last - 1, -1, -1):
        gl0 *= x2
        gl0 += _LOGGAM_COEFFS[k]
    gl = gl0 / x0 + 0.5 * math.log(_TWO_PI) + (x0 - 0.5) * math.log(x0) - x0
    for _ in range(n):
        gl -= math.log(x0 - 1.0)
        x0 -= 1.0
    return gl


@jit(inline="always")
def _floor_to_int64(value):
    """``(int64_t)floor(value)``, giving x86-64's INT64_MIN where C leaves it undefined (out of
    range or NaN); PTRS then rejects it as k < 0, as compiled NumPy does."""
    f = math.floor(value)
    if -_TWO_POW_63 <= f < _TWO_POW_63:
        return np.int64(f)
    return _INT64_MIN


@jit(inline="always")
def _poisson_ptrs(state, lam):
    """Poisson by transformed rejection with squeeze (PTRS; Hoermann 1993), lam >= 10."""
    slam = math.sqrt(lam)
    loglam = math.log(lam)
    b = _PTRS_B0 + _PTRS_B1 * slam
    a = _PTRS_A0 + _PTRS_A1 * b
    invalpha = _PTRS_IA0 + _PTRS_IA1 / (b - _PTRS_IA_SHIFT)
    vr = _PTRS_VR0 - _PTRS_VR1 / (b - _PTRS_VR_SHIFT)
    while True:
        u = next_double(state) - 0.5
        v = next_double(state)
        us = 0.5 - abs(u)
        k = _floor_to_int64((2 * a / us + b) * u + lam + _PTRS_K_OFFSET)
        if us >= _PTRS_US_ACCEPT and v <= vr:
            return k
        if k < 0 or (us < _PTRS_US_REJECT and v > us):
            continue
        # log(v) = -inf for v == 0 is fine: it accepts
        if (math.log(v) + math.log(invalpha) - math.log(a / (us * us) + b)) <= (
            -lam + k * loglam - _loggam(float(k + 1))
        ):
            return k


@jit(inline="always")
def _poisson_mult(state, lam):
    """Poisson by multiplying uniforms until the product drops to exp(-lam), 0 < lam < 10."""
    enlam = math.exp(-lam)
    k = np.int64(0)
    prod = 1.0
    while True:
        prod *= next_double(state)
        if prod > enlam:
            k += 1
        else:
            return k


@jit(inline="always")
def poisson(state, lam):
    """Poisson(lam) as ``Generator.poisson``: PTRS for lam >= 10, multiplication below, 0 at 0."""
    if lam >= _POISSON_PTRS_MIN_LAM:
        return _poisson_ptrs(state, lam)
    if lam == 0.0:
        return np.int64(0)
    return _poisson_mult(state, lam)


@jit(inline="always")
def bernoulli(state, p):
    """1 with probability p: ``next_double < p``, equal to NumPy's ``gen.random(n) < p``."""
    if next_double(state) < p:
        return np.int64(1)
    return np.int64(0)


# ---------------------------------------------------------------------------------------------
# More variates (distributions.c, NumPy 2.4), for the numerical families and non-regular models.
# Each keeps NumPy's operation order; ``Generator.<method>`` applies loc/scale where noted.
# ---------------------------------------------------------------------------------------------
@jit(inline="always")
def uniform(state, low, high):
    """Uniform on [low, high): ``low + (high - low) * next_double`` (``Generator.uniform``,
    which passes ``range = high - low`` to ``random_uniform``)."""
    return low + (high - low) * next_double(state)


@jit(inline="always")
def weibull(state, a):
    """Standard Weibull(a): ``standard_exponential ** (1/a)``, 0 at a == 0
    (``Generator.weibull``; a scale is applied by the caller: ``gen.weibull(a) * scale``)."""
    if a == 0.0:
        return 0.0
    return math.pow(standard_exponential(state), 1.0 / a)


@jit(inline="always")
def _beta_johnk(state, a, b):
    """Johnk's (1964) algorithm for a, b <= 1, as ``random_beta``: X = U^(1/a), Y = V^(1/b),
    accept X/(X+Y) when X + Y <= 1; when X or Y underflows to 0, the ratio is formed from
    logs (log-sum-exp) instead."""
    while True:
        u = next_double(state)
        v = next_double(state)
        x = math.pow(u, 1.0 / a)
        y = math.pow(v, 1.0 / b)
        xpy = x + y
        # NumPy rejects U = V = 0 (about 1 in 10^106).
        if xpy <= 1.0 and u + v > 0.0:
            if x > 0.0 and y > 0.0:
                return x / xpy
            log_x = math.log(u) / a
            log_y = math.log(v) / b
            log_m = max(log_x, log_y)
            log_x -= log_m
            log_y -= log_m
            # One of the two is now 0, so exp(log_x) + exp(log_y) = 1 + exp(min): compiled
            # NumPy 2.4 rounds this as log1p (checked bit for bit on thousands of such draws;
            # older distributions.c copies read log(exp(log_x) + exp(log_y))).
            return math.exp(log_x - math.log1p(math.exp(min(log_x, log_y))))


@jit(inline="always")
def beta(state, a, b):
    """Beta(a, b) as ``Generator.beta``: Johnk's algorithm when a <= 1 and b <= 1, otherwise
    G_a / (G_a + G_b) from two standard gammas (G_a drawn first)."""
    if a <= 1.0 and b <= 1.0:
        return _beta_johnk(state, a, b)
    ga = standard_gamma(state, a)
    gb = standard_gamma(state, b)
    return ga / (ga + gb)


@jit(inline="always")
def standard_t(state, df):
    """Student t with ``df`` degrees of freedom (``Generator.standard_t``): a normal, then a
    standard gamma(df/2), returned as ``sqrt(df/2) * z / sqrt(g)``."""
    num = standard_normal(state)
    denom = standard_gamma(state, df / 2.0)
    return math.sqrt(df / 2.0) * num / math.sqrt(denom)


@jit(inline="always")
def standard_cauchy(state):
    """Standard Cauchy as ``Generator.standard_cauchy``: the ratio of two standard normals.

    C leaves the order of the two calls in ``normal() / normal()`` unspecified; compiled NumPy
    draws the numerator first (checked bit for bit by tests/test_rng.py)."""
    num = standard_normal(state)
    return num / standard_normal(state)


@jit(inline="always")
def laplace(state, loc, scale):
    """Laplace(loc, scale) by inversion as ``Generator.laplace``: U >= 1/2 gives
    ``loc - scale log(2 - 2U)``, 0 < U < 1/2 gives ``loc + scale log(2U)``, U = 0 is redrawn."""
    while True:
        u = next_double(state)
        if u >= 0.5:
            return loc - scale * math.log(2.0 - u - u)
        if u > 0.0:
            return loc + scale * math.log(u + u)


@jit(inline="always")
def lognormal(state, mean, sigma):
    """Lognormal as ``Generator.lognormal(mean, sigma)``: ``exp(mean + sigma * z)``."""
    return math.exp(mean + sigma * standard_normal(state))


@jit(inline="always")
def negative_binomial(state, n, p):
    """Failures before the n-th success, success probability p (``Generator.negative_binomial``):
    a Poisson whose mean is a gamma(n, scale (1 - p)/p) draw."""
    lam = ((1.0 - p) / p) * standard_gamma(state, n)
    return poisson(state, lam)


@jit(inline="always")
def categorical(state, cdf):
    """Category index with normalised cumulative probabilities ``cdf`` (ending in 1.0), as
    ``Generator.choice(K, p=p)``, which builds ``cdf = cumsum(p); cdf /= cdf[-1]`` and returns
    ``cdf.searchsorted(random(), side='right')``: the number of entries <= U."""
    u = next_double(state)
    k = 0
    while k < cdf.size and cdf[k] <= u:
        k += 1
    return np.int64(k)


def categorical_cdf(p):
    """The normalised cdf ``Generator.choice`` builds from ``p``: ``cumsum(p) / cumsum(p)[-1]``."""
    cdf = np.cumsum(np.asarray(p, dtype=np.float64))
    cdf /= cdf[-1]
    return cdf


__all__ += [
    "beta", "categorical", "categorical_cdf", "laplace", "lognormal", "negative_binomial",
    "standard_cauchy", "standard_t", "uniform", "weibull",
]

# ---------------------------------------------------------------------------------------------
# The NumPy oracle (Python)
# ---------------------------------------------------------------------------------------------
def _check_word(name, value):
    """Return ``value`` as a Python int in [0, 2**64), or raise a ValueError saying how."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(  # noqa: TRY004 - one error type for every bad address word
            f"The {name!r} word of a Philox stream address must be an integer in [0, 2**64). "
            f"Got {value!r} of type {type(value).__name__} instead; pass an int."
        )
    word = int(value)
    if not 0 <= word < _UINT64_LIMIT:
        raise ValueError(
            f"The {name!r} word of a Philox stream address must be in [0, 2**64). Got {word!r} "
            f"instead; reduce it modulo 2**64 (value % 2**64) if it is a wrapped int64."
        )
    return word


def philox_key(key0, key1):
    """The 128-bit integer key NumPy's ``Philox(key=...)`` takes: ``key0 | key1 << 64``."""
    return _check_word("key0", key0) | (_check_word("key1", key1) << _UINT64_BITS)


def philox_counter(rep, substream=0):
    """The initial counter ``[0, 0, rep, substream]`` (uint64[4]) of a replication's stream."""
    words = [0, 0, _check_word("rep", rep), _check_word("substream", substream)]
    return np.array(words, dtype=np.uint64)


def numpy_generator(key0, key1, rep, substream=0):
    """The NumPy oracle: a fresh ``Generator(Philox)`` equal, draw for draw, to the stream
    ``init_stream(state, key0, key1, rep, substream)`` (also used to replay a replication)."""
    bit_generator = np.random.Philox(
        key=philox_key(key0, key1), counter=philox_counter(rep, substream)
    )
    return np.random.Generator(bit_generator)


# ---------------------------------------------------------------------------------------------
# Ziggurat tables, transcribed bit for bit from NumPy's ziggurat_constants.h (ki/wi/fi_double,
# ke/we/fe_double). Layer i: K = acceptance threshold of the integer magnitude, W = magnitude
# to x scale, F = density at the layer's edge; layer 0 is the base strip with the tail.
# ---------------------------------------------------------------------------------------------
_KI_NOR = np.array(
    [
        0x000EF33D8025EF6A, 0x0000000000000000, 0x000C08BE98FBC6A8, 0x000DA354FABD8142,
        0x000E51F67EC1EEEA, 0x000EB255E9D3F77E, 0x000EEF4B817ECAB9, 0x000F19470AFA44AA,
        0x000F37ED61FFCB18, 0x000F4F469561255C, 0x000F61A5E41BA396, 0x000F707A755396A4,
        0x000F7CB2EC28449A, 0x000F86F10C6357D3, 0x000F8FA6578325DE, 0x000F9724C74DD0DA,
        0x000F9DA907DBF509, 0x000FA360F581FA74, 0x000FA86FDE5B4BF8, 0x000FACF160D354DC,
        0x000FB0FB6718B90F, 0x000FB49F8D5374C6, 0x000FB7EC2366FE77, 0x000FBAECE9A1E50E,
        0x000FBDAB9D040BED, 0x000FC03060FF6C57, 0x000FC2821037A248, 0x000FC4A67AE25BD1,
        0x000FC6A2977AEE31, 0x000FC87AA92896A4, 0x000FCA325E4BDE85, 0x000FCBCCE902231A,
        0x000FCD4D12F839C4, 0x000FCEB54D8FEC99, 0x000FD007BF1DC930, 0x000FD1464DD6C4E6,
        0x000FD272A8E2F450, 0x000FD38E4FF0C91E, 0x000FD49A9990B478, 0x000FD598B8920F53,
        0x000FD689C08E99EC, 0x000FD76EA9C8E832, 0x000FD848547B08E8, 0x000FD9178BAD2C8C,
        0x000FD9DD07A7ADD2, 0x000FDA9970105E8C, 0x000FDB4D5DC02E20, 0x000FDBF95C5BFCD0,
        0x000FDC9DEBB99A7D, 0x000FDD3B8118729D, 0x000FDDD288342F90, 0x000FDE6364369F64,
        0x000FDEEE708D514E, 0x000FDF7401A6B42E, 0x000FDFF46599ED40, 0x000FE06FE4BC24F2,
        0x000FE0E6C225A258, 0x000FE1593C28B84C, 0x000FE1C78CBC3F99, 0x000FE231E9DB1CAA,
        0x000FE29885DA1B91, 0x000FE2FB8FB54186, 0x000FE35B33558D4A, 0x000FE3B799D0002A,
        0x000FE410E99EAD7F, 0x000FE46746D47734, 0x000FE4BAD34C095C, 0x000FE50BAED29524,
        0x000FE559F74EBC78, 0x000FE5A5C8E41212, 0x000FE5EF3E138689, 0x000FE6366FD91078,
        0x000FE67B75C6D578, 0x000FE6BE661E11AA, 0x000FE6FF55E5F4F2, 0x000FE73E5900A702,
        0x000FE77B823E9E39, 0x000FE7B6E37070A2, 0x000FE7F08D774243, 0x000FE8289053F08C,
        0x000FE85EFB35173A, 0x000FE893DC840864, 0x000FE8C741F0CEBC, 0x000FE8F9387D4EF6,
        0x000FE929CC879B1D, 0x000FE95909D388EA, 0x000FE986FB939AA2, 0x000FE9B3AC714866,
        0x000FE9DF2694B6D5, 0x000FEA0973ABE67C, 0x000FEA329CF166A4, 0x000FEA5AAB32952C,
        0x000FEA81A6D5741A, 0x000FEAA797DE1CF0, 0x000FEACC85F3D920, 0x000FEAF07865E63C,
        0x000FEB13762FEC13, 0x000FEB3585FE2A4A, 0x000FEB56AE3162B4, 0x000FEB76F4E284FA,
        0x000FEB965FE62014, 0x000FEBB4F4CF9D7C, 0x000FEBD2B8F449D0, 0x000FEBEFB16E2E3E,
        0x000FEC0BE31EBDE8, 0x000FEC2752B15A15, 0x000FEC42049DAFD3, 0x000FEC5BFD29F196,
        0x000FEC75406CEEF4, 0x000FEC8DD2500CB4, 0x000FECA5B6911F12, 0x000FECBCF0C427FE,
        0x000FECD38454FB15, 0x000FECE97488C8B3, 0x000FECFEC47F91B7, 0x000FED1377358528,
        0x000FED278F844903, 0x000FED3B10242F4C, 0x000FED4DFBAD586E, 0x000FED605498C3DD,
        0x000FED721D414FE8, 0x000FED8357E4A982, 0x000FED9406A42CC8, 0x000FEDA42B85B704,
        0x000FEDB3C8746AB4, 0x000FEDC2DF416652, 0x000FEDD171A46E52, 0x000FEDDF813C8AD3,
        0x000FEDED0F909980, 0x000FEDFA1E0FD414, 0x000FEE06AE124BC4, 0x000FEE12C0D95A06,
        0x000FEE1E579006E0, 0x000FEE29734B6524, 0x000FEE34150AE4BC, 0x000FEE3E3DB89B3C,
        0x000FEE47EE2982F4, 0x000FEE51271DB086, 0x000FEE59E9407F41, 0x000FEE623528B42E,
        0x000FEE6A0B5897F1, 0x000FEE716C3E077A, 0x000FEE7858327B82, 0x000FEE7ECF7B06BA,
        0x000FEE84D2484AB2, 0x000FEE8A60B66343, 0x000FEE8F7ACCC851, 0x000FEE94207E25DA,
        0x000FEE9851A829EA, 0x000FEE9C0E13485C, 0x000FEE9F557273F4, 0x000FEEA22762CCAE,
        0x000FEEA4836B42AC, 0x000FEEA668FC2D71, 0x000FEEA7D76ED6FA, 0x000FEEA8CE04FA0A,
        0x000FEEA94BE8333B, 0x000FEEA950296410, 0x000FEEA8D9C0075E, 0x000FEEA7E7897654,
        0x000FEEA678481D24, 0x000FEEA48AA29E83, 0x000FEEA21D22E4DA, 0x000FEE9F2E352024,
        0x000FEE9BBC26AF2E, 0x000FEE97C524F2E4, 0x000FEE93473C0A3A, 0x000FEE8E40557516,
        0x000FEE88AE369C7A, 0x000FEE828E7F3DFD, 0x000FEE7BDEA7B888, 0x000FEE749BFF37FF,
        0x000FEE6CC3A9BD5E, 0x000FEE64529E007E, 0x000FEE5B45A32888, 0x000FEE51994E57B6,
        0x000FEE474A0006CF, 0x000FEE3C53E12C50, 0x000FEE30B2E02AD8, 0x000FEE2462AD8205,
        0x000FEE175EB83C5A, 0x000FEE09A22A1447, 0x000FEDFB27E349CC, 0x000FEDEBEA76216C,
        0x000FEDDBE422047E, 0x000FEDCB0ECE39D3, 0x000FEDB964042CF4, 0x000FEDA6DCE938C9,
        0x000FED937237E98D, 0x000FED7F1C38A836, 0x000FED69D2B9C02B, 0x000FED538D06AE00,
        0x000FED3C41DEA422, 0x000FED23E76A2FD8, 0x000FED0A732FE644, 0x000FECEFDA07FE34,
        0x000FECD4100EB7B8, 0x000FECB708956EB4, 0x000FEC98B61230C1, 0x000FEC790A0DA978,
        0x000FEC57F50F31FE, 0x000FEC356686C962, 0x000FEC114CB4B335, 0x000FEBEB948E6FD0,
        0x000FEBC429A0B692, 0x000FEB9AF5EE0CDC, 0x000FEB6FE1C98542, 0x000FEB42D3AD1F9E,
        0x000FEB13B00B2D4B, 0x000FEAE2591A02E9, 0x000FEAAEAE992257, 0x000FEA788D8EE326,
        0x000FEA3FCFFD73E5, 0x000FEA044C8DD9F6, 0x000FE9C5D62F563B, 0x000FE9843BA947A4,
        0x000FE93F471D4728, 0x000FE8F6BD76C5D6, 0x000FE8AA5DC4E8E6, 0x000FE859E07AB1EA,
        0x000FE804F690A940, 0x000FE7AB488233C0, 0x000FE74C751F6AA5, 0x000FE6E8102AA202,
        0x000FE67DA0B6ABD8, 0x000FE60C9F38307E, 0x000FE5947338F742, 0x000FE51470977280,
        0x000FE48BD436F458, 0x000FE3F9BFFD1E37, 0x000FE35D35EEB19C, 0x000FE2B5122FE4FE,
        0x000FE20003995557, 0x000FE13C82788314, 0x000FE068C4EE67B0, 0x000FDF82B02B71AA,
        0x000FDE87C57EFEAA, 0x000FDD7509C63BFD, 0x000FDC46E529BF13, 0x000FDAF8F82E0282,
        0x000FD985E1B2BA75, 0x000FD7E6EF48CF04, 0x000FD613ADBD650B, 0x000FD40149E2F012,
        0x000FD1A1A7B4C7AC, 0x000FCEE204761F9E, 0x000FCBA8D85E11B2, 0x000FC7D26ECD2D22,
        0x000FC32B2F1E22ED, 0x000FBD6581C0B83A, 0x000FB606C4005434, 0x000FAC40582A2874,
        0x000F9E971E014598, 0x000F89FA48A41DFC, 0x000F66C5F7F0302C, 0x000F1A5A4B331C4A,
    ],
    dtype=np.uint64,
)

_WI_NOR = np.array(
    [
        8.683627060801306e-16, 4.779330175727737e-17, 6.354352417405262e-17,
        7.454870481247696e-17, 8.3293668157931e-17, 9.068060405059482e-17,
        9.714860076567762e-17, 1.0294750314241019e-16, 1.0823430288447684e-16,
        1.131147019610903e-16, 1.176635945702292e-16, 1.2193617278714363e-16,
        1.2597439914637093e-16, 1.2981099886264032e-16, 1.3347203736824123e-16,
        1.3697864842571203e-16, 1.4034823001242382e-16, 1.4359529452056943e-16,
        1.4673208742364422e-16, 1.4976904668391037e-16, 1.5271515003596198e-16,
        1.5557818169460764e-16, 1.5836494009290885e-16, 1.6108140175274928e-16,
        1.6373285203969853e-16, 1.6632399058420835e-16, 1.6885901708676596e-16,
        1.713417017655966e-16, 1.737754436586486e-16, 1.7616331923000996e-16,
        1.7850812316976727e-16, 1.8081240285799152e-16, 1.830784876482675e-16,
        1.853085138861802e-16, 1.8750444639373882e-16, 1.896680970077476e-16,
        1.918011406483862e-16, 1.9390512930625104e-16, 1.9598150426628824e-16,
        1.9803160683128174e-16, 2.000566877627333e-16, 2.0205791562071654e-16,
        2.0403638415480212e-16, 2.0599311887403706e-16, 2.079290829041402e-16,
        2.0984518222370352e-16, 2.1174227035760342e-16, 2.1362115259449868e-16,
        2.1548258978581458e-16, 2.1732730177564367e-16, 2.191559705042727e-16,
        2.2096924282235318e-16, 2.2276773304789553e-16, 2.2455202529414355e-16,
        2.263226755928568e-16, 2.280802138345017e-16, 2.2982514554424684e-16,
        2.3155795351040804e-16, 2.3327909928004356e-16, 2.3498902453470955e-16,
        2.3668815235791604e-16, 2.3837688840454243e-16, 2.4005562198135063e-16,
        2.4172472704675025e-16, 2.433845631371103e-16, 2.4503547622614954e-16,
        2.466777995232705e-16, 2.4831185421610877e-16, 2.4993795016204524e-16,
        2.515563865329658e-16, 2.5316745241713583e-16, 2.547714273816944e-16,
        2.563685819989397e-16, 2.579591783392867e-16, 2.5954347043351707e-16,
        2.6112170470670194e-16, 2.6269412038597256e-16, 2.6426094988411895e-16,
        2.658224191608307e-16, 2.6737874806323633e-16, 2.689301506472616e-16,
        2.704768354811995e-16, 2.720190059327732e-16, 2.735568604408679e-16,
        2.7509059277301666e-16, 2.7662039226963903e-16, 2.781464440759544e-16,
        2.79668929362423e-16, 2.8118802553450207e-16, 2.827039064324479e-16,
        2.842167425218406e-16, 2.8572670107546015e-16, 2.87233946347098e-16,
        2.887386397378482e-16, 2.9024093995538423e-16, 2.9174100316669455e-16,
        2.9323898314471816e-16, 2.947350314092935e-16, 2.9622929736280665e-16,
        2.977219284209029e-16, 2.992130701386013e-16, 3.007028663321331e-16,
        3.0219145919680615e-16, 3.036789894211802e-16, 3.051655962978219e-16,
        3.0665141783089545e-16, 3.081365908408297e-16, 3.0962125106629225e-16,
        3.111055332636893e-16, 3.125895713043999e-16, 3.140734982699446e-16,
        3.1555744654528006e-16, 3.1704154791040285e-16, 3.1852593363044065e-16,
        3.2001073454440114e-16, 3.214960811527447e-16, 3.2298210370394156e-16,
        3.244689322801698e-16, 3.2595669688230784e-16, 3.2744552751437067e-16,
        3.2893555426753697e-16, 3.3042690740391284e-16, 3.3191971744017523e-16,
        3.3341411523123725e-16, 3.3491023205407785e-16, 3.364081996918765e-16,
        3.37908150518595e-16, 3.394102175841489e-16, 3.409145347003126e-16,
        3.424212365275018e-16, 3.4393045866258313e-16, 3.454423377278584e-16,
        3.4695701146137835e-16, 3.4847461880874137e-16, 3.499953000165381e-16,
        3.5151919672760744e-16, 3.53046452078274e-16, 3.5457721079774357e-16,
        3.5611161930983884e-16, 3.5764982583726505e-16, 3.59191980508603e-16,
        3.6073823546823514e-16, 3.6228874498941915e-16, 3.6384366559073444e-16,
        3.65403156156137e-16, 3.669673780588701e-16, 3.685364952894914e-16,
        3.7011067458828983e-16, 3.716900855823823e-16, 3.7327490092779435e-16,
        3.7486529645684887e-16, 3.7646145133120287e-16, 3.7806354820089604e-16,
        3.7967177336979443e-16, 3.8128631696783774e-16, 3.829073731305243e-16,
        3.8453514018609596e-16, 3.8616982085091493e-16, 3.878116224335587e-16,
        3.894607570481926e-16, 3.9111744183782054e-16, 3.9278189920805415e-16,
        3.944543570720877e-16, 3.9613504910761354e-16, 3.9782421502646826e-16,
        3.995221008578565e-16, 4.012289592460629e-16, 4.029450497636328e-16,
        4.04670639241075e-16, 4.0640600211422504e-16, 4.0815142079049387e-16,
        4.0990718603532664e-16, 4.1167359738030257e-16, 4.134509635544236e-16,
        4.1523960294026883e-16, 4.170398440568316e-16, 4.1885202607101123e-16,
        4.206764993399015e-16, 4.2251362598620494e-16, 4.243637805093078e-16,
        4.262273504347798e-16, 4.2810473700531167e-16, 4.2999635591638323e-16,
        4.3190263810026294e-16, 4.338240305622791e-16, 4.357609972736849e-16,
        4.3771402012585875e-16, 4.3968359995105214e-16, 4.4167025761542035e-16,
        4.4367453519065673e-16, 4.456969972112043e-16, 4.477382320247534e-16,
        4.49798853244555e-16, 4.518795013130059e-16, 4.539808451870034e-16,
        4.561035841567422e-16, 4.582484498109567e-16, 4.604162081631153e-16,
        4.626076619547846e-16, 4.648236531543207e-16, 4.670650656712631e-16,
        4.693328283093329e-16, 4.716279179838351e-16, 4.739513632325867e-16,
        4.763042480533137e-16, 4.786877161048723e-16, 4.811029753147417e-16,
        4.835513029411525e-16, 4.860340511450812e-16, 4.885526531353603e-16,
        4.91108629959527e-16, 4.937035980240335e-16, 4.963392774403987e-16,
        4.990175013091822e-16, 5.017402260718089e-16, 5.045095430818727e-16,
        5.073276915733542e-16, 5.101970732341562e-16, 5.131202686306784e-16,
        5.161000557743228e-16, 5.191394311757699e-16, 5.222416338000234e-16,
        5.254101724177597e-16, 5.286488569504945e-16, 5.3196183453384e-16,
        5.353536311816497e-16, 5.388292001334053e-16, 5.423939782201712e-16,
        5.46053951907478e-16, 5.498157350892814e-16, 5.536866612467876e-16,
        5.576748932926576e-16, 5.617895553555417e-16, 5.660408920082422e-16,
        5.704404621291389e-16, 5.750013768919895e-16, 5.797385945724594e-16,
        5.846692893455479e-16, 5.898133176477899e-16, 5.951938149641444e-16,
        6.008379696271908e-16, 6.067780409333449e-16, 6.130527208725282e-16,
        6.197089894581626e-16, 6.268046963301284e-16, 6.344122407127506e-16,
        6.426239659548055e-16, 6.515603317344994e-16, 6.613827885097664e-16,
        6.723150462505587e-16, 6.846803417564259e-16, 6.98971833638762e-16,
        7.159994934830664e-16, 7.372424301798799e-16, 7.658936370805573e-16,
        8.113849337656484e-16,
    ],
    dtype=np.float64,
)

_FI_NOR = np.array(
    [
        1.0, 0.9771017012676716, 0.9598790918001067,
        0.9451989534422996, 0.9320600759592305, 0.919991505039347,
        0.9087264400521309, 0.8980959218983434, 0.8879846607558334,
        0.8783096558089174, 0.869008688036857, 0.8600336211963315,
        0.851346258458678, 0.8429156531122042, 0.8347162929868834,
        0.8267268339462214, 0.8189291916037024, 0.8113078743126563,
        0.8038494831709643, 0.796542330422959, 0.7893761435660246,
        0.7823418326548025, 0.7754313049811872, 0.7686373157984863,
        0.7619533468367954, 0.7553735065070961, 0.7488924472191568,
        0.742505296340151, 0.7362075981268627, 0.7299952645614762,
        0.7238645334686302, 0.717811932630722, 0.7118342488782484,
        0.7059285013327543, 0.7000919181365116, 0.6943219161261167,
        0.6886160830046718, 0.6829721616449949, 0.6773880362187735,
        0.6718617198970821, 0.6663913439087501, 0.6609751477766631,
        0.6556114705796973, 0.6502987431108167, 0.6450354808208223,
        0.6398202774530566, 0.6346517992876236, 0.6295287799248367,
        0.6244500155470265, 0.6194143606058343, 0.6144207238889139,
        0.6094680649257734, 0.6045553906974678, 0.5996817526191253,
        0.5948462437679874, 0.590047996332826, 0.5852861792633715,
        0.5805599961007909, 0.5758686829723537, 0.5712115067352532,
        0.5665877632561644, 0.5619967758145243, 0.557437893618766,
        0.5529104904258323, 0.5484139632552658, 0.5439477311900263,
        0.5395112342569521, 0.5351039323804576, 0.5307253044036621,
        0.5263748471716845, 0.5220520746723218, 0.5177565172297564,
        0.513487720747327, 0.5092452459957479, 0.5050286679434681,
        0.5008375751261487, 0.4966715690524897, 0.49253026364386854,
        0.48841328470545803, 0.4843202694266833, 0.48025086590904675,
        0.47620473271950586, 0.4721815384677302, 0.4681809614056936,
        0.46420268904817436, 0.46024641781284287, 0.45631185267871643,
        0.4523987068618485, 0.44850670150720306, 0.4446355653957394,
        0.440785034665804, 0.43695485254798555, 0.43314476911265226,
        0.4293545410294414, 0.42558393133802197, 0.4218327092294959,
        0.4181006498378482, 0.4143875340408911, 0.41069314827018816,
        0.40701728432947337, 0.4033597392211145, 0.3997203149801972,
        0.39609881851583245, 0.3924950614593156, 0.3889088600187887,
        0.3853400348400773, 0.38178841087339366, 0.3782538172456192,
        0.37473608713789114, 0.3712350576682395, 0.3677505697790326,
        0.36428246812900406, 0.36083060098964803, 0.3573948201457805,
        0.3539749808000768, 0.3505709414814061, 0.34718256395679364,
        0.3438097131468507, 0.34045225704452187, 0.33711006663700605,
        0.33378301583071845, 0.3304709813791636, 0.3271738428136014,
        0.3238914823763911, 0.32062378495690536, 0.3173706380299136,
        0.3141319315963372, 0.3109075581262865, 0.30769741250429206,
        0.30450139197665, 0.30131939610080305, 0.2981513266966855,
        0.2949970877999618, 0.2918565856170952, 0.2887297284821829,
        0.28561642681550176, 0.2825165930837076, 0.27943014176163794,
        0.2763569892956683, 0.27329705406857707, 0.27025025636587546,
        0.26721651834356147, 0.2641957639972612, 0.2611879191327212,
        0.25819291133761924, 0.25521066995466196, 0.2522411260559422,
        0.24928421241852852, 0.24633986350126383, 0.2434080154227503,
        0.2404886059405006, 0.2375815744312381, 0.23468686187233,
        0.23180441082433872, 0.22893416541468034, 0.22607607132238028,
        0.22323007576391748, 0.220396127480152, 0.21757417672433113,
        0.21476417525117358, 0.21196607630703018, 0.20917983462112508,
        0.2064054063978808, 0.2036427493103349, 0.2008918224946566,
        0.19815258654577514, 0.1954250035141343, 0.19270903690358918,
        0.19000465167046499, 0.1873118142238003, 0.18463049242679927,
        0.18196065559952251, 0.17930227452284758, 0.17665532144373486,
        0.17401977008183855, 0.17139559563750575, 0.1687827748012113,
        0.1661812857644819, 0.16359110823236558, 0.161012223437511,
        0.15844461415592428, 0.1558882647244792, 0.15334316106026286,
        0.15080929068184568, 0.14828664273257455, 0.14577520800599403,
        0.14327497897351346, 0.1407859498144447, 0.13830811644855073,
        0.13584147657125376, 0.13338602969166916, 0.13094177717364436,
        0.12850872227999957, 0.1260868702201859, 0.12367622820159657,
        0.1212768054847903, 0.11888861344291006, 0.11651166562561087,
        0.11414597782783849, 0.11179156816383809, 0.1094484571468118,
        0.1071166677746838, 0.10479622562248707, 0.10248715894193525,
        0.10018949876881002, 0.09790327903886246, 0.095628536713009,
        0.09336531191269101, 0.09111364806637376, 0.08887359206827589,
        0.08664519445055807, 0.08442850957035347, 0.0822235958132029,
        0.08003051581466307, 0.07784933670209612, 0.07568013035892718,
        0.07352297371398132, 0.0713779490588904, 0.06924514439700676,
        0.0671246538277885, 0.0650165779712429, 0.06292102443775814,
        0.06083810834953988, 0.05876795292093374, 0.0567106901062029,
        0.05466646132488892, 0.05263541827679219, 0.05061772386094778,
        0.04861355321586854, 0.04662309490193038, 0.044646552251294463,
        0.04268414491647446, 0.04073611065594094, 0.03880270740452615,
        0.036884215688567305, 0.034980941461716125, 0.03309321945857858,
        0.0312214171919203, 0.02936593975813336, 0.027527235669603113,
        0.02570580400854891, 0.02390220330579588, 0.02211706270730885,
        0.02035109623004451, 0.018605121275724622, 0.016880083152543142,
        0.01517708830793531, 0.013497450601739867, 0.011842757857907879,
        0.010214971439701459, 0.008616582769398726, 0.007050875471373222,
        0.0055224032992509916, 0.0040379725933630236, 0.0026090727461021593,
        0.001260285930498598,
    ],
    dtype=np.float64,
)

_KE_EXP = np.array(
    [
        0x001C5214272497C6, 0x0000000000000000, 0x00137D5BD79C317E, 0x00186EF58E3F3C10,
        0x001A9BB7320EB0AE, 0x001BD127F719447C, 0x001C951D0F88651A, 0x001D1BFE2D5C3972,
        0x001D7E5BD56B18B2, 0x001DC934DD172C70, 0x001E0409DFAC9DC8, 0x001E337B71D47836,
        0x001E5A8B177CB7A2, 0x001E7B42096F046C, 0x001E970DAF08AE3E, 0x001EAEF5B14EF09E,
        0x001EC3BD07B46556, 0x001ED5F6F08799CE, 0x001EE614AE6E5688, 0x001EF46ECA361CD0,
        0x001F014B76DDD4A4, 0x001F0CE313A796B6, 0x001F176369F1F77A, 0x001F20F20C452570,
        0x001F29AE1951A874, 0x001F31B18FB95532, 0x001F39125157C106, 0x001F3FE2EB6E694C,
        0x001F463332D788FA, 0x001F4C10BF1D3A0E, 0x001F51874C5C3322, 0x001F56A109C3ECC0,
        0x001F5B66D9099996, 0x001F5FE08210D08C, 0x001F6414DD445772, 0x001F6809F6859678,
        0x001F6BC52A2B02E6, 0x001F6F4B3D32E4F4, 0x001F72A07190F13A, 0x001F75C8974D09D6,
        0x001F78C71B045CC0, 0x001F7B9F12413FF4, 0x001F7E5346079F8A, 0x001F80E63BE21138,
        0x001F835A3DAD9162, 0x001F85B16056B912, 0x001F87ED89B24262, 0x001F8A10759374FA,
        0x001F8C1BBA3D39AC, 0x001F8E10CC45D04A, 0x001F8FF102013E16, 0x001F91BD968358E0,
        0x001F9377AC47AFD8, 0x001F95204F8B64DA, 0x001F96B878633892, 0x001F98410C968892,
        0x001F99BAE146BA80, 0x001F9B26BC697F00, 0x001F9C85561B717A, 0x001F9DD759CFD802,
        0x001F9F1D6761A1CE, 0x001FA058140936C0, 0x001FA187EB3A3338, 0x001FA2AD6F6BC4FC,
        0x001FA3C91ACE0682, 0x001FA4DB5FEE6AA2, 0x001FA5E4AA4D097C, 0x001FA6E55EE46782,
        0x001FA7DDDCA51EC4, 0x001FA8CE7CE6A874, 0x001FA9B793CE5FEE, 0x001FAA9970ADB858,
        0x001FAB745E588232, 0x001FAC48A3740584, 0x001FAD1682BF9FE8, 0x001FADDE3B5782C0,
        0x001FAEA008F21D6C, 0x001FAF5C2418B07E, 0x001FB012C25B7A12, 0x001FB0C41681DFF4,
        0x001FB17050B6F1FA, 0x001FB2179EB2963A, 0x001FB2BA2BDFA84A, 0x001FB358217F4E18,
        0x001FB3F1A6C9BE0C, 0x001FB486E10CACD6, 0x001FB517F3C793FC, 0x001FB5A500C5FDAA,
        0x001FB62E2837FE58, 0x001FB6B388C9010A, 0x001FB7353FB50798, 0x001FB7B368DC7DA8,
        0x001FB82E1ED6BA08, 0x001FB8A57B0347F6, 0x001FB919959A0F74, 0x001FB98A85BA7204,
        0x001FB9F861796F26, 0x001FBA633DEEE286, 0x001FBACB2F41EC16, 0x001FBB3048B49144,
        0x001FBB929CAEA4E2, 0x001FBBF23CC8029E, 0x001FBC4F39D22994, 0x001FBCA9A3E140D4,
        0x001FBD018A548F9E, 0x001FBD56FBDE729C, 0x001FBDAA068BD66A, 0x001FBDFAB7CB3F40,
        0x001FBE491C7364DE, 0x001FBE9540C9695E, 0x001FBEDF3086B128, 0x001FBF26F6DE6174,
        0x001FBF6C9E828AE2, 0x001FBFB031A904C4, 0x001FBFF1BA0FFDB0, 0x001FC03141024588,
        0x001FC06ECF5B54B2, 0x001FC0AA6D8B1426, 0x001FC0E42399698A, 0x001FC11BF9298A64,
        0x001FC151F57D1942, 0x001FC1861F770F4A, 0x001FC1B87D9E74B4, 0x001FC1E91620EA42,
        0x001FC217EED505DE, 0x001FC2450D3C83FE, 0x001FC27076864FC2, 0x001FC29A2F90630E,
        0x001FC2C23CE98046, 0x001FC2E8A2D2C6B4, 0x001FC30D654122EC, 0x001FC33087DE9C0E,
        0x001FC3520E0B7EC6, 0x001FC371FADF66F8, 0x001FC390512A2886, 0x001FC3AD137497FA,
        0x001FC3C844013348, 0x001FC3E1E4CCAB40, 0x001FC3F9F78E4DA8, 0x001FC4107DB85060,
        0x001FC4257877FD68, 0x001FC438E8B5BFC6, 0x001FC44ACF15112A, 0x001FC45B2BF447E8,
        0x001FC469FF6C4504, 0x001FC477495001B2, 0x001FC483092BFBB8, 0x001FC48D3E457FF6,
        0x001FC495E799D21A, 0x001FC49D03DD30B0, 0x001FC4A29179B432, 0x001FC4A68E8E07FC,
        0x001FC4A8F8EBFB8C, 0x001FC4A9CE16EA9E, 0x001FC4A90B41FA34, 0x001FC4A6AD4E28A0,
        0x001FC4A2B0C82E74, 0x001FC49D11E62DE2, 0x001FC495CC852DF4, 0x001FC48CDC265EC0,
        0x001FC4823BEC237A, 0x001FC475E696DEE6, 0x001FC467D6817E82, 0x001FC458059DC036,
        0x001FC4466D702E20, 0x001FC433070BCB98, 0x001FC41DCB0D6E0E, 0x001FC406B196BBF6,
        0x001FC3EDB248CB62, 0x001FC3D2C43E593C, 0x001FC3B5DE0591B4, 0x001FC396F599614C,
        0x001FC376005A4592, 0x001FC352F3069370, 0x001FC32DC1B22818, 0x001FC3065FBD7888,
        0x001FC2DCBFCBF262, 0x001FC2B0D3B99F9E, 0x001FC2828C8FFCF0, 0x001FC251DA79F164,
        0x001FC21EACB6D39E, 0x001FC1E8F18C6756, 0x001FC1B09637BB3C, 0x001FC17586DCCD10,
        0x001FC137AE74D6B6, 0x001FC0F6F6BB2414, 0x001FC0B348184DA4, 0x001FC06C898BAFF0,
        0x001FC022A092F364, 0x001FBFD5710F72B8, 0x001FBF84DD29488E, 0x001FBF30C52FC60A,
        0x001FBED907770CC6, 0x001FBE7D80327DDA, 0x001FBE1E094BA614, 0x001FBDBA7A354408,
        0x001FBD52A7B9F826, 0x001FBCE663C6201A, 0x001FBC757D2C4DE4, 0x001FBBFFBF63B7AA,
        0x001FBB84F23FE6A2, 0x001FBB04D9A0D18C, 0x001FBA7F351A70AC, 0x001FB9F3BF92B618,
        0x001FB9622ED4ABFC, 0x001FB8CA33174A16, 0x001FB82B76765B54, 0x001FB7859C5B895C,
        0x001FB6D840D55594, 0x001FB622F7D96942, 0x001FB5654C6F37E0, 0x001FB49EBFBF69D2,
        0x001FB3CEC803E746, 0x001FB2F4CF539C3E, 0x001FB21032442852, 0x001FB1203E5A9604,
        0x001FB0243042E1C2, 0x001FAF1B31C479A6, 0x001FAE045767E104, 0x001FACDE9DBF2D72,
        0x001FABA8E640060A, 0x001FAA61F399FF28, 0x001FA908656F66A2, 0x001FA79AB3508D3C,
        0x001FA61726D1F214, 0x001FA47BD48BEA00, 0x001FA2C693C5C094, 0x001FA0F4F47DF314,
        0x001F9F04336BBE0A, 0x001F9CF12B79F9BC, 0x001F9AB84415ABC4, 0x001F98555B782FB8,
        0x001F95C3ABD03F78, 0x001F92FDA9CEF1F2, 0x001F8FFCDA9AE41C, 0x001F8CB99E7385F8,
        0x001F892AEC479606, 0x001F8545F904DB8E, 0x001F80FDC336039A, 0x001F7C427839E926,
        0x001F7700A3582ACC, 0x001F71200F1A241C, 0x001F6A8234B7352A, 0x001F630000A8E266,
        0x001F5A66904FE3C4, 0x001F50724ECE1172, 0x001F44C7665C6FDA, 0x001F36E5A38A59A2,
        0x001F26143450340A, 0x001F113E047B0414, 0x001EF6AEFA57CBE6, 0x001ED38CA188151E,
        0x001EA2A61E122DB0, 0x001E5961C78B267C, 0x001DDDF62BAC0BB0, 0x001CDB4DD9E4E8C0,
    ],
    dtype=np.uint64,
)

_WE_EXP = np.array(
    [
        9.655740063209183e-16, 7.089014243955414e-18, 1.1639412496691224e-17,
        1.524391512353216e-17, 1.833284885723744e-17, 2.1089651094644866e-17,
        2.3611280778431382e-17, 2.595595772310894e-17, 2.8161735541977523e-17,
        3.0255041303213823e-17, 3.225508254836375e-17, 3.417632340185027e-17,
        3.6029969787344525e-17, 3.782490776869649e-17, 3.956832198097553e-17,
        4.1266117781759464e-17, 4.2923218084425256e-17, 4.4543777432823714e-17,
        4.613133981483186e-17, 4.768895725264636e-17, 4.921928043727963e-17,
        5.072462904503147e-17, 5.220704702792672e-17, 5.366834661718192e-17,
        5.511014372835095e-17, 5.653388673239667e-17, 5.794088004852767e-17,
        5.933230365208943e-17, 6.07092293284718e-17, 6.207263431163193e-17,
        6.342341280303077e-17, 6.476238575956142e-17, 6.609030925769405e-17,
        6.740788167872722e-17, 6.871574991183812e-17, 7.00145147340393e-17,
        7.130473549660643e-17, 7.258693422414648e-17, 7.386159921381792e-17,
        7.512918820723728e-17, 7.639013119550826e-17, 7.764483290797848e-17,
        7.88936750272979e-17, 8.013701816675454e-17, 8.137520364041762e-17,
        8.260855505210038e-17, 8.383737972539139e-17, 8.506196999385323e-17,
        8.628260436784113e-17, 8.749954859216183e-17, 8.871305660690252e-17,
        8.992337142215357e-17, 9.113072591597909e-17, 9.233534356381788e-17,
        9.353743910649129e-17, 9.47372191631295e-17, 9.593488279457997e-17,
        9.713062202221521e-17, 9.832462230649511e-17, 9.951706298915072e-17,
        1.0070811770242949e-16, 1.0189795474846941e-16, 1.030867374515422e-16,
        1.0427462448561886e-16, 1.0546177017945764e-16, 1.0664832480119147e-16,
        1.0783443482419485e-16, 1.0902024317583505e-16, 1.1020588947055781e-16,
        1.1139151022861975e-16, 1.1257723908165675e-16, 1.1376320696616847e-16,
        1.1494954230590093e-16, 1.1613637118402183e-16, 1.1732381750590458e-16,
        1.1851200315326694e-16, 1.1970104813034652e-16, 1.2089107070273855e-16,
        1.2208218752947062e-16, 1.2327451378884152e-16, 1.2446816329851125e-16,
        1.2566324863028985e-16, 1.2685988122003975e-16, 1.2805817147307494e-16,
        1.2925822886541196e-16, 1.3046016204120288e-16, 1.3166407890665726e-16,
        1.328700867207381e-16, 1.3407829218289994e-16, 1.3528880151811755e-16,
        1.3650172055943978e-16, 1.377171548282881e-16, 1.389352096127064e-16,
        1.4015599004375715e-16, 1.4137960117024852e-16, 1.4260614803196654e-16,
        1.4383573573157902e-16, 1.4506846950536877e-16, 1.4630445479294757e-16,
        1.4754379730609516e-16, 1.487866030968626e-16, 1.500329786250737e-16,
        1.5128303082535394e-16, 1.5253686717381255e-16, 1.537945957544997e-16,
        1.5505632532575771e-16, 1.5632216538658375e-16, 1.5759222624311761e-16,
        1.5886661907536842e-16, 1.6014545600429167e-16, 1.6142885015932787e-16,
        1.6271691574651305e-16, 1.640097681172718e-16, 1.653075238380037e-16,
        1.666103007605742e-16, 1.6791821809382289e-16, 1.6923139647620223e-16,
        1.7054995804966298e-16, 1.7187402653490317e-16, 1.7320372730810084e-16,
        1.745391874792534e-16, 1.7588053597224914e-16, 1.7722790360680065e-16,
        1.7858142318237326e-16, 1.7994122956424637e-16, 1.8130745977185016e-16,
        1.8268025306952523e-16, 1.8405975105985878e-16, 1.8544609777975695e-16,
        1.8683943979941927e-16, 1.882399263243892e-16, 1.8964770930086167e-16,
        1.9106294352443765e-16, 1.9248578675252438e-16, 1.9391639982058994e-16,
        1.9535494676249091e-16, 1.9680159493510374e-16, 1.982565151475019e-16,
        1.997198817949342e-16, 2.0119187299787347e-16, 2.0267267074641983e-16,
        2.0416246105035888e-16, 2.0566143409519179e-16, 2.071697844044737e-16,
        2.0868771100881597e-16, 2.1021541762192928e-16, 2.117531128241076e-16,
        2.133010102535779e-16, 2.1485932880616633e-16, 2.1642829284376047e-16,
        2.180081324120784e-16, 2.1959908346828707e-16, 2.212013881190496e-16,
        2.2281529486961805e-16, 2.2444105888463086e-16, 2.2607894226131737e-16,
        2.277292143158621e-16, 2.2939215188373114e-16, 2.3106803963482133e-16,
        2.3275717040435346e-16, 2.344598455404958e-16, 2.361763752697774e-16,
        2.3790707908142767e-16, 2.3965228613186235e-16, 2.4141233567062933e-16,
        2.431875774892256e-16, 2.44978372394307e-16, 2.4678509270692887e-16,
        2.4860812278958517e-16, 2.504478596029557e-16, 2.523047132944217e-16,
        2.541791078205812e-16, 2.560714816061771e-16, 2.579822882420531e-16,
        2.599119972249747e-16, 2.618610947423924e-16, 2.638300845054943e-16,
        2.658194886341845e-16, 2.678298485979525e-16, 2.698617262169489e-16,
        2.7191570472798185e-16, 2.739923899205815e-16, 2.760924113487617e-16,
        2.782164236246436e-16, 2.8036510780069835e-16, 2.825391728480253e-16,
        2.847393572388174e-16, 2.8696643064198177e-16, 2.8922119574179956e-16,
        2.915044901905293e-16, 2.9381718870700286e-16, 2.9616020533454657e-16,
        2.9853449587300453e-16, 3.009410605012618e-16, 3.0338094660850034e-16,
        3.058552518544861e-16, 3.08365127481531e-16, 3.1091178190342663e-16,
        3.134964845996663e-16, 3.1612057034671057e-16, 3.187854438219713e-16,
        3.2149258462067974e-16, 3.2424355273094516e-16, 3.2703999451822404e-16,
        3.298836492772283e-16, 3.3277635641716714e-16, 3.357200633553244e-16,
        3.387168342045505e-16, 3.417688593525637e-16, 3.448784660453424e-16,
        3.4804813010374423e-16, 3.5128048892229794e-16, 3.545783559224792e-16,
        3.5794473666042765e-16, 3.6138284682190606e-16, 3.6489613237645425e-16,
        3.6848829220956213e-16, 3.7216330360802073e-16, 3.7592545104162565e-16,
        3.7977935876688744e-16, 3.8373002787892137e-16, 3.8778287856078953e-16,
        3.919437984311429e-16, 3.962191980786775e-16, 4.0061607510565417e-16,
        4.051420882956573e-16, 4.0980564389030625e-16, 4.1461599642909046e-16,
        4.195833672073399e-16, 4.247190841824385e-16, 4.3003574816674707e-16,
        4.355474314693952e-16, 4.41269916903607e-16, 4.472209874259932e-16,
        4.534207798565834e-16, 4.598922204905932e-16, 4.666615664711476e-16,
        4.737590853262492e-16, 4.812199172829238e-16, 4.89085182739221e-16,
        4.97403423619194e-16, 5.06232507214416e-16, 5.156421828878083e-16,
        5.257175802022275e-16, 5.365640977112022e-16, 5.483144034258704e-16,
        5.61138745467516e-16, 5.752606481503332e-16, 5.909817641652103e-16,
        6.087231416180908e-16, 6.290979034877557e-16, 6.530492053564041e-16,
        6.821393079028929e-16, 7.192444966089362e-16, 7.706095350032097e-16,
        8.545517038584027e-16,
    ],
    dtype=np.float64,
)

_FE_EXP = np.array(
    [
        1.0, 0.9381436808621747, 0.9004699299257465,
        0.8717043323812036, 0.8477855006239896, 0.8269932966430503,
        0.8084216515230084, 0.7915276369724956, 0.7759568520401156,
        0.7614633888498963, 0.7478686219851951, 0.7350380924314235,
        0.722867659593572, 0.711274760805076, 0.7001926550827882,
        0.689566496117078, 0.6793505722647654, 0.6695063167319247,
        0.6600008410789997, 0.6508058334145711, 0.6418967164272661,
        0.6332519942143661, 0.624852738703666, 0.6166821809152077,
        0.608725382079622, 0.6009689663652322, 0.5934009016917334,
        0.586010318477268, 0.578787358602845, 0.5717230486648258,
        0.5648091929124002, 0.5580382822625874, 0.5514034165406413,
        0.5448982376724396, 0.5385168720028619, 0.5322538802630433,
        0.5261042139836197, 0.5200631773682336, 0.5141263938147486,
        0.5082897764106429, 0.5025495018413477, 0.49690198724154955,
        0.49134386959403253, 0.4858719873418849, 0.4804833639304542,
        0.4751751930373774, 0.46994482528396, 0.4647897562504262,
        0.4597076156421377, 0.4546961574746155, 0.449753251162755,
        0.4448768734145485, 0.4400651008423539, 0.4353161032156366,
        0.43062813728845883, 0.42599954114303434, 0.4214287289976166,
        0.4169141864330029, 0.4124544659971612, 0.4080481831520324,
        0.4036940125305303, 0.3993906844752311, 0.39513698183329016,
        0.3909317369847971, 0.38677382908413765, 0.38266218149600983,
        0.3785957594095808, 0.37457356761590216, 0.370594648435146,
        0.36665807978151416, 0.3627629733548178, 0.3589084729487498,
        0.35509375286678746, 0.35131801643748334, 0.347580494621637,
        0.3438804447045024, 0.34021714906678, 0.3365899140286776,
        0.332998068761809, 0.3294409642641363, 0.3259179723935562,
        0.32242848495608917, 0.31897191284495724, 0.31554768522712895,
        0.31215524877417955, 0.3087940669345602, 0.30546361924459026,
        0.3021634006756935, 0.2988929210155818, 0.2956517042812612,
        0.2924392881618926, 0.28925522348967775, 0.2860990737370768,
        0.28297041453878075, 0.2798688332369729, 0.27679392844851736,
        0.27374530965280297, 0.27072259679906, 0.2677254199320448,
        0.2647534188350622, 0.261806242689363, 0.25888354974901623,
        0.2559850070304154, 0.25311029001562946, 0.2502590823688623,
        0.24743107566532763, 0.2446259691318921, 0.24184346939887721,
        0.23908329026244918, 0.23634515245705964, 0.23362878343743335,
        0.2309339171696274, 0.2282602939307167, 0.22560766011668407,
        0.2229757680581202, 0.2203643758433595, 0.21777324714870053,
        0.21520215107537868, 0.21265086199297828, 0.21011915938898826,
        0.20760682772422204, 0.2051136562938377, 0.20263943909370902,
        0.20018397469191127, 0.19774706610509887, 0.19532852067956322,
        0.19292814997677135, 0.1905457696631954, 0.18818119940425432,
        0.1858342627621971, 0.18350478709776746, 0.1811926034754963,
        0.1788975465724783, 0.17661945459049488, 0.1743581691713535,
        0.17211353531532006, 0.16988540130252766, 0.1676736186172502,
        0.165478041874936, 0.16329852875190182, 0.16113493991759203,
        0.1589871389693142, 0.15685499236936523, 0.15473836938446808,
        0.15263714202744286, 0.1505511850010399, 0.1484803756438668,
        0.14642459387834494, 0.14438372216063478, 0.1423576454324722,
        0.14034625107486245, 0.1383494288635802, 0.13636707092642886,
        0.13439907170221363, 0.13244532790138752, 0.13050573846833077,
        0.12858020454522817, 0.12666862943751067, 0.12477091858083096,
        0.12288697950954514, 0.12101672182667483, 0.11916005717532768,
        0.11731689921155557, 0.11548716357863353, 0.11367076788274431,
        0.1118676316700563, 0.11007767640518538, 0.1083008254510338,
        0.10653700405000166, 0.10478613930657017, 0.10304816017125772,
        0.10132299742595363, 0.09961058367063713, 0.0979108533114922,
        0.0962237425504328, 0.09454918937605586, 0.09288713355604354,
        0.09123751663104016, 0.08960028191003286, 0.08797537446727022,
        0.08636274114075691, 0.08476233053236812, 0.08317409300963238,
        0.08159798070923742, 0.0800339475423199, 0.07848194920160642,
        0.0769419431704805, 0.07541388873405841, 0.07389774699236475,
        0.07239348087570874, 0.07090105516237183, 0.06942043649872875,
        0.0679515934219366, 0.06649449638533977, 0.06504911778675375,
        0.06361543199980733, 0.062193415408540995, 0.06078304644547963,
        0.059384305633420266, 0.05799717563120066, 0.05662164128374288,
        0.05525768967669704, 0.05390531019604609, 0.05256449459307169,
        0.05123523705512628, 0.04991753428270637, 0.0486113855733795,
        0.04731679291318155, 0.04603376107617517, 0.04476229773294328,
        0.04350241356888818, 0.042254122413316234, 0.04101744138041482,
        0.039792391023374125, 0.03857899550307486, 0.03737728277295936,
        0.03618728478193142, 0.03500903769739741, 0.03384258215087433,
        0.032687963508959535, 0.03154523217289361, 0.030414443910466604,
        0.029295660224637393, 0.028188948763978636, 0.0270943837809558,
        0.026012046645134217, 0.024942026419731783, 0.02388442051155817,
        0.02283933540638524, 0.02180688750428358, 0.020787204072578117,
        0.019780424338009743, 0.01878670074469603, 0.01780620041091136,
        0.016839106826039948, 0.015885621839973163, 0.014945968011691148,
        0.014020391403181938, 0.013109164931254991, 0.012212592426255381,
        0.011331013597834597, 0.010464810181029979, 0.00961441364250221,
        0.008780314985808975, 0.00796307743801704, 0.007163353183634984,
        0.006381905937319179, 0.005619642207205483, 0.004877655983542392,
        0.004157295120833795, 0.003460264777836904, 0.002788798793574076,
        0.0021459677437189063, 0.0015362997803015724, 0.0009672692823271745,
        0.00045413435384149677,
    ],
    dtype=np.float64,
)
