"""The replication plan: independent, seeded child streams; the same results on any number of
workers; and the t interval the tables print."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from scenarios.experiments import Plan, Replication, interval
from scenarios.experiments.agarwal_copy import EXPERIMENT, AgarwalCopy
from scenarios.experiments.base import Figure


def test_interval_known_answer() -> None:
    mean, half = interval([1.0, 2.0, 3.0])
    assert mean == pytest.approx(2.0)
    assert half == pytest.approx(stats.t.ppf(0.975, 2) * 1.0 / math.sqrt(3))


def test_interval_leaves_undefined_values_out() -> None:
    assert interval([1.0, math.nan, 3.0]) == interval([1.0, 3.0])
    assert interval([math.nan]) == (None, None)
    assert interval([4.0]) == (4.0, None)
    figure = Figure("x", (1.0, math.nan, 3.0))
    assert figure.defined == 2 and figure.to_json()["values"] == [1.0, None, 3.0]


def test_replications_are_seeded_children() -> None:
    plan = Plan(reps=4, seed=9)
    first = [r.generator("task").standard_normal(3).tolist() for r in plan.replications()]
    again = [r.generator("task").standard_normal(3).tolist() for r in Plan(4, 9).replications()]
    assert first == again
    assert len({tuple(x) for x in first}) == 4  # each replication its own numbers
    other = Plan(4, 10).replications()[0].generator("task").standard_normal(3).tolist()
    assert other != first[0]


def test_streams_of_a_replication_are_keyed_by_name() -> None:
    r = Replication(root=3, index=1)
    a, b = r.generator("a").integers(0, 2**62, 4), r.generator("b").integers(0, 2**62, 4)
    assert not np.array_equal(a, b)
    assert np.array_equal(a, Replication(3, 1).generator("a").integers(0, 2**62, 4))


def test_more_replications_leave_the_first_ones_alone() -> None:
    few = [r.seed for r in Plan(3, 5).replications()]
    many = [r.seed for r in Plan(10, 5).replications()]
    assert many[:3] == few and len(set(many)) == 10
    assert all(0 <= s < 2**63 for s in many)


def test_workers_do_not_change_the_results() -> None:
    config = AgarwalCopy.model_validate({"copies": {"max": 1}, "task": {"train_rows": 60}})
    serial = EXPERIMENT.run(config, Plan(3, 2, workers=1))
    parallel = EXPERIMENT.run(config, Plan(3, 2, workers=2))
    assert [f.values for f in serial.figures] == [f.values for f in parallel.figures]


def test_progress_is_reported() -> None:
    seen: list[tuple[int, int]] = []
    config = AgarwalCopy.model_validate({"copies": {"max": 1}, "task": {"train_rows": 60}})
    EXPERIMENT.run(config, Plan(3, 2, progress=lambda done, total: seen.append((done, total))))
    assert seen == [(1, 3), (2, 3), (3, 3)]
