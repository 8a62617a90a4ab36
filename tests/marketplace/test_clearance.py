"""Clearance: approvals cover later transfers until they expire, are renewed before they end,
a queued application waits for its deciding body, and a refusal cancels the contract."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path
from typing import Any

import simpy

from marketplace.calendar import DAY_SECONDS
from marketplace.config import ClearanceConfig
from marketplace.crossborder_hook import GateDecision, Requirement
from marketplace.entries import ClearanceApplication, ClearanceDecision
from marketplace.invariants import check_invariants
from tests.keys import test_identity
from tests.marketplace.setup import ENDOWMENT, SEED, Market, dataset, exact_config, market, order


class Always:
    """A gate that requires one mechanism of every cross-border transfer."""

    def __init__(self, mechanism: str, lead: int) -> None:
        self.requirement = Requirement(
            pack="test",
            any_of=(mechanism,),
            fastest=mechanism,
            lead_time_days=lead,
            rules=("test/always",),
            lead_times={mechanism: lead},
        )

    def evaluate(self, facts: dict[str, Any]) -> GateDecision:
        return GateDecision("conditional", ("test/always",), (self.requirement,))


def buy(m: Market, listing: Any, at: float) -> Generator[simpy.Event, Any, None]:
    yield m.env.timeout(at - m.env.now)
    yield m.env.process(m.exchange.trading.purchase(order(m.buyer, listing, destination="SG")))


def test_an_approval_covers_later_transfers_and_is_renewed_before_it_ends(tmp_path: Path) -> None:
    clearance = ClearanceConfig(
        routes={"sccs": "self"}, valid_days={"sccs": 30}, renew_before_days=10
    )
    m = market(tmp_path, exact_config(clearance=clearance), gate=Always("sccs", 2))
    listing = m.offer(dataset(size_mb=100))
    for day in (0.5, 10.5, 25.5):
        m.env.process(buy(m, listing, day))
    m.env.run(until=40)
    applications = m.facts("crossborder.application")
    decisions = m.facts("crossborder.decision")
    assert [a.body.renewal for a in applications] == [False, True]  # once, then the renewal
    first, renewal = decisions
    assert isinstance(first.body, ClearanceDecision) and first.body.approved
    assert first.body.valid_until - first.body.valid_from == 30 * DAY_SECONDS
    # The contract of day 10.5 moved at once under the first approval; the one of day 25.5,
    # inside the 10 days before it ends, moved at once too and started the renewal.
    assert applications[1].time == 25.5 * DAY_SECONDS
    assert renewal.body.valid_from == renewal.time > first.body.valid_from
    m.exchange.operation.settle()
    items = m.facts("operation.settlement")[-1].body.items
    moved = [item.moved_at for item in items]
    assert moved[1] == 10.5 * DAY_SECONDS and moved[2] == 25.5 * DAY_SECONDS
    m.ledger.close()
    assert all(result.ok for result in check_invariants(m.url))


def test_a_queued_assessment_waits_for_the_regulator_and_a_refusal_cancels(
    tmp_path: Path,
) -> None:
    m = market(tmp_path, exact_config(), gate=Always("security-assessment", 57))
    regulator = test_identity(SEED, "cac-0001", "regulator")
    m.exchange.admit(regulator, 0)
    listing = m.offer(dataset(size_mb=100))
    m.env.process(buy(m, listing, 0.5))
    m.env.run(until=5)
    [application] = m.facts("crossborder.application")
    assert isinstance(application.body, ClearanceApplication)
    assert application.body.route == "assessment" and application.signers == (m.provider.id,)
    assert m.exchange.clearance.backlog == 1 and m.exchange.operation.in_delivery == 1
    request = m.exchange.clearance.next_application("assessment").value
    m.exchange.clearance.decide([regulator], request, False, 40, ["refused in a test"])
    m.env.run(until=6)
    m.exchange.operation.settle()
    [item] = m.facts("operation.settlement")[-1].body.items
    assert (item.outcome, item.refund_fen, item.moved_at) == ("cancelled", listing.price_fen, 0)
    assert m.exchange.accounts.balance(m.buyer.id) == ENDOWMENT  # refunded in full
    m.ledger.close()
    assert all(result.ok for result in check_invariants(m.url))
