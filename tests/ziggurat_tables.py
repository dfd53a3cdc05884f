"""NumPy's 256-layer ziggurat tables rebuilt from the Marsaglia & Tsang (2000) recurrence.

NumPy's ``numpy/random/src/distributions/ziggurat_constants.h`` (not shipped in wheels) holds,
for f(x) = exp(-x²/2) on 52-bit magnitudes (normal) and f(x) = exp(-x) on 53-bit ones
(exponential), with r the start of the tail (``ziggurat_nor_r``, ``ziggurat_exp_r``) and v the
common area of the 256 layers, v = r·f(r) + ∫_r^∞ f:

    x_255 = r,  x_{i} = f⁻¹(v/x_{i+1} + f(x_{i+1}))  (i = 254 .. 1)
    W[0] = v/f(r)/2^m, W[i] = x_i/2^m;   F[0] = 1, F[i] = f(x_i);
    K[0] = floor(2^m·r·f(r)/v), K[1] = 0, K[i+1] = floor(2^m·x_i/x_{i+1})

(Marsaglia & Tsang 2000, "The Ziggurat Method for Generating Random Variables", J. Stat. Softw.
5(8), ``zigset``, with 256 layers and m = 52 / 53 as NumPy's ``random_standard_normal`` and
``random_standard_exponential`` use them). :func:`recurrence` evaluates this in 50-digit
arithmetic (mpmath) from NumPy's printed r, and rounds to the nearest double.

The exponential W and F tables come out bit for bit. The other entries differ from NumPy's by
a few units in the last place (K by a few counts): NumPy's generator is not in its tree, and its
working precision and the exact r it started from are not recorded; the normal recurrence is
ill-conditioned near the mode, where x_i = sqrt(-2 log(v/x_{i+1} + f(x_{i+1}))) amplifies any
difference in r or v. So NumPy's tables are pinned here as the recurrence plus a small integer
offset per entry (ULPS: units in the last place of the double, or counts for K), read from
``ziggurat_constants.h`` at numpy/numpy commit 0a9cd40845b9f2ab2f72ffc76cb22488a14ee93f by
``python tests/ziggurat_tables.py PATH/TO/ziggurat_constants.h`` (which prints this table).
Entry i of NumPy's table is then ``shift(recurrence()[name][i], ULPS[name][i])`` exactly, and
every offset is small (checked), so the pinned values are the recurrence's up to rounding.
"""

from __future__ import annotations

import re
import sys

import numpy as np

#: NumPy's printed tail starts (ziggurat_constants.h: ziggurat_nor_r, ziggurat_exp_r).
NOR_R = "3.6541528853610087963519472518"
EXP_R = "7.6971174701310497140446280481"
LAYERS = 256


def recurrence() -> dict[str, np.ndarray]:
    """{"ki", "wi", "fi", "ke", "we", "fe"}: the six tables by the recurrence above."""
    import mpmath as mp

    mp.mp.dps = 50
    out = {}
    for kind, r_text, bits in (("normal", NOR_R, 52), ("exponential", EXP_R, 53)):
        r = mp.mpf(r_text)
        scale = mp.mpf(2) ** bits
        if kind == "normal":
            f = lambda x: mp.exp(-x * x / 2)
            f_inv = lambda y: mp.sqrt(-2 * mp.log(y))
            v = r * f(r) + mp.sqrt(mp.pi / 2) * mp.erfc(r / mp.sqrt(2))
        else:
            f = lambda x: mp.exp(-x)
            f_inv = lambda y: -mp.log(y)
            v = (r + 1) * mp.exp(-r)
        x = [mp.mpf(0)] * LAYERS
        x[LAYERS - 1] = r
        for i in range(LAYERS - 2, 0, -1):
            x[i] = f_inv(v / x[i + 1] + f(x[i + 1]))
        k = [0] * LAYERS
        k[0] = int(mp.floor(scale * r * f(r) / v))
        for i in range(1, LAYERS - 1):
            k[i + 1] = int(mp.floor(scale * x[i] / x[i + 1]))
        w = [v / f(r) / scale] + [x[i] / scale for i in range(1, LAYERS)]
        fs = [mp.mpf(1)] + [f(x[i]) for i in range(1, LAYERS)]
        k_name, w_name, f_name = ("ki", "wi", "fi") if kind == "normal" else ("ke", "we", "fe")
        out[k_name] = np.array(k, dtype=np.uint64)
        out[w_name] = np.array([float(mp.nstr(t, 30)) for t in w])  # correctly rounded
        out[f_name] = np.array([float(mp.nstr(t, 30)) for t in fs])
    return out


def shift(value, offset):
    """``value`` moved by ``offset`` units in the last place (doubles) or counts (integers)."""
    if isinstance(value, (np.floating, float)):
        return np.float64(value).view(np.int64) + np.int64(offset)
    return int(value) + int(offset)


def _as_int_bits(values: np.ndarray) -> np.ndarray:
    return values.view(np.int64) if values.dtype == np.float64 else values.astype(np.int64)


def offsets(numpy_tables: dict[str, np.ndarray]) -> dict[str, list[int]]:
    """Per-entry offsets of NumPy's tables from :func:`recurrence` (ulps / counts)."""
    rec = recurrence()
    return {
        name: (_as_int_bits(numpy_tables[name]) - _as_int_bits(rec[name])).tolist()
        for name in rec
    }


def parse_header(text: str) -> dict[str, np.ndarray]:
    """The six double-precision tables of ziggurat_constants.h."""
    out = {}
    for name in ("ki", "wi", "fi", "ke", "we", "fe"):
        body = re.search(rf"{name}_double\[\] = \{{(.*?)\}};", text, re.DOTALL).group(1)
        items = [t.strip().removesuffix("ULL") for t in body.split(",") if t.strip()]
        if name.startswith("k"):
            out[name] = np.array([int(t, 16) for t in items], dtype=np.uint64)
        else:
            out[name] = np.array([float(t) for t in items])
    return out


def encode(values: list[int]) -> str:
    """Run-length text of an offset list: ``"0*12 1 -2 0*3"``."""
    parts, i = [], 0
    while i < len(values):
        j = i
        while j < len(values) and values[j] == values[i]:
            j += 1
        parts.append(f"{values[i]}*{j - i}" if j - i > 1 else f"{values[i]}")
        i = j
    return " ".join(parts)


def decode(text: str) -> list[int]:
    out = []
    for part in text.split():
        value, _, count = part.partition("*")
        out += [int(value)] * (int(count) if count else 1)
    return out


# Offsets of NumPy's tables (ziggurat_constants.h, numpy commit 0a9cd408) from recurrence().
ULPS_TEXT = {
    "ki": (
        "5 0 -30 -9 -5 -2 -1 -2 1*2 0*2 -1 0 1 0 1 2 0*2 1*2 0 2 0*4 1 0*6 1 0*2 -1 1 0*3 1 0 "
        "1*2 0*3 1*2 0*2 2 1 0 1*3 0*4 1 0 1 0 1 0*2 1 0*3 1 0 1*2 0 -1 0*3 1 0 1*2 0 1 0*2 "
        "1*3 0 1 0*2 1*2 0 1*2 0 1 0*4 2 0*7 1*2 0 1 0*2 1 0*2 1*3 0*2 1 0 1 0 1 0*2 1*2 0 "
        "1*2 0 1 0*2 -1 1*2 0 1 0 1 0*2 1*3 0 1*2 0*2 1*6 0*2 -1 0 1*6 0 1 0 1 0 1 0 1 0 1*2 "
        "0 1*3 0*2 1 0 1*3 0 1 0*4 1*2 0*3 1*2 0*4 1*2 0 1 0 1 0*2 1 0 1*2 0*2 1 0*3 1 0*4 1 "
        "0*2 1 0 1*6 0 1 "
    ),
    "wi": (
        "-9 -130 -40 -33 -28 -26*2 -22*2 -11 -10 -9 -8*5 -9 -8*2 -9*3 -10 -9 -8*2 -7 -8*3 -7 "
        "-8*2 -7*2 -8*2 -6*3 -5*2 -6 -5 -6 -5*4 -6*2 -3 -4*7 -3 -4 -3*4 -4 -3 -4 -3*2 -4 -3 "
        "-2*2 -3*3 -4 -3*7 -2*5 -1*5 -2*2 -1 -2*5 -1 -2*5 -3*3 -2*3 -1*2 -2*4 -1*5 -2*3 -1*2 "
        "-2*8 -3 -4*3 -3*4 -2*3 -1*5 0*5 -1*2 0 -1 0 -1*3 0*3 1 2 3*3 2*2 1 0*8 -1 0*6 -1*5 "
        "-2 -1 -2*6 -1*5 0 -1*3 0*3 -1*2 0*6 -1 0*2 -1 0 -1*8 0 1 0 1*6 0*3 1*2 0 "
    ),
    "fi": (
        "0 7 6 5*4 4 5*3 4*6 5 4 5*6 4*3 5*3 4*2 5 4*3 5 4*2 3*5 4 3 4*2 3 4 3 4*2 5*7 4*5 5 "
        "4 5 4*4 3 2 3 7*2 8*2 6 7 8 7 8 7 6 5 6 5 4*2 3*4 5 4 3 4*5 3 4*3 5*2 6*2 5*2 4*2 "
        "3*2 4 3 4 3 2 1*2 2*2 3*6 4*2 3*2 4*2 3 5 6 7*2 6 5*2 10 7*3 5 4 5 4 3 1 2 0*2 1 3*2 "
        "2 1*3 2 1 2 0 -1 -3 -5 -7*2 -8 -5 -4 -2 -1 0 1 0 1 0 2 0 1*3 2*2 1 2 7 6 5 10 6 12*4 "
        "15 13*2 11 9 7 8 7 3 1 6 8 4 2 -1 0 4 2*2 -3 0 1 2 3*2 2 3 4 1 5 3 6 8 16 13 9 4 -1 "
        "-4 -2 -6 -7 -9 -7 -5 -7 -3 -5 -6 -8*2 2 "
    ),
    "ke": (
        "-1 0 -1 0*3 -1*7 0*3 -1 0*4 -1 0 -1 0*4 -1*2 0*5 -1*2 0*2 -1 0 -1 0 -1 0 -1 0*2 -1 0 "
        "-1*2 0 -1 0*2 -1 0*2 -1 0*2 -1 0 -1*4 0 -1*2 0*2 -1*4 0 -1 0 -1 0 -1 0*2 -1*2 0 -1 0 "
        "-1 0 -1 0*3 -1 0 -1*2 0*2 -1*3 0 -1*2 0 -1 0 -1*2 0*2 -1*3 0*2 -1*2 0 -1 0 -1 0 -1 "
        "0*2 -1*3 0 -1 0 -1 0*2 -1 0 -1 0*4 -1 0 -1*3 0*2 -1 0*2 -1*4 0*2 -1*4 0 -1 0*4 -1*3 "
        "0 -1 0*7 -1*2 0 -1*5 0 -1 0*3 -1*2 0*2 -1*3 0 -1 0*3 -1*2 0 -1*3 0*2 -1*4 0*2 -1 0*2 "
        "-1*9 0 -1*3 0*3 -1*2 0*2 -1 0*3 -1 0 -1 0 -1 0 "
    ),
    "we": (
        "0*256 "
    ),
    "fe": (
        "0*256 "
    ),
}


def pinned_offsets() -> dict[str, list[int]]:
    return {name: decode(text) for name, text in ULPS_TEXT.items()}


if __name__ == "__main__":
    with open(sys.argv[1]) as header:
        found = offsets(parse_header(header.read()))
    for name, values in found.items():
        text = encode(values)
        lines, line = [], ""
        for part in text.split():
            if len(line) + len(part) + 1 > 84:
                lines.append(line)
                line = ""
            line += ("" if not line else " ") + part
        lines.append(line)
        body = "\n".join(f'        "{chunk} "' for chunk in lines)
        print(f'    "{name}": (\n{body}\n    ),')
