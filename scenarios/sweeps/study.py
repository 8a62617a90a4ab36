"""A study file (``dxsim sweep STUDY.toml``): a base scenario, a grid of variants, replications
on common random numbers, the metrics to collect and where to run.

.. code-block:: toml

    [study]
    name = "fee_sweep"
    scenario = "baseline"          # a built-in scenario, or a file beside the study
    replications = 20
    seed = 2026                    # the root of every replication's seed
    metrics = ["trades", "volume_fen", "brokers.licences"]
    backend = "processes"          # serial | processes | dask

    [set]                          # fixed changes to every variant (as --set)
    "run.days" = 120

    [grid]                         # every combination, in the order written
    "exchange.fees.supplier_fee_bp" = [0, 100, 250, 500]
    "population.1.count" = { start = 100, stop = 300, step = 100 }   # 100, 200, 300

Seeds: one root ``numpy.random.SeedSequence(seed)``; replication r of *every* variant runs
with the seed of the root's r-th child, so every variant sees the same random numbers in
replication r (common random numbers) and paired differences between variants measure the
change, not the luck. The first variant is the base the summary compares with.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator

from marketplace import tomlfile
from marketplace.metrics import Metrics
from scenarios.catalog import builtin_scenarios
from scenarios.load import ScenarioError, load
from scenarios.overrides import OverrideError
from scenarios.schema import Scenario

__all__ = [
    "STUDIES_DIR",
    "Backend",
    "Study",
    "StudyError",
    "StudyFile",
    "Variant",
    "load_study",
    "replication_seeds",
]

#: The built-in studies (``dxsim sweep NAME`` finds ``NAME.toml`` here).
STUDIES_DIR = Path(__file__).resolve().parent.parent / "studies"

Backend = Literal["serial", "processes", "dask"]
Scalar = int | float | bool | str
METRIC_NAMES = frozenset(Metrics.__dataclass_fields__)
#: Most variants × replications one study runs (a bigger one is several studies).
MAX_RUNS = 100_000


class StudyError(ScenarioError):
    """A study file to fix (``file:line: field: what is wrong``)."""

    unnamed = "<study>"


class Range(BaseModel):
    """``start, start + step, ...`` up to and including ``stop`` when a step lands on it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: int | float
    stop: int | float
    step: Annotated[int | float, Field(gt=0)]

    def values(self) -> list[int | float]:
        count = int((self.stop - self.start) / self.step + 1e-9) + 1
        if count < 1 or count > MAX_RUNS:
            raise ValueError(f"a range of {count} values; allowed: 1 to {MAX_RUNS}")
        if all(isinstance(x, int) for x in (self.start, self.stop, self.step)):
            return [int(self.start + i * self.step) for i in range(count)]
        return [round(self.start + i * self.step, 12) for i in range(count)]


class StudySection(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    scenario: str = Field(min_length=1, max_length=1_000)
    replications: int = Field(ge=1, le=10_000)
    seed: int = Field(ge=0, lt=2**63)
    metrics: list[str] = Field(min_length=1, max_length=200)
    backend: Backend = "serial"
    #: Worker processes for ``processes`` and a LocalCluster (0: one per core).
    workers: int = Field(default=0, ge=0, le=1_024)

    @field_validator("metrics")
    @classmethod
    def _known_metrics(cls, metrics: list[str]) -> list[str]:
        for name in metrics:
            if name.split(".", 1)[0] not in METRIC_NAMES:
                allowed = ", ".join(sorted(METRIC_NAMES))
                raise ValueError(f"metric {name!r} is not a figure of a run; allowed: {allowed}")
        return metrics


class StudyFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    study: StudySection
    fixed: dict[str, Scalar | list[Any] | dict[str, Any]] = Field(default_factory=dict, alias="set")
    grid: dict[str, list[Scalar] | Range] = Field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Variant:
    """One point of the grid: its index (0 is the base) and the field values it sets."""

    index: int
    fields: tuple[tuple[str, Any], ...]

    def overrides(self) -> list[str]:
        return [f"{path}={toml_value(value)}" for path, value in self.fields]


@dataclass(frozen=True)
class Study:
    """A loaded, checked study: every variant's scenario is known to validate."""

    path: Path
    config: StudySection
    scenario_path: Path
    fixed: tuple[str, ...]  # the [set] changes, as --set words
    axes: tuple[str, ...]  # the grid's (or design's) field paths, in order
    variants: tuple[Variant, ...]
    digest: str  # of everything that decides the results

    def with_replications(self, replications: int) -> Study:
        return replace(self, config=self.config.model_copy(update={"replications": replications}))


def toml_value(value: Any) -> str:
    """A value as a TOML literal (for ``--set``): JSON spells TOML's scalars and arrays alike,
    and an inline table is written key by key."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    return json.dumps(value)


def replication_seeds(root: int, replications: int) -> list[int]:
    """The run seed of each replication: the root SeedSequence's children, as 63-bit ints."""
    children = np.random.SeedSequence(root).spawn(replications)
    return [int(child.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for child in children]


def _scenario_file(name: str, study_path: Path) -> Path | None:
    beside = study_path.parent / name
    if beside.is_file():
        return beside
    return builtin_scenarios().get(name)


def _grid(file: StudyFile) -> tuple[tuple[str, ...], list[tuple[Any, ...]]]:
    axes = tuple(file.grid)
    values = [v.values() if isinstance(v, Range) else list(v) for v in file.grid.values()]
    return axes, list(itertools.product(*values))


def load_study(
    path: Path, design: list[dict[str, Any]] | None = None, design_file: Path | None = None
) -> Study:
    """Read and check a study; ``design`` (rows of a design table, read from ``design_file``)
    replaces its grid.

    Every variant's scenario is loaded once here, so a wrong path or value is reported, at
    its line in the study file, before anything runs.

    Raises:
        StudyError: the study file, or a variant it makes, is wrong.
    """
    data, source = tomlfile.load_toml(path, "study", StudyError)
    file = tomlfile.validate(StudyFile, data, source, path, StudyError)
    scenario_path = _scenario_file(file.study.scenario, path)
    if scenario_path is None:
        allowed = ", ".join(builtin_scenarios())
        raise StudyError(
            path,
            tomlfile.locate(source, ("study", "scenario")),
            "study.scenario",
            f"no scenario {file.study.scenario!r} beside the study; built-in: {allowed}",
        )
    if design is not None:
        axes = tuple(design[0]) if design else ()
        points = [tuple(row[a] for a in axes) for row in design]
    else:
        try:
            axes, points = _grid(file)
        except ValueError as exc:
            raise StudyError(path, tomlfile.locate(source, ("grid",)), "grid", str(exc)) from None
    points = points or [()]
    if len(points) * file.study.replications > MAX_RUNS:
        raise StudyError(
            path,
            tomlfile.locate(source, ("grid",)),
            "grid",
            f"{len(points)} variants × {file.study.replications} replications; at most "
            f"{MAX_RUNS:,} runs in one study",
        )
    fixed = tuple(f"{key}={toml_value(value)}" for key, value in file.fixed.items())
    variants = tuple(
        Variant(i, tuple(zip(axes, point, strict=True))) for i, point in enumerate(points)
    )
    for variant in variants:
        try:
            _check(path, source, scenario_path, fixed, variant)
        except StudyError as exc:
            if design is None:
                raise
            # a design row's line: the header is line 1
            raise StudyError(design_file, variant.index + 2, "design", exc.message) from None
    digest = hashlib.sha256(
        json.dumps(
            {
                "scenario": scenario_path.read_text(encoding="utf-8"),
                "fixed": fixed,
                "variants": [v.overrides() for v in variants],
                "seed": file.study.seed,
                "metrics": file.study.metrics,
            },
            sort_keys=True,
        ).encode()
    ).hexdigest()
    return Study(path, file.study, scenario_path, fixed, axes, variants, digest)


def _check(path: Path, source: str, scenario: Path, fixed: tuple[str, ...], v: Variant) -> None:
    try:
        load(scenario, Scenario, [*fixed, *v.overrides()])
    except (ScenarioError, OverrideError) as exc:
        changed = ", ".join(f"{p} = {toml_value(x)}" for p, x in v.fields) or "the base"
        key = v.fields[0][0] if v.fields else None
        line = tomlfile.locate(source, ("grid", key)) if key else None
        raise StudyError(path, line, "grid", f"variant {v.index} ({changed}): {exc}") from None
