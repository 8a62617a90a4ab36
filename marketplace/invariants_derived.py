"""Invariant 6: every derived product traces to certified parents, and pays them.

A data merchant's product stands on the rights of the data it was made from. Re-derived from the
ledger alone: each licence (``rights.licence``) licenses a processing-use certificate that an
approved decision issued; each approved ``derived`` registration cites as parents only
certificates licensed to its applicant, under licences in their term whose parent certificate had
not ended; no derived product is delivered once one of its licences has ended (data moved after
its term, or after its parent certificate was revoked or cancelled); and every delivered sale of a
derived product pays each of its licences the royalty the licence set, once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from marketplace.entries import (
    CertificateDecision,
    Contract,
    RightsApplication,
    RightsLicence,
    RightsTransfer,
    Royalty,
    Settlement,
)
from marketplace.entries_rights import LICENSED_RIGHT
from marketplace.money import apply_bp

__all__ = ["DERIVED", "DerivedCheck"]

DERIVED = "derived-products-trace"
_ENDING = frozenset({"rights.revocation", "rights.cancellation"})


@dataclass(frozen=True, slots=True)
class _Licence:
    certificate: str
    licensee: str
    royalty_bp: int
    valid_from: int
    valid_until: int


class DerivedCheck:
    """Fed every entry in seq order; ``offences`` names the first breaches."""

    def __init__(self) -> None:
        self.processing_use: dict[str, str] = {}  # issued processing-use certificate -> holder
        self.ended: dict[str, int] = {}  # certificate -> when it was revoked or cancelled
        self.licences: dict[str, _Licence] = {}
        self.applications: dict[str, tuple[str, tuple[str, ...]]] = {}  # -> listing, licences
        self.derived: dict[str, tuple[str, ...]] = {}  # approved derived listing -> licences
        self.sales: dict[str, str] = {}  # contract of a derived product -> its listing
        self.owed: dict[tuple[str, str], int] = {}  # (contract, licence) -> royalty due
        self.deliveries = 0
        self.royalties = 0
        self.offences: list[str] = []

    def _offence(self, text: str) -> None:
        if len(self.offences) < 3:
            self.offences.append(text)

    def in_force(self, licence: _Licence, at: int) -> bool:
        ended = self.ended.get(licence.certificate)
        in_term = licence.valid_from <= at < licence.valid_until
        return in_term and (ended is None or ended > at)

    def feed(self, seq: int, time: int, kind: str, actor: str, body: Mapping[str, Any]) -> None:
        if kind == "rights.decision":
            self._decision(seq, time, CertificateDecision.model_validate(body))
        elif kind == "rights.transfer":
            for issued in RightsTransfer.model_validate(body).certificates:
                if issued.right == LICENSED_RIGHT:
                    self.processing_use[issued.certificate] = issued.holder
        elif kind in _ENDING:
            certificate = body.get("certificate")
            if isinstance(certificate, str):
                self.ended.setdefault(certificate, time)
        elif kind == "rights.licence":
            granted = RightsLicence.model_validate(body)
            if self.processing_use.get(granted.certificate) != granted.licensor:
                self._offence(
                    f"seq {seq} licence {granted.licence}: {granted.certificate} is no "
                    f"{LICENSED_RIGHT} certificate issued to {granted.licensor}"
                )
            self.licences[granted.licence] = _Licence(
                granted.certificate,
                granted.licensee,
                granted.royalty_bp,
                granted.valid_from,
                granted.valid_until,
            )
        elif kind == "rights.application":
            applied = RightsApplication.model_validate(body)
            if applied.registration == "derived":
                self.applications[applied.application] = (applied.listing, tuple(applied.licences))
        elif kind == "trade.contract":
            contract = Contract.model_validate(body)
            if contract.listing in self.derived:
                self.sales[contract.contract] = contract.listing
        elif kind == "operation.settlement":
            self._settlement(seq, Settlement.model_validate(body))
        elif kind == "operation.royalty":
            paid = Royalty.model_validate(body)
            due = self.owed.pop((paid.contract, paid.licence), None)
            if due is None:
                self._offence(
                    f"seq {seq}: a royalty on {paid.contract} under {paid.licence} that no "
                    "delivered derived sale owed (or paid twice)"
                )
            elif due != paid.royalty_fen:
                self._offence(
                    f"seq {seq}: royalty on {paid.contract} under {paid.licence} is "
                    f"{paid.royalty_fen} fen, the licence gives {due} fen"
                )
            self.royalties += 1

    def _decision(self, seq: int, time: int, decision: CertificateDecision) -> None:
        if not decision.approved:
            return
        for issued in decision.certificates:
            if issued.right == LICENSED_RIGHT:
                self.processing_use[issued.certificate] = issued.holder
        applied = self.applications.pop(decision.application, None)
        if applied is None:
            return
        listing, names = applied
        licensed: set[str] = set()
        for name in names:
            licence = self.licences.get(name)
            if licence is None or not self.in_force(licence, time):
                self._offence(
                    f"seq {seq} {listing}: approved under licence {name}, which was not in force"
                )
                return
            licensed.add(licence.certificate)
        for issued in decision.certificates:
            stray = set(issued.parents) - licensed
            if not issued.parents or stray:
                self._offence(
                    f"seq {seq} {issued.certificate}: its parents {issued.parents} are not the "
                    f"certificates it was licensed ({sorted(licensed)})"
                )
                return
        self.derived[listing] = names

    def _settlement(self, seq: int, settlement: Settlement) -> None:
        for name, sold in self._unpaid_cycle():
            self._offence(f"seq {seq}: a sale of {sold} never paid licence {name} its royalty")
        for item in settlement.items:
            listing = self.sales.get(item.contract)
            if listing is None or item.outcome != "delivered":
                continue
            self.deliveries += 1
            for name in self.derived[listing]:
                licence = self.licences[name]
                if not self.in_force(licence, item.moved_at):
                    self._offence(
                        f"seq {seq} contract {item.contract}: {listing} moved at "
                        f"{item.moved_at} s, after its licence {name} ended"
                    )
                self.owed[(item.contract, name)] = apply_bp(
                    item.to_provider_fen, licence.royalty_bp
                )

    def _unpaid_cycle(self) -> list[tuple[str, str]]:
        """Royalties the last cycle owed and did not pay (they are paid right after it)."""
        unpaid = [(name, self.sales[contract]) for contract, name in self.owed]
        self.owed.clear()
        return unpaid

    def finish(self) -> None:
        """At the end of the log: the last cycle's royalties must have been paid too."""
        for name, listing in self._unpaid_cycle():
            self._offence(f"a sale of {listing} never paid licence {name} its royalty")

    def summary(self) -> str:
        return (
            f"{len(self.licences)} licences, {len(self.derived)} derived products, each "
            f"certified under licensed parents; {self.deliveries} derived deliveries within "
            f"their licences, {self.royalties} royalties paid as licensed"
        )
