"""The built-in studies (rights capacity, delivery modes), ``--set`` overrides, and the
review-staffing check."""

from __future__ import annotations

from pathlib import Path

import pytest

from marketplace.metrics import Metrics, fold
from scenarios.catalog import resolve
from scenarios.load import ScenarioError, load
from scenarios.overrides import OverrideError, apply_overrides
from scenarios.schema import Scenario
from tests.scenarios.runs import cli

POOLS = ("population.2.count", "population.3.count", "population.4.count")


def study(tmp_path: Path, per_pool: int) -> Metrics:
    out = tmp_path / f"rc-{per_pool}"
    sets = [arg for pool in POOLS for arg in ("--set", f"{pool}={per_pool}")]
    done = cli("run", "rights_capacity", "--no-rerun", "--days", "150", "--out", str(out), *sets)
    assert done.returncode == 0, done.stdout + done.stderr
    assert cli("verify", str(out)).returncode == 0
    return fold(out)


def test_more_assessors_bring_the_first_trade_sooner(tmp_path: Path) -> None:
    few, many = study(tmp_path, 1), study(tmp_path, 8)
    assert few.time_to_trade_days_p50 is not None and many.time_to_trade_days_p50 is not None
    assert many.time_to_trade_days_p50 < few.time_to_trade_days_p50
    assert many.rights_backlog_time_mean is not None and few.rights_backlog_time_mean is not None
    assert many.rights_backlog_time_mean < few.rights_backlog_time_mean
    assert set(many.rights_reviews_by_specialty) == {"compliance", "legal", "quality"}
    assert many.rights_events["notice"] > 0 and many.rights_events["first"] == many.listings


def test_set_changes_a_field_and_is_validated_like_the_file() -> None:
    data = load(resolve("rights_capacity"), Scenario, ["population.2.count=7"])
    assert data.population[2].count == 7
    with pytest.raises(ScenarioError, match=r"population\[2\]\.count|population\.2\.count"):
        load(resolve("rights_capacity"), Scenario, ["population.2.count=-1"])


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ("population.9.count=1", "the list has entries 0..1"),
        ("run.days", "write PATH=VALUE"),
        ("run.days=[1,", "the value is not TOML"),
        ("run.name.x=1", "name holds no fields"),
    ],
)
def test_a_bad_set_says_what_is_wrong(item: str, message: str) -> None:
    with pytest.raises(OverrideError, match=message):
        apply_overrides({"run": {"name": "x"}, "population": [{}, {}]}, [item])


def test_a_bad_set_is_one_line_on_the_command_line(tmp_path: Path) -> None:
    done = cli("run", "baseline", "--out", str(tmp_path / "r"), "--set", "population.7.count=1")
    assert done.returncode == 2 and "--set 'population.7.count=1'" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_review_step_without_assessors_is_refused() -> None:
    with pytest.raises(ScenarioError, match="review step 'legal' has no assessors"):
        load(resolve("rights_capacity"), Scenario, ["population.3.count=0"])


def test_compute_in_place_grows_with_sensitive_data(tmp_path: Path) -> None:
    shares = []
    for share in ("0", "1"):
        out = tmp_path / f"dm-{share}"
        done = cli(
            "run", "delivery_modes", "--no-rerun", "--days", "60", "--out", str(out),
            "--set", f"population.0.sensitive_share={share}",
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert cli("verify", str(out)).returncode == 0
        figures = fold(out)
        shares.append(figures.trades_by_licence.get("compute-in-place", 0) / figures.trades)
        assert figures.compute_jobs > 0 and figures.fees_compute_fen > 0
        if share == "0":  # API subscriptions are metered and billed every 30 days
            usage = figures.api_usage
            assert usage["periods"] > 0 and usage["calls"] > 0 and usage["billed_fen"] > 0
            assert figures.entries_by_kind["operation.usage"] >= usage["periods"]
    assert shares[0] < 0.5 < shares[1] == 1.0


def test_licences_renew_at_term_end_and_churn_by_the_churn_share(tmp_path: Path) -> None:
    """Quarter-long licences over 150 days: every ended term is renewed or churns, renewals
    cite their contracts, and a need that never outlives its term renews nothing."""
    renewals = []
    for churn in ("0", "1"):
        out = tmp_path / f"churn-{churn}"
        done = cli(
            "run", "delivery_modes", "--no-rerun", "--days", "150", "--out", str(out),
            "--set", "population.0.count=20", "--set", "population.1.count=60",
            "--set", f"population.1.renewal_churn_share={churn}",
        )  # fmt: skip
        assert done.returncode == 0, done.stdout + done.stderr
        assert cli("verify", str(out)).returncode == 0
        figures = fold(out).renewals
        assert figures["terms_ended"] > 0
        assert figures["renewed"] + figures["churned"] == figures["terms_ended"]
        renewals.append(figures)
    assert renewals[0]["renewed"] > renewals[0]["churned"]
    assert renewals[1]["renewed"] == 0 and renewals[1]["churned"] == renewals[1]["terms_ended"]
