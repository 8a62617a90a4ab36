"""The brokers study as a whole run: merchants license data, register the licences, list
derived products that trade and pay royalties upstream, and take over listings of providers that
leave (transfers); ``dxsim verify`` passes and invariant 6 holds."""

from __future__ import annotations

from pathlib import Path

import pytest

from marketplace.metrics import Metrics, fold
from tests.scenarios.runs import cli

SMALL = (
    "--days", "300",
    "--set", "population.0.count=25",
    "--set", "population.0.exit_bp_per_year=6000",
    "--set", "population.1.count=8",
    "--set", "population.2.count=100",
)  # fmt: skip


def study(tmp_path: Path, name: str, *sets: str) -> Metrics:
    out = tmp_path / name
    done = cli("run", "brokers", "--no-rerun", "--out", str(out), *SMALL, *sets)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "invariant 6: derived-products-trace" in done.stdout
    verified = cli("verify", str(out))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    return fold(out)


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Metrics, Metrics]:
    tmp = tmp_path_factory.mktemp("brokers")
    return study(tmp, "with"), study(tmp, "without", "--set", "population.1.count=0")


def test_merchants_license_derive_and_pay_upstream(runs: tuple[Metrics, Metrics]) -> None:
    with_them, _ = runs
    brokers = with_them.brokers
    assert brokers["licences"] > 0 and brokers["derived_listings"] > 0
    assert brokers["derived_trades"] > 0 and brokers["royalties_fen"] > 0
    assert with_them.entries_by_kind["operation.royalty"] > 0
    assert with_them.rights_events["licence"] == brokers["licences"]
    assert with_them.rights_events["derived"] == brokers["derived_listings"]


def test_leaving_providers_transfer_listings_to_merchants(runs: tuple[Metrics, Metrics]) -> None:
    with_them, without = runs
    assert with_them.brokers["transfers"] > 0 and with_them.brokers["transfer_fen"] > 0
    assert with_them.entries_by_kind["rights.transfer"] == with_them.brokers["transfers"]
    # with nobody to take them over, leaving providers withdraw what they sold
    assert "rights.transfer" not in without.entries_by_kind
    assert without.brokers["licences"] == 0 and without.listings_withdrawn > 0
