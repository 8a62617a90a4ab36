"""Replay: a ledger read back as a tape of market events, with the state an analyst watches.

The ledger is the single source of truth (DESIGN §1), so a replay is one more fold over it. Each
stored entry becomes a :class:`Tick` — when (sim day), what (kind), who (actor, co-signers),
which dataset, what price, which corridor — and :class:`TapeState` keeps what the panels of the
live view show: stage backlogs, recent contract prices, balances, cross-border flows. With
verification on, ticks come from the audit itself (:func:`ledger.audit`'s ``on_entry``), so a
replay checks every signature, back-link and checkpoint root as entries pass, exactly as
``dxsim verify`` does, and stops at the first bad entry.

This module knows nothing of terminals; ``scenarios/replay_view.py`` draws it.
"""

from __future__ import annotations

import json
import threading
from collections import Counter, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from queue import Queue
from typing import Any

from ledger import AuditReport, Finding, Location, Store, audit, parse_leaf
from ledger.audit_rows import Checked
from marketplace.authorship import market_rules
from marketplace.entries import ESCROW_ACCOUNT, EXCHANGE_ACCOUNT

__all__ = [
    "DAY",
    "Filter",
    "TapeState",
    "Tick",
    "format_tick",
    "read_ticks",
    "tick_of",
    "verified_ticks",
]

DAY = 86_400
_MONEY = ("price_fen", "fee_fen", "endowment_fen")


@dataclass(frozen=True, slots=True)
class Tick:
    """One entry as the tape shows it. ``verified`` is True once checked, None when the replay
    does not verify; ``problem`` names what is wrong with a bad entry."""

    seq: int
    time: int
    kind: str
    actor: str
    signers: tuple[str, ...]
    body: dict[str, Any]
    verified: bool | None = None
    problem: str | None = None

    @property
    def day(self) -> float:
        return self.time / DAY

    @property
    def dataset(self) -> str:
        listing = self.body.get("listing")
        return str(listing) if isinstance(listing, str) else ""

    @property
    def price_fen(self) -> int | None:
        for key in _MONEY:
            value = self.body.get(key)
            if isinstance(value, int) and (value or self.kind != "trade.rejected"):
                return value
        return None

    @property
    def corridor(self) -> str:
        facts = self.body.get("facts")
        if isinstance(facts, dict):
            return f"{facts.get('origin')}-{facts.get('destination')}"
        return ""

    def parties(self) -> set[str]:
        """Every participant the entry names: signers and the body's party fields."""
        named = set(self.signers) | {self.actor}
        for key in ("buyer", "provider", "seller", "trader", "account", "exporter", "recipient"):
            value = self.body.get(key)
            if isinstance(value, str):
                named.add(value)
        return named


def tick_of(entry: Checked) -> Tick:
    return Tick(entry.seq, entry.time, entry.kind, entry.actor, entry.signers, entry.body, True)


@dataclass(frozen=True)
class Filter:
    """Which ticks the tape shows (every tick still feeds the panels)."""

    kinds: tuple[str, ...] = ()
    actor: str | None = None
    dataset: str | None = None
    corridor: str | None = None
    start_day: float | None = None
    end_day: float | None = None
    text: str = ""

    def shows(self, tick: Tick) -> bool:
        if self.kinds and not any(
            tick.kind == k or tick.kind.startswith(k + ".") for k in self.kinds
        ):
            return False
        if self.actor is not None and self.actor not in tick.parties():
            return False
        if self.dataset is not None and not _mentions(tick, self.dataset):
            return False
        if self.corridor is not None and tick.corridor != self.corridor:
            return False
        if self.start_day is not None and tick.day < self.start_day:
            return False
        if self.end_day is not None and tick.day > self.end_day:
            return False
        return not self.text or self.text.lower() in format_tick(tick).lower()


def _mentions(tick: Tick, dataset: str) -> bool:
    return tick.dataset == dataset or tick.body.get("dataset") == dataset


def _money(fen: int | None) -> str:
    if fen is None:
        return ""
    yuan, cents = divmod(fen, 100)
    return f"¥{yuan:,}.{cents:02d}"


def format_tick(tick: Tick) -> str:
    """The plain tape line (``dxsim replay --no-live``): one per entry, fixed columns."""
    mark = {True: "✓", False: "✗", None: " "}[tick.verified]
    cosigners = [s for s in tick.signers if s != tick.actor]
    who = tick.actor + (f" + {', '.join(cosigners)}" if cosigners else "")
    named = sorted(tick.parties() - set(tick.signers) - {tick.actor})
    if named:
        who += f" → {', '.join(named)}"
    line = (
        f"{tick.day:10.3f}  {mark} {tick.seq:>7}  {tick.kind:<24} {who:<36} "
        f"{tick.dataset:<22} {_money(tick.price_fen):>14} {tick.corridor}"
    ).rstrip()
    if tick.problem:
        line += f"  BAD: {tick.problem}"
    return line


@dataclass
class TapeState:
    """What the live view's panels show, folded from every tick (shown or not)."""

    rights_pending: set[str] = field(default_factory=set)
    orders_waiting: set[str] = field(default_factory=set)
    in_delivery: set[str] = field(default_factory=set)
    regulator_queue: set[str] = field(default_factory=set)
    prices: deque[int] = field(default_factory=lambda: deque(maxlen=60))
    balances: Counter[str] = field(default_factory=Counter)
    flows: Counter[str] = field(default_factory=Counter)
    entries: int = 0
    day: float = 0.0
    _parties: dict[str, tuple[str, str]] = field(
        default_factory=dict
    )  # contract -> buyer, provider

    def feed(self, tick: Tick) -> None:
        self.entries += 1
        self.day = tick.day
        body, kind = tick.body, tick.kind
        if kind == "rights.application":
            self.rights_pending.add(body["application"])
        elif kind == "rights.decision":
            self.rights_pending.discard(body["application"])
        elif kind == "trade.order":
            self.orders_waiting.add(body["order"])
        elif kind in ("trade.contract", "trade.rejected", "trade.cancel"):
            self.orders_waiting.discard(body.get("order") or "")
            if kind == "trade.contract":
                self._contract(tick)
        elif kind == "account.open":
            self.balances[body["account"]] += body["endowment_fen"]
        elif kind == "operation.membership":
            self._move(body["account"], EXCHANGE_ACCOUNT, body["fee_fen"])
        elif kind == "storage.hosting":
            for provider, fen in body["charges"].items():
                self._move(provider, EXCHANGE_ACCOUNT, fen)
        elif kind == "operation.job":
            self._move(body["buyer"], EXCHANGE_ACCOUNT, body["cost_fen"])
        elif kind == "operation.fee":
            self._move(body["account"], EXCHANGE_ACCOUNT, body["fee_fen"])
        elif kind == "operation.usage":
            self._move(body["buyer"], body["provider"], body["to_provider_fen"])
            self._move(body["buyer"], EXCHANGE_ACCOUNT, body["fee_fen"])
        elif kind == "rights.transfer":
            self._move(body["transferee"], body["transferor"], body["price_fen"])
        elif kind == "operation.royalty":
            self._move(body["licensee"], body["licensor"], body["royalty_fen"])
        elif kind == "crossborder.application" and body.get("route") != "self":
            self.regulator_queue.add(body["application"])
        elif kind == "crossborder.decision":
            self.regulator_queue.discard(body["application"])
        elif kind == "operation.settlement":
            for item in body["items"]:
                self._settle(item)

    def _move(self, source: str, target: str, fen: int) -> None:
        self.balances[source] -= fen
        self.balances[target] += fen

    def _contract(self, tick: Tick) -> None:
        body = tick.body
        self.prices.append(body["price_fen"])
        self.in_delivery.add(body["contract"])
        self._move(body["buyer"], ESCROW_ACCOUNT, body["price_fen"])
        if body.get("cross_border"):
            self.flows[tick.corridor or f"?-{body['destination']}"] += 1
        self._parties[body["contract"]] = (body["buyer"], body["provider"])

    def _settle(self, item: dict[str, Any]) -> None:
        contract = item["contract"]
        self.in_delivery.discard(contract)
        buyer, provider = self._parties.pop(contract, ("", ""))
        if item["outcome"] == "delivered":
            self._move(ESCROW_ACCOUNT, provider, item["to_provider_fen"])
            self._move(ESCROW_ACCOUNT, EXCHANGE_ACCOUNT, item["fee_fen"])
        self._move(ESCROW_ACCOUNT, buyer, item["refund_fen"])  # in full, or a partial refund

    def top_balances(self, count: int = 8) -> list[tuple[str, int]]:
        return self.balances.most_common(count)


def read_ticks(store: Store, start: int = 0) -> Iterator[Tick]:
    """Every stored entry from seq ``start``, unverified (fast: parsing only).

    An unverified replay promises nothing about signatures, so it reads the statement's fields
    and the signers' names straight from the JSON and leaves the signatures undecoded; a leaf
    that does not read that way goes through the strict parser, which names what is wrong.
    """
    for rows in store.iter_rows(start=start):
        for seq, _time, _kind, _actor, leaf in rows:
            try:
                document = _JSON.decode(leaf.decode("utf-8"))
                inner = document["entry"]
                signers = tuple(str(signer) for signer, _sig in document["sigs"])
                time, kind = inner["time"], inner["kind"]
                actor, body = inner["actor"], inner["body"]
                tick = Tick(seq, time, kind, actor, signers, body)
                ok = type(time) is int and type(kind) is str and type(actor) is str
                ok = ok and type(body) is dict
            except (ValueError, TypeError, KeyError, AttributeError, UnicodeDecodeError):
                ok = False
            if not ok:
                parsed = parse_leaf(leaf)  # raises EncodingError with the reason
                tick = Tick(
                    seq,
                    parsed.time,
                    parsed.kind,
                    parsed.actor,
                    tuple(signer for signer, _sig in parsed.sigs),
                    parsed.body,
                )
            yield tick


_JSON = json.JSONDecoder()
_END = object()
#: Ticks handed from the verifying thread at a time (one queue operation per batch, not per entry).
BATCH = 256


def verified_ticks(
    location: Location | Path, *, threads: int = 2, on_report: Callable[[AuditReport], None]
) -> Iterator[Tick]:
    """Ticks as the audit verifies them, in a worker thread (a bounded queue between: the audit
    waits while the replay is paused). Ends with a bad tick (``verified`` False, ``problem``
    set) when an entry does not verify; ``on_report`` gets the audit's report at the end."""
    queue: Queue[Any] = Queue(maxsize=64)  # of batches: the audit waits while the replay does
    batch: list[Tick] = []

    def passed(entry: Checked) -> None:
        batch.append(tick_of(entry))
        if len(batch) >= BATCH:
            queue.put(batch.copy())
            batch.clear()

    def work() -> None:
        try:
            report = audit(location, domain=market_rules, threads=threads, on_entry=passed)
            queue.put(batch.copy())
            queue.put(report)
        except Exception as exc:  # handed to the reader, which raises it
            queue.put(exc)
        finally:
            queue.put(_END)

    threading.Thread(target=work, name="dxsim-replay-verifier", daemon=True).start()
    while (item := queue.get()) is not _END:
        if isinstance(item, list):
            yield from item
        elif isinstance(item, AuditReport):
            on_report(item)
            if item.first_bad is not None:
                yield _bad_tick(item.first_bad)
        else:
            raise item


def _bad_tick(finding: Finding) -> Tick:
    return Tick(
        finding.seq if finding.seq is not None else -1,
        0,
        finding.kind or "?",
        finding.actor or "?",
        (),
        {},
        False,
        finding.reason,
    )
