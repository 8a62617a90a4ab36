"""Counting the people an exporter has sent abroad: exact unique counts, without a set of people.

The PRC thresholds count **people**, not records or datasets: "the personal information of
100,000 or more people, cumulatively since 1 January of the current year" (CAC Provisions 2024
Art. 7, 8; the 2022 Security Assessment Measures Art. 4 count since 1 January of the previous
year). A provider holds a population of people numbered 0..N-1, and a dataset covers an interval
of it, so datasets of one provider overlap and share people. An :class:`IntervalSet` keeps the
union of what was delivered as disjoint intervals: adding an interval and asking how many people
a union would hold cost O(log k + merged), k the intervals kept, never O(people).

:class:`ExportBook` keeps, per exporter and calendar year, the people whose PI was delivered
abroad and, separately, those whose sensitive PI was; and, for the US bulk-data rule (28 CFR
202.205, "in the preceding 12 months"), the deliveries of the last 365 days per exporter,
recipient and data category.
"""

from __future__ import annotations

import bisect
from collections import deque
from dataclasses import dataclass, field

__all__ = ["ExportBook", "IntervalSet", "Subjects"]

YEAR_SECONDS = 365 * 86_400


@dataclass(frozen=True, slots=True)
class Subjects:
    """The people a dataset covers: ``[start, start + count)`` of its provider's population, the
    first ``sensitive`` of them with sensitive PI too."""

    start: int
    count: int
    sensitive: int

    @property
    def end(self) -> int:
        return self.start + self.count


class IntervalSet:
    """A union of half-open integer intervals, kept as sorted disjoint ``[start, end)`` pairs."""

    __slots__ = ("_ends", "_size", "_starts")

    def __init__(self) -> None:
        self._starts: list[int] = []
        self._ends: list[int] = []
        self._size = 0

    def __len__(self) -> int:
        """How many integers the union holds."""
        return self._size

    def _overlap(self, start: int, end: int) -> tuple[int, int, int]:
        """The index range of kept intervals touching ``[start, end)`` and the size they hold
        inside it."""
        lo = bisect.bisect_left(self._ends, start)
        hi = bisect.bisect_right(self._starts, end)
        inside = 0
        for i in range(lo, hi):
            inside += max(0, min(end, self._ends[i]) - max(start, self._starts[i]))
        return lo, hi, inside

    def size_with(self, start: int, end: int) -> int:
        """How many integers the union would hold with ``[start, end)`` added."""
        if end <= start:
            return self._size
        _lo, _hi, inside = self._overlap(start, end)
        return self._size + (end - start) - inside

    def intervals(self) -> list[tuple[int, int]]:
        return list(zip(self._starts, self._ends, strict=True))

    def merged(self, other: IntervalSet | None) -> IntervalSet:
        """A new set: the union of this one and ``other``."""
        union = IntervalSet()
        union._starts, union._ends, union._size = list(self._starts), list(self._ends), self._size
        for start, end in other.intervals() if other is not None else ():
            union.add(start, end)
        return union

    def add(self, start: int, end: int) -> None:
        if end <= start:
            return
        lo, hi, inside = self._overlap(start, end)
        self._size += (end - start) - inside
        if lo < hi:
            start = min(start, self._starts[lo])
            end = max(end, self._ends[hi - 1])
        self._starts[lo:hi] = [start]
        self._ends[lo:hi] = [end]


@dataclass
class _Exporter:
    years: dict[int, tuple[IntervalSet, IntervalSet]] = field(default_factory=dict)
    recent: dict[tuple[str, str], deque[tuple[int, int, int]]] = field(default_factory=dict)

    def year(self, year: int) -> tuple[IntervalSet, IntervalSet]:
        found = self.years.get(year)
        if found is None:
            found = self.years[year] = (IntervalSet(), IntervalSet())
        return found


class ExportBook:
    """What each exporter has delivered abroad, for the counts a transfer's facts need."""

    def __init__(self) -> None:
        self._exporters: dict[str, _Exporter] = {}

    def _of(self, exporter: str) -> _Exporter:
        found = self._exporters.get(exporter)
        if found is None:
            found = self._exporters[exporter] = _Exporter()
        return found

    def record(
        self,
        exporter: str,
        year: int,
        subjects: Subjects,
        *,
        at: int = 0,
        recipient: str = "",
        category: str | None = None,
    ) -> None:
        """A delivery abroad of ``subjects`` in ``year`` (and, with a US data ``category``, to
        ``recipient`` at sim time ``at``, for the 12-month bulk counts)."""
        books = self._of(exporter)
        every, sensitive = books.year(year)
        every.add(subjects.start, subjects.end)
        sensitive.add(subjects.start, subjects.start + subjects.sensitive)
        if category is not None:
            kept = books.recent.setdefault((recipient, category), deque())
            kept.append((at, subjects.start, subjects.end))

    def counts(self, exporter: str, year: int, subjects: Subjects) -> tuple[int, int, int, int]:
        """Unique people with this transfer included: (PI this year, sensitive PI this year,
        PI since 1 January of the previous year, sensitive PI since then)."""
        books = self._exporters.get(exporter)
        if books is None:
            return subjects.count, subjects.sensitive, subjects.count, subjects.sensitive
        this = books.years.get(year)
        last = books.years.get(year - 1)
        pi = this[0].size_with(subjects.start, subjects.end) if this else subjects.count
        sens_end = subjects.start + subjects.sensitive
        sens = this[1].size_with(subjects.start, sens_end) if this else subjects.sensitive
        if last is None:
            return pi, sens, pi, sens
        both = last[0].merged(this[0] if this else None)
        both_sensitive = last[1].merged(this[1] if this else None)
        return (
            pi,
            sens,
            both.size_with(subjects.start, subjects.end),
            both_sensitive.size_with(subjects.start, sens_end),
        )

    def bulk(
        self, exporter: str, recipient: str, category: str, subjects: Subjects, at: int
    ) -> int:
        """US persons of ``category`` delivered by ``exporter`` to ``recipient`` in the 12 months
        before ``at``, this transfer included."""
        books = self._exporters.get(exporter)
        kept = books.recent.get((recipient, category)) if books is not None else None
        union = IntervalSet()
        if kept:
            while kept and kept[0][0] <= at - YEAR_SECONDS:
                kept.popleft()
            for _at, start, end in kept:
                union.add(start, end)
        return union.size_with(subjects.start, subjects.end)
