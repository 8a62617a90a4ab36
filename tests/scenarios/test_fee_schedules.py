"""Fee schedules are data: a scenario names a venue's published schedule and starts from its
fees; what the scenario writes itself wins; a missing or wrong schedule is a located error."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.catalog import resolve
from scenarios.fee_schedules import FeeScheduleFile, builtin_schedules
from scenarios.load import ScenarioError, load, load_toml, validate
from scenarios.schema import Scenario

BASELINE = resolve("baseline").read_text(encoding="utf-8")


def scenario_with(tmp_path: Path, fees: str) -> Path:
    """The baseline with its ``[exchange.fees]`` table replaced by ``fees``."""
    head, rest = BASELINE.split("[exchange.fees]", 1)
    rest = rest[rest.index("[exchange.storage]") :]
    path = tmp_path / "venue.toml"
    path.write_text(f"{head}[exchange.fees]\n{fees}\n\n{rest}", encoding="utf-8")
    return path


def test_the_shanghai_schedule_is_a_one_time_buyer_fee_and_2_5_percent(tmp_path: Path) -> None:
    fees = load(scenario_with(tmp_path, 'schedule = "sde"'), Scenario).exchange.fees
    assert (fees.supplier_fee_bp, fees.membership_fee_fen) == (250, 998_000)
    assert fees.membership_period_days == 36_500 and fees.schedule == "sde"
    assert fees.hosting_fen_per_gb_day == 50  # not in the schedule: the default


def test_what_the_scenario_writes_wins_over_the_schedule(tmp_path: Path) -> None:
    path = scenario_with(tmp_path, 'schedule = "sde"\nsupplier_fee_bp = 0')
    fees = load(path, Scenario).exchange.fees
    assert (fees.supplier_fee_bp, fees.membership_fee_fen) == (0, 998_000)
    swapped = load(path, Scenario, ['exchange.fees.schedule="sde-trial"']).exchange.fees
    assert (swapped.supplier_fee_bp, swapped.membership_fee_fen) == (0, 0)


def test_an_unknown_schedule_names_its_line_and_the_schedules_there_are(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError) as raised:
        load(scenario_with(tmp_path, 'schedule = "nasdaq"'), Scenario)
    error = raised.value
    assert error.field == "exchange.fees.schedule" and error.line == 14
    assert "'nasdaq'" in str(error) and all(name in str(error) for name in builtin_schedules())


def test_a_wrong_schedule_file_is_reported_in_that_file(tmp_path: Path) -> None:
    (tmp_path / "mine.toml").write_text(
        'venue = "v"\nsource = "s"\n\n[fees]\nsupplier_fee_bp = -5\n', encoding="utf-8"
    )
    with pytest.raises(ScenarioError) as raised:
        load(scenario_with(tmp_path, 'schedule = "mine.toml"'), Scenario)
    error = raised.value
    assert error.path == tmp_path / "mine.toml" and error.line == 5
    assert error.field == "fees.supplier_fee_bp"


def test_every_built_in_schedule_cites_its_source() -> None:
    for path in builtin_schedules().values():
        data, text = load_toml(path)
        schedule = validate(FeeScheduleFile, data, text, path)
        assert schedule.source and schedule.venue
