"""An example user-defined model for configs/plugin_model.yaml: the Rayleigh distribution.

Only a per-observation log density and a sampler on simstudy's random streams are written
here; simstudy supplies the score (numerical), the Fisher information (quadrature over the
declared support) and the MLE (generic Newton) and says so in its tags. The Rayleigh model has
closed forms to check them against: σ̂² = Σx²/(2n) and I(σ) = 4/σ².
"""

import numba
import numpy as np

from simstudy import rng
from simstudy.models import POSITIVE, Param


class Rayleigh:
    """Rayleigh(sigma): f(x) = x/σ² exp(-x²/(2σ²)), x > 0."""

    name = "rayleigh"
    params = (Param("sigma", POSITIVE, typical=(0.5, 3.0), doc="scale σ"),)
    support = POSITIVE  # what simstudy.fit accepts: x > 0
    start = (1.0,)

    @staticmethod
    @numba.njit(cache=True)
    def logpdf(x, theta):
        s2 = theta[0] * theta[0]
        if x <= 0.0:
            return -np.inf
        return np.log(x) - np.log(s2) - x * x / (2.0 * s2)

    @staticmethod
    @numba.njit(cache=True)
    def sample(state, theta, out):
        # X = σ sqrt(2E), E ~ Exp(1) (inversion of the Rayleigh CDF).
        for i in range(out.size):
            out[i] = theta[0] * np.sqrt(2.0 * rng.standard_exponential(state))
