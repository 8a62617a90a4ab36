"""Data buyers: needs arrive as a Poisson process; each need is a category and a private value.

A buyer joins the exchange, and renews, only when it expects its needs over a membership period
to bring it more surplus than the fee (a participation constraint); until then its needs go
unmet, recorded with that reason.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Generator, Sequence
from dataclasses import replace
from functools import partial
from typing import Any, cast

import numpy as np
import simpy

from agents.callbacks import when_done
from agents.negotiation import Haggler, Negotiations
from agents.participant import Participant
from agents.populations import BuyerPopulation
from agents.strategies import PurchaseObservation, PurchaseStrategy, make_strategy, value_of
from agents.term_book import Fields, TermBook
from agents.trading_strategies import TradeObservation
from ledger import Identity
from marketplace.entries_crossborder import TransferTerms
from marketplace.exchange import Exchange
from marketplace.pricing.tiered import choose_version
from marketplace.state import ContractState, Licence, Offer, Order
from marketplace.trading import UnmetMembership

__all__ = ["RECENT_NEEDS", "Buyer", "best_surplus", "cheapest_worth"]

#: How many of its latest needs a buyer judges membership by.
RECENT_NEEDS = 10


def cheapest_worth(seen: PurchaseObservation) -> int:
    """The lowest price of a certified offer on the page worth its price (0 if none is)."""
    return min(
        (
            offer.price_fen
            for offer in seen.offers
            if offer.certified and value_of(seen.value_fen, offer) >= offer.price_fen
        ),
        default=0,
    )


def best_surplus(seen: PurchaseObservation) -> int:
    """The largest surplus any certified offer on the page gives (0 if none gives any: a
    buyer declines an offer worth less than its price, so no need loses it money)."""
    surpluses = (
        value_of(seen.value_fen, offer) - offer.price_fen
        for offer in seen.offers
        if offer.certified
    )
    return max(0, max(surpluses, default=0))


class Buyer(Participant[BuyerPopulation]):
    strategy: PurchaseStrategy

    def __init__(
        self,
        identity: Identity,
        exchange: Exchange,
        spec: BuyerPopulation,
        rng: np.random.Generator,
        arrivals: np.random.Generator,
        terms: np.random.Generator,
        bidding: np.random.Generator | None = None,
        negotiations: Negotiations | None = None,
        jobs: np.random.Generator | None = None,
        calls: np.random.Generator | None = None,
        renewals: np.random.Generator | None = None,
        term_book: TermBook | None = None,
    ) -> None:
        """``rng`` draws what a need is and what the buyer picks; ``arrivals`` only when needs
        arrive; ``terms`` only who the buyer is as a recipient and why each transfer goes;
        ``bidding`` only the numbers its trading strategy draws. So a variant that changes one
        leaves the others' draws as they were (common random numbers); ``jobs`` only when its
        compute-in-place jobs run and what they take, ``calls`` only how many API calls it
        makes, ``renewals`` only whether a need outlives its licence term."""
        super().__init__(identity, exchange, spec, rng)
        self.renewals = renewals if renewals is not None else np.random.default_rng(0)
        self.jobs = jobs if jobs is not None else np.random.default_rng(0)
        self.calls = calls if calls is not None else np.random.default_rng(0)
        self.arrivals = arrivals
        self.terms = terms
        self.bidder = Haggler(
            make_strategy("trading", spec.trading, spec.trading_params),
            bidding if bidding is not None else np.random.default_rng(0),
        )
        self.negotiations = negotiations
        #: The delivered licences it holds until their terms end (agents.term_book): the
        #: market's book, shared by its buyers, or one of its own.
        self._terms = term_book if term_book is not None else TermBook(exchange.env)
        self._terms_handle = self._terms.owner(self._term_ended)
        self._purposes = sorted(spec.purposes)
        purpose_weights = np.array([spec.purposes[p] for p in self._purposes], dtype=float)
        self._purpose_cdf = np.cumsum(purpose_weights) / purpose_weights.sum()
        self._uses = sorted(spec.uses)
        use_weights = np.array([spec.uses[u] for u in self._uses], dtype=float)
        self._use_cdf = np.cumsum(use_weights) / use_weights.sum() if self._uses else use_weights
        # Who this recipient is does not change from one order to the next.
        self._dpf = bool(terms.random() < spec.dpf_certified_share)
        self._covered = bool(terms.random() < spec.covered_person_share)
        has_safeguard = bool(terms.random() < spec.safeguard_share)
        self._safeguard = spec.safeguard if has_safeguard else None
        #: The surplus each of its last needs could have had: what it expects of membership.
        self._recent_surplus: deque[int] = deque(maxlen=RECENT_NEEDS)
        self._licences = sorted(spec.licence_weights)
        weights = [spec.licence_weights[name] for name in self._licences]
        total = sum(weights)
        running = 0
        self._licence_cdf: list[float] = []
        for weight in weights:
            running += weight
            self._licence_cdf.append(running / total)

    def shop(self) -> Generator[simpy.Event, Any, None]:
        """Process: wait for the next need, look at the offers, maybe buy; forever."""
        env, spec, rng = self.exchange.env, self.spec, self.rng
        mean_gap = 1.0 / spec.arrival_rate_per_day
        categories = spec.categories
        while True:
            yield env.timeout(self.arrivals.exponential(mean_gap))
            category = categories[int(rng.random() * len(categories))]
            value = max(1, round(spec.value_fen.sample(rng)))
            use = self.use_of_need()
            seen = PurchaseObservation(value, self.consider(category, use))
            self._recent_surplus.append(best_surplus(seen))
            declined = self.membership(cheapest_worth(seen))
            if declined is not None:
                self.exchange.trading.unmet(
                    self.identity.id, category, value, seen.offers, membership=declined
                )
                continue
            choice = self.strategy.decide(seen)
            if choice is None:
                self.exchange.trading.unmet(self.identity.id, category, value, seen.offers)
                continue
            offer = next(o for o in seen.offers if o.listing == choice)
            yield env.process(self.buy(offer, value_of(value, offer), category, use))

    def expected_surplus_fen(self) -> int:
        """What a membership period is worth to this buyer: the mean surplus of its recent
        needs (the best offer on each one's search page, at its posted price; browsing the
        catalogue is free) times the needs it expects in a period."""
        recent = self._recent_surplus
        if not recent:
            return 0
        needs = self.spec.arrival_rate_per_day * self.exchange.membership_period_days
        return round(sum(recent) / len(recent) * needs)

    def membership(self, spend_fen: int = 0) -> UnmetMembership | None:
        """Be a member now, joining or renewing when the membership is worth its fee (the
        buyer's participation decision); or say why not. A buyer pays a fee only for a need it
        can meet now (``spend_fen``: what meeting it costs, 0 when nothing on the page is worth
        its price), and only if, the fee paid, it could still pay that: a fee that would leave
        it unable to buy anything is not worth paying."""
        exchange = self.exchange
        until = exchange.member_until(self.identity.id)
        if until is not None and until > exchange.now_s():
            return None
        expected = self.expected_surplus_fen()
        fee = exchange.membership_fee_fen
        if expected < fee or (fee > 0 and spend_fen == 0):
            return "membership-not-worth-its-fee"  # nor does this need give a reason to join
        if exchange.balance(self.identity.id) < fee + spend_fen:
            return "cannot-afford-membership"
        if not exchange.join(self.identity, expected):
            return "cannot-afford-membership"
        return None

    def buy(
        self, offer: Offer, value: int, category: str, use: str | None = None
    ) -> Generator[simpy.Event, Any, None]:
        """Process: bid for ``offer`` the way its listing's mechanism trades (a negotiation is
        a conversation; every other mechanism one order), worth ``value`` to the buyer."""
        exchange, spec, rng = self.exchange, self.spec, self.rng
        listing = exchange.listings[offer.listing]
        view = exchange.trading.view(listing)
        version = choose_version(value, view.menu) if view.menu else 0
        if version is None:
            exchange.trading.unmet(self.identity.id, category, value, (offer,))
            return
        if view.menu:  # a tiered listing: the version's quality is what the buyer gets
            value = value * view.menu[version][0] // 100
        licence = self.licence_for(listing.spec.delivery_modes, rng.random())
        if licence is None:
            exchange.trading.unmet(
                self.identity.id, category, value, (offer,), membership="licence-not-offered"
            )
            return
        order = Order(
            buyer=self.identity.id,
            listing=offer.listing,
            licence=licence,
            duration_days=spec.duration_days,
            destination=self.destination(),
            value_fen=value,
            price_fen=offer.price_fen,
            terms=self.transfer_terms(),
            version=version,
            use=use,
        )
        if view.kind == "bilateral" and self.negotiations is not None:
            yield exchange.env.process(self.negotiations.negotiate(self.bidder, order, value))
            return
        ask = view.menu[version][1] if view.menu else view.best_ask_fen
        seen = TradeObservation(
            side="buy",
            limit_fen=value,
            venue=replace(view, best_ask_fen=ask),
            floor_fen=1,
            ceiling_fen=max(1, value, ask or 1),
            draw=float(self.bidder.rng.random()),
            draw2=float(self.bidder.rng.random()),
        )
        limit = self.bidder.strategy.decide(seen)
        if limit is None or limit <= 0:
            exchange.trading.unmet(self.identity.id, category, value, (offer,))
            return
        patience = spec.patience_days if view.kind == "order-book" else None
        contract = yield exchange.env.process(
            exchange.trading.purchase(replace(order, price_fen=limit), patience)
        )
        if contract is not None:
            self.use_licence(contract, value, use)

    def use_licence(self, contract: ContractState, value: int, use: str | None) -> None:
        """Start what a signed licence brings: compute jobs or API calls while it lasts, and
        the decision to renew it when its term ends."""
        spec, env = self.spec, self.exchange.env
        if contract.licence == "compute-in-place" and spec.compute_jobs_per_day > 0:
            env.process(self.run_jobs(contract))
        if contract.licence == "api" and spec.api_calls_per_day > 0:
            env.process(self.call_api(contract))
        if spec.renews and contract.finished is not None:
            when_done(contract.finished, partial(self._term_starts, contract, value, use))

    @staticmethod
    def delivered(contract: ContractState) -> Generator[simpy.Event, Any, bool]:
        """Process step: wait until ``contract``'s delivery ends; whether it was delivered."""
        if contract.finished is None:
            return False
        outcome = yield contract.finished
        return bool(outcome == "delivered")

    def _term_starts(
        self, contract: ContractState, value: int, use: str | None, finished: simpy.Event
    ) -> None:
        """Callback: a delivered licence's term is running; decide about it when it ends.

        The book keeps what the decision needs, not the contract: a live licence then costs
        the book's row, not the contract's state (a long run holds every live licence)."""
        if finished.value != "delivered":
            return
        days = (max(0, contract.ends_at - self.exchange.now_s()) + 1) / 86_400
        held: Fields = (
            contract.contract,
            contract.listing.listing,
            contract.licence,
            contract.duration_days,
            contract.destination,
            value,
            use,
        )
        self._terms.add(self._terms_handle, days, held)

    def _term_ended(self, held: Fields) -> None:
        """When a delivered licence's term ends, renew it or let it go (churn).

        The need behind it outlives the term with probability 1 - ``renewal_churn_share``;
        then the buyer renews, at the listing's price now, only if that still leaves it a
        surplus and its membership is worth keeping; otherwise the subscription churns. A
        renewal is a new order citing the contract it renews (``trade.order`` ``renews``), so
        renewal and churn rates fold from the ledger."""
        contract, listing_id, licence, duration_days, destination, value, use = held
        assert isinstance(value, int) and isinstance(duration_days, int)
        assert isinstance(contract, str) and isinstance(listing_id, str)
        assert isinstance(destination, str) and (use is None or isinstance(use, str))
        exchange = self.exchange
        if self.renewals.random() < self.spec.renewal_churn_share:
            return  # the need ended with the term
        listing = exchange.listings[listing_id]
        if listing.withdrawn_at is not None or listing.price_fen is None:
            return
        view = exchange.trading.view(listing)
        ask = view.best_ask_fen
        if view.kind not in ("posted", "order-book") or view.menu or ask is None:
            return  # renewals go at a standing price; auctions and haggles start afresh
        if ask > value or self.membership(ask) is not None:
            return
        order = Order(
            buyer=self.identity.id,
            listing=listing_id,
            licence=cast(Licence, licence),  # it was the contract's licence
            duration_days=duration_days,
            destination=destination,
            value_fen=value,
            price_fen=ask,
            terms=self.transfer_terms(),
            use=use,
            renews=contract,
        )
        patience = self.spec.patience_days if view.kind == "order-book" else None
        renewal = exchange.env.process(exchange.trading.purchase(order, patience))
        when_done(renewal, partial(self._renewed, value, use))

    def _renewed(self, value: int, use: str | None, renewal: simpy.Event) -> None:
        """Callback: a renewal order ended; a new contract's licence is used like the first."""
        # A renewal that raised is left as it failed: SimPy re-raises its own error.
        if renewal.ok and renewal.value is not None:
            self.use_licence(renewal.value, value, use)

    def licence_for(self, modes: Sequence[Licence], draw: float) -> Licence | None:
        """The licence this buyer takes among the ``modes`` a listing is offered in, by its
        weights (renormalised over those modes); None if it wants none of them."""
        weights = self.spec.licence_weights
        allowed = [(name, weights[name]) for name in self._licences if name in modes]
        total = sum(weight for _name, weight in allowed)
        if total == 0:
            return None
        running = 0
        for name, weight in allowed:
            running += weight
            if draw * total < running:
                return name
        return allowed[-1][0]

    def run_jobs(self, contract: ContractState) -> Generator[simpy.Event, Any, None]:
        """Process: once the compute-in-place licence is provisioned, submit jobs (a Poisson
        stream) until its term ends; each runs at the exchange and is charged its compute."""
        exchange, spec = self.exchange, self.spec
        if not (yield from self.delivered(contract)):
            return
        ends = contract.ends_at
        while True:
            yield exchange.env.timeout(self.jobs.exponential(1.0 / spec.compute_jobs_per_day))
            if exchange.now_s() >= ends:
                return
            cpu_hours = spec.job_cpu_hours.sample(self.jobs)
            exchange.operation.run_job(self.identity, contract, cpu_hours)

    def call_api(self, contract: ContractState) -> Generator[simpy.Event, Any, None]:
        """Process: once the API subscription is provisioned, call it (a Poisson count per
        billing period) until its term ends; each period's calls are metered and billed."""
        exchange = self.exchange
        if not (yield from self.delivered(contract)):
            return
        ends = contract.ends_at
        period = exchange.config.operation.usage_period_days
        since = exchange.now_s()
        while since < ends:
            days = min(period, (ends - since) / 86_400)
            yield exchange.env.timeout(days)
            calls = int(self.calls.poisson(self.spec.api_calls_per_day * days))
            if not exchange.operation.meter(self.identity, contract, calls, since):
                return  # the gateway stopped the subscription
            since = exchange.now_s()

    def use_of_need(self) -> str | None:
        """The use scenario a need serves (drawn by the population's weights), if it names any."""
        if not self._uses:
            return None
        pick = int(np.searchsorted(self._use_cdf, self.terms.random(), side="right"))
        return self._uses[min(pick, len(self._uses) - 1)]

    def consider(self, category: str, use: str | None = None) -> tuple[Offer, ...]:
        """The consideration set: one page of ``consideration_set`` offers of the category,
        starting at a random place in the catalogue (wrapping round), as a search page shows;
        a need with a use scenario skips listings whose permitted uses leave it out."""
        offers = self.exchange.offers(category)
        if use is not None:
            offers = [offer for offer in offers if not offer.uses or use in offer.uses]
        size = self.spec.consideration_set
        if len(offers) <= size:
            return tuple(offers)
        start = int(self.rng.random() * len(offers))
        page = tuple(offers[start : start + size])
        return page + tuple(offers[: size - len(page)]) if len(page) < size else page

    def transfer_terms(self) -> TransferTerms:
        """Why this transfer goes (drawn per order) and who receives it."""
        pick = int(np.searchsorted(self._purpose_cdf, self.terms.random(), side="right"))
        return TransferTerms(
            purpose=self._purposes[min(pick, len(self._purposes) - 1)],
            dpf_certified=self._dpf,
            covered_person=self._covered,
            safeguard=self._safeguard,
            us_transaction=self.spec.us_transaction,
        )

    def destination(self) -> str:
        spec = self.spec
        if spec.cross_border_share and self.rng.random() < spec.cross_border_share:
            abroad = spec.abroad
            return abroad[int(self.rng.integers(len(abroad)))]
        return str(spec.home)
