"""Which approvals cover a transfer: the one question invariant 4, the cross-border fold and
the sandbox all ask of a ledger's ``crossborder.decision`` entries.

An approval covers transfers from its exporter to its recipient by its mechanism while it is
valid, ``[valid_from, valid_until)``; a delivery abroad is lawful when, for each of its
requirements, some mechanism of that requirement is covered at the moment its data moved.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = ["ApprovalSpans"]


class ApprovalSpans:
    """The validity spans of approvals, by (exporter, recipient, mechanism)."""

    def __init__(self) -> None:
        self._spans: dict[tuple[str, str, str], list[tuple[int, int]]] = {}

    def add(self, exporter: str, recipient: str, mechanism: str, start: int, end: int) -> None:
        self._spans.setdefault((exporter, recipient, mechanism), []).append((start, end))

    def covers(self, exporter: str, recipient: str, mechanism: str, at: int) -> bool:
        spans = self._spans.get((exporter, recipient, mechanism), ())
        return any(start <= at < end for start, end in spans)

    def meeting(self, exporter: str, recipient: str, any_of: Iterable[str], at: int) -> str | None:
        """The first mechanism of ``any_of`` covered at ``at``, or None."""
        return next((m for m in any_of if self.covers(exporter, recipient, m, at)), None)
