"""StudyConfig -> Plan: the cells, their random-stream keys, result keys and the work to do.

A cell is one (model, true θ, n). Its data key hashes everything that determines its samples
(seed, model, θ, n, RNG scheme); the 64-bit Philox key of the cell is (seed, first 64 bits of
the data key). Each estimator of a cell has a result key = H(data key, estimator, estimator
version): the folder its replicate blocks live in. The version is simstudy's for built-in
estimators and a hash of the plugin's source for plugins, so editing a plugin recomputes it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from simstudy.config import StudyConfig
from simstudy.estimators import PLUGIN_VERSION_PREFIX, resolve_estimator
from simstudy.models._base import Model
from simstudy.models._registry import entry_model
from simstudy.pyfit import PYTHON_VERSION_PREFIX

#: Names the random-number scheme; part of every data key, so a change of scheme never mixes.
RNG_SCHEME = "philox4x64-10;counter=[block,0,rep,substream];numpy-generator-algorithms;v1"


def _digest(payload: Any) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def theta_json(model: Model, theta: dict[str, float]) -> str:
    """Compact JSON of θ in declared parameter order (the ``theta`` column of every table)."""
    return json.dumps({p: theta[p] for p in model.param_names}, separators=(",", ":"))


@dataclass(frozen=True)
class EstimatorPlan:
    """One estimator of a cell: its label, fit kernel and where its replicates are stored."""

    label: str
    fit: Any
    version: str
    source: str
    result_key: str
    #: where the estimator is declared ("study.yaml: models[0].estimators[1]"), for messages
    origin: str = ""

    @property
    def is_plugin(self) -> bool:
        """A user's plugin kernel (``source`` is its ``package.module:function`` reference)."""
        return self.version.startswith(PLUGIN_VERSION_PREFIX)

    @property
    def is_python(self) -> bool:
        """A plain Python estimator (``fit`` is a :class:`simstudy.pyfit.PythonFit`), run in
        worker processes rather than the Numba engine."""
        return self.version.startswith(PYTHON_VERSION_PREFIX)


@dataclass(frozen=True)
class Cell:
    """One (model, θ, n) with the estimators run on its common samples."""

    entry: int
    model: Model
    theta: dict[str, float]
    n: int
    data_key: str
    estimators: tuple[EstimatorPlan, ...]
    seed: int

    @property
    def key0(self) -> int:
        """First Philox key word: the study seed."""
        return self.seed

    @property
    def theta_json(self) -> str:
        return theta_json(self.model, self.theta)

    @property
    def theta_array(self) -> np.ndarray:
        return np.array([self.theta[p] for p in self.model.param_names], dtype=np.float64)

    @property
    def key1(self) -> int:
        """Second Philox key word: the first 64 bits of the data key."""
        return int(self.data_key[:16], 16)

    @property
    def label(self) -> str:
        return f"{self.model.name} {self.theta_json} n={self.n}"


@dataclass(frozen=True)
class Plan:
    config: StudyConfig
    cells: tuple[Cell, ...]
    replications: int

    @property
    def total_samples(self) -> int:
        """Observations drawn by a full run: Σ over cells of n·R."""
        return sum(c.n for c in self.cells) * self.replications

    @property
    def total_fits(self) -> int:
        return sum(len(c.estimators) for c in self.cells) * self.replications


def data_key(seed: int, model: str, theta_json_text: str, n: int, design: str = "") -> str:
    """Hash of everything that determines a cell's samples (the design only when there is one,
    so iid cells keep their keys)."""
    payload = {"seed": seed, "model": model, "theta": theta_json_text, "n": n, "rng": RNG_SCHEME}
    if design:
        payload["design"] = design
    return _digest(payload)


def design_key(design) -> str:
    """The design's part of a data key: its description, plus the exact covariate parameters
    where the description rounds them (it prints 6 significant digits), so that designs
    drawing different covariates never share a key while the keys of the others stay as
    they were."""
    if not design:
        return ""
    text = design.describe()
    exact = [v for c in getattr(design, "covariates", ()) for v in (c.a, c.b)]
    if any(float(f"{v:g}") != v for v in exact):
        text += " exact " + json.dumps(exact)
    return text


def result_key(data_key_hex: str, estimator: str, version: str) -> str:
    return _digest({"data": data_key_hex, "estimator": estimator, "version": version})[:24]


def make_plan(
    config: StudyConfig,
    *,
    base_dir: Path | None = None,
    replications: int | None = None,
    source: str | None = None,
) -> Plan:
    """All cells of the study in config order (models, then θ grid, then n), at
    ``replications`` (default: the config's first round)."""
    cells = []
    for i, entry in enumerate(config.models):
        model = entry_model(entry, base_dir=base_dir)
        origins = [(f"{source}: " if source else "") + f"models[{i}].estimators[{j}]"
                   for j in range(len(entry.estimators))]  # fmt: skip
        estimators = [
            resolve_estimator(model, spec, base_dir=base_dir, where=where) + (where,)
            for spec, where in zip(entry.estimators, origins)
        ]
        for theta in entry.grid(model.param_names):
            tj = theta_json(model, theta)
            for n in config.sample_sizes:
                dk = data_key(config.seed, model.name, tj, n, design_key(model.design))
                plans = tuple(
                    EstimatorPlan(
                        label=label,
                        fit=fit,
                        version=version,
                        source=source,
                        result_key=result_key(dk, label, version),
                        origin=origin,
                    )
                    for label, fit, version, source, origin in estimators
                )
                cells.append(Cell(i, model, theta, n, dk, plans, config.seed))
    return Plan(config, tuple(cells), replications or config.initial_replications)
