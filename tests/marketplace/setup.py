"""Builders for marketplace tests: a small exchange over a fresh ledger, and its ledger read back.

``market(tmp_path)`` wires an exchange the way ``scenarios.build`` does (log identity, operator,
one stream per stage) with exact, failure-free stages and no membership fee, and admits a cast:
two providers, two buyers (members from the start) and an assessor. ``Market.facts(kind)``
flushes the ledger and returns the entries of that kind as written, with bodies parsed by their
``marketplace.entries`` model.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import simpy
from pydantic import BaseModel

from ledger import Identity, Ledger, parse_leaf
from ledger.entry import signing_input
from marketplace.config import (
    ExchangeConfig,
    FeeSchedule,
    OperationConfig,
    StorageConfig,
    TradingConfig,
)
from marketplace.crossborder_hook import TransferGate
from marketplace.distributions import Constant
from marketplace.entries import AUTHORIZATION, BODY_MODELS
from marketplace.exchange import SECONDS_PER_DAY, Exchange
from marketplace.pricing import PostedPrice, PricingMechanism
from marketplace.state import DatasetSpec, LicenceState, ListingState, Order
from tests.keys import test_identity

__all__ = [
    "DAY",
    "ENDOWMENT",
    "SEED",
    "Fact",
    "Market",
    "dataset",
    "exact_config",
    "market",
    "order",
]

SEED = 7
DAY = SECONDS_PER_DAY
ENDOWMENT = 1_000_000


def exact_config(**stages: Any) -> ExchangeConfig:
    """Constant service times, no failures, no membership fee; pass a stage config to override."""
    base: dict[str, Any] = {
        "fees": FeeSchedule(membership_fee_fen=0),
        "storage": StorageConfig(capacity=4, ingest_days=Constant(value=0.0)),
        "trading": TradingConfig(capacity=4, matching_days=Constant(value=0.0)),
        "operation": OperationConfig(
            download_mb_per_day=1_000,
            api_setup_days=Constant(value=1.0),
            compute_setup_days=Constant(value=2.0),
            download_failure_bp=0,
            api_failure_bp=0,
            compute_failure_bp=0,
        ),
    }
    return ExchangeConfig(**(base | stages))


def dataset(**fields: Any) -> DatasetSpec:
    """A domestic, general, 500 MB dataset costing 1,000 fen a licence; override any field."""
    base = DatasetSpec(
        dataset="ds-1",
        category="mobility",
        size_mb=500,
        records=2_500_000,
        pi_subjects=0,
        sensitive_pi_subjects=0,
        classification="general",
        origin="CN",
        quality_pct=80,
        unit_cost_fen=1_000,
    )
    return replace(base, **fields)


def order(buyer: Identity, listing: ListingState, /, **fields: Any) -> Order:
    seen = listing.price_fen if listing.price_fen is not None else 0
    base = Order(buyer.id, listing.listing, "download", 30, "CN", value_fen=5_000, price_fen=seen)
    return replace(base, **fields)


@dataclass(frozen=True)
class Fact:
    """One ledger entry as stored, with its body parsed by the entry kind's model."""

    seq: int
    time: int
    kind: str
    actor: str
    body: Any
    signers: tuple[str, ...]
    sigs: tuple[bytes, ...]
    statement: bytes


@dataclass
class Market:
    env: simpy.Environment
    ledger: Ledger
    exchange: Exchange
    url: str
    operator: Identity
    provider: Identity
    rival: Identity
    buyer: Identity
    buyer2: Identity
    assessor: Identity

    def facts(self, kind: str | None = None) -> list[Fact]:
        """The entries written so far (of ``kind``, if given), in seq order."""
        self.ledger.flush()
        found = []
        for rows in self.ledger.store.iter_rows():
            for _seq, _time, row_kind, _actor, leaf in rows:
                if kind is not None and row_kind != kind:
                    continue
                parsed = parse_leaf(leaf)
                model: type[BaseModel] | None = BODY_MODELS.get(row_kind)
                body = parsed.body if model is None else model.model_validate(parsed.body)
                found.append(
                    Fact(
                        parsed.seq,
                        parsed.time,
                        parsed.kind,
                        parsed.actor,
                        body,
                        tuple(signer for signer, _ in parsed.sigs),
                        tuple(sig for _, sig in parsed.sigs),
                        parsed.statement,
                    )
                )
        return found

    def verifies(self, fact: Fact, signer: Identity) -> bool:
        """Does ``signer``'s signature on ``fact`` verify over the log's signing input?"""
        message = signing_input(self.ledger.origin.encode(), fact.statement)
        sig = dict(zip(fact.signers, fact.sigs, strict=True)).get(signer.id)
        return sig is not None and signer.public.verify(sig, message)

    def run(self, process: Generator[simpy.Event, Any, Any]) -> Any:
        """Run ``process`` to its end and return its value."""
        return self.env.run(until=self.env.process(process))

    def offer(
        self,
        spec: DatasetSpec | None = None,
        price_fen: int = 1_500,
        *,
        certified: bool = True,
        provider: Identity | None = None,
        mechanism: PricingMechanism | None = None,
        licences: tuple[LicenceState, ...] = (),
    ) -> ListingState:
        """List, post ``price_fen`` and (if ``certified``) approve the rights, all right now.

        Certifying takes the next application from the rights queue: call it with none waiting.
        """
        who = provider or self.provider
        exchange = self.exchange
        listing: ListingState = self.run(
            exchange.storage.list_dataset(who, spec or dataset(), licences)
        )
        exchange.pricing.quote(who, listing, mechanism or PostedPrice(floor_bp=0), price_fen)
        if certified:
            exchange.rights.apply(who, listing)
            taken = exchange.rights.next_application()  # the queue holds it: taken at once
            exchange.rights.review(self.assessor, taken.value, True, ["test approval"], 0.0)
        return listing


def market(
    tmp_path: Path,
    config: ExchangeConfig | None = None,
    gate: TransferGate | None = None,
    *,
    endowment_fen: int = ENDOWMENT,
    provider_endowment_fen: int = 0,
    join: bool = True,
) -> Market:
    """A fresh exchange at t=0 with its cast admitted (buyers hold ``endowment_fen`` each and,
    with ``join``, are members from the start)."""
    env = simpy.Environment()
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = Ledger.create(url, test_identity(SEED, "dxsim-log", "log"), AUTHORIZATION)
    operator = test_identity(SEED, "exchange-operator", "operator")
    seeds = np.random.SeedSequence(SEED).spawn(3)
    streams = {
        name: np.random.default_rng(seed)
        for name, seed in zip(("storage", "trading", "operation"), seeds, strict=True)
    }
    exchange = Exchange(env, ledger, operator, config or exact_config(), streams, gate=gate)
    exchange.admit(operator, 0)
    cast = {
        "provider": test_identity(SEED, "provider-a", "provider"),
        "rival": test_identity(SEED, "provider-b", "provider"),
        "buyer": test_identity(SEED, "buyer-a", "buyer"),
        "buyer2": test_identity(SEED, "buyer-b", "buyer"),
        "assessor": test_identity(SEED, "assessor-a", "assessor"),
    }
    for who in cast.values():
        funds = endowment_fen if who.role == "buyer" else 0
        exchange.admit(who, provider_endowment_fen if who.role == "provider" else funds)
        if who.role == "buyer" and join:
            exchange.join(who, expected_surplus_fen=0)
    return Market(env, ledger, exchange, url, operator, **cast)
