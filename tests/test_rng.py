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


def _by_family(names):
    """Parameters ``names``, each in the ``xdist_group`` of its family (``beta`` for
    ``beta(0.5, 2.0)``): one worker compiles a family's fill kernel and runs all its cases."""
    return [pytest.param(n, marks=pytest.mark.xdist_group("rng-" + n.split("(")[0]))
            for n in names]  # fmt: skip


# --- bit identity of every variate -----------------------------------------------------------
@pytest.mark.parametrize("address", IDENTITY_ADDRESSES)
@pytest.mark.parametrize("name", _by_family(sorted(VARIATES)))
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
    """Against compiled NumPy: K: magnitude K-1 returns at once (one word), K does not. W:
    magnitude 1 returns W (via a wedge test accepted by a zero uniform where K = 0). F (and
    every table again) is checked entry by entry by the recurrence test below."""
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


#: simstudy's copy of each table of NumPy's ziggurat_constants.h.
ZIGGURAT_TABLES = {
    "ki": "_KI_NOR", "wi": "_WI_NOR", "fi": "_FI_NOR",
    "ke": "_KE_EXP", "we": "_WE_EXP", "fe": "_FE_EXP",
}  # fmt: skip


@pytest.fixture(scope="module")
def ziggurat_recurrence():
    pytest.importorskip("mpmath")
    import ziggurat_tables

    return ziggurat_tables.recurrence()


@pytest.mark.parametrize("name", sorted(ZIGGURAT_TABLES))
def test_ziggurat_table_entry_by_entry_against_the_recurrence(name, ziggurat_recurrence):
    """Every entry of every table (K, W and F, normal and exponential) is NumPy's bit for bit:
    Marsaglia & Tsang's recurrence, recomputed here in 50-digit arithmetic, moved by the
    per-entry offset that NumPy's header has from it (tests/ziggurat_tables.py says why the
    offsets exist and how they were read). W and F of the exponential need no offset."""
    import ziggurat_tables

    table = getattr(rng, ZIGGURAT_TABLES[name])
    rec = ziggurat_recurrence[name]
    offsets = ziggurat_tables.pinned_offsets()[name]
    assert table.shape == rec.shape == (256,) and len(offsets) == 256
    assert table.dtype == (np.uint64 if name.startswith("k") else np.float64)
    # The pinned values are the recurrence's up to rounding: a few ulps (counts for K), at
    # most 160 where the normal recurrence is ill-conditioned (layers next to the mode).
    assert max(abs(o) for o in offsets) <= (0 if name in ("we", "fe") else 160)
    if name.startswith("k"):
        got = [int(v) for v in table]
        expected = [int(v) + o for v, o in zip(rec, offsets)]
    else:
        got = table.view(np.int64).tolist()
        expected = [int(ziggurat_tables.shift(v, o)) for v, o in zip(rec, offsets)]
    wrong = [i for i, (g, e) in enumerate(zip(got, expected)) if g != e]
    assert not wrong, f"{name}: entries {wrong[:10]} differ from NumPy's"


def test_ziggurat_constants_are_numpys():
    """The tail starts and 1/r as NumPy prints them (ziggurat_constants.h), to the double."""
    import ziggurat_tables

    assert rng._NOR_R == float(ziggurat_tables.NOR_R)
    assert rng._EXP_R == float(ziggurat_tables.EXP_R)
    assert rng._NOR_INV_R == float("0.27366123732975827203338247596")
    assert rng._NOR_INV_R == pytest.approx(1 / rng._NOR_R, rel=2**-52)


def test_ziggurat_offset_coding_round_trips():
    import ziggurat_tables

    values = [0, 0, 0, 5, -30, 1, 1, 0]
    assert ziggurat_tables.encode(values) == "0*3 5 -30 1*2 0"
    assert ziggurat_tables.decode(ziggurat_tables.encode(values)) == values


# --- the oracle against scipy.stats ----------------------------------------------------------
@pytest.mark.parametrize("name", _by_family(sorted(CONTINUOUS)))
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


@pytest.mark.parametrize("name", _by_family(sorted(set(DISCRETE) - {"poisson(0.0)"})))
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


# --- the variates of the numerical families and the non-regular model ------------------------
# One small fill kernel per variate: a single kernel inlining every variate compiles for
# minutes, these for seconds each. Each returns the stream's next raw word afterwards, so the
# identity checks also prove that the same number of words was consumed.
@jit
def _fill_uniform(state, low, high, out):
    for i in range(out.size):
        out[i] = rng.uniform(state, low, high)
    return rng.next_uint64(state)


@jit
def _fill_weibull(state, a, out):
    for i in range(out.size):
        out[i] = rng.weibull(state, a)
    return rng.next_uint64(state)


@jit
def _fill_beta(state, a, b, out):
    for i in range(out.size):
        out[i] = rng.beta(state, a, b)
    return rng.next_uint64(state)


@jit
def _fill_standard_t(state, df, out):
    for i in range(out.size):
        out[i] = rng.standard_t(state, df)
    return rng.next_uint64(state)


@jit
def _fill_standard_cauchy(state, out):
    for i in range(out.size):
        out[i] = rng.standard_cauchy(state)
    return rng.next_uint64(state)


@jit
def _fill_laplace(state, loc, scale, out):
    for i in range(out.size):
        out[i] = rng.laplace(state, loc, scale)
    return rng.next_uint64(state)


@jit
def _fill_lognormal(state, mean, sigma, out):
    for i in range(out.size):
        out[i] = rng.lognormal(state, mean, sigma)
    return rng.next_uint64(state)


@jit
def _fill_negative_binomial(state, n, p, out):
    for i in range(out.size):
        out[i] = rng.negative_binomial(state, n, p)
    return rng.next_uint64(state)


@jit
def _fill_categorical(state, cdf, out):
    for i in range(out.size):
        out[i] = rng.categorical(state, cdf)
    return rng.next_uint64(state)


def _categorical_case(p):
    p = np.array(p, dtype=np.float64)
    return (
        lambda state, out: _fill_categorical(state, rng.categorical_cdf(p), out),
        lambda g, n: g.choice(p.size, size=n, p=p),
        st.rv_discrete(values=(np.arange(p.size), p)),
    )


# name -> (fill(state, out) -> next word, NumPy oracle for n draws, scipy.stats reference)
NEW_CONTINUOUS = {
    **{
        f"uniform({lo}, {hi})": (
            lambda s, o, lo=lo, hi=hi: _fill_uniform(s, lo, hi, o),
            lambda g, n, lo=lo, hi=hi: g.uniform(lo, hi, n),
            st.uniform(lo, hi - lo),
        )
        for lo, hi in ((0.0, 3.7), (-2.0, 5.0))
    },
    **{
        f"weibull({a})": (
            lambda s, o, a=a: _fill_weibull(s, a, o),
            lambda g, n, a=a: g.weibull(a, n),
            st.weibull_min(a),
        )
        for a in (0.7, 1.0, 3.0)
    },
    # (0.5, 0.5) and (0.005, 0.004): Johnk's algorithm (a, b <= 1); in the second, U^(1/a)
    # underflows to 0 for U < 0.024, so several % of draws take its log-sum-exp branch.
    # (2, 3) and (0.5, 3): the gamma ratio.
    **{
        f"beta({a}, {b})": (
            lambda s, o, a=a, b=b: _fill_beta(s, a, b, o),
            lambda g, n, a=a, b=b: g.beta(a, b, n),
            st.beta(a, b),
        )
        for a, b in ((0.5, 0.5), (0.005, 0.004), (2.0, 3.0), (0.5, 3.0))
    },
    **{
        f"standard_t({df})": (
            lambda s, o, df=df: _fill_standard_t(s, df, o),
            lambda g, n, df=df: g.standard_t(df, n),
            st.t(df),
        )
        for df in (1.5, 5.0)
    },
    "standard_cauchy": (_fill_standard_cauchy, lambda g, n: g.standard_cauchy(n), st.cauchy()),
    "laplace(1.5, 2.0)": (
        lambda s, o: _fill_laplace(s, 1.5, 2.0, o),
        lambda g, n: g.laplace(1.5, 2.0, n),
        st.laplace(1.5, 2.0),
    ),
    "lognormal(0.3, 0.8)": (
        lambda s, o: _fill_lognormal(s, 0.3, 0.8, o),
        lambda g, n: g.lognormal(0.3, 0.8, n),
        st.lognorm(0.8, scale=np.exp(0.3)),
    ),
}
NEW_DISCRETE = {
    # n * (1 - p)/p: gamma-mixed Poisson means below 10 (multiplication) and above (PTRS)
    **{
        f"negative_binomial({n}, {p})": (
            lambda s, o, n=n, p=p: _fill_negative_binomial(s, n, p, o),
            lambda g, size, n=n, p=p: g.negative_binomial(n, p, size),
            st.nbinom(n, p),
        )
        for n, p in ((2.5, 0.3), (0.5, 0.9), (50.0, 0.05))
    },
    "categorical([0.2, 0.3, 0.5])": _categorical_case([0.2, 0.3, 0.5]),
    "categorical([0.1, 0.1, 0.1, 0.7])": _categorical_case([0.1, 0.1, 0.1, 0.7]),
    "categorical([0.25, 0.0, 0.75])": _categorical_case([0.25, 0.0, 0.75]),  # an empty category
    "categorical([0.7, 0.2, 0.1 + 1e-9])": _categorical_case([0.7, 0.2, 0.1 + 1e-9]),  # cdf[-1] != 1
}
NEW_VARIATES = {**NEW_CONTINUOUS, **NEW_DISCRETE}


def _draw_new(name, address, n):
    fill = NEW_VARIATES[name][0]
    out = np.empty(n) if name in NEW_CONTINUOUS else np.empty(n, dtype=np.int64)
    return out, fill(_stream(*address), out)


@pytest.mark.parametrize("address", IDENTITY_ADDRESSES)
@pytest.mark.parametrize("name", _by_family(sorted(NEW_VARIATES)))
def test_new_variate_bit_identical_to_numpy(name, address):
    ours, next_word = _draw_new(name, address, N_IDENTITY)
    generator = rng.numpy_generator(*address)
    expected = NEW_VARIATES[name][1](generator, N_IDENTITY)
    assert ours.dtype == expected.dtype
    assert np.array_equal(ours, expected)
    assert next_word == generator.bit_generator.random_raw()


def test_johnk_log_branch_is_exercised():
    """The (0.005, 0.004) identity case reaches Johnk's log-sum-exp branch (X or Y == 0)."""
    u = rng.numpy_generator(*IDENTITY_ADDRESSES[0]).random((N_IDENTITY, 2))
    underflow = (u[:, 0] ** (1 / 0.005) == 0.0) | (u[:, 1] ** (1 / 0.004) == 0.0)
    assert underflow.mean() > 0.01


def test_weibull_with_zero_shape_is_zero_without_drawing():
    out = np.empty(10)
    next_word = _fill_weibull(_stream(*FIT_ADDRESS), 0.0, out)
    assert not out.any()
    assert next_word == rng.numpy_generator(*FIT_ADDRESS).bit_generator.random_raw()


def test_categorical_cdf_is_numpys():
    p = np.array([0.7, 0.2, 0.1 + 1e-9])
    cdf = p.cumsum()
    cdf /= cdf[-1]
    np.testing.assert_array_equal(rng.categorical_cdf(p), cdf)


@pytest.mark.parametrize(
    "name", _by_family(sorted(set(NEW_CONTINUOUS) - {"beta(0.005, 0.004)", "weibull(1.0)"}))
)
def test_new_continuous_variates_fit_scipy(name):
    sample, _ = _draw_new(name, FIT_ADDRESS, N_FIT)
    assert st.kstest(sample, NEW_CONTINUOUS[name][2].cdf).pvalue > P_MIN


@pytest.mark.parametrize("name", _by_family(sorted(NEW_DISCRETE)))
def test_new_discrete_variates_fit_scipy(name):
    sample, _ = _draw_new(name, FIT_ADDRESS, N_FIT)
    dist = NEW_DISCRETE[name][2]
    if name.startswith("categorical"):
        p = dist.pk
        observed = np.bincount(sample, minlength=p.size)
        assert observed[p == 0].sum() == 0
        keep = p > 0
        assert st.chisquare(observed[keep], N_FIT * p[keep] / p[keep].sum()).pvalue > P_MIN
    else:
        assert _chisquare_pvalue(sample, dist) > P_MIN


def test_new_variates_are_callable_from_python():
    """A model's ``py_func`` calls them from the interpreter: the same stream, one at a time."""
    address = IDENTITY_ADDRESSES[2]
    state, generator = _stream(*address), rng.numpy_generator(*address)
    assert rng.uniform(state, -1.0, 2.0) == generator.uniform(-1.0, 2.0)
    assert rng.weibull(state, 1.7) == generator.weibull(1.7)
    assert rng.beta(state, 0.4, 0.6) == generator.beta(0.4, 0.6)
    assert rng.beta(state, 2.0, 0.6) == generator.beta(2.0, 0.6)
    assert rng.standard_t(state, 5.0) == generator.standard_t(5.0)
    assert rng.standard_cauchy(state) == generator.standard_cauchy()
    assert rng.laplace(state, 1.0, 3.0) == generator.laplace(1.0, 3.0)
    assert rng.lognormal(state, 0.5, 1.5) == generator.lognormal(0.5, 1.5)
    assert rng.negative_binomial(state, 3.0, 0.25) == generator.negative_binomial(3.0, 0.25)
    p = np.array([0.2, 0.5, 0.3])
    assert rng.categorical(state, rng.categorical_cdf(p)) == generator.choice(3, p=p)
