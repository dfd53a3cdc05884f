"""Writes external_example.csv, the table of the README's "Estimates made elsewhere" example.

Estimates as another program would have made them (here plain NumPy; nothing of simstudy):
exponential samples with rate 2 at n = 25, 100, 400, R = 200 replications (rep ids 1..200, as
R counts), each fitted by the MLE n/Σx (SE λ̂/√n) and by ln 2 / median (SE λ̂/(ln 2 · √n),
efficiency (ln 2)² ≈ 0.48). Run `python configs/external_example.py [OUT.csv]`; it rewrites the
committed file byte for byte.
"""

import sys
from pathlib import Path

import numpy as np

RATE, SIZES, REPLICATIONS, SEED = 2.0, (25, 100, 400), 200, 20261202


def rows():
    gen = np.random.default_rng(SEED)
    yield "estimator,n,rep,rate,rate_se"
    for n in SIZES:
        for rep in range(1, REPLICATIONS + 1):
            x = gen.exponential(1.0 / RATE, n)
            mle = n / x.sum()
            median = np.log(2.0) / np.median(x)
            yield f"mle,{n},{rep},{mle:.6g},{mle / np.sqrt(n):.6g}"
            yield f"median,{n},{rep},{median:.6g},{median / (np.log(2.0) * np.sqrt(n)):.6g}"


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_suffix(".csv")
    out.write_text("\n".join(rows()) + "\n")
