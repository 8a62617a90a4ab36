"""The policy sandbox: run a world under a policy pack, then ask its ledger questions in the
domain's own terms — what was delivered abroad, with which facts, after which mechanisms; what
was refused and why; how long each mechanism took.

A policy team writes its tests in pytest against this API (``docs/sandbox.md``)::

    world = Sandbox.run("crossborder", pack="prc-2024", days=120, seed=3)
    for delivery in world.deliveries_abroad():
        if delivery.origin == "CN" and delivery.important:
            assert "security-assessment" in delivery.mechanisms

Everything the sandbox answers is read back from the run's ledger, which it verifies first (a
sandbox never reasons over an unverified log), so a test's verdict rests on the same evidence a
reader of the run directory would have.
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ledger import KeySecret, Store, audit, parse_leaf
from marketplace.approvals import ApprovalSpans
from marketplace.authorship import market_rules
from marketplace.calendar import DAY_SECONDS, Calendar
from marketplace.invariants import InvariantResult, check_invariants
from marketplace.metrics import Metrics, fold
from scenarios.catalog import resolve
from scenarios.keys import run_keys
from scenarios.load import load
from scenarios.run import run_scenario
from scenarios.rundir import ledger_location
from scenarios.schema import Scenario

__all__ = ["Delivery", "MechanismStep", "Refusal", "Sandbox", "SandboxError"]


class SandboxError(Exception):
    """The sandbox cannot answer: the run's ledger does not verify, or it is not a dxsim run."""


@dataclass(frozen=True)
class Delivery:
    """A contract whose data was delivered abroad, with the facts the gate read at trade time
    and the mechanisms whose approvals were valid when the data moved."""

    contract: str
    exporter: str
    recipient: str
    facts: dict[str, Any]
    requirements: tuple[tuple[str, ...], ...]  # per pack: any one of these
    mechanisms: tuple[str, ...]
    rules: tuple[str, ...]
    signed_at: dt.date
    moved_at: dt.date
    wait_days: float  # from the contract to the data moving

    @property
    def origin(self) -> str:
        return str(self.facts["origin"])

    @property
    def destination(self) -> str:
        return str(self.facts["destination"])

    @property
    def corridor(self) -> str:
        return f"{self.origin}-{self.destination}"

    @property
    def personal(self) -> bool:
        return bool(self.facts["data"]["personal"])

    @property
    def sensitive(self) -> bool:
        return bool(self.facts["data"]["sensitive"])

    @property
    def important(self) -> bool:
        return bool(self.facts["data"]["important"])

    @property
    def core(self) -> bool:
        return bool(self.facts["data"]["core"])


@dataclass(frozen=True)
class Refusal:
    """An order the policy refused: which rules, which facts it lacked, what it was worth."""

    buyer: str
    listing: str
    reason: str
    rules: tuple[str, ...]
    missing: tuple[str, ...]
    facts: dict[str, Any]
    price_fen: int

    @property
    def corridor(self) -> str:
        return f"{self.facts['origin']}-{self.facts['destination']}"


@dataclass(frozen=True)
class MechanismStep:
    """One application for a mechanism and its decision (``decided`` None while pending)."""

    application: str
    mechanism: str
    route: str
    exporter: str
    recipient: str
    filed: dt.date
    decided: dt.date | None
    approved: bool | None
    working_days: int | None  # from filing to decision, on the run's calendar


class Sandbox:
    """A finished run, read back from its verified ledger."""

    def __init__(self, run_dir: Path) -> None:
        self.run_dir = run_dir
        location = ledger_location(run_dir)
        report = audit(location, domain=market_rules)
        if not report.ok:
            raise SandboxError(f"{run_dir}: the ledger does not verify: {report.summary()}")
        self.metrics: Metrics = fold(location)
        self._location = location
        self._read(Store(location))

    @classmethod
    def run(
        cls,
        scenario: str | Path = "crossborder",
        *,
        pack: str | None = None,
        also: list[str] | None = None,
        days: float | None = None,
        seed: int | None = None,
        out: Path | None = None,
    ) -> Sandbox:
        """Run ``scenario`` (a built-in name or a file) under ``pack`` for ``days`` with ``seed``
        into ``out`` (a new temporary directory by default) and read it back. Keys come from
        a fresh key secret: a sandbox run is evidence about a policy, not a reproduction."""
        loaded = load(resolve(str(scenario)), Scenario).with_overrides(seed=seed, days=days)
        section = loaded.crossborder.model_copy(
            update={k: v for k, v in (("pack", pack), ("also", also)) if v is not None}
        )
        loaded = Scenario.model_validate(
            {**loaded.model_dump(), "crossborder": section.model_dump()}
        )
        folder = out or Path(tempfile.mkdtemp(prefix="dxsim-sandbox-")) / "run"
        keys = run_keys(KeySecret.generate(), loaded.run.seed)
        run_scenario(loaded, folder, keys=keys, check_determinism=False)
        return cls(folder)

    # -- reading the ledger -----------------------------------------------------------------
    def _read(self, store: Store) -> None:
        start = dt.date(1970, 1, 1)
        self.calendar = Calendar(start)
        contracts: dict[str, dict[str, Any]] = {}
        approvals = ApprovalSpans()
        filed: dict[str, tuple[dict[str, Any], int]] = {}
        self._deliveries: list[Delivery] = []
        self._refusals: list[Refusal] = []
        self._steps: list[MechanismStep] = []
        try:
            for rows in store.iter_rows():
                for row in rows:
                    entry = parse_leaf(row[4])
                    kind, body, time = entry.kind, entry.body, entry.time
                    if kind == "operation.calendar":
                        start = dt.date.fromisoformat(body["start_date"])
                        self.calendar = Calendar(start, body["country"])
                    elif kind == "trade.contract" and body["cross_border"]:
                        contracts[body["contract"]] = {**body, "_at": time}
                    elif kind == "trade.rejected" and body.get("facts"):
                        self._refusals.append(self._refusal(body))
                    elif kind == "crossborder.application":
                        filed[body["application"]] = (body, time)
                    elif kind == "crossborder.decision":
                        application, at = filed.pop(body["application"])
                        self._steps.append(self._step(application, at, body, time))
                        if body["approved"]:
                            approvals.add(
                                body["exporter"],
                                body["recipient"],
                                body["mechanism"],
                                body["valid_from"],
                                body["valid_until"],
                            )
                    elif kind == "operation.settlement":
                        for item in body["items"]:
                            deal = contracts.get(item["contract"])
                            if deal is not None and item["outcome"] == "delivered":
                                self._deliveries.append(self._delivery(deal, item, approvals))
        finally:
            store.close()
        for application, at in filed.values():
            self._steps.append(self._step(application, at, None, None))
        self.start = start

    def _date(self, seconds: int) -> dt.date:
        return self.calendar.date_at(seconds)

    def _delivery(
        self,
        deal: dict[str, Any],
        item: dict[str, Any],
        approvals: ApprovalSpans,
    ) -> Delivery:
        moved = item["moved_at"]
        requirements = tuple(tuple(r["any_of"]) for r in deal["requirements"])
        exporter, recipient = deal["provider"], deal["buyer"]
        used = tuple(
            sorted(
                {
                    m
                    for group in requirements
                    for m in group
                    if approvals.covers(exporter, recipient, m, moved)
                }
            )
        )
        return Delivery(
            contract=deal["contract"],
            exporter=deal["provider"],
            recipient=deal["buyer"],
            facts=deal["facts"] or {},
            requirements=requirements,
            mechanisms=used,
            rules=tuple(deal["policy_rules"]),
            signed_at=self._date(deal["_at"]),
            moved_at=self._date(moved),
            wait_days=(moved - deal["_at"]) / DAY_SECONDS,
        )

    @staticmethod
    def _refusal(body: dict[str, Any]) -> Refusal:
        return Refusal(
            buyer=body["buyer"],
            listing=body["listing"],
            reason=body["reason"],
            rules=tuple(body["rules"]),
            missing=tuple(body["missing"]),
            facts=body["facts"],
            price_fen=body["price_fen"],
        )

    def _step(
        self,
        application: dict[str, Any],
        at: int,
        decision: dict[str, Any] | None,
        time: int | None,
    ) -> MechanismStep:
        return MechanismStep(
            application=application["application"],
            mechanism=application["mechanism"],
            route=application["route"],
            exporter=application["exporter"],
            recipient=application["recipient"],
            filed=self._date(at),
            decided=None if time is None else self._date(time),
            approved=None if decision is None else bool(decision["approved"]),
            working_days=(None if time is None else self.calendar.working_days_between(at, time)),
        )

    # -- what a policy team asks ------------------------------------------------------------
    def deliveries_abroad(self) -> list[Delivery]:
        return list(self._deliveries)

    def refusals(self) -> list[Refusal]:
        return list(self._refusals)

    def mechanisms(self, mechanism: str | None = None) -> list[MechanismStep]:
        """Every application (of ``mechanism``), decided or still pending, in filing order."""
        return [s for s in self._steps if mechanism is None or s.mechanism == mechanism]

    def waits(self, mechanism: str) -> list[int]:
        """Working days from filing to decision of every decided application of ``mechanism``."""
        return [s.working_days for s in self.mechanisms(mechanism) if s.working_days is not None]

    def median_wait(self, mechanism: str) -> float | None:
        waits = self.waits(mechanism)
        return statistics.median(waits) if waits else None

    def invariants(self) -> list[InvariantResult]:
        return check_invariants(self._location)

    def scenario(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.run_dir / "scenario.json").read_text())
        return data
