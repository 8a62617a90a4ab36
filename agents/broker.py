"""Data merchants (brokers): license others' data, process it, sell what they derive.

A broker is a provider whose datasets come from the market: it buys a download licence of a
certified listing at its posted price (joining the exchange first, as a buyer does), registers
a licence of the processing-use right with the certificate's holder (``rights.licence``),
spends the processing time and cost, and lists the derived product; its registration
(``derived``) cites the licensed certificate as parent, and each settled sale pays the licensor
its royalty (``operation.royalty``). From then on it prices, reprices and withdraws the product
as providers do, over a break-even that carries the royalty as well as the fee.
"""

from __future__ import annotations

import math
from collections.abc import Generator, Sequence
from typing import Any

import numpy as np
import simpy

from agents.negotiation import Negotiations
from agents.populations_broker import BrokerPopulation
from agents.provider import Provider
from ledger import Identity
from marketplace.entries_rights import SharingTerms
from marketplace.exchange import Exchange
from marketplace.money import apply_bp, break_even_fen
from marketplace.state import ContractState, DatasetSpec, LicenceState, ListingState, Offer, Order
from marketplace.valuation.bundle import share_bundle

__all__ = ["Broker"]

#: How many of the most improvable offers a broker chooses among (so brokers spread out).
SHORTLIST = 5
MB_PER_GB = 1_024
#: Data classes, least to most restricted: a bundle is as restricted as its strictest source.
_CLASS_ORDER = ("general", "important", "core")


class Broker(Provider):
    spec: BrokerPopulation

    def __init__(
        self,
        identity: Identity,
        exchange: Exchange,
        spec: BrokerPopulation,
        rng: np.random.Generator,
        facts: np.random.Generator,
        pricing_draws: np.random.Generator | None = None,
        negotiations: Negotiations | None = None,
        channel: np.random.Generator | None = None,
        exits: np.random.Generator | None = None,
    ) -> None:
        super().__init__(
            identity, exchange, spec, rng, facts, pricing_draws, negotiations, channel, exits
        )
        self.licensed: set[str] = set()  # listings it bought a licence of
        self.products_made = 0

    # -- what a derived sale must cover ---------------------------------------------------
    def break_even(self, listing: ListingState) -> int | None:
        """The lowest price whose takings, after the supplier fee and then each licence's
        royalty on them, still cover the product's unit cost."""
        takings = listing.spec.unit_cost_fen
        for licence in listing.licences:
            needed = break_even_fen(takings, licence.royalty_bp)
            if needed is None:
                return None
            takings = needed
        return self.exchange.break_even_fen(takings)

    # -- scouting, licensing, processing --------------------------------------------------
    def trade_in_data(self) -> Generator[simpy.Event, Any, None]:
        """Process: from ``scout_after_days``, every ``scout_every_days`` look for data worth
        improving, until the broker has made its ``products``; each product bundles
        ``sources_per_product`` sources of one category."""
        env, spec = self.exchange.env, self.spec
        products = max(0, round(spec.products.sample(self.rng)))
        yield env.timeout(spec.scout_after_days)
        while self.products_made < products:
            wanted = max(1, round(spec.sources_per_product.sample(self.rng)))
            first = self.choose_source()
            if first is not None:
                bundle = [first]
                while len(bundle) < wanted:
                    more = self.choose_source(first.listing, {o.listing for o in bundle})
                    if more is None:
                        break
                    bundle.append(more)
                yield env.process(self.derive_from(bundle))
            yield env.timeout(spec.scout_every_days)

    def choose_source(
        self, like: str | None = None, chosen: set[str] | None = None
    ) -> Offer | None:
        """Among certified offers of its categories (``like``'s alone, for a bundle's further
        sources), downloadable at a posted price it can afford, not its own, not already
        licensed or ``chosen``, the ``SHORTLIST`` with the most room for improvement (lowest
        quality, then cheapest); one of them at random."""
        exchange, spec = self.exchange, self.spec
        budget = math.floor(exchange.balance(self.identity.id) * spec.budget_share)
        ceiling = 100 - round(spec.quality_gain_pct.mean())
        categories = [exchange.listings[like].spec.category] if like else spec.categories
        skip = self.licensed | (chosen or set())
        candidates = []
        for category in categories:
            for offer in exchange.offers(category):
                if (
                    offer.certified
                    and offer.provider != self.identity.id
                    and offer.listing not in skip
                    and offer.price_fen <= budget
                    and offer.quality_pct < ceiling
                    and self._posted_download(offer)
                ):
                    candidates.append(offer)
        if not candidates:
            return None
        candidates.sort(key=lambda o: (o.quality_pct, o.price_fen, o.listing))
        shortlist = candidates[:SHORTLIST]
        return shortlist[int(self.rng.random() * len(shortlist))]

    def _posted_download(self, offer: Offer) -> bool:
        exchange = self.exchange
        listing = exchange.listings[offer.listing]
        if listing.derived or "download" not in listing.spec.delivery_modes:
            return False  # a broker processes raw data it can take away
        view = exchange.trading.view(listing)
        return view.kind != "bilateral" and not view.menu

    def planned_margin_fen(self, bundle: Sequence[Offer]) -> int:
        """What the broker expects a product from ``bundle`` to leave it: its expected sales
        at the sources' prices together, raised by the quality gain, less fee and the royalty
        pool, less the licences and the processing."""
        spec, exchange = self.spec, self.exchange
        gain = spec.quality_gain_pct.mean()
        quality = max(1, max(offer.quality_pct for offer in bundle))
        paid = sum(offer.price_fen for offer in bundle)
        price = round(paid * min(100, quality + gain) / quality)
        takings = price - apply_bp(price, exchange.supplier_fee_bp)
        takings -= apply_bp(takings, spec.royalty_bp)
        size_mb = sum(exchange.listings[offer.listing].spec.size_mb for offer in bundle)
        return spec.expected_sales * takings - paid - self._processing_fen(size_mb)

    def _processing_fen(self, size_mb: int) -> int:
        return -(-size_mb * self.spec.processing_fen_per_gb // MB_PER_GB)

    def derive_from(self, bundle: Sequence[Offer]) -> Generator[simpy.Event, Any, None]:
        """Process: join if need be, buy a licence of each source, share the royalty pool
        among them by Shapley value, register the licences, process, list."""
        exchange, spec = self.exchange, self.spec
        margin = self.planned_margin_fen(bundle)
        if margin <= 0:
            return
        until = exchange.member_until(self.identity.id)
        if (until is None or until <= exchange.now_s()) and (
            exchange.membership_fee_fen > margin or not exchange.join(self.identity, margin)
        ):
            return  # membership costs more than the product is expected to bring
        bought: list[ContractState] = []
        for offer in bundle:
            contract = yield exchange.env.process(self._buy_source(offer, margin))
            if contract is not None:
                bought.append(contract)
        if not bought:
            return
        sources = [contract.listing.spec for contract in bought]
        sharing = share_bundle(
            [source.quality_pct for source in sources],
            self.rng,
            rule=spec.revenue_sharing,
            permutations=spec.shapley_permutations,
            delta=spec.shapley_delta,
        )
        licensed: list[tuple[ContractState, LicenceState]] = []
        for contract, share in zip(bought, sharing.shares, strict=True):
            terms = SharingTerms.of(spec.royalty_bp, share, sharing, len(bought))
            licence = exchange.rights.license(
                self.identity, contract, terms.royalty_bp, spec.licence_days, terms
            )
            if licence is not None:
                licensed.append((contract, licence))
        if not licensed:
            return
        yield exchange.env.timeout(spec.processing_days.sample(self.rng))
        self.products_made += 1
        paid = sum(contract.price_fen for contract in bought)
        product = self.derived_dataset([c.listing.spec for c, _ in licensed], paid)
        licences = tuple(licence for _, licence in licensed)
        if product is not None:
            yield exchange.env.process(self.launch(product, licences))

    def _buy_source(
        self, offer: Offer, margin: int
    ) -> Generator[simpy.Event, Any, ContractState | None]:
        """Process: buy a download licence of ``offer`` at its price; the contract once its
        data is delivered, else None."""
        exchange, spec = self.exchange, self.spec
        source = exchange.listings[offer.listing]
        self.licensed.add(offer.listing)
        order = Order(
            buyer=self.identity.id,
            listing=offer.listing,
            licence="download",
            duration_days=spec.licence_days,
            destination=source.spec.origin,
            value_fen=offer.price_fen + margin,
            price_fen=offer.price_fen,
        )
        contract = yield exchange.env.process(
            exchange.trading.purchase(order, spec.scout_every_days)
        )
        if contract is None:
            return None
        outcome = yield contract.finished
        return contract if outcome == "delivered" else None

    def derived_dataset(self, sources: Sequence[DatasetSpec], paid_fen: int) -> DatasetSpec | None:
        """The product: the first source's people and origin, the strictest class of any
        source, the sources' size together, the best quality raised by the processing, the
        delivery modes and use scenarios every source allows (None if no use is left),
        exported by the broker; its unit cost the licences and processing over the sales the
        broker expects."""
        spec = self.spec
        first = sources[0]
        gain = round(spec.quality_gain_pct.sample(self.rng))
        size_mb = sum(source.size_mb for source in sources)
        outlay = paid_fen + self._processing_fen(size_mb)
        named = [set(source.permitted_uses) for source in sources if source.permitted_uses]
        uses = tuple(sorted(set.intersection(*named))) if named else ()
        if named and not uses:
            return None  # no use every source's licence allows: nothing to sell
        modes = tuple(
            m for m in first.delivery_modes if all(m in s.delivery_modes for s in sources)
        )
        return DatasetSpec(
            dataset=f"{self.identity.id}/X{self.products_made:03d}",
            category=first.category,
            size_mb=size_mb,
            records=sum(source.records for source in sources),
            pi_subjects=first.pi_subjects,
            sensitive_pi_subjects=first.sensitive_pi_subjects,
            classification=max((s.classification for s in sources), key=_CLASS_ORDER.index),
            origin=first.origin,
            quality_pct=min(100, max(source.quality_pct for source in sources) + gain),
            unit_cost_fen=max(1, -(-outlay // spec.expected_sales)),
            subjects_from=first.subjects_from,
            ftz_negative_list=any(source.ftz_negative_list for source in sources),
            transit_only=first.transit_only,
            government_related=any(source.government_related for source in sources),
            us_category=first.us_category,
            exporter=self.exporter,
            delivery_modes=modes,
            permitted_uses=uses,  # a licence passes on its data's scope
        )
