"""simstudy's benchmark suite (issue 7): ``python -m bench`` writes bench/RESULTS.md.

One module per measured claim: :mod:`bench.sampling` (1), :mod:`bench.cells` (2),
:mod:`bench.fits` (3), :mod:`bench.study` with :mod:`bench.baseline_numpy_scipy` (4),
:mod:`bench.scaling` (5), :mod:`bench.memory` (6), :mod:`bench.startup` (7); :mod:`bench.run`
orchestrates and :mod:`bench.report` writes the results.
"""
