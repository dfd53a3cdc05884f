"""simstudy.rng: Philox4x64-10 streams in Numba, bit-identical to NumPy's Generator(Philox).

NumPy is the oracle: every variate is compared with ``np.array_equal`` (never allclose) against
``numpy_generator(...)``, and the oracle itself is checked against scipy.stats on 10^6 draws.
"""

from __future__ import annotations

import ctypes
import threading

import numpy as np
import pytest
import scipy.stats as st

from simstudy import rng
from simstudy._jit import jit

# Stream addresses (key0, key1, rep, substream): key words with the top bit set, 0 and 2**64-1.
TOP_BIT = 2**63
MAX_WORD = 2**64 - 1
ADDRESSES = [
    (0, 0, 0, 0),
    (MAX_WORD, MAX_WORD, MAX_WORD, MAX_WORD),
    (20261121, 0x9E3779B97F4A7C15, 5, 0),
    (TOP_BIT | 12345, TOP_BIT, 2**32 + 7, 1),
]
IDENTITY_ADDRESSES = ADDRESSES[1:]  # three streams per variate keeps the suite fast
N_IDENTITY = 100_000  # draws per identity check: enough for every ziggurat layer, wedge, tail
N_FIT = 1_000_000  # draws per goodness-of-fit check
P_MIN = 1e-4  # goodness-of-fit threshold (fixed keys: the p-values are deterministic)
FIT_ADDRESS = (20261121, 0xC0FFEE, 11, 0)

# Variate kinds dispatched inside the jitted fill kernels below.
NORMAL, EXPONENTIAL, GAMMA, UNIFORM, POISSON, BERNOULLI = range(6)

# name -> (kind, parameter, NumPy oracle for n draws, scipy.stats reference)
CONTINUOUS = {
    "normal": (NORMAL, 0.0, lambda g, n: g.standard_normal(n), st.norm()),
    "exponential": (EXPONENTIAL, 0.0, lambda g, n: g.standard_exponential(n), st.expon()),
    "uniform": (UNIFORM, 0.0, lambda g, n: g.random(n), st.uniform()),
    **{
        f"gamma({shape})": (
            GAMMA, shape, lambda g, n, shape=shape: g.standard_gamma(shape, n), st.gamma(shape)
        )
        for shape in (0.3, 1.0, 2.5, 40.0)
    },
}
DISCRETE = {
    **{
        f"poisson({lam})": (
            POISSON, lam, lambda g, n, lam=lam: g.poisson(lam, n), st.poisson(lam)
        )
        for lam in (0.0, 0.5, 3.0, 9.99, 10.0, 37.5, 1e4)
    },
    **{
        f"bernoulli({p})": (
            BERNOULLI, p, lambda g, n, p=p: (g.random(n) < p).astype(np.int64), st.bernoulli(p)
        )
        for p in (0.01, 0.5, 0.9)
    },
}
VARIATES = {**CONTINUOUS, **DISCRETE}


@jit
def _fill_float(state, kind, param, out):
    """Fill ``out`` with sequential draws; return the stream's next raw word afterwards."""
    for i in range(out.size):
        if kind == NORMAL:
            out[i] = rng.standard_normal(state)
        elif kind == EXPONENTIAL:
            out[i] = rng.standard_exponential(state)
        elif kind == GAMMA:
            out[i] = rng.standard_gamma(state, param)
        else:
            out[i] = rng.next_double(state)
    return rng.next_uint64(state)


@jit
def _fill_int(state, kind, param, out):
    """As ``_fill_float`` for the integer variates."""
    for i in range(out.size):
        if kind == POISSON:
            out[i] = rng.poisson(state, param)
        else:
            out[i] = rng.bernoulli(state, param)
    return rng.next_uint64(state)


@jit
def _fill_raw(state, out):
    for i in range(out.size):
        out[i] = rng.next_uint64(state)


@jit
def _fill_location_scale(state, loc, scale, shape, out):
    """The callers' transforms: rows are loc + scale z, scale * exponential, scale * gamma."""
    for i in range(out.shape[1]):
        out[0, i] = loc + scale * rng.standard_normal(state)
    for i in range(out.shape[1]):
        out[1, i] = scale * rng.standard_exponential(state)
    for i in range(out.shape[1]):
        out[2, i] = scale * rng.standard_gamma(state, shape)


def _stream(key0, key1, rep, substream=0):
    state = np.empty(rng.STATE_SIZE, dtype=np.uint64)
    rng.init_stream(state, *(np.uint64(word) for word in (key0, key1, rep, substream)))
    return state


def _draw(name, address, n):
    """(our n draws, our next raw word) from the stream at ``address``."""
    kind, param, _, _ = VARIATES[name]
    state = _stream(*address)
    if name in CONTINUOUS:
        out = np.empty(n)
        return out, _fill_float(state, kind, param, out)
    out = np.empty(n, dtype=np.int64)
    return out, _fill_int(state, kind, param, out)


def _raw(address, n):
    out = np.empty(n, dtype=np.uint64)
    _fill_raw(_stream(*address), out)
    return out


def _words_consumed(generator):
    """Raw words a fresh oracle has used: 4 per block generated, less the unread buffer."""
    philox = generator.bit_generator.state
    return int(philox["state"]["counter"][0]) * 4 - (4 - philox["buffer_pos"])


# --- the raw bit stream ----------------------------------------------------------------------
@pytest.mark.parametrize("address", ADDRESSES)
@pytest.mark.parametrize("n", [1, 3, 4, 5, 8, 9, 1001])
def test_raw_words_equal_numpy_philox(address, n):
    expected = rng.numpy_generator(*address).bit_generator.random_raw(n)
    np.testing.assert_array_equal(_raw(address, n), expected)


def test_counter_carries_across_words_like_numpy():
    counter = [2**64 - 3, MAX_WORD, MAX_WORD, 5]  # the 3rd block carries into words 1, 2, 3
    state = _stream(7, 8, 0)
    state[rng._CTR : rng._CTR + 4] = counter
    out = np.empty(4 * 6 + 1, dtype=np.uint64)
    _fill_raw(state, out)
    philox = np.random.Philox(key=rng.philox_key(7, 8), counter=np.array(counter, np.uint64))
    np.testing.assert_array_equal(out, philox.random_raw(out.size))


def test_streams_do_not_depend_on_order_or_interleaving():
    key0, key1, n = 99, 17, 1003
    alone = {rep: _raw((key0, key1, rep, 0), n) for rep in (3, 5)}
    state = np.empty(rng.STATE_SIZE, dtype=np.uint64)
    for rep in (5, 3):  # one state array reused, as a thread does
        rng.init_stream(state, np.uint64(key0), np.uint64(key1), np.uint64(rep), np.uint64(0))
        out = np.empty(n, dtype=np.uint64)
        _fill_raw(state, out)
        np.testing.assert_array_equal(out, alone[rep])
    three, five = _stream(key0, key1, 3), _stream(key0, key1, 5)
    interleaved = {3: [], 5: []}
    for _ in range(n):
        for rep, state in ((3, three), (5, five)):
            word = np.empty(1, dtype=np.uint64)
            _fill_raw(state, word)
            interleaved[rep].append(word[0])
    for rep in (3, 5):
        np.testing.assert_array_equal(np.array(interleaved[rep], dtype=np.uint64), alone[rep])


def test_substreams_and_replications_differ():
    words = {address: _raw(address, 8).tobytes() for address in
             [(1, 2, 0, 0), (1, 2, 0, 1), (1, 2, 1, 0), (1, 3, 0, 0), (2, 2, 0, 0)]}
    assert len(set(words.values())) == len(words)


# --- bit identity of every variate -----------------------------------------------------------
@pytest.mark.parametrize("address", IDENTITY_ADDRESSES)
@pytest.mark.parametrize("name", sorted(VARIATES))
def test_variate_bit_identical_to_numpy(name, address):
    ours, next_word = _draw(name, address, N_IDENTITY)
    generator = rng.numpy_generator(*address)
    expected = VARIATES[name][2](generator, N_IDENTITY)
    assert ours.dtype == expected.dtype
    assert np.array_equal(ours, expected)
    # the same number of words consumed: the streams continue identically
    assert next_word == generator.bit_generator.random_raw()


def test_rejection_and_tail_branches_are_exercised():
    """The identity checks reach every ziggurat branch: tails (only the tail branch returns
    beyond r) and wedges (a wedge test consumes a second word)."""
    address = IDENTITY_ADDRESSES[0]
    normal, _ = _draw("normal", address, N_IDENTITY)
    exponential, _ = _draw("exponential", address, N_IDENTITY)
    assert normal.max() > rng._NOR_R and normal.min() < -rng._NOR_R
    assert exponential.max() > rng._EXP_R
    for name, words_per_draw in [("normal", 1), ("exponential", 1), ("poisson(37.5)", 2)]:
        generator = rng.numpy_generator(*address)
        VARIATES[name][2](generator, N_IDENTITY)
        assert _words_consumed(generator) > words_per_draw * N_IDENTITY


def test_variates_are_callable_from_python():
    """A model's ``py_func`` calls them from the interpreter: the same stream, one at a time."""
    address = IDENTITY_ADDRESSES[2]
    state, generator = _stream(*address), rng.numpy_generator(*address)
    assert rng.next_uint64(state) == generator.bit_generator.random_raw()
    assert rng.next_double(state) == generator.random()
    assert rng.standard_normal(state) == generator.standard_normal()
    assert rng.standard_exponential(state) == generator.standard_exponential()
    assert rng.standard_gamma(state, 2.5) == generator.standard_gamma(2.5)
    assert rng.poisson(state, 37.5) == generator.poisson(37.5)
    assert rng.bernoulli(state, 0.5) == int(generator.random() < 0.5)


def test_location_scale_transforms_match_numpy_methods():
    address, n, loc, scale, shape = IDENTITY_ADDRESSES[1], 5000, -1.5, 2.75, 0.7
    out = np.empty((3, n))
    _fill_location_scale(_stream(*address), loc, scale, shape, out)
    generator = rng.numpy_generator(*address)
    assert np.array_equal(out[0], generator.normal(loc, scale, n))
    assert np.array_equal(out[1], generator.exponential(scale, n))
    assert np.array_equal(out[2], generator.gamma(shape, scale, n))


# --- the ziggurat tables, entry by entry -----------------------------------------------------
_NEXT64 = ctypes.CFUNCTYPE(ctypes.c_uint64, ctypes.c_void_p)
_NEXT32 = ctypes.CFUNCTYPE(ctypes.c_uint32, ctypes.c_void_p)
_NEXT_DOUBLE = ctypes.CFUNCTYPE(ctypes.c_double, ctypes.c_void_p)


class _BitgenT(ctypes.Structure):
    """NumPy's ``bitgen_t`` (numpy/random/bit_generator.pxd)."""

    _fields_ = [
        ("state", ctypes.c_void_p), ("next_uint64", _NEXT64), ("next_uint32", _NEXT32),
        ("next_double", _NEXT_DOUBLE), ("next_raw", _NEXT64),
    ]


class _ScriptedBitGenerator:
    """Feeds NumPy's Generator chosen raw words, so a single draw reveals a table entry.

    Generator only needs a ``capsule`` holding a ``bitgen_t`` and a ``lock``.
    """

    _CAPSULE_NAME = b"BitGenerator"

    def __init__(self):
        self.words, self.consumed, self.lock = [], 0, threading.Lock()
        self._callbacks = (
            _NEXT64(self._next_uint64),
            _NEXT32(lambda _: self._next_uint64(None) >> 32),
            _NEXT_DOUBLE(lambda _: (self._next_uint64(None) >> 11) * 2.0**-53),
        )
        next64, next32, next_double = self._callbacks
        self._bitgen = _BitgenT(None, next64, next32, next_double, next64)
        capsule_new = ctypes.pythonapi.PyCapsule_New
        capsule_new.restype = ctypes.py_object
        capsule_new.argtypes = (ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p)
        self.capsule = capsule_new(ctypes.addressof(self._bitgen), self._CAPSULE_NAME, None)

    def _next_uint64(self, _):
        self.consumed += 1
        return self.words.pop(0)

    def draw(self, method, words):
        """``(value, words consumed)`` of one draw of ``method`` fed ``words``."""
        self.words, self.consumed = list(words), 0
        return method(), self.consumed


_HALF = 1 << 52  # a word whose uniform is 0.5 (accepts the normal tail sampler at once)
_FAST_NORMAL = 255  # layer 255, magnitude 0: returns 0.0 at once
_FAST_EXPONENTIAL = 255 << 3


def _normal_word(layer, magnitude):
    return (magnitude << 9) | layer  # 52-bit magnitude, sign bit 0, 8-bit layer


def _exponential_word(layer, magnitude):
    return (magnitude << 11) | (layer << 3)  # 53-bit magnitude, 8-bit layer, 3 unused bits


@pytest.mark.parametrize(
    "name, word, k_table, w_table, method_name, fast_word",
    [
        ("normal", _normal_word, rng._KI_NOR, rng._WI_NOR, "standard_normal", _FAST_NORMAL),
        ("exponential", _exponential_word, rng._KE_EXP, rng._WE_EXP, "standard_exponential",
         _FAST_EXPONENTIAL),
    ],
)
def test_ziggurat_tables_equal_numpys(name, word, k_table, w_table, method_name, fast_word):
    """K: magnitude K-1 returns at once (one word), K does not. W: magnitude 1 returns W (via a
    wedge test accepted by a zero uniform where K = 0). F is covered by the identity checks."""
    scripted = _ScriptedBitGenerator()
    method = getattr(np.random.Generator(scripted), method_name)
    rest = [0, _HALF, _HALF, fast_word]  # wedge uniform 0, tail uniforms, a fast word
    for layer in range(k_table.size):
        k = int(k_table[layer])
        value, used = scripted.draw(method, [word(layer, 1)] + rest)
        assert value == w_table[layer] and used == (1 if k > 1 else 2), (name, layer)
        if k > 0:
            value, used = scripted.draw(method, [word(layer, k - 1)] + rest)
            assert used == 1 and value == (k - 1) * w_table[layer], (name, layer)
        value, used = scripted.draw(method, [word(layer, k)] + rest)
        assert used > 1, (name, layer)


# --- the oracle against scipy.stats ----------------------------------------------------------
@pytest.mark.parametrize("name", sorted(CONTINUOUS))
def test_continuous_variates_fit_scipy(name):
    sample, _ = _draw(name, FIT_ADDRESS, N_FIT)
    assert st.kstest(sample, CONTINUOUS[name][3].cdf).pvalue > P_MIN


def _chisquare_pvalue(sample, dist, min_expected=5.0):
    """Chi-square goodness of fit, the tails pooled so every bin expects >= ``min_expected``."""
    n = sample.size
    support = np.arange(dist.ppf(1e-12), dist.isf(1e-12) + 1)
    central = support[n * dist.pmf(support) >= min_expected]
    low, high = int(central[0]), int(central[-1])
    values = np.arange(low, high + 1)
    expected = n * dist.pmf(values)
    expected[0], expected[-1] = n * dist.cdf(low), n * dist.sf(high - 1)
    observed = np.bincount(np.clip(sample, low, high) - low, minlength=values.size)
    return st.chisquare(observed, expected * n / expected.sum()).pvalue


@pytest.mark.parametrize("name", sorted(set(DISCRETE) - {"poisson(0.0)"}))
def test_discrete_variates_fit_scipy(name):
    sample, _ = _draw(name, FIT_ADDRESS, N_FIT)
    assert _chisquare_pvalue(sample, DISCRETE[name][3]) > P_MIN


def test_poisson_with_zero_mean_is_zero_without_drawing():
    sample, next_word = _draw("poisson(0.0)", FIT_ADDRESS, 100)
    assert not sample.any()
    assert next_word == rng.numpy_generator(*FIT_ADDRESS).bit_generator.random_raw()


# --- the Python side -------------------------------------------------------------------------
def test_numpy_generator_is_the_documented_oracle():
    key0, key1, rep, substream = TOP_BIT + 1, 3, 4, 2
    documented = np.random.Generator(
        np.random.Philox(
            key=key0 | (key1 << 64), counter=np.array([0, 0, rep, substream], dtype=np.uint64)
        )
    )
    ours = rng.numpy_generator(key0, key1, rep, substream)
    np.testing.assert_array_equal(ours.random(9), documented.random(9))
    assert rng.philox_key(key0, key1) == key0 | (key1 << 64)
    np.testing.assert_array_equal(rng.philox_counter(rep), np.array([0, 0, rep, 0], np.uint64))


@pytest.mark.parametrize(
    "bad, match",
    [(-1, "modulo 2\\*\\*64"), (2**64, "modulo 2\\*\\*64"), (1.0, "float"), (True, "bool")],
)
def test_address_words_are_validated(bad, match):
    with pytest.raises(ValueError, match=match):
        rng.philox_key(bad, 0)
    with pytest.raises(ValueError, match="'rep'"):
        rng.philox_counter(bad)
    with pytest.raises(ValueError, match="'substream'"):
        rng.numpy_generator(0, 0, 0, bad)


def test_init_stream_rejects_a_short_state():
    with pytest.raises(ValueError, match="STATE_SIZE"):
        rng.init_stream(np.zeros(rng.STATE_SIZE - 1, dtype=np.uint64), 1, 2, 3, 4)


def test_public_interface():
    assert isinstance(rng.STATE_SIZE, int)
    assert all(hasattr(rng, name) for name in rng.__all__)
