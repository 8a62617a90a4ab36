"""Unique people per exporter: exact against a brute-force set, for overlapping datasets."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from marketplace.exports import YEAR_SECONDS, ExportBook, IntervalSet, Subjects

spans = st.tuples(st.integers(0, 500), st.integers(0, 120)).map(lambda p: (p[0], p[0] + p[1]))


@given(st.lists(spans, max_size=40), spans)
def test_interval_set_counts_exactly_like_a_set(
    added: list[tuple[int, int]], probe: tuple[int, int]
) -> None:
    union, people = IntervalSet(), set()
    for start, end in added:
        assert union.size_with(start, end) == len(people | set(range(start, end)))
        union.add(start, end)
        people |= set(range(start, end))
        assert len(union) == len(people)
        starts = [s for s, _e in union.intervals()]
        assert starts == sorted(starts)
        assert all(
            e1 < s2
            for (_s1, e1), (s2, _e2) in zip(union.intervals(), union.intervals()[1:], strict=False)
        )
    assert union.size_with(*probe) == len(people | set(range(*probe)))


datasets = st.tuples(st.integers(0, 2), st.integers(0, 300), st.integers(1, 80), st.integers(0, 80))


@settings(max_examples=150)
@given(st.lists(datasets, min_size=1, max_size=30), datasets)
def test_counts_per_window_match_brute_force(
    deliveries: list[tuple[int, int, int, int]], probe: tuple[int, int, int, int]
) -> None:
    """Years 2024-2026; the probe transfer is in 2026 (this year) and counts itself in."""
    book = ExportBook()
    seen: dict[int, tuple[set[int], set[int]]] = {}
    for year_index, start, count, sensitive in deliveries:
        year = 2024 + year_index
        subjects = Subjects(start, count, min(sensitive, count))
        book.record("p", year, subjects)
        every, sens = seen.setdefault(year, (set(), set()))
        every |= set(range(start, start + count))
        sens |= set(range(start, start + min(sensitive, count)))
    _y, start, count, sensitive = probe
    subjects = Subjects(start, count, min(sensitive, count))
    mine = set(range(start, start + count))
    mine_sensitive = set(range(start, start + subjects.sensitive))
    this, last = seen.get(2026, (set(), set())), seen.get(2025, (set(), set()))
    assert book.counts("p", 2026, subjects) == (
        len(this[0] | mine),
        len(this[1] | mine_sensitive),
        len(this[0] | last[0] | mine),
        len(this[1] | last[1] | mine_sensitive),
    )
    assert book.counts("someone-else", 2026, subjects) == (
        count,
        subjects.sensitive,
        count,
        subjects.sensitive,
    )


def test_bulk_counts_keep_only_the_preceding_twelve_months() -> None:
    book = ExportBook()
    book.record("us-p", 2025, Subjects(0, 600, 0), at=0, recipient="b", category="health")
    book.record("us-p", 2025, Subjects(400, 600, 0), at=100, recipient="b", category="health")
    book.record("us-p", 2025, Subjects(0, 5000, 0), at=100, recipient="c", category="health")
    assert book.bulk("us-p", "b", "health", Subjects(900, 200, 0), at=200) == 1100
    assert book.bulk("us-p", "b", "genomic", Subjects(0, 10, 0), at=200) == 10
    later = YEAR_SECONDS + 50  # the first delivery is more than 12 months old by now
    assert book.bulk("us-p", "b", "health", Subjects(0, 1, 0), at=later) == 601
