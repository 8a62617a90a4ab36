"""The exchange's rules of record: who must sign what, and what must exist before it.

The ledger's audit proves every entry was signed by registered keys whose roles may sign its kind.
That is not enough for a market: a contract signed by *a* buyer and *a* provider is not a contract
unless it is signed by the buyer and the provider it names. :class:`MarketRules` is the domain
check the audit feeds every entry to, in order (``ledger.audit.DomainCheck``); it checks each body
against its model, then:

=========================  =====================================================================
``account.open``           the account is a registered identity of the role the body names, once
``operation.membership``   the account is an open buyer account; the first period is no
                           renewal, each later one is and starts when the last one ends or later
``storage.listing``        signed by its provider alone, under an id that starts with theirs
``storage.submission``     signed by a provider alone
``storage.version``        signed by the listing's provider alone, numbered 2, 3... in turn
``storage.withdrawal``     signed by the listing's provider alone, once; an ``unprofitable``
                           one shows a margin below the hosting it cost; a ``licence-ended``
                           one is of a derived product one of whose licences ended
``storage.hosting``        every account charged is an open provider account
``rights.*``               registration: see :mod:`marketplace.authorship_rights`
``pricing.quote``, ``trade.*``  prices and trades: see :mod:`marketplace.authorship_trade`
``trade.contract``         also: its licence is one the listing is offered in, its use one the
                           listing permits (if it names any); its listing is
                           not withdrawn, its certificate still in force
                           (not revoked, cancelled or superseded), its buyer a member now
``trade.unmet``            signed by its buyer alone
``operation.settlement``   cycles count up by one; each item settles an existing contract once
``operation.dispute``      signed by the contract's buyer alone, once, before settlement
``operation.royalty``      signed by the operator in the cycle that settled the delivered sale
                           of a product derived under the licence, once per licence, from its
                           seller to the licensor: the licence's share of the seller's takings
``operation.ruling``       signed by the operator, on an open dispute; a dismissal refunds 0;
                           the delivered item then refunds exactly what was ruled
``operation.fee``          signed by the operator, once per act: a listing fee of the account's
                           own listing, an assessment fee of its pending application
``operation.usage``        signed by the buyer and the operator, under the buyer's API
                           subscription from its seller, once the period ends, within its
                           term, its certificate in force; calls × rate (half up) = provider's
                           share + fee (a refused period: nothing billed)
``operation.job``          signed by the buyer and the operator, under the buyer's
                           compute-in-place contract, within its licence term (a refused job:
                           at no cost)
``crossborder.application`` filed by the exporter (with the recipient for a contract between
                           them), for an existing contract, once
``crossborder.decision``   decides a pending application, for its parties and mechanism, signed
                           by the body its route names (a regulator, a certifier, or the
                           exporter for what it carries out itself)
=========================  =====================================================================

and that entry times never go backwards. Money (does a settlement pay the price?) is judged by
the invariants (:mod:`marketplace.invariants`), which ``dxsim check`` recomputes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from marketplace import entries as vocab
from marketplace.authorship_rights import RightsRules
from marketplace.authorship_trade import TradeRules
from marketplace.entries import AUTHORIZATION, check_body
from marketplace.money import apply_bp

__all__ = ["MarketRules", "market_rules"]


class MarketRules(TradeRules, RightsRules):
    """A fresh checker per audit: it remembers what the log has established so far."""

    def __init__(self) -> None:
        self.roles: dict[str, str] = {}  # registered identity -> role
        self.accounts: dict[str, str] = {}  # open account -> role
        self.listings: dict[str, str] = {}  # listing -> provider
        self.withdrawn: dict[str, int] = {}  # listing -> seq of its withdrawal
        self.versions: dict[str, int] = {}  # listing -> its latest version
        self.modes: dict[str, tuple[str, ...]] = {}  # listing -> how it may be delivered
        self.uses: dict[str, tuple[str, ...]] = {}  # listing -> the uses it permits, if named
        self.terms: dict[str, tuple[str, str, int, int]] = {}  # contract -> buyer, licence, span
        self.contract_listing: dict[str, str] = {}
        self.members: dict[str, list[tuple[int, int]]] = {}  # buyer -> its membership periods
        self.categories: dict[str, str] = {}  # listing -> its category
        self._init_rights()
        self.contracts: set[str] = set()
        self._init_trade()
        self.settled: set[str] = set()
        self.sellers: dict[str, str] = {}  # contract -> its provider
        self.paid: dict[str, int] = {}  # delivered contract -> what its provider was paid
        self.royalties: set[tuple[str, str]] = set()  # (contract, licence) paid
        self.fees_charged: set[tuple[str, str]] = set()  # (fee, listing or application)
        self.disputed: dict[str, int | None] = {}  # contract -> refund ruled (None: still open)
        self.clearances: dict[str, vocab.ClearanceApplication] = {}  # pending applications
        self.cleared: set[str] = set()
        self.cycle = 0
        self.time = 0
        self.calendar_set = False

    def feed(
        self,
        seq: int,
        time: int,
        kind: str,
        actor: str,
        body: dict[str, Any],
        signers: tuple[str, ...],
    ) -> str | None:
        if time < self.time:
            return f"time goes backwards: {time} s after an entry at {self.time} s"
        self.time = time
        if kind.startswith("ledger."):
            if kind == "ledger.identity":
                self.roles[str(body["id"])] = str(body["role"])
            return None
        problem = check_body(kind, body)
        if problem is not None:
            return f"body does not parse: {problem}"
        model = vocab.BODY_MODELS[kind].model_validate(body)
        return _RULES[kind](self, seq, actor, signers, model)

    # -- one rule per kind ------------------------------------------------------------------
    def _operation_calendar(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.CalendarSet
    ) -> str | None:
        if self.calendar_set:
            return "the calendar is set twice"
        self.calendar_set = True
        return None

    def _account_open(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.AccountOpen
    ) -> str | None:
        if body.account in self.accounts:
            return f"account {body.account!r} is opened twice"
        if self.roles.get(body.account) != body.role:
            return f"account {body.account!r} is not a registered {body.role}"
        self.accounts[body.account] = body.role
        return None

    def _operation_membership(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.MembershipFee
    ) -> str | None:
        problem = self._account(body.account, "buyer")
        if problem is not None:
            return problem
        if not body.valid_from <= body.valid_until:
            return "the membership ends before it begins"
        periods = self.members.setdefault(body.account, [])
        if body.renewal != (bool(periods) and body.valid_from == periods[-1][1]):
            return (
                "a renewal starts when the last membership ends; a first membership, or one "
                "after a lapse, is no renewal"
            )
        if periods and body.valid_from < periods[-1][1]:
            return f"the membership starts before the last one ends ({periods[-1][1]} s)"
        if body.valid_from < self.time:
            return "a membership starts no earlier than it is paid for"
        periods.append((body.valid_from, body.valid_until))
        return None

    def _member_at(self, account: str, time: int) -> bool:
        return any(start <= time < end for start, end in reversed(self.members.get(account, ())))

    def _storage_listing(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.Listing
    ) -> str | None:
        if signers != (actor,):
            return "a listing is signed by its provider alone"
        if not body.listing.startswith(actor + "/"):
            return f"listing {body.listing!r} is not named for its provider {actor}"
        if body.listing in self.listings:
            return f"listing {body.listing!r} is listed twice"
        self.listings[body.listing] = actor
        self.categories[body.listing] = body.category
        self.modes[body.listing] = tuple(body.delivery_modes)
        if body.permitted_uses:
            self.uses[body.listing] = tuple(body.permitted_uses)
        return None

    def _storage_hosting(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.HostingCharge
    ) -> str | None:
        for account in body.charges:
            problem = self._account(account, "provider")
            if problem is not None:
                return problem
        return None

    def _storage_submission(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.Submission
    ) -> str | None:
        if signers != (actor,):
            return "a submission is signed by its provider alone"
        return self._account(actor, "provider")

    def _storage_version(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.DatasetVersion
    ) -> str | None:
        problem = self._own_listing(body.listing, actor, signers) or self._still_listed(
            body.listing
        )
        if problem is not None:
            return problem
        last = self.versions.get(body.listing, 1)
        if body.version != last + 1:
            return f"version {body.version} of {body.listing} follows version {last}"
        self.versions[body.listing] = body.version
        return None

    def _storage_withdrawal(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.ListingWithdrawal
    ) -> str | None:
        problem = self._own_listing(body.listing, actor, signers)
        if problem is not None:
            return problem
        if body.listing in self.withdrawn:
            return f"listing {body.listing!r} is withdrawn twice"
        if body.reason == "unprofitable" and body.margin_fen >= body.hosting_fen:
            return "withdrawn as unprofitable, but its margin covers its hosting"
        if body.reason == "rights-revoked" and not any(
            held.listing == body.listing and held.status == "revoked"
            for held in self.issued.values()
        ):
            return "withdrawn as revoked, but no certificate of it was revoked"
        if body.reason == "licence-ended" and all(
            self.licence_in_force(licence) for licence in self.derived_from.get(body.listing, ())
        ):
            return "withdrawn as its licences ended, but it holds none that ended"
        self.withdrawn[body.listing] = seq
        return None

    def _trade_unmet(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.NeedUnmet
    ) -> str | None:
        if signers != (body.buyer,):
            return "an unmet need is signed by its buyer alone"
        return self._account(body.buyer, "buyer")

    def _settles(self, order: str | None, buyer: str, listing: str) -> str | None:
        """A contract or rejection settles the open order it cites, of its buyer and listing."""
        if order is None:
            return None
        placed = self.orders.pop(order, None)
        if placed is None:
            return f"cites order {order!r}, which is not open"
        self.orders_done.add(order)
        if placed.trader != buyer:
            return f"order {order!r} is {placed.trader}'s"
        if placed.listing == listing:
            return None
        # an order in a category's shared book may be filled from any listing of the category
        book = placed.venue or ""
        if book.startswith("book:") and self.categories.get(listing) == book[5:]:
            return None
        return f"order {order!r} is {placed.trader}'s for {placed.listing}"

    def _trade_contract(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.Contract
    ) -> str | None:
        if signers != (body.buyer, body.provider):
            return (
                f"a contract is signed by its buyer {body.buyer} and its provider "
                f"{body.provider}, in that order; signed by {list(signers)}"
            )
        problem = self._account(body.buyer, "buyer")
        if problem is not None:
            return problem
        owner = self.listings.get(body.listing)
        if owner != body.provider:
            return f"listing {body.listing!r} is not {body.provider}'s"
        if body.listing in self.withdrawn:
            return f"listing {body.listing!r} was withdrawn at seq {self.withdrawn[body.listing]}"
        if not self._member_at(body.buyer, self.time):
            return f"buyer {body.buyer} is not a member of the exchange at {self.time} s"
        if body.licence not in self.modes.get(body.listing, (body.licence,)):
            return f"licence {body.licence} is not one {body.listing} is offered in"
        permitted = self.uses.get(body.listing)
        if permitted is not None and body.use not in permitted:
            return f"use {body.use!r} is not one {body.listing} permits ({', '.join(permitted)})"
        until = self.time + body.duration_days * 86_400
        self.terms[body.contract] = (body.buyer, body.licence, self.time, until)
        self.contract_listing[body.contract] = body.listing
        self.sellers[body.contract] = body.provider
        if self.certificates.get(body.certificate) != body.listing:
            return f"certificate {body.certificate!r} was not issued for {body.listing}"
        if not self.in_force(body.certificate):
            return f"certificate {body.certificate!r} is no longer in force"
        if self.quotes.get(body.quote_seq) != body.listing:
            return f"seq {body.quote_seq} is not a quote of {body.listing}"
        if body.contract in self.contracts:
            return f"contract {body.contract!r} is signed twice"
        self.contracts.add(body.contract)
        return self._trade_terms(body) or self._settles(body.order, body.buyer, body.listing)

    def _trade_rejected(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.TradeRejected
    ) -> str | None:
        return self._account(body.buyer, "buyer") or self._settles(
            body.order, body.buyer, body.listing
        )

    def _operation_settlement(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.Settlement
    ) -> str | None:
        if body.cycle != self.cycle + 1:
            return f"settlement cycle {body.cycle} follows cycle {self.cycle}"
        self.cycle = body.cycle
        for item in body.items:
            if item.contract not in self.contracts:
                return f"settles contract {item.contract!r}, which was never signed"
            if item.contract in self.settled:
                return f"settles contract {item.contract!r} a second time"
            if item.contract in self.disputed and self.disputed[item.contract] is None:
                return f"settles contract {item.contract!r} while its dispute is open"
            refund = self.disputed.get(item.contract) or 0
            if item.outcome == "delivered" and item.refund_fen != refund:
                return (
                    f"refunds {item.refund_fen} fen of delivered {item.contract!r}, ruled {refund}"
                )
            self.settled.add(item.contract)
            if item.outcome == "delivered":
                self.paid[item.contract] = item.to_provider_fen
        return None

    def _operation_royalty(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.Royalty
    ) -> str | None:
        problem = self._by_operator(signers, "a royalty")
        if problem is not None:
            return problem
        if body.cycle != self.cycle:
            return f"a royalty of cycle {body.cycle} is paid in cycle {self.cycle}"
        paid = self.paid.get(body.contract)
        if paid is None:
            return f"pays a royalty on {body.contract!r}, which was not delivered and settled"
        listing = self.contract_listing[body.contract]
        if body.licence not in self.derived_from.get(listing, ()):
            return f"{listing} was not derived under licence {body.licence!r}"
        if (body.contract, body.licence) in self.royalties:
            return f"the royalty on {body.contract!r} under {body.licence!r} is paid twice"
        terms = self.licences[body.licence]
        if body.licensee != terms.licensee or body.licensor != terms.licensor:
            return f"licence {body.licence!r} is from {terms.licensor} to {terms.licensee}"
        if self.sellers[body.contract] != body.licensee:
            return f"{body.licensee} did not sell {body.contract!r}"
        due = apply_bp(paid, terms.royalty_bp)
        if body.royalty_fen != due:
            return f"royalty {body.royalty_fen} fen, the licence gives {due} fen"
        self.royalties.add((body.contract, body.licence))
        return None

    def _operation_dispute(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.DeliveryDispute
    ) -> str | None:
        terms = self.terms.get(body.contract)
        if terms is None or terms[0] != body.buyer:
            return f"{body.buyer} disputes contract {body.contract!r}, which is not its"
        if signers != (body.buyer,):
            return "a dispute is signed by its buyer alone"
        if body.contract in self.disputed or body.contract in self.settled:
            return f"contract {body.contract!r} is disputed twice, or after its settlement"
        self.disputed[body.contract] = None
        return None

    def _operation_ruling(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.DeliveryRuling
    ) -> str | None:
        if len(signers) != 1 or self.roles.get(signers[0]) != "operator":
            return "a ruling is signed by the operator alone"
        if self.disputed.get(body.contract, 0) is not None:
            return f"rules on contract {body.contract!r}, which has no open dispute"
        if not body.upheld and body.refund_fen:
            return "a dismissed dispute refunds nothing"
        self.disputed[body.contract] = body.refund_fen
        return None

    def _operation_job(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.ComputeJob
    ) -> str | None:
        terms = self.terms.get(body.contract)
        if terms is None:
            return f"a job under contract {body.contract!r}, which was never signed"
        buyer, licence, start, until = terms
        if licence != "compute-in-place" or buyer != body.buyer:
            return f"contract {body.contract!r} is no compute-in-place licence of {body.buyer}"
        if len(signers) != 2 or signers[0] != buyer or self.roles.get(signers[1]) != "operator":
            return "a job is signed by its buyer and the operator, in that order"
        if body.refused is None and not start <= self.time < until:
            return f"a job run outside its licence's term [{start}, {until}) s"
        listing = self.contract_listing.get(body.contract, "")
        if body.refused is None and (
            listing in self.withdrawn or not self.trading_in_force(listing)
        ):
            return f"a job run on {listing}, which holds no certificate in force"
        if body.refused is not None and body.cost_fen:
            return "a refused job costs nothing"
        return None

    def _operation_fee(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.ActFee
    ) -> str | None:
        problem = self._by_operator(signers, "a fee") or self._account(body.account, "provider")
        if problem is not None:
            return problem
        if (body.fee, body.ref) in self.fees_charged:
            return f"the {body.fee} fee of {body.ref!r} is charged twice"
        if body.fee == "listing":
            owner = self.listings.get(body.ref)
        else:
            pending = self.applications.get(body.ref)
            owner = self.listings.get(pending.listing) if pending is not None else None
        if owner != body.account:
            return f"charges {body.account} a {body.fee} fee for {body.ref!r}, not its own"
        self.fees_charged.add((body.fee, body.ref))
        return None

    def _operation_usage(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.ApiUsage
    ) -> str | None:
        terms = self.terms.get(body.contract)
        if terms is None:
            return f"usage under contract {body.contract!r}, which was never signed"
        buyer, licence, start, until = terms
        if licence != "api" or buyer != body.buyer:
            return f"contract {body.contract!r} is no API subscription of {body.buyer}"
        if len(signers) != 2 or signers[0] != buyer or self.roles.get(signers[1]) != "operator":
            return "usage is signed by its buyer and the operator, in that order"
        if body.provider != self.sellers.get(body.contract):
            return f"usage of {body.contract!r} pays {body.provider}, who did not sell it"
        if body.refused is not None:
            if body.cost_fen or body.to_provider_fen or body.fee_fen or body.calls:
                return "a refused period bills nothing"
            return None
        if not start <= body.period_from <= body.period_until <= until:
            return f"usage billed outside its licence's term [{start}, {until}) s"
        if body.period_until > self.time:
            return "usage is billed once its period has ended"
        listing = self.contract_listing.get(body.contract, "")
        if listing in self.withdrawn or not self.trading_in_force(listing):
            return f"usage of {listing}, which holds no certificate in force"
        due = (body.calls * body.fen_per_1000_calls + 500) // 1000
        if body.cost_fen != due or body.to_provider_fen + body.fee_fen != body.cost_fen:
            return (
                f"{body.calls} calls at {body.fen_per_1000_calls} fen per 1,000 cost {due} fen, "
                f"billed {body.cost_fen} = {body.to_provider_fen} + fee {body.fee_fen}"
            )
        return None

    def _crossborder_application(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.ClearanceApplication
    ) -> str | None:
        if actor != body.exporter or signers not in ((actor,), (actor, body.recipient)):
            return (
                "an application is signed by its exporter (with its recipient for a contract "
                f"between them); signed by {list(signers)}"
            )
        problem = self._account(body.exporter, "provider") or self._account(body.recipient, "buyer")
        if problem is not None:
            return problem
        if body.contract not in self.contracts:
            return f"an application for contract {body.contract!r}, which was never signed"
        if body.application in self.clearances or body.application in self.cleared:
            return f"application {body.application!r} is filed twice"
        self.clearances[body.application] = body
        return None

    def _crossborder_decision(
        self, seq: int, actor: str, signers: tuple[str, ...], body: vocab.ClearanceDecision
    ) -> str | None:
        filed = self.clearances.pop(body.application, None)
        if filed is None:
            return f"decides application {body.application!r}, which is not pending"
        self.cleared.add(body.application)
        facts = (filed.mechanism, filed.exporter, filed.recipient)
        if (body.mechanism, body.exporter, body.recipient) != facts:
            return f"decides application {body.application!r} for other parties or mechanism"
        if filed.route == "self":
            if signers not in ((filed.exporter,), (filed.exporter, filed.recipient)):
                return "a mechanism the exporter carries out is signed by the exporter"
        else:
            role = "certifier" if filed.route == "certification" else "regulator"
            if len(signers) != 1 or self.roles.get(signers[0]) != role:
                return f"a {filed.route} decision is signed by one {role}"
        if body.approved != (body.approval is not None):
            return "an approval names its approval id, a refusal none"
        if body.valid_until < body.valid_from:
            return "the approval ends before it begins"
        return None

    # -- shared ---------------------------------------------------------------------------
    def _still_listed(self, listing: str) -> str | None:
        if listing in self.withdrawn:
            return f"listing {listing!r} was withdrawn at seq {self.withdrawn[listing]}"
        return None

    def _account(self, account: str, role: str) -> str | None:
        """Is ``account`` open for a party that may act as ``role`` (a broker buys as a buyer
        and sells as a provider)?"""
        opened = self.accounts.get(account)
        if opened is None or opened not in vocab.ACTS_AS.get(role, frozenset({role})):
            return f"{account!r} is not an open {role} account"
        return None

    def _own_listing(self, listing: str, actor: str, signers: tuple[str, ...]) -> str | None:
        if signers != (actor,):
            return "signed by the listing's provider alone"
        owner = self.listings.get(listing)
        if owner is None:
            return f"listing {listing!r} was never listed"
        if owner != actor:
            return f"listing {listing!r} is {owner}'s, not {actor}'s"
        return None


_Rule = Callable[[MarketRules, int, str, tuple[str, ...], Any], str | None]
#: kind -> rule, by the naming rule ``_<kind with dots as underscores>`` (every kind has one).
_RULES: dict[str, _Rule] = {
    kind: getattr(MarketRules, "_" + kind.replace(".", "_")) for kind in vocab.BODY_MODELS
}


def _is_market(authorization: Mapping[str, list[str]]) -> bool:
    """A market ledger authorizes every market role for every market kind (and may add more)."""
    return all(
        set(kinds) <= set(authorization.get(role, ())) for role, kinds in AUTHORIZATION.items()
    )


def market_rules(authorization: Mapping[str, list[str]]) -> MarketRules | None:
    """The audit's domain factory: the market's rules for a market ledger (its genesis table
    holds the exchange's), none for any other log (a generic ledger, a synthetic one). In a
    market ledger a kind outside the market's vocabulary is itself a broken rule."""
    return MarketRules() if _is_market(authorization) else None
