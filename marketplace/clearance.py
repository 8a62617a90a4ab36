"""Cross-border clearance: obtaining the mechanisms a policy requires before data moves.

A conditional transfer carries requirements (one per policy pack), each met by any one of its
mechanisms. For each, clearance first looks for an approval the exporter already holds for that
recipient and mechanism, still valid: it covers the transfer (an approval is valid for its legal
period and covers later transfers of the same exporter and recipient until it expires; 2024
Provisions Art. 9 for a security assessment). Otherwise it joins an application already under
way, or files one for the mechanism the pack lists as fastest. Applications go where the
scenario routes them (:class:`marketplace.config.ClearanceConfig`): to the regulator's assessment
staff or filing desk, or to a certifier, as queues their staff take one at a time with service
times in working days; or the exporter carries the mechanism out itself, taking the pack's legal
lead time in working days. Each step is a signed entry by the party that takes it. An approval
close to its expiry is renewed: its holder applies again ``renew_before_days`` before the end.
A refused mechanism cancels the contract: no data moves, and settlement refunds the buyer.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import simpy
from simpy.resources.store import StoreGet

from ledger import Identity
from marketplace.calendar import DAY_SECONDS, Calendar
from marketplace.config import ClearanceConfig
from marketplace.crossborder_hook import Requirement
from marketplace.entries_crossborder import ClearanceApplication, ClearanceDecision, Route
from marketplace.errors import MarketError
from marketplace.state import ContractState

if TYPE_CHECKING:
    from marketplace.exchange import Exchange

__all__ = ["Approval", "Clearance", "ClearanceRequest"]

Key = tuple[str, str, str]  # exporter, recipient, mechanism


@dataclass(frozen=True, slots=True)
class Approval:
    approval: str
    mechanism: str
    exporter: str
    recipient: str
    valid_from: int
    valid_until: int

    def valid_at(self, now: int) -> bool:
        return self.valid_from <= now < self.valid_until


@dataclass(frozen=True, slots=True)
class ClearanceRequest:
    """An application waiting for its deciding body; ``decided`` fires with the Approval or
    None (refused)."""

    application: str
    mechanism: str
    route: Route
    contract: ContractState
    filed_at: int
    valid_days: int
    lead_time_days: int
    renewal: bool
    decided: simpy.Event

    @property
    def key(self) -> Key:
        return (self.contract.listing.provider, self.contract.buyer, self.mechanism)


class Clearance:
    def __init__(self, exchange: Exchange, config: ClearanceConfig, calendar: Calendar) -> None:
        self.exchange = exchange
        self.config = config
        self.calendar = calendar
        env = exchange.env
        self.queues: dict[Route, simpy.Store] = {
            route: simpy.Store(env) for route in ("assessment", "filing", "certification")
        }
        self.approvals: dict[Key, Approval] = {}
        self.pending: dict[Key, ClearanceRequest] = {}
        self._applications = 0

    def route(self, mechanism: str) -> Route:
        return self.config.routes.get(mechanism, self.config.default_route)

    @property
    def backlog(self) -> int:
        return sum(len(queue.items) for queue in self.queues.values())

    # -- the contract's side ----------------------------------------------------------------
    def clear(self, contract: ContractState) -> Generator[simpy.Event, Any, bool]:
        """Process: meet every requirement of ``contract``; False as soon as one is refused."""
        for requirement in contract.requirements:
            met = yield from self._meet(requirement, contract)
            if not met:
                return False
        return True

    def _meet(
        self, requirement: Requirement, contract: ContractState
    ) -> Generator[simpy.Event, Any, bool]:
        exporter, recipient = contract.listing.provider, contract.buyer
        now = self.exchange.now_s()
        for mechanism in requirement.any_of:
            held = self.approvals.get((exporter, recipient, mechanism))
            if held is not None and held.valid_at(now):
                self._renew_if_due(held, requirement, contract)
                return True
        for mechanism in requirement.any_of:
            waiting = self.pending.get((exporter, recipient, mechanism))
            if waiting is not None:
                approval = yield waiting.decided
                return approval is not None
        request = self.apply(requirement.fastest, requirement, contract)
        approval = yield request.decided
        return approval is not None

    def _renew_if_due(
        self, held: Approval, requirement: Requirement, contract: ContractState
    ) -> None:
        due = held.valid_until - self.config.renew_before_days * DAY_SECONDS
        key = (held.exporter, held.recipient, held.mechanism)
        if self.exchange.now_s() >= due and key not in self.pending:
            self.apply(held.mechanism, requirement, contract, renewal=True)

    # -- applications -----------------------------------------------------------------------
    def apply(
        self,
        mechanism: str,
        requirement: Requirement,
        contract: ContractState,
        *,
        renewal: bool = False,
    ) -> ClearanceRequest:
        """File an application for ``mechanism`` (signed by the exporter, with the recipient
        for a contract between them) and queue it, or start it when the exporter carries it out
        itself."""
        exchange = self.exchange
        self._applications += 1
        route = self.route(mechanism)
        valid_days = requirement.valid_days.get(mechanism) or self.config.valid_days.get(
            mechanism, self.config.default_valid_days
        )
        request = ClearanceRequest(
            application=f"X{self._applications:06d}",
            mechanism=mechanism,
            route=route,
            contract=contract,
            filed_at=exchange.now_s(),
            valid_days=valid_days,
            lead_time_days=requirement.lead_times.get(mechanism, requirement.lead_time_days),
            renewal=renewal,
            decided=exchange.env.event(),
        )
        body = ClearanceApplication(
            application=request.application,
            mechanism=mechanism,
            route=route,
            exporter=contract.listing.provider,
            recipient=contract.buyer,
            contract=contract.contract,
            pack=requirement.pack,
            renewal=renewal,
        )
        exchange.record("crossborder.application", body, self.parties(mechanism, contract))
        self.pending[request.key] = request
        if route == "self":
            exchange.env.process(self._carry_out(request))
        else:
            self.queues[route].put(request)
        return request

    def parties(self, mechanism: str, contract: ContractState) -> list[Identity]:
        """Who signs an application, or a self-executed decision: the exporter, and the
        recipient too when the mechanism is a contract between them."""
        identities = self.exchange.identities
        exporter = identities[contract.listing.provider]
        if mechanism in self.config.co_signed:
            return [exporter, identities[contract.buyer]]
        return [exporter]

    def _carry_out(self, request: ClearanceRequest) -> Generator[simpy.Event, Any, None]:
        """The exporter's own mechanism: done once its legal lead time (working days) has run."""
        now = self.exchange.now_s()
        done = self.calendar.after_working_days(now, request.lead_time_days)
        yield self.exchange.env.timeout((done - now) / DAY_SECONDS)
        signers = self.parties(request.mechanism, request.contract)
        reasons = [f"carried out by the exporter in {request.lead_time_days} working days"]
        self.decide(signers, request, True, request.lead_time_days, reasons)

    def next_application(self, route: Route) -> StoreGet:
        """For the deciding body's staff: the next application of ``route`` (FIFO)."""
        return self.queues[route].get()

    def decide(
        self,
        signers: list[Identity],
        request: ClearanceRequest,
        approved: bool,
        working_days: int,
        reasons: list[str],
    ) -> Approval | None:
        """Record the decision; an approval covers the exporter and recipient until it ends."""
        if request.decided.triggered:
            raise MarketError(f"application {request.application} is already decided")
        now = self.exchange.now_s()
        exporter, recipient, mechanism = request.key
        until = now + request.valid_days * DAY_SECONDS if approved else now
        approval_id = f"AP-{request.application}" if approved else None
        body = ClearanceDecision(
            application=request.application,
            mechanism=mechanism,
            exporter=exporter,
            recipient=recipient,
            approved=approved,
            approval=approval_id,
            valid_from=now,
            valid_until=until,
            working_days=working_days,
            reasons=reasons,
        )
        self.exchange.record("crossborder.decision", body, signers)
        self.pending.pop(request.key, None)
        approval = None
        if approval_id is not None:
            approval = Approval(approval_id, mechanism, exporter, recipient, now, until)
            self.approvals[request.key] = approval
        request.decided.succeed(approval)
        return approval
