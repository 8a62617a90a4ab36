"""The exchange: five stages over one ledger, one set of accounts and one catalogue.

Agents reach the exchange only through the public service methods of its stages
(``exchange.storage.list_dataset``, ``exchange.rights.apply``, ``exchange.pricing.quote``,
``exchange.trading.purchase``, ``exchange.operation.settle``...). The exchange never imports agents.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import simpy
from pydantic import BaseModel

from ledger import Entry, Identity, Ledger
from marketplace.accounts import Accounts
from marketplace.calendar import Calendar
from marketplace.clearance import Clearance
from marketplace.config import ExchangeConfig
from marketplace.crossborder_hook import OpenBorders, TransferGate
from marketplace.entries import (
    ACTS_AS,
    EXCHANGE_ACCOUNT,
    AccountOpen,
    ActFee,
    CalendarSet,
    MembershipFee,
)
from marketplace.errors import MarketError
from marketplace.exports import ExportBook
from marketplace.money import break_even_fen
from marketplace.operation import Operation
from marketplace.pricing.reference import ReferencePrices
from marketplace.pricing.stage import Pricing
from marketplace.rights import Rights
from marketplace.state import ListingState, Offer
from marketplace.storage import Storage
from marketplace.trading import Trading

__all__ = ["SECONDS_PER_DAY", "Exchange"]

SECONDS_PER_DAY = 86_400
_NEVER = 2**63


class Exchange:
    """The exchange operator's system: stages, accounts, catalogue and the ledger writer.

    Args:
        env: the SimPy environment (time unit: one day).
        ledger: the open ledger every action is written to.
        operator: the exchange operator's identity (signs fees, settlements, refusals).
        config: stage capacities, service-time distributions and fees.
        streams: one numpy Generator per stage, named ``storage``, ``trading``, ``operation``.
        gate: the cross-border hook consulted at trade time.
        calendar: the run's dates and working days (sim day 0 is its start date).
    """

    def __init__(
        self,
        env: simpy.Environment,
        ledger: Ledger,
        operator: Identity,
        config: ExchangeConfig,
        streams: Mapping[str, np.random.Generator],
        gate: TransferGate | None = None,
        calendar: Calendar | None = None,
    ) -> None:
        self.env = env
        self.calendar = calendar or Calendar(dt.date(2025, 1, 1))
        #: What each exporter has delivered abroad: the people counts of the transfer facts.
        self.exports = ExportBook()
        self.ledger = ledger
        self.operator = operator
        self.config = config
        self.accounts = Accounts()
        self.identities: dict[str, Identity] = {}  # filled by admit(), the operator first
        self.listings: dict[str, ListingState] = {}
        self._members: dict[str, int] = {}  # buyer -> when its membership ends (seconds)
        self._transferred: dict[str, list[ListingState]] = {}  # new holder -> listings
        # The catalogue as buyers see it, kept current per change: offers by category, where
        # each listing sits in its category's list, and when the category's first certificate
        # expires (then the category is rebuilt).
        self._offers: dict[str, list[Offer]] = {}
        self._offer_slot: dict[str, int] = {}
        self._refresh_at: dict[str, int] = {}
        self.storage = Storage(self, config.storage, config.fees, streams["storage"])
        self.rights = Rights(self, config.rights, streams.get("rights"))
        self.pricing = Pricing(self)
        #: The exchange's published reference prices, from comparable past contracts.
        self.reference = ReferencePrices()
        self.trading = Trading(self, config.trading, gate or OpenBorders(), streams["trading"])
        self.operation = Operation(self, config.operation, config.fees, streams["operation"])
        self.clearance = Clearance(self, config.clearance, self.calendar)

    # -- time and the ledger --------------------------------------------------------------
    def now_s(self) -> int:
        """Sim time as integer seconds: the ledger's clock (sim days are floats in SimPy)."""
        return round(self.env.now * SECONDS_PER_DAY)

    def record(self, kind: str, body: BaseModel, signers: Sequence[Identity]) -> Entry:
        # Bodies hold only JSON-native types (ints, strs, bools, lists, dicts): python-mode
        # dumping gives the same values faster than mode="json".
        return self.ledger.record(kind, body.model_dump(), self.now_s(), signers)

    # -- participants ---------------------------------------------------------------------
    def admit(self, identity: Identity, endowment_fen: int) -> None:
        """Register a participant's key on the ledger and open its account with its endowment.

        A buyer is not yet a member: it joins (:meth:`join`) when it judges membership worth
        its fee.
        """
        if identity.id in self.identities:
            raise MarketError(f"{identity.id!r} is already admitted")
        self.identities[identity.id] = identity
        self.ledger.register(identity, self.now_s())
        self.accounts.open(identity.id, endowment_fen)
        body = AccountOpen(account=identity.id, role=identity.role, endowment_fen=endowment_fen)
        self.record("account.open", body, [self.operator])

    def announce_calendar(self) -> None:
        """Record the run's calendar, so every fold dates entries as the exchange does."""
        body = CalendarSet(
            start_date=self.calendar.start.isoformat(), country=self.calendar.country
        )
        self.record("operation.calendar", body, [self.operator])

    # -- the fee schedule as participants read it ---------------------------------------------
    @property
    def supplier_fee_bp(self) -> int:
        return self.config.fees.supplier_fee_bp

    @property
    def membership_fee_fen(self) -> int:
        return self.config.fees.membership_fee_fen

    @property
    def membership_period_days(self) -> int:
        return self.config.fees.membership_period_days

    def break_even_fen(self, unit_cost_fen: int) -> int | None:
        """The lowest price at which a seller keeps its unit cost after the supplier fee (None
        when the fee takes every price whole)."""
        return break_even_fen(unit_cost_fen, self.config.fees.supplier_fee_bp)

    def charge_fee(self, account: str, fee: Literal["listing", "assessment"], ref: str) -> None:
        """Charge ``account`` the schedule's fee for an act (nothing when it is 0)."""
        schedule = self.config.fees
        fen = schedule.listing_fee_fen if fee == "listing" else schedule.assessment_fee_fen
        if fen <= 0:
            return
        self.accounts.move(account, EXCHANGE_ACCOUNT, fen, allow_debt=True)
        self.record(
            "operation.fee", ActFee(account=account, fee=fee, ref=ref, fee_fen=fen), [self.operator]
        )

    def balance(self, account: str) -> int:
        """What ``account`` holds now (a participant reads its own)."""
        return self.accounts.balance(account)

    def member_until(self, account: str) -> int | None:
        """When ``account``'s membership ends (seconds), None if it never joined."""
        return self._members.get(account)

    def join(self, buyer: Identity, expected_surplus_fen: int) -> bool:
        """A buyer joins, or renews, for one membership period and pays its fee.

        The period starts now, or when the current one ends for a member renewing early.
        Returns False, recording nothing, when the buyer cannot pay the fee.
        """
        account = buyer.id
        if self.identities.get(account) is not buyer or buyer.role not in ACTS_AS["buyer"]:
            raise MarketError(f"{account!r} is not an admitted buyer")
        fee = self.membership_fee_fen
        if not self.accounts.can_pay(account, fee):
            return False
        now = self.now_s()
        current = self._members.get(account)
        renewal = current is not None and current >= now
        start = current if renewal and current is not None else now
        until = start + self.membership_period_days * SECONDS_PER_DAY
        self.accounts.move(account, EXCHANGE_ACCOUNT, fee)
        membership = MembershipFee(
            account=account,
            fee_fen=fee,
            period_days=self.membership_period_days,
            valid_from=start,
            valid_until=until,
            renewal=renewal,
            expected_surplus_fen=expected_surplus_fen,
        )
        self.record("operation.membership", membership, [self.operator])
        self._members[account] = until
        return True

    def merchants(self) -> list[Identity]:
        """The data merchants (brokers) admitted, by id: who may take over a listing."""
        return [
            identity
            for _id, identity in sorted(self.identities.items())
            if identity.role == "broker"
        ]

    def take_transferred(self, holder: str) -> list[ListingState]:
        """The listings transferred to ``holder`` since it last asked (oldest first)."""
        return self._transferred.pop(holder, [])

    def transferred(self, listing: ListingState) -> None:
        """The registry moved ``listing`` to a new holder: keep it for that holder to take."""
        self._transferred.setdefault(listing.provider, []).append(listing)

    def offers(self, category: str) -> Sequence[Offer]:
        """The priced listings of a category, as the catalogue shows them to buyers.

        A listing shows as certified while its certificate is valid now. Callers must not
        modify the returned sequence.
        """
        if self.now_s() >= self._refresh_at.get(category, _NEVER):
            self._rebuild(category)
        return self._offers.get(category, ())

    def nearby_offers(self, listing: ListingState, count: int) -> Sequence[Offer]:
        """Up to ``count`` offers listed nearest to ``listing`` in its category (itself
        excluded): the competitors a provider surveys, at a cost that does not grow with the
        market."""
        offers = self.offers(listing.spec.category)
        slot = self._offer_slot.get(listing.listing, len(offers))
        low = max(0, slot - count // 2)
        page = offers[low : low + count + 1]
        return [offer for offer in page if offer.listing != listing.listing][:count]

    def offer_changed(self, listing: ListingState) -> None:
        """A listing's price or certificate changed: update its place in the catalogue (O(1))."""
        if listing.withdrawn_at is not None:
            return
        if self.config.storage.listing_requires_certificate and (
            listing.certificate is None or not listing.certificate.valid_at(self.now_s())
        ):
            return  # no compliance, no listing: it shows once certified
        category = listing.spec.category
        offer = self._offer(listing, self.now_s())
        slot = self._offer_slot.get(listing.listing)
        offers = self._offers.setdefault(category, [])
        if slot is None:
            self._offer_slot[listing.listing] = len(offers)
            offers.append(offer)
        else:
            offers[slot] = offer
        if offer.certified and listing.certificate is not None:
            until = listing.certificate.valid_until
            self._refresh_at[category] = min(self._refresh_at.get(category, _NEVER), until)

    def withdraw_offer(self, listing: ListingState) -> None:
        """Take a withdrawn listing out of its category's catalogue (O(1): the last offer
        takes its slot)."""
        slot = self._offer_slot.pop(listing.listing, None)
        if slot is None:
            return
        offers = self._offers[listing.spec.category]
        last = offers.pop()
        if slot < len(offers):
            offers[slot] = last
            self._offer_slot[last.listing] = slot

    def _offer(self, listing: ListingState, now: int) -> Offer:
        assert listing.price_fen is not None
        certificate = listing.certificate
        return Offer(
            listing.listing,
            listing.provider,
            listing.price_fen,
            listing.spec.quality_pct,
            certificate is not None and certificate.valid_at(now),
            listing.spec.permitted_uses,
        )

    def _rebuild(self, category: str) -> None:
        """Re-mark a category's offers after a certificate expired (rare: once per expiry)."""
        now = self.now_s()
        offers = self._offers.get(category, [])
        refresh_at = _NEVER
        for slot, offer in enumerate(offers):
            listing = self.listings[offer.listing]
            offers[slot] = self._offer(listing, now)
            if offers[slot].certified and listing.certificate is not None:
                refresh_at = min(refresh_at, listing.certificate.valid_until)
        self._refresh_at[category] = refresh_at

    def close_books(self) -> None:
        """End of run: bill hosting up to now and settle every delivery that has finished."""
        self.storage.bill_hosting()
        self.operation.settle()
