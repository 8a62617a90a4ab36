"""Data providers: bring datasets to market (list → price → apply for rights), reprice them, and
withdraw those that do not pay their way."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass
from typing import Any

import numpy as np
import simpy

from agents.negotiation import Haggler, Negotiations
from agents.participant import Participant
from agents.populations import ProviderPopulation
from agents.strategies import PriceObservation, PricingStrategy, make_strategy
from ledger import Identity
from marketplace.entries import RIGHTS, WithdrawalReason
from marketplace.entries_crossborder import ExporterFacts, UsCategory
from marketplace.exchange import Exchange
from marketplace.pricing import PricingMechanism, make_mechanism
from marketplace.state import Classification, DatasetSpec, Licence, LicenceState, ListingState

__all__ = ["RIVALS_SURVEYED", "Provider"]

#: Every way data can be delivered.
ALL_MODES: tuple[Licence, ...] = ("download", "api", "compute-in-place")
#: How many competing offers a provider looks at when it (re)prices a listing.
RIVALS_SURVEYED = 20
#: Extra days before expiry at which a provider applies to renew a certificate (review time).
RENEWAL_LEAD_DAYS = 30


@dataclass(frozen=True, slots=True)
class _Window:
    """Where a listing's withdrawal window began: the time and its sales, revenue and fees."""

    at: int
    sales: int
    revenue_fen: int
    fees_fen: int
    royalties_fen: int = 0


class Provider(Participant[ProviderPopulation]):
    """One provider. Its datasets and their attributes are drawn from its own stream."""

    strategy: PricingStrategy

    def __init__(
        self,
        identity: Identity,
        exchange: Exchange,
        spec: ProviderPopulation,
        rng: np.random.Generator,
        facts: np.random.Generator,
        pricing_draws: np.random.Generator | None = None,
        negotiations: Negotiations | None = None,
        channel: np.random.Generator | None = None,
        exits: np.random.Generator | None = None,
    ) -> None:
        """``rng`` draws what a dataset is and how it is priced; ``facts`` only its cross-border
        facts (which people it covers, FTZ list, transit); ``pricing_draws`` only the numbers a
        randomising mechanism and the provider's haggling draw. So a scenario that adds one
        leaves every other draw as it was (common random numbers). ``channel`` draws only
        what its off-exchange channel costs it, ``exits`` only whether and to whom it exits."""
        super().__init__(identity, exchange, spec, rng)
        self.exits = exits if exits is not None else np.random.default_rng(0)
        self.left_at: int | None = None
        channel = channel if channel is not None else np.random.default_rng(0)
        self.off_exchange_cost_bp = round(spec.off_exchange_cost_bp.sample(channel))
        self.facts = facts
        self.pricing_draws = (
            pricing_draws if pricing_draws is not None else np.random.default_rng(0)
        )
        if negotiations is not None:
            haggling = make_strategy("trading", spec.trading, spec.trading_params)
            negotiations.sellers[identity.id] = Haggler(haggling, self.pricing_draws)
        self.mechanism: PricingMechanism = make_mechanism(spec.pricing, spec.pricing_params)
        self.listings: list[ListingState] = []
        # The provider's own books: sales at each listing's last quote, and where each
        # listing's current withdrawal window began.
        self._sales_at_quote: dict[str, int] = {}
        self._window: dict[str, _Window] = {}
        self._last_reprice = 0.0
        self.people = max(1, round(spec.people.sample(facts)))
        self.exporter = ExporterFacts(
            ciio=spec.ciio, ftz=spec.ftz, people=self.people, gdpr_art3_2=spec.gdpr_art3_2
        )
        categories = sorted(spec.us_categories)
        weights = np.array([spec.us_categories[c] for c in categories], dtype=float)
        self._us_categories = categories
        self._us_cdf = np.cumsum(weights) / weights.sum() if categories else weights

    def draw_dataset(self, number: int) -> DatasetSpec:
        """Draw one dataset's attributes from the population's distributions."""
        spec, rng, facts = self.spec, self.rng, self.facts
        size_mb = max(1, round(spec.size_mb.sample(rng)))
        personal = rng.random() < spec.personal_share
        pi_subjects = (
            min(self.people, max(1, round(spec.pi_subjects.sample(rng)))) if personal else 0
        )
        sensitive = personal and rng.random() < spec.sensitive_share
        roll = rng.random()
        classification: Classification = (
            "core"
            if roll < spec.core_share
            else "important"
            if roll < spec.core_share + spec.important_share
            else "general"
        )
        return DatasetSpec(
            dataset=f"{self.identity.id}/D{number:03d}",
            category=spec.categories[int(rng.integers(len(spec.categories)))],
            size_mb=size_mb,
            records=size_mb * spec.records_per_mb,
            pi_subjects=pi_subjects,
            sensitive_pi_subjects=pi_subjects // 10 if sensitive else 0,
            classification=classification,
            origin=spec.origin,
            quality_pct=min(100, max(0, round(spec.quality_pct.sample(rng)))),
            unit_cost_fen=max(1, round(spec.unit_cost_fen.sample(rng))),
            subjects_from=int(facts.integers(0, self.people - pi_subjects + 1)),
            ftz_negative_list=bool(facts.random() < spec.ftz_negative_list_share),
            transit_only=bool(facts.random() < spec.transit_share),
            government_related=bool(facts.random() < spec.government_related_share),
            us_category=self._us_category(),
            exporter=self.exporter,
            delivery_modes=tuple(spec.sensitive_delivery) if sensitive else ALL_MODES,
            permitted_uses=self._permitted_uses(),
        )

    def _permitted_uses(self) -> tuple[str, ...]:
        """``uses_per_dataset`` of the population's use scenarios, drawn (none: any use)."""
        scenarios = self.spec.use_scenarios
        if not scenarios:
            return ()
        count = min(self.spec.uses_per_dataset, len(scenarios))
        picked = self.facts.choice(len(scenarios), size=count, replace=False)
        return tuple(sorted(scenarios[int(i)] for i in picked))

    def _us_category(self) -> UsCategory | None:
        """The 28 CFR 202.205 category of a dataset's people: by the population's weights, or
        covered personal identifiers for US data when none are given; none for other data."""
        if self._us_categories:
            return self._us_categories[int(np.searchsorted(self._us_cdf, self.facts.random()))]
        return "identifiers" if self.spec.origin == "US" else None

    def bring_datasets_to_market(self) -> Generator[simpy.Event, Any, None]:
        """Process: list each dataset at a uniform time within the listing window."""
        env = self.exchange.env
        count = max(0, round(self.spec.datasets.sample(self.rng)))
        times = sorted(self.rng.uniform(0, self.spec.listing_window_days, size=count))
        datasets = [self.draw_dataset(number + 1) for number in range(count)]
        for at, dataset in zip(times, datasets, strict=True):
            yield env.timeout(max(0.0, float(at) - env.now))
            env.process(self.launch(dataset))

    def launch(
        self, dataset: DatasetSpec, licences: tuple[LicenceState, ...] = ()
    ) -> Generator[simpy.Event, Any, None]:
        """Process: list, post a price (shown as pending certification), apply for rights
        (``licences``: a product derived under them registers as derived).

        A dataset is sold off-exchange instead, and never listed, while the exchange's
        supplier fee is dearer than the provider's own channel, or when no price covers its
        cost after the fee (a fee of 100 %)."""
        exchange = self.exchange
        if exchange.supplier_fee_bp > self.off_exchange_cost_bp:
            return
        if exchange.break_even_fen(dataset.unit_cost_fen) is None:
            return
        if not exchange.storage.fits(dataset.size_mb):
            return  # larger than the exchange can ever host
        listing = yield exchange.env.process(
            exchange.storage.list_dataset(self.identity, dataset, licences)
        )
        self.listings.append(listing)
        self._window[listing.listing] = _Window(listing.listed_at, 0, 0, 0, 0)
        self.price(listing, days_since_last=0.0)
        yield exchange.rights.apply(self.identity, listing)

    def price(self, listing: ListingState, days_since_last: float) -> None:
        rivals = tuple(
            other.price_fen
            for other in self.exchange.nearby_offers(listing, RIVALS_SURVEYED)
            if other.provider != self.identity.id
        )
        break_even = self.break_even(listing)
        assert break_even is not None  # launch() lists nothing else
        seen = PriceObservation(
            unit_cost_fen=break_even,
            current_fen=listing.price_fen,
            sales_since_last=listing.sales - self._sales_at_quote.get(listing.listing, 0),
            days_since_last=days_since_last,
            quality_pct=listing.spec.quality_pct,
            rival_prices_fen=rivals,
        )
        proposal = self.strategy.decide(seen)
        draw = float(self.pricing_draws.random())
        self.exchange.pricing.quote(self.identity, listing, self.mechanism, proposal, draw)
        self._sales_at_quote[listing.listing] = listing.sales

    def pays_its_way(self, listing: ListingState) -> bool:
        """Judge a listing at the end of each withdrawal window: did its sales over the window
        leave at least what hosting it cost? Withdraws it (a signed entry) if not.

        The margin is the provider's own: revenue less the supplier fees and the unit cost of
        each licence sold; hosting is the exchange's published per-GB-day rate over the window.
        Sunk fees (the listing's past) do not enter: only whether keeping it on pays. The
        window begins once rights review is over: a listing refused its certificate sells
        nothing, so it goes at the end of its first window.
        """
        window_days = self.spec.withdraw_window_days
        exchange = self.exchange
        now = exchange.now_s()
        start = self._window[listing.listing]
        if listing.certificate is None and not listing.rights_decided:
            # still in rights review: not yet on sale, so its window has not begun
            self._window[listing.listing] = self._window_from(listing, now)
            return True
        if window_days <= 0 or now - start.at < window_days * 86_400:
            return True
        sales = listing.sales - start.sales
        margin = (
            listing.revenue_fen
            - start.revenue_fen
            - (listing.fees_fen - start.fees_fen)
            - (listing.royalties_fen - start.royalties_fen)
            - sales * listing.spec.unit_cost_fen
        )
        hosting = exchange.storage.hosting_cost_fen(listing, now - start.at)
        if margin < hosting:
            self.withdraw(listing, round((now - start.at) / 86_400), margin, hosting)
            return False
        self._window[listing.listing] = self._window_from(listing, now)
        return True

    @staticmethod
    def _window_from(listing: ListingState, now: int) -> _Window:
        return _Window(
            now, listing.sales, listing.revenue_fen, listing.fees_fen, listing.royalties_fen
        )

    def break_even(self, listing: ListingState) -> int | None:
        """The lowest price that keeps the listing's unit cost after what each sale pays
        (the supplier fee here; a data merchant also pays royalties)."""
        return self.exchange.break_even_fen(listing.spec.unit_cost_fen)

    def update(self, listing: ListingState) -> None:
        """Publish a new version of a certified listing's data when one is due (every
        ``version_every_days``), and apply to change its certificates accordingly."""
        every = self.spec.version_every_days
        certificate = listing.certificate
        if every <= 0 or certificate is None or listing.application_pending:
            return
        exchange = self.exchange
        due = listing.listed_at + round(every * listing.version * 86_400)
        if exchange.now_s() < due or not certificate.valid_at(exchange.now_s()):
            return
        exchange.storage.new_version(self.identity, listing, listing.spec.records)
        exchange.rights.apply(self.identity, listing)

    def withdraw(
        self,
        listing: ListingState,
        window_days: int,
        margin_fen: int,
        hosting_fen: int,
        reason: WithdrawalReason = "unprofitable",
    ) -> None:
        """Take ``listing`` off the market, and give up the certificates still in force over
        it (a cancellation registration for each)."""
        exchange = self.exchange
        exchange.storage.withdraw(
            self.identity, listing, window_days, margin_fen, hosting_fen, reason
        )
        now = exchange.now_s()
        for right in sorted(listing.certificates):
            certificate = listing.certificates[right]
            if certificate.valid_at(now):
                exchange.rights.cancel(self.identity, certificate, "listing withdrawn")

    # -- leaving the market -------------------------------------------------------------
    def leaves_now(self, period_days: float) -> bool:
        """One draw per review: the yearly exit chance, spread over the review period."""
        rate = self.spec.exit_bp_per_year / 10_000
        if rate <= 0:
            return False
        chance = 1.0 - (1.0 - rate) ** (period_days / 365.0)
        return bool(self.exits.random() < chance)

    def trailing_margin_fen(self, listing: ListingState) -> int:
        """What ``listing`` earned its provider since its current window began: revenue less
        fees, royalties and the unit cost of each sale (what a buyer of the business pays)."""
        start = self._window[listing.listing]
        return (
            listing.revenue_fen
            - start.revenue_fen
            - (listing.fees_fen - start.fees_fen)
            - (listing.royalties_fen - start.royalties_fen)
            - (listing.sales - start.sales) * listing.spec.unit_cost_fen
        )

    def leave(self) -> None:
        """Leave the market: sell each certified listing that earns to a data merchant who can
        pay what it earned over its window (chosen at random), withdraw the rest."""
        exchange = self.exchange
        now = exchange.now_s()
        self.left_at = now
        for listing in self.own_listings():
            price = self.trailing_margin_fen(listing)
            takers = [
                merchant
                for merchant in exchange.merchants()
                if merchant.id != self.identity.id and exchange.balance(merchant.id) >= price
            ]
            sellable = (
                price > 0
                and takers
                and not listing.derived
                and listing.price_fen is not None
                and exchange.trading.view(listing).kind == "posted"
                and all(
                    right in listing.certificates and listing.certificates[right].valid_at(now)
                    for right in RIGHTS
                )
            )
            if sellable:
                taker = takers[int(self.exits.random() * len(takers))]
                if exchange.rights.transfer(self.identity, taker, listing, price):
                    continue
            self.withdraw(listing, 0, 0, 0, "provider-exit")

    def own_listings(self) -> list[ListingState]:
        """The listings it still sells: not withdrawn, not transferred away."""
        return [
            listing
            for listing in self.listings
            if listing.withdrawn_at is None and listing.provider == self.identity.id
        ]

    def adopt_transferred(self) -> None:
        """Take on the listings transferred to it: it prices and reviews them from now."""
        now = self.exchange.now_s()
        for listing in self.exchange.take_transferred(self.identity.id):
            self.listings.append(listing)
            self._window[listing.listing] = self._window_from(listing, now)
            self._sales_at_quote[listing.listing] = listing.sales

    def reprice(self) -> Generator[simpy.Event, Any, None]:
        """Process: every review period, withdraw listings that do not pay their way, reprice
        the others from what they sold, and apply again for certificates that would expire
        before the next review (renewal). A provider may leave the market at a review."""
        env = self.exchange.env
        period = self.spec.reprice_every_days
        while True:
            yield env.timeout(period)
            if self.leaves_now(period):
                self.leave()
                return
            self.adopt_transferred()
            horizon = self.exchange.now_s() + round((period + RENEWAL_LEAD_DAYS) * 86_400)
            for listing in self.listings:
                if listing.withdrawn_at is not None or listing.provider != self.identity.id:
                    continue
                if listing.certificate is not None and listing.certificate.status == "revoked":
                    self.withdraw(listing, 0, 0, 0, "rights-revoked")
                    continue
                now = self.exchange.now_s()
                if not all(licence.in_force(now) for licence in listing.licences):
                    self.withdraw(listing, 0, 0, 0, "licence-ended")  # no longer may be sold
                    continue
                if not self.pays_its_way(listing):
                    continue
                self.update(listing)
                self.price(listing, days_since_last=period)
                certificate = listing.certificate
                if (
                    certificate is not None
                    and certificate.status == "valid"
                    and certificate.valid_until <= horizon
                    and not listing.application_pending
                ):
                    self.exchange.rights.apply(self.identity, listing)
