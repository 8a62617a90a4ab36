"""What an experiment is: a configuration model, a run over seeded replications, and the
figures it reports beside the published ones.

An :class:`Experiment` names its pydantic configuration model (its built-in TOML file sits
beside this module as ``NAME.toml``) and a ``run(config, plan) -> Outcome``. The
:class:`Plan` says how many replications and from which seed; each :class:`Replication` draws
from its own child of one ``SeedSequence(seed)``, so replications are independent, the same
seed gives the same numbers, and adding replications leaves the earlier ones as they were.
An analytic experiment draws from :meth:`Replication.generator`; one that runs whole dxsim
simulations gives each replication's :attr:`Replication.seed` to its scenario
(``scenario.with_overrides(seed=replication.seed)``), every variant of that replication with
the same seed: common random numbers, as ``dxsim compare`` does.

The :class:`Outcome` is a list of :class:`Figure`: one value per replication, the published
value or claim beside it and where it was published, and whether ours bears it out. The
framework does the rest (mean and 95 % t interval, the table, the JSON, the plot).
"""

from __future__ import annotations

import math
import multiprocessing
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np
from pydantic import BaseModel

from scenarios.compare import paired_interval
from scenarios.streams import Streams

__all__ = [
    "EXPERIMENTS_DIR",
    "Experiment",
    "Figure",
    "Outcome",
    "Plan",
    "PlotSpec",
    "Replication",
    "Shortcut",
    "interval",
]

EXPERIMENTS_DIR = Path(__file__).resolve().parent

C = TypeVar("C", bound=BaseModel)
T = TypeVar("T")
R = TypeVar("R")


def interval(values: Sequence[float]) -> tuple[float | None, float | None]:
    """The mean of the finite ``values`` and the half-width of its 95 % Student-t interval
    (None when there are no finite values, or only one). A replication may leave a figure
    undefined (NaN: a share of nothing): it is left out, and the count says so."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return None, None
    found = paired_interval(finite)
    if found is None:
        return finite[0], None
    mean, _low, high = found
    return mean, high - mean


@dataclass(frozen=True)
class Replication:
    """One replication: the ``index``-th child of ``SeedSequence(root)``."""

    root: int
    index: int

    def generator(self, name: str) -> np.random.Generator:
        """The stream named ``name`` of this replication: a child of this replication's child,
        keyed by the name (as :class:`scenarios.streams.Streams` keys a run's components), so
        streams do not shift when an experiment adds or drops one. The same name gives the
        same numbers again: give each use its own name."""
        key = (self.index, *Streams(self.root).spawn_key(name))
        return np.random.Generator(
            np.random.PCG64(np.random.SeedSequence(self.root, spawn_key=key))
        )

    @property
    def seed(self) -> int:
        """A 63-bit seed drawn from this replication's child sequence: ``run.seed`` for a whole
        dxsim simulation in this replication."""
        state = np.random.SeedSequence(self.root, spawn_key=(self.index,)).generate_state(
            1, np.uint64
        )
        return int(state[0]) >> 1


@dataclass(frozen=True)
class Plan:
    """How to replicate: ``reps`` replications from ``seed``, on ``workers`` processes."""

    reps: int
    seed: int
    workers: int = 1
    progress: Callable[[int, int], None] | None = field(default=None, compare=False)

    def replications(self) -> list[Replication]:
        return [Replication(self.seed, index) for index in range(self.reps)]

    def map(self, task: Callable[[T, Replication], R], arg: T) -> list[R]:
        """``task(arg, replication)`` for every replication, in replication order.

        With ``workers`` > 1 the calls run in that many spawned processes (``task`` must be a
        module-level function and ``arg`` picklable, a pydantic config is); the results do not
        depend on how many.
        """
        replications = self.replications()
        results: dict[int, R] = {}
        if self.workers <= 1 or self.reps == 1:
            for done, replication in enumerate(replications, start=1):
                results[replication.index] = task(arg, replication)
                self._tick(done)
        else:
            context = multiprocessing.get_context("spawn")
            workers = min(self.workers, self.reps)
            with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
                futures = {pool.submit(task, arg, r): r.index for r in replications}
                for done, future in enumerate(as_completed(futures), start=1):
                    results[futures[future]] = future.result()
                    self._tick(done)
        return [results[r.index] for r in replications]

    def _tick(self, done: int) -> None:
        if self.progress is not None:
            self.progress(done, self.reps)


@dataclass(frozen=True)
class Figure:
    """One reported figure: ours per replication, the published value or claim beside it.

    ``agrees`` is the experiment's verdict on whether ours bears the published claim out
    (None: nothing to check). Figures with the same ``series`` are drawn as one line over
    their ``x`` values in the plot.
    """

    label: str
    values: tuple[float, ...]
    published: str = "—"
    source: str = ""
    agrees: bool | None = None
    series: str | None = None
    x: float | None = None
    digits: int = 3

    @property
    def mean(self) -> float | None:
        return interval(self.values)[0]

    @property
    def half_width(self) -> float | None:
        return interval(self.values)[1]

    @property
    def defined(self) -> int:
        """In how many replications the figure is defined (finite)."""
        return sum(math.isfinite(v) for v in self.values)

    def to_json(self) -> dict[str, Any]:
        mean, half = interval(self.values)
        return {
            "label": self.label,
            "mean": mean,
            "ci95_half_width": half,
            "replications": self.defined,
            "values": [v if math.isfinite(v) else None for v in self.values],
            "published": self.published,
            "source": self.source,
            "agrees": self.agrees,
            "series": self.series,
            "x": self.x,
        }


@dataclass(frozen=True)
class PlotSpec:
    """How to draw an outcome's series: the PNG's title and axis labels."""

    title: str
    x_label: str
    y_label: str


@dataclass(frozen=True)
class Outcome:
    """What a run found: its figures, notes printed under the table, and how to plot it."""

    figures: tuple[Figure, ...]
    notes: tuple[str, ...] = ()
    plot: PlotSpec | None = None


@dataclass(frozen=True)
class Shortcut:
    """An option of one experiment's own (``--market 3``) that stands for ``--set KEY=...``."""

    flag: str
    key: str
    help: str


@dataclass(frozen=True)
class Experiment(Generic[C]):
    """A named study: its configuration model, its run, and what it reproduces.

    ``reps`` and ``workers`` are the defaults of ``--reps`` and ``--workers`` (0: one worker
    process per core, for experiments that run whole simulations); ``shortcuts`` are the
    experiment's own options.
    """

    name: str
    title: str
    source: str
    config: type[C]
    run: Callable[[C, Plan], Outcome]
    reps: int = 20
    workers: int = 1
    shortcuts: tuple[Shortcut, ...] = ()

    @property
    def builtin(self) -> Path:
        """The built-in configuration, ``scenarios/experiments/NAME.toml``."""
        return EXPERIMENTS_DIR / f"{self.name}.toml"
