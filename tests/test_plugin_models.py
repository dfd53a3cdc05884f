"""Plugin models with exact pieces, and simstudy's fallbacks when pieces are missing.

Models in tests/plugins/exact_models.py. The references are closed forms (Pareto: I = 1/α²)
or an exact summation written here with the analytic score (zero-inflated Poisson), never the
code under test. tests/test_check_suite.py runs the check suite on the same variants.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import simstudy
from simstudy.errors import PluginError
from simstudy.models._registry import load_plugin_model

PLUGINS = Path(__file__).resolve().parent / "plugins"


@pytest.fixture(autouse=True)
def plugins_on_path(monkeypatch):
    monkeypatch.syspath_prepend(str(PLUGINS))


def model(name: str):
    return load_plugin_model(f"exact_models:{name}", base_dir=PLUGINS)


def zip_information_by_summation(pi: float, lam: float) -> np.ndarray:
    """Σ_k p(k) s(k) s(k)ᵀ over k = 0..400 with the analytic per-observation score (the
    Poisson tail beyond 400 is below 1e-300 for λ <= 6)."""
    k = np.arange(0, 401, dtype=float)
    log_pois = -lam + k * math.log(lam) - np.array([math.lgamma(v + 1) for v in k])
    p = (1 - pi) * np.exp(log_pois)
    p0 = pi + (1 - pi) * math.exp(-lam)
    p[0] = p0
    s = np.empty((k.size, 2))
    s[0] = [(1 - math.exp(-lam)) / p0, -(1 - pi) * math.exp(-lam) / p0]
    s[1:, 0] = -1.0 / (1 - pi)
    s[1:, 1] = k[1:] / lam - 1.0
    return (s * p[:, None]).T @ s


@pytest.mark.parametrize("variant", ["Pareto", "ParetoNoFisher", "ParetoNoScore", "ParetoLogpdfOnly"])
@pytest.mark.parametrize("alpha", [1.5, 4.0])
def test_pareto_information_is_one_over_alpha_squared(variant, alpha):
    info = model(variant).information(np.array([alpha]))
    assert info[0, 0] == pytest.approx(1.0 / alpha**2, rel=1e-8)


@pytest.mark.parametrize("variant", ["ZeroInflatedPoisson", "ZipNoFisher", "ZipLogpdfOnly"])
@pytest.mark.parametrize("theta", [(0.2, 1.5), (0.4, 6.0)])
def test_zip_information_by_summation(variant, theta):
    expected = zip_information_by_summation(*theta)
    got = model(variant).information(np.array(theta))
    np.testing.assert_allclose(got, expected, rtol=1e-8)


def test_tags_say_which_pieces_are_exact():
    full, bare = model("Pareto").tags, model("ParetoLogpdfOnly").tags
    assert full["fisher"] == "exact (the plugin's fisher)" and full["score"].startswith("exact")
    assert full["mle"] == "the plugin's fit_mle" and full["replay"] == "the plugin's numpy_sample"
    assert bare["fisher"].startswith("quadrature over the support")
    assert bare["score"].startswith("numerical") and bare["mle"].startswith("generic")
    assert model("ZipLogpdfOnly").tags["fisher"].startswith("summation over the support")
    assert model("ShiftedNormal").tags["fisher"].startswith("Monte Carlo")


def test_a_density_that_does_not_integrate_to_one_is_refused():
    with pytest.raises(PluginError, match="integrates to 2 over the support \\(1, inf\\), not 1"):
        model("Unnormalized").information(np.array([2.0]))


def test_the_manifest_stores_the_exact_bound(tmp_path):
    study = {"name": "pareto", "seed": 4, "replications": 50, "sample_sizes": [50, 100, 200],
             "models": [{"plugin": "exact_models:ParetoLogpdfOnly", "params": {"alpha": 1.5}}],
             "report": {"figures": ["bias"], "cells": []}}  # fmt: skip
    config = tmp_path / "pareto.yaml"
    config.write_text(json.dumps(study))
    (tmp_path / "exact_models.py").write_text((PLUGINS / "exact_models.py").read_text())
    result = simstudy.run(config, out=tmp_path / "out", report=False)
    for cell in result.cells:
        assert cell["fisher"][0][0] == pytest.approx(1 / 1.5**2, rel=1e-8)
        assert cell["inverse_fisher"][0][0] == pytest.approx(1.5**2, rel=1e-8)
        assert "inverse_fisher_mcse" not in cell  # exact: no Monte Carlo error to carry


def test_numpy_replay_of_a_plugin_is_bit_identical(kernel_sample):
    from simstudy import rng

    m = model("Pareto")
    theta = np.array([2.5])
    kernel = kernel_sample(m, theta, 500, rep=7)
    numpy = m.numpy_sample(rng.numpy_generator(20261121, 0x243F6A8885A308D3, 7, 0), theta, 500)
    assert np.array_equal(kernel, numpy)


def test_a_monte_carlo_information_carries_its_error_into_the_mcses(tmp_path):
    """Two values per observation: the information is a Monte Carlo estimate; the manifest
    keeps its MCSE and the efficiency's MCSE adds it (in quadrature) to the replicates' own."""
    m = model("ShiftedNormal")
    info = m.information(np.array([1.0]))[0, 0]
    mcse = m.fisher_mcse(np.array([1.0]))[0, 0]
    # I = E[x²] = 1; its Monte Carlo estimate within 4 of its own MCSEs (sqrt(Var(x² s²)/m)).
    assert abs(info - 1.0) < 4 * mcse and 0 < mcse < 0.01
    study = {"name": "rows", "seed": 4, "replications": 400, "sample_sizes": [50, 100, 200],
             "models": [{"plugin": "exact_models:ShiftedNormal", "params": {"beta": 1.0}}],
             "report": {"figures": ["bias"], "cells": []}}  # fmt: skip
    config = tmp_path / "rows.yaml"
    config.write_text(json.dumps(study))
    (tmp_path / "exact_models.py").write_text((PLUGINS / "exact_models.py").read_text())
    result = simstudy.run(config, out=tmp_path / "out", report=False)
    cell = result.cells[-1]
    inv, inv_mcse = cell["inverse_fisher"][0][0], cell["inverse_fisher_mcse"][0][0]
    # d(1/I) = -dI/I²: the inverse's MCSE is the information's over I².
    assert inv_mcse == pytest.approx(mcse / info**2, rel=1e-12)
    metrics, _ = result.analyse()
    at = metrics[(metrics.n == 200) & (metrics.param == "beta")].set_index("metric")
    from simstudy.metrics import mcse as formulas

    est = result.replicates(n=200).beta.to_numpy()
    eff, eff_mcse = formulas.efficiency(est, inv / 200)
    assert at.at["efficiency", "value"] == pytest.approx(eff, rel=1e-12)
    assert at.at["efficiency", "mcse"] == pytest.approx(math.hypot(eff_mcse, eff * inv_mcse / inv), rel=1e-9)
    assert at.at["inv_fisher", "mcse"] == pytest.approx(inv_mcse, rel=1e-12)
    assert at.at["crlb_se", "mcse"] == pytest.approx(0.5 * inv_mcse / inv * at.at["crlb_se", "value"],
                                                     rel=1e-12)  # fmt: skip
