"""Cross-border figures, folded from the ledger like every other metric.

What a policy team asks of a run: how much data left, along which corridor (origin →
destination), through which mechanism, with what outcome; how long each mechanism took from
application to decision, and how long contracts waited before their data could move; what was
refused, by which rules, and what it was worth; how the regulator's queue grew; and how many
people each exporter sent abroad each year against the PRC thresholds (100,000 and 1,000,000
people; 10,000 for sensitive PI: CAC Provisions 2024 Art. 7, 8).

Percentiles are nearest-rank, as in :mod:`marketplace.metrics`; a statistic of nothing is None.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from typing import Any

from marketplace import entries as vocab
from marketplace.approvals import ApprovalSpans
from marketplace.backlog import Backlog
from marketplace.exports import IntervalSet
from marketplace.percentiles import nearest_rank

__all__ = ["PRC_THRESHOLDS", "CrossBorderFold"]

DAY = 86_400
#: The PRC thresholds a run's exporters are measured against (people, a calendar year).
PRC_THRESHOLDS = {"pi_100k": 100_000, "pi_1m": 1_000_000, "sensitive_10k": 10_000}


def _days(values: list[int]) -> dict[str, Any]:
    ordered = sorted(values)
    p50, p90 = nearest_rank(ordered, 50), nearest_rank(ordered, 90)
    return {
        "n": len(ordered),
        "mean": sum(ordered) / len(ordered) / DAY if ordered else None,
        "p50": None if p50 is None else p50 / DAY,
        "p90": None if p90 is None else p90 / DAY,
    }


@dataclass(slots=True)
class _Listed:
    origin: str
    provider: str
    start: int
    count: int
    sensitive: int
    important: bool


@dataclass(slots=True)
class _Abroad:
    corridor: str
    provider: str
    buyer: str
    listing: str
    groups: tuple[tuple[str, ...], ...]
    price: int
    signed_at: int


class CrossBorderFold:
    """Fed every market entry in seq order by :class:`marketplace.metrics.LedgerFold`."""

    def __init__(self) -> None:
        #: Sim day 0's date, from the ``operation.calendar`` entry (1970-01-01 until one is seen).
        self.start = dt.date(1970, 1, 1)
        self.listed: dict[str, _Listed] = {}
        self.abroad: dict[str, _Abroad] = {}
        self.filed: dict[str, tuple[str, str, int]] = {}  # application -> mechanism, route, at
        self.approvals = ApprovalSpans()
        self.decided: Counter[tuple[str, bool]] = Counter()
        self.waits: dict[str, list[int]] = {}
        self.cleared: dict[str, list[int]] = {}
        self.flows: Counter[tuple[str, str, str]] = Counter()
        self.refusals: Counter[str] = Counter()
        self.refused_rules: Counter[str] = Counter()
        self.refused_corridors: Counter[str] = Counter()
        self.refused_value = 0
        self.people: dict[tuple[str, int], tuple[IntervalSet, IntervalSet]] = {}
        self.important_abroad = 0
        self.important_without_assessment = 0
        self.queue = Backlog()  # applications waiting for a regulator or certifier

    def feed(self, time: int, kind: str, body: Any) -> None:
        if kind == "operation.calendar":
            self.start = dt.date.fromisoformat(body.start_date)
        elif kind == "storage.listing":
            self.listed[body.listing] = _Listed(
                body.origin,
                body.listing.split("/")[0],
                body.subjects_from,
                body.pi_subjects,
                body.sensitive_pi_subjects,
                body.classification == "important",
            )
        elif kind == "trade.contract" and body.cross_border:
            origin = self.listed[body.listing].origin if body.listing in self.listed else "??"
            self.abroad[body.contract] = _Abroad(
                f"{origin}-{body.destination}",
                body.provider,
                body.buyer,
                body.listing,
                tuple(tuple(r.any_of) for r in body.requirements),
                body.price_fen,
                time,
            )
        elif kind == "trade.rejected" and body.reason in ("forbidden", "needs-information"):
            self.refusals[body.reason] += 1
            self.refused_rules.update(body.rules)
            self.refused_value += body.price_fen
            origin = self.listed[body.listing].origin if body.listing in self.listed else "??"
            self.refused_corridors[f"{origin}-{body.destination or '??'}"] += 1
        elif kind == "crossborder.application":
            self.filed[body.application] = (body.mechanism, body.route, time)
            if body.route != "self":
                self.queue.change(time, +1)
        elif kind == "crossborder.decision":
            self._on_decision(time, body)
        elif kind == "operation.settlement":
            for item in body.items:
                self._on_settled(item)

    def _on_decision(self, time: int, body: vocab.ClearanceDecision) -> None:
        filed = self.filed.pop(body.application, None)
        if filed is None:
            return
        mechanism, route, at = filed
        if route != "self":
            self.queue.change(time, -1)
        self.waits.setdefault(mechanism, []).append(time - at)
        self.decided[(mechanism, body.approved)] += 1
        if body.approved:
            self.approvals.add(
                body.exporter, body.recipient, body.mechanism, body.valid_from, body.valid_until
            )

    def _used(self, deal: _Abroad, moved_at: int) -> list[str]:
        """The mechanism that met each requirement: one valid when the data moved."""
        found = (
            self.approvals.meeting(deal.provider, deal.buyer, g, moved_at) for g in deal.groups
        )
        return [m for m in found if m is not None]

    def _on_settled(self, item: vocab.SettlementItem) -> None:
        deal = self.abroad.get(item.contract)
        if deal is None:
            return
        used = self._used(deal, item.moved_at) if item.outcome != "cancelled" else []
        label = "+".join(sorted(used)) or ("refused" if item.outcome == "cancelled" else "none")
        self.flows[(deal.corridor, label, item.outcome)] += 1
        if item.outcome != "delivered":
            return
        self.cleared.setdefault(label, []).append(item.moved_at - deal.signed_at)
        listed = self.listed.get(deal.listing)
        if listed is None:
            return
        if listed.important:
            self.important_abroad += 1
            if "security-assessment" not in used:
                self.important_without_assessment += 1
        if listed.count:
            year = self._year(item.delivered_at)
            every, sensitive = self.people.setdefault(
                (deal.provider, year), (IntervalSet(), IntervalSet())
            )
            every.add(listed.start, listed.start + listed.count)
            sensitive.add(listed.start, listed.start + listed.sensitive)

    def _year(self, seconds: int) -> int:
        """The calendar year of a sim time, on the calendar the ledger records."""
        return (self.start + dt.timedelta(days=seconds // DAY)).year

    def figures(self, end: int) -> dict[str, Any]:
        """Every cross-border figure as plain JSON values (dict keys sorted)."""
        flows: dict[str, dict[str, dict[str, int]]] = {}
        for (corridor, mechanism, outcome), count in sorted(self.flows.items()):
            flows.setdefault(corridor, {}).setdefault(mechanism, {})[outcome] = count
        yearly = {key: (len(a), len(b)) for key, (a, b) in self.people.items()}
        over = {
            "pi_100k": sum(1 for pi, _s in yearly.values() if pi >= PRC_THRESHOLDS["pi_100k"]),
            "pi_1m": sum(1 for pi, _s in yearly.values() if pi >= PRC_THRESHOLDS["pi_1m"]),
            "sensitive_10k": sum(
                1 for _pi, s in yearly.values() if s >= PRC_THRESHOLDS["sensitive_10k"]
            ),
        }
        top = sorted(yearly.items(), key=lambda kv: (-kv[1][0], kv[0]))[:20]
        return {
            "flows": flows,
            "delivered_abroad": sum(n for (_c, _m, o), n in self.flows.items() if o == "delivered"),
            "cancelled_abroad": sum(n for (_c, _m, o), n in self.flows.items() if o == "cancelled"),
            "refusals": dict(sorted(self.refusals.items())),
            "refused_by_rule": dict(sorted(self.refused_rules.items())),
            "refused_by_corridor": dict(sorted(self.refused_corridors.items())),
            "refused_value_fen": self.refused_value,
            "mechanism_wait_days": {m: _days(w) for m, w in sorted(self.waits.items())},
            "clearance_wait_days": {m: _days(w) for m, w in sorted(self.cleared.items())},
            "decisions": {
                m: {"approved": self.decided[(m, True)], "refused": self.decided[(m, False)]}
                for m in sorted({m for m, _a in self.decided})
            },
            "regulator_backlog_max": self.queue.peak,
            "regulator_backlog_time_mean": self.queue.time_mean(end),
            "regulator_backlog_end": self.queue.level,
            "exporter_years_over": over,
            "exporters_by_people": [
                {"exporter": e, "year": y, "pi": pi, "sensitive": s} for (e, y), (pi, s) in top
            ],
            "important_delivered_abroad": self.important_abroad,
            "important_without_assessment": self.important_without_assessment,
        }
