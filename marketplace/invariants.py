"""The invariants every run checks (DESIGN.md §6's five, and a sixth for derived products),
each re-derived from the ledger alone.

A study's claims rest on its ledger, so the checks read nothing but ``ledger.db`` (plus, for the
money check, optionally the simulator's in-memory balances to compare against, and for
reproducibility the root of a second run). One streaming pass feeds every entry to the metrics
fold and to small checkers; the audit makes its own pass, because it verifies signatures and may
stop at the first bad entry while the other checks should still see the whole log.

Each failing result names the first offending seq and contract, so a reader can go straight to
the entry with ``dxsim replay``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from ledger import LedgerError, MerkleTree, Store, StoreError, audit, parse_leaf
from ledger.audit import VerifiedAtAppend
from ledger.merkle import leaf_hash
from marketplace.approvals import ApprovalSpans
from marketplace.authorship import market_rules
from marketplace.entries import (
    ESCROW_ACCOUNT,
    EXCHANGE_ACCOUNT,
    CertificateDecision,
    ClearanceDecision,
    Contract,
    RightsTransfer,
    Settlement,
)
from marketplace.entries_rights import TRADING_RIGHT
from marketplace.errors import MarketError
from marketplace.invariants_derived import DERIVED, DerivedCheck
from marketplace.invariants_money import MoneyStatement
from marketplace.metrics import LedgerFold, Metrics

__all__ = [
    "CERTIFIED",
    "CROSSBORDER",
    "DERIVED",
    "ENTRIES_VERIFY",
    "LIVE_BALANCES_NOTE",
    "MONEY",
    "REVOCATION_KIND",
    "RUN_ONLY_NOTES",
    "SAME_ROOT",
    "VERIFIED_ONCE_NOTE",
    "InvariantResult",
    "RunCheck",
    "check_and_fold",
    "check_invariants",
]

ENTRIES_VERIFY = "entries-verify"
MONEY = "money-conserved"
CERTIFIED = "certified-trades-only"
CROSSBORDER = "crossborder-mechanisms"
SAME_ROOT = "same-seed-same-root"
#: What the money invariant adds when the run's live balances were compared too (only the run
#: itself can: ``dxsim check``, re-deriving from the ledger alone, compares without it).
LIVE_BALANCES_NOTE = "; live balances match"
#: What invariant 1 adds when the run checked its own ledger and so verified each signature
#: once, as it was appended (``dxsim check`` verifies every signature from the ledger alone).
VERIFIED_ONCE_NOTE = "; each signature verified once, as its entry was appended"
#: The notes only the run itself can add, by invariant: ``dxsim check`` drops them before it
#: compares a stored detail with the one it re-derives from the ledger alone.
RUN_ONLY_NOTES = {MONEY: LIVE_BALANCES_NOTE, ENTRIES_VERIFY: VERIFIED_ONCE_NOTE}
#: The kinds that end a certificate before its term (a body naming ``certificate``).
REVOCATION_KIND = "rights.revocation"
ENDING_KINDS = frozenset({REVOCATION_KIND, "rights.cancellation"})


@dataclass(frozen=True)
class InvariantResult:
    """One invariant's verdict; ``detail`` says what was checked, or the first offence.

    ``checked`` is False when the invariant could not be judged here (reproducibility without
    a second run): it breaks nothing, and is reported as "not checked", never as "ok".
    """

    name: str
    ok: bool
    detail: str
    checked: bool = True

    @property
    def status(self) -> str:
        """``ok``, ``FAIL`` or ``not checked``: what a report prints before the name."""
        if not self.checked:
            return "not checked"
        return "ok" if self.ok else "FAIL"


class _Offences:
    """The first offence verbatim (it is where a reader starts) and how many there were."""

    def __init__(self) -> None:
        self.first: str | None = None
        self.count = 0

    def add(self, text: str) -> None:
        self.count += 1
        if self.first is None:
            self.first = text

    def result(self, name: str, passed: str) -> InvariantResult:
        if self.first is None:
            return InvariantResult(name, True, passed)
        more = f" (and {self.count - 1} more)" if self.count > 1 else ""
        return InvariantResult(name, False, self.first + more)


class _MoneyCheck:
    """Settlements against their contracts, and escrow after every entry the fold has taken.

    The fold moves money as the ledger says; this checker asks whether what it says is right:
    a delivered item pays out exactly the price (provider share + fee + the partial refund an
    upheld dispute ruled, if any), a failed one refunds exactly the price, no contract settles
    twice or without existing, escrow never dips below 0.
    """

    def __init__(self, fold: LedgerFold) -> None:
        self.fold = fold
        self.prices: dict[str, int] = {}
        self.fees: dict[str, int] = {}
        self.settled: set[str] = set()
        self.rulings: dict[str, int] = {}  # contract -> the partial refund an upheld ruling set
        self.items = 0
        self.escrow_negative = False
        self.offences = _Offences()

    def feed(self, seq: int, time: int, kind: str, actor: str, body: Mapping[str, Any]) -> None:
        if kind == "trade.contract":
            contract = Contract.model_validate(body)
            self.prices[contract.contract] = contract.price_fen
            self.fees[contract.contract] = contract.supplier_fee_fen
            paid_from = self.fold.balances.get(contract.buyer, 0)
            if paid_from < 0:
                self.offences.add(
                    f"seq {seq} contract {contract.contract}: buyer {contract.buyer} balance "
                    f"went negative: {paid_from} fen"
                )
        elif kind == "operation.ruling" and body.get("upheld"):
            self.rulings[str(body["contract"])] = int(body["refund_fen"])
        elif kind == "operation.settlement":
            for item in Settlement.model_validate(body).items:
                self.items += 1
                price = self.prices.get(item.contract)
                where = f"seq {seq} contract {item.contract}"
                if price is None:
                    self.offences.add(f"{where}: settled, but no such contract was signed")
                    continue
                if item.contract in self.settled:
                    self.offences.add(f"{where}: settled a second time")
                self.settled.add(item.contract)
                paid = item.to_provider_fen + item.fee_fen + item.refund_fen
                ruled = self.rulings.get(item.contract, 0)
                if item.outcome == "delivered" and paid != price:
                    self.offences.add(
                        f"{where}: delivered, to_provider {item.to_provider_fen} + fee "
                        f"{item.fee_fen} + refund {item.refund_fen} = {paid} fen != price "
                        f"{price} fen"
                    )
                elif item.outcome == "delivered" and item.refund_fen != ruled:
                    self.offences.add(
                        f"{where}: delivered with a refund of {item.refund_fen} fen, but the "
                        f"ruling on its dispute refunds {ruled} fen"
                    )
                elif item.outcome == "delivered" and (
                    item.fee_fen > self.fees[item.contract]
                    or (item.refund_fen == 0 and item.fee_fen != self.fees[item.contract])
                ):
                    self.offences.add(
                        f"{where}: fee {item.fee_fen} fen != the contract's supplier fee "
                        f"{self.fees[item.contract]} fen"
                    )
                elif item.outcome != "delivered" and item.refund_fen != price:
                    self.offences.add(
                        f"{where}: {item.outcome}, refund {item.refund_fen} fen != price "
                        f"{price} fen"
                    )
        escrow = self.fold.balances[ESCROW_ACCOUNT]
        if escrow < 0 and not self.escrow_negative:
            self.offences.add(f"seq {seq} ({kind}): escrow balance went negative: {escrow} fen")
        self.escrow_negative = escrow < 0


@dataclass(frozen=True, slots=True)
class _Certificate:
    listing: str
    valid_from: int
    valid_until: int
    seq: int


class _CertificateCheck:
    """No trade without a valid three-rights certificate at trade time (§6.3), and no delivery
    under an ended one: data moves only while the listing holds a product-operation certificate
    in force, and no delivery completes after the contract's certificate was revoked or
    cancelled."""

    def __init__(self) -> None:
        self.issued: dict[str, _Certificate] = {}
        self.by_listing: dict[str, list[str]] = {}  # listing -> its trading certificates
        self.revoked: dict[str, tuple[int, int]] = {}  # certificate -> seq, time it ended
        self.under: dict[str, str] = {}  # contract -> the certificate it was signed under
        self.contracts = 0
        self.deliveries = 0
        self.offences = _Offences()

    def feed(self, seq: int, time: int, kind: str, actor: str, body: Mapping[str, Any]) -> None:
        if kind == "rights.decision":
            decision = CertificateDecision.model_validate(body)
            if decision.approved and decision.certificate is not None:
                self.issued[decision.certificate] = _Certificate(
                    decision.listing, decision.valid_from, decision.valid_until, seq
                )
                self.by_listing.setdefault(decision.listing, []).append(decision.certificate)
        elif kind == "rights.transfer":
            moved = RightsTransfer.model_validate(body)
            for issued in moved.certificates:
                if issued.right == TRADING_RIGHT:
                    self.issued[issued.certificate] = _Certificate(
                        moved.listing, issued.valid_from, issued.valid_until, seq
                    )
                    self.by_listing.setdefault(moved.listing, []).append(issued.certificate)
        elif kind in ENDING_KINDS:
            certificate = body.get("certificate")
            if isinstance(certificate, str):
                self.revoked.setdefault(certificate, (seq, time))
        elif kind == "trade.contract":
            contract = Contract.model_validate(body)
            self.contracts += 1
            self.under[contract.contract] = contract.certificate
            problem = self._problem(contract, time)
            if problem is not None:
                self.offences.add(f"seq {seq} contract {contract.contract}: {problem}")
        elif kind == "operation.settlement":
            for item in Settlement.model_validate(body).items:
                if item.outcome == "delivered" and item.contract in self.under:
                    self.deliveries += 1
                    problem = self._delivery_problem(
                        item.contract, item.moved_at, item.delivered_at
                    )
                    if problem is not None:
                        self.offences.add(f"seq {seq} contract {item.contract}: {problem}")

    def _problem(self, contract: Contract, time: int) -> str | None:
        name = contract.certificate
        certificate = self.issued.get(name)
        if certificate is None:
            return f"certificate {name!r} was not issued by any earlier approved rights.decision"
        if certificate.listing != contract.listing:
            return (
                f"certificate {name} (seq {certificate.seq}) is for listing "
                f"{certificate.listing}, not {contract.listing}"
            )
        if not certificate.valid_from <= time < certificate.valid_until:
            return (
                f"signed at {time} s, outside certificate {name}'s validity "
                f"[{certificate.valid_from}, {certificate.valid_until}) s"
            )
        if name in self.revoked:
            return f"certificate {name} was revoked at seq {self.revoked[name][0]}"
        return None

    def _delivery_problem(self, contract: str, moved_at: int, delivered_at: int) -> str | None:
        name = self.under[contract]
        certificate = self.issued.get(name)
        if certificate is None:
            return None  # the contract check has named it
        # the certificate it was signed under, or the change that superseded it by then
        chain = [
            c
            for c in self.by_listing.get(certificate.listing, ())
            if self.issued[c].valid_from <= delivered_at
        ]
        for latest in (name,) if not chain or chain[-1] == name else (name, chain[-1]):
            ended = self.revoked.get(latest)
            if ended is not None and ended[1] <= delivered_at:
                return (
                    f"delivered at {delivered_at} s, after certificate {latest} ended "
                    f"(seq {ended[0]})"
                )
        in_force = [
            self.issued[c]
            for c in self.by_listing.get(certificate.listing, ())
            if self.issued[c].valid_from <= moved_at < self.issued[c].valid_until
            and (c not in self.revoked or self.revoked[c][1] > moved_at)
        ]
        if not in_force:
            return (
                f"data moved at {moved_at} s while {certificate.listing} held no "
                "product-operation certificate in force"
            )
        return None


class _MechanismCheck:
    """No cross-border delivery without the mechanisms its policy required (§6.4).

    A contract lists its requirements (one per pack that asked for one; any mechanism of a
    requirement meets it). Its delivered settlement item must show, for every requirement, an
    approval recorded before it (a ``crossborder.decision`` that approved a mechanism of that
    requirement for the contract's provider and buyer) that was valid when data began to move.
    Failed deliveries and cancelled contracts moved no data.
    """

    def __init__(self) -> None:
        self.required: dict[str, tuple[str, str, tuple[tuple[str, ...], ...]]] = {}
        self.approvals = ApprovalSpans()
        self.deliveries = 0
        self.offences = _Offences()

    def feed(self, seq: int, time: int, kind: str, actor: str, body: Mapping[str, Any]) -> None:
        if kind == "trade.contract":
            contract = Contract.model_validate(body)
            if contract.requirements:
                groups = tuple(tuple(r.any_of) for r in contract.requirements)
                self.required[contract.contract] = (contract.provider, contract.buyer, groups)
        elif kind == "crossborder.decision":
            done = ClearanceDecision.model_validate(body)
            if done.approved:
                self.approvals.add(
                    done.exporter, done.recipient, done.mechanism, done.valid_from, done.valid_until
                )
        elif kind == "operation.settlement":
            for item in Settlement.model_validate(body).items:
                required = self.required.get(item.contract)
                if item.outcome != "delivered" or required is None:
                    continue
                self.deliveries += 1
                provider, buyer, groups = required
                for any_of in groups:
                    if self.approvals.meeting(provider, buyer, any_of, item.moved_at) is None:
                        self.offences.add(
                            f"seq {seq} contract {item.contract}: data moved at "
                            f"{item.moved_at} s without a valid approval of any of "
                            f"{list(any_of)} for {provider} -> {buyer}"
                        )
                        break


def check_invariants(
    target: str | Path | Store,
    *,
    expected_root: bytes | None = None,
    live_balances: Mapping[str, int] | None = None,
    threads: int = 2,
) -> list[InvariantResult]:
    """The invariants of DESIGN.md §6 on the ledger at ``target`` (:func:`check_and_fold`
    without the metrics)."""
    checked = check_and_fold(
        target, expected_root=expected_root, live_balances=live_balances, threads=threads
    )
    return checked.invariants


@dataclass(frozen=True)
class RunCheck:
    """The invariants of a ledger and the metrics folded in the same pass over it; ``metrics``
    is None when that pass stopped on an error (an entry that does not parse or fold, or a
    store that cannot be read): ``marketplace.metrics.fold`` then names it."""

    invariants: list[InvariantResult]
    metrics: Metrics | None


def check_and_fold(
    target: str | Path | Store,
    *,
    expected_root: bytes | None = None,
    live_balances: Mapping[str, int] | None = None,
    threads: int = 2,
    verified_at_append: VerifiedAtAppend | None = None,
) -> RunCheck:
    """Check the five invariants of DESIGN.md §6 on the ledger at ``target``, and fold its
    metrics on the same pass (a run would otherwise read its whole ledger once more for them).

    Args:
        target: a run directory, ledger file, SQLAlchemy URL or open :class:`ledger.Store`.
        expected_root: the final Merkle root of a second run of the same scenario and seed;
            without it the reproducibility invariant is reported as not checked (it breaks
            nothing): only the caller can make a second run.
        live_balances: the simulator's in-memory accounts at the end of the run; they must equal
            the balances folded from the ledger, to the fen.
        threads: threads for the audit's signature checks (1 when the caller already keeps
            every core busy, as a sweep running replications side by side does).
        verified_at_append: the size and root of the log whose signatures the caller's ledger
            verified as it appended them (a run checking its own ledger): each signature is
            then verified once, not twice, as long as the stored leaves hash to that root
            (:class:`ledger.audit.VerifiedAtAppend`).

    Returns:
        One result per invariant, in the order of DESIGN.md §6, then invariant 6: derived
        products trace to certified parents (:mod:`marketplace.invariants_derived`); and the
        metrics :func:`marketplace.metrics.fold` would give.

    Raises:
        ledger.StoreError: the target is not a readable dxsim ledger.
    """
    store = target if isinstance(target, Store) else Store(target)
    try:
        report = audit(
            store, domain=market_rules, threads=threads, verified_at_append=verified_at_append
        )
        scan = _Scan()
        scan.run(store)
    finally:
        if store is not target:
            store.close()
    detail = report.summary()
    kept = verified_at_append is not None and (report.entries, report.root) == (
        verified_at_append.size,
        verified_at_append.root,
    )
    if kept and report.ok:  # else every signature was verified after all
        detail += VERIFIED_ONCE_NOTE
    invariants = [
        InvariantResult(ENTRIES_VERIFY, report.ok, detail),
        scan.money(live_balances),
        scan.certified(),
        scan.crossborder(),
        _same_root(scan.tree.root(), expected_root),
        scan.derived_products(),
    ]
    return RunCheck(invariants, scan.fold.metrics() if scan.error is None else None)


class _Scan:
    """One pass over the stored leaves: the Merkle root of all of them, and the checkers' fold."""

    def __init__(self) -> None:
        self.tree = MerkleTree(leaf_hashes=lambda start, end: [])  # root only, no proofs
        self.fold = LedgerFold()
        self.money_check = _MoneyCheck(self.fold)
        self.statement = MoneyStatement()
        self.certificates = _CertificateCheck()
        self.mechanisms = _MechanismCheck()
        self.derived = DerivedCheck()
        self.error: str | None = None

    def run(self, store: Store) -> None:
        # The fold comes first: the money check reads the balances it has just moved.
        consumers = (
            self.fold,
            self.money_check,
            self.statement,
            self.certificates,
            self.mechanisms,
            self.derived,
        )
        try:
            self._fold_rows(store, consumers)
        except StoreError as exc:
            self.error = self.error or str(exc)
        self.derived.finish()

    def _fold_rows(self, store: Store, consumers: tuple[Any, ...]) -> None:
        for rows in store.iter_rows():
            for seq, _time, _kind, _actor, leaf in rows:
                self.tree.append_leaf_hash(leaf_hash(leaf))
                if self.error is not None:
                    continue  # keep hashing: the root covers every stored leaf
                try:
                    entry = parse_leaf(leaf)
                    for consumer in consumers:
                        consumer.feed(entry.seq, entry.time, entry.kind, entry.actor, entry.body)
                except (LedgerError, MarketError, ValidationError) as exc:
                    text = str(exc).splitlines()[0]
                    self.error = text if text.startswith("seq ") else f"seq {seq}: {text}"

    def _unreadable(self, name: str) -> InvariantResult | None:
        if self.error is None:
            return None
        return InvariantResult(name, False, f"cannot fold the ledger: {self.error}")

    def money(self, live_balances: Mapping[str, int] | None) -> InvariantResult:
        unreadable = self._unreadable(MONEY)
        if unreadable is not None:
            return unreadable
        balances = self.fold.balances
        total = sum(balances.values())
        offences = self.money_check.offences
        if total != self.fold.endowments:
            offences.add(f"Σ balances {total} fen != Σ endowments {self.fold.endowments} fen")
        if offences.first is None:  # a named offence above already explains a disagreement
            for difference in self.statement.differences(balances)[:1]:
                offences.add(difference)
        if live_balances is not None:
            for account in sorted(set(balances) | set(live_balances)):
                live, folded = live_balances.get(account), balances.get(account)
                if live != folded:
                    offences.add(
                        f"account {account}: live balance {live} fen, ledger says {folded} fen"
                    )
                    break
        checked = LIVE_BALANCES_NOTE if live_balances is not None else ""
        statement = self.statement
        passed = (
            f"postings and the statement from the facts agree for {len(balances)} accounts "
            f"(escrow {balances[ESCROW_ACCOUNT]} fen = {len(statement.open)} open contracts, "
            f"exchange {balances[EXCHANGE_ACCOUNT]} fen = the fees charged); Σ endowments = "
            f"Σ balances = {total} fen; escrow never negative; {self.money_check.items} "
            f"settlement items pay their contract price and fee; no buyer below zero{checked}"
        )
        return offences.result(MONEY, passed)

    def certified(self) -> InvariantResult:
        count, deliveries = self.certificates.contracts, self.certificates.deliveries
        passed = (
            f"{count} contracts, each under a valid certificate for its listing; {deliveries} "
            "deliveries, none under a certificate that had ended"
        )
        return self._unreadable(CERTIFIED) or self.certificates.offences.result(CERTIFIED, passed)

    def crossborder(self) -> InvariantResult:
        checks = self.mechanisms
        passed = (
            f"{len(checks.required)} contracts required a mechanism; {checks.deliveries} "
            "delivered, each under a valid approval of every requirement"
        )
        return self._unreadable(CROSSBORDER) or checks.offences.result(CROSSBORDER, passed)

    def derived_products(self) -> InvariantResult:
        unreadable = self._unreadable(DERIVED)
        if unreadable is not None:
            return unreadable
        check = self.derived
        if check.offences:
            return InvariantResult(DERIVED, False, "; ".join(check.offences))
        return InvariantResult(DERIVED, True, check.summary())


def _same_root(root: bytes, expected: bytes | None) -> InvariantResult:
    if expected is None:
        return InvariantResult(
            SAME_ROOT, True, "no second run to compare the final root with", checked=False
        )
    if root == expected:
        return InvariantResult(SAME_ROOT, True, f"final root {root.hex()} reproduced")
    return InvariantResult(
        SAME_ROOT, False, f"final root {root.hex()} != root of the second run {expected.hex()}"
    )
