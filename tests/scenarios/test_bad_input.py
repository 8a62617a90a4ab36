"""Bad input gets one clear line naming the file, line and field, exit 2: never a traceback, a
hang, or a run that starts and then crashes. Probes from the issue, then Hypothesis mutations."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ledger import DiscardStore
from scenarios.build import WorkLimitError, build
from scenarios.catalog import resolve
from scenarios.keys import run_keys
from scenarios.load import ScenarioError, load
from scenarios.schema import Scenario, work_problems
from tests.keys import TEST_SECRET
from tests.scenarios.test_cli_run import dxsim

BASELINE = resolve("baseline").read_text(encoding="utf-8")
LOCATED = re.compile(r"^dxsim: error: \S+\.toml:(\d+): ([\w.\[\]\"-]+): .+")


def broken(tmp_path: Path, old: str, new: str) -> tuple[Path, int]:
    """The baseline with ``old`` replaced by ``new``; the line of ``new``'s last line."""
    assert old in BASELINE
    text = BASELINE.replace(old, new, 1)
    path = tmp_path / "broken.toml"
    path.write_text(text)
    last = new.splitlines()[-1]
    return path, next(i for i, line in enumerate(text.splitlines(), 1) if last in line)


PROBES = [
    # (what the line says, what it becomes, the field the error must name)
    (
        "arrival_rate_per_day = 0.1",
        "arrival_rate_per_day = nan",
        "population[1].arrival_rate_per_day",
    ),
    (
        "arrival_rate_per_day = 0.1",
        "arrival_rate_per_day = inf",
        "population[1].arrival_rate_per_day",
    ),
    (
        "arrival_rate_per_day = 0.1",
        "arrival_rate_per_day = 1e9",
        "population[1].arrival_rate_per_day",
    ),
    (
        "settlement_every_days = 1.0",
        "settlement_every_days = 1e-9",
        "exchange.operation.settlement_every_days",
    ),
    ("count = 50", "count = 1000000000", "population[0].count"),
    ("seed = 1", "seed = true", "run.seed"),
    ("seed = 1", "seed = 99999999999999999999999", "run.seed"),
    ("supplier_fee_bp = 250", "supplier_fee_bp = 1e400", "exchange.fees.supplier_fee_bp"),
    (
        "membership_fee_fen = 500000",
        "membership_fee_fen = 9223372036854775807",
        "exchange.fees.membership_fee_fen",
    ),
    ("days = 180", "days = -1", "run.days"),
    ("days = 180", "days = nan", "run.days"),
    (
        'ingest_days = { dist = "lognormal", median = 0.5, sigma = 0.6 }',
        'ingest_days = { dist = "uniform", low = -1, high = 2 }',
        "exchange.storage.ingest_days",
    ),
    (
        'matching_days = { dist = "exponential", mean = 0.02 }',
        'matching_days = { dist = "exponential", mean = -0.02 }',
        "exchange.trading.matching_days.mean",
    ),
    (
        'review_days = { dist = "lognormal", median = 2.0, sigma = 0.5 }',
        'review_days = { dist = "lognormal", median = 2.0, sigma = nan }',
        "population[2].review_days.sigma",
    ),
    (
        'unit_cost_fen = { dist = "lognormal", median = 200000, sigma = 0.6 }',
        'unit_cost_fen = { dist = "lognormal", median = 2e15, sigma = 0.6 }',
        "population[0].unit_cost_fen",
    ),
    (
        "cross_border_share = 0.0",
        'cross_border_share = 0.5\nforeign_destinations = ["CN", "SG"]',
        "population[1].foreign_destinations",
    ),
    (
        "cross_border_share = 0.0",
        'cross_border_share = 0.5\nforeign_destinations = ["XX"]',
        "population[1].foreign_destinations[0]",
    ),
    ("cross_border_share = 0.0", 'cross_border_share = 0.0\nhome = "ZZ"', "population[1].home"),
    (
        "strategy_params = { start_markup_bp = 8000, step_bp = 1000, target_sales = 2 }",
        "strategy_params = { start_markup_bp = nan }",
        "population[0].strategy_params",
    ),
    (
        "strategy_params = { start_markup_bp = 8000, step_bp = 1000, target_sales = 2 }",
        "strategy_params = { start_markup_bp = 100000000000000000000 }",
        "population[0].strategy_params",
    ),
    (
        'pricing = "posted"',
        'pricing = "posted"\npricing_params = { cap_bp = 1.5 }',
        "population[0].pricing_params",
    ),
    (
        'strategy = "quality-logistic"',
        'strategy = "quality-logistic"\nstrategy_params = { scale_pct = -1 }',
        "population[2].strategy_params",
    ),
    ("batch_size = 1024", "batch_size = 0", "ledger.batch_size"),
    ("capacity = 4", "capacity = 1e3", "exchange.storage.capacity"),
]


@pytest.mark.parametrize(("old", "new", "field"), PROBES, ids=[p[1][:40] for p in PROBES])
def test_each_probe_is_one_located_line(tmp_path: Path, old: str, new: str, field: str) -> None:
    path, line = broken(tmp_path, old, new)
    with pytest.raises(ScenarioError) as caught:
        load(path, Scenario)
    error = caught.value
    assert error.field == field, str(error)
    assert error.line is not None and abs(error.line - line) <= 1, (error.line, line, str(error))


def test_the_cli_refuses_a_probe_before_making_a_run_directory(tmp_path: Path) -> None:
    path, line = broken(tmp_path, "arrival_rate_per_day = 0.1", "arrival_rate_per_day = nan")
    out = tmp_path / "out"
    done = dxsim("run", str(path), "--out", str(out))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    match = LOCATED.match(done.stderr.splitlines()[0])
    assert match and int(match[1]) == line and match[2] == "population[1].arrival_rate_per_day"
    assert not out.exists()  # nothing half-made to block the next --out


def test_a_flood_of_events_is_refused_at_load_naming_the_rate(tmp_path: Path) -> None:
    # Every value is within its own bound; together they would run for days.
    path, _line = broken(tmp_path, "count = 200", "count = 100000\narrival_rate_per_day = 5000")
    text = path.read_text().replace("arrival_rate_per_day = 0.1\n", "", 1)
    path.write_text(text)
    with pytest.raises(ScenarioError) as caught:
        load(path, Scenario)
    assert caught.value.field == "population[1].arrival_rate_per_day"
    assert "run.max_events" in caught.value.message


def test_a_run_past_its_event_bound_stops_with_a_clear_error(tmp_path: Path) -> None:
    scenario = load(resolve("baseline"), Scenario)
    small = scenario.model_copy(
        update={"run": scenario.run.model_copy(update={"max_events": 1_000, "days": 30.0})}
    )
    assert work_problems(small)  # the estimate already says so...
    world = build(small, DiscardStore(), keys=run_keys(TEST_SECRET, 1))
    with pytest.raises(WorkLimitError, match=r"after 1,000 events \(run.max_events\)"):
        world.run()  # ...and the run itself stops, rather than going on


def test_deep_nesting_and_huge_files_are_refused(tmp_path: Path) -> None:
    deep = tmp_path / "deep.toml"
    deep.write_text(
        "[run]\nname = 'x'\n[[population]]\nkind = 'provider'\ncount = 1\n"
        "strategy_params = { a = " + "[" * 5000 + "]" * 5000 + " }\n"
    )
    with pytest.raises(ScenarioError, match="nested deeper than 16 levels"):
        load(deep, Scenario)
    nested = tmp_path / "nested.toml"
    nested.write_text(
        "[[population]]\nkind = 'provider'\ncount = 1\n"
        "strategy_params = { a = " + "[" * 20 + "]" * 20 + " }\n"
    )
    with pytest.raises(ScenarioError, match="nested deeper") as caught:
        load(nested, Scenario)
    assert caught.value.line == 4
    huge = tmp_path / "huge.toml"
    huge.write_text("# " + "x" * (1 << 21) + "\n")
    with pytest.raises(ScenarioError, match="larger than"):
        load(huge, Scenario)


# -- mutations --------------------------------------------------------------------------------

_ASSIGNMENT = re.compile(r"(?m)^(\s*[A-Za-z_][\w.]*\s*=\s*)([^\n#]+?)(\s*(?:#.*)?)$")
_INLINE = re.compile(r"(\b[a-z_]+\s*=\s*)([^,}\n]+)")
NASTY = [
    "nan",
    "inf",
    "-inf",
    "-1",
    "0",
    "-0.0",
    "1e400",
    "1e-400",
    "1e308",
    "99999999999999999999",
    "9223372036854775807",
    "-9223372036854775808",
    "true",
    "false",
    '"x"',
    '""',
    '"CN"',
    "[]",
    "{}",
    "[[[]]]",
    '{ dist = "constant", value = -5 }',
    '{ dist = "lognormal", median = 1e300, sigma = 10 }',
    '{ dist = "exponential", mean = 1e-12 }',
    "1979-05-27",
    "0.000001",
    "1e9",
]


def _spots(text: str) -> list[tuple[int, int]]:
    """Where values are written: (start, end) of every value, inline-table ones included."""
    spots = [(m.start(2), m.end(2)) for m in _ASSIGNMENT.finditer(text)]
    for m in _ASSIGNMENT.finditer(text):
        if m[2].lstrip().startswith("{"):
            spots += [
                (m.start(2) + i.start(2), m.start(2) + i.end(2)) for i in _INLINE.finditer(m[2])
            ]
    return spots


SPOTS = _spots(BASELINE)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    spot=st.sampled_from(SPOTS),
    value=st.sampled_from(NASTY),
    second=st.sampled_from(SPOTS),
    other=st.sampled_from(NASTY),
    twice=st.booleans(),
)
def test_mutated_scenarios_fail_cleanly_or_run(
    tmp_path: Path,
    spot: tuple[int, int],
    value: str,
    second: tuple[int, int],
    other: str,
    twice: bool,
) -> None:
    edits = sorted({spot: value, **({second: other} if twice else {})}.items(), reverse=True)
    text = BASELINE
    for (start, end), replacement in edits:
        if start < end <= len(text):
            text = text[:start] + replacement + text[end:]
    path = tmp_path / "mutant.toml"
    path.write_text(text, encoding="utf-8")
    try:
        scenario = load(path, Scenario)
    except ScenarioError as error:
        report = str(error)
        assert report.startswith(f"{path}:"), report
        assert error.field or error.message.startswith("invalid TOML"), report
        event("refused with a located error")
        return
    short = scenario.with_overrides(days=1.0)
    if sum(1 for _ in work_problems(short)) or scenario.population[1].count > 400:
        event("loaded, too large to run here")
        return
    world = build(short, DiscardStore(), keys=run_keys(TEST_SECRET, short.run.seed))
    world.run()  # a scenario that loads must run: no exception of any kind
    event("loaded and ran")


def test_a_negative_zero_sigma_samples_like_zero() -> None:
    """Found by the mutations: -0.0 passes ">= 0" but numpy refused it mid-run."""
    from marketplace.distributions import LogNormal

    dist = LogNormal(median=3.0, sigma=-0.0)
    assert dist.sigma == 0.0 and dist.sample(np.random.default_rng(1)) == pytest.approx(3.0)


@pytest.mark.parametrize("name", ["baseline", "crossborder"])
def test_a_resolved_scenario_validates_again_as_it_was_written(name: str) -> None:
    """scenario.json (every default filled in) must load back: defaults obey their bounds."""
    scenario = load(resolve(name), Scenario)
    assert Scenario.model_validate_json(scenario.model_dump_json()) == scenario
    assert Scenario.model_validate(scenario.model_dump()) == scenario
