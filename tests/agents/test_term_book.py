"""The term book calls each item back when its delay has passed, in the order one timeout per
item would have: by due time, then by the order the items were added."""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.term_book import TermBook

# (when the item is added, its delay), in sim-days
Adds = list[tuple[float, float]]


def _run(adds: Adds, *, use_book: bool) -> list[tuple[float, int]]:
    """(when, item) as each item falls due: through a book, or one timeout per item."""
    env = simpy.Environment()
    fired: list[tuple[float, int]] = []
    book: TermBook[int] = TermBook(env, lambda item: fired.append((env.now, item)))

    def adder(at: float, delay: float, item: int) -> Generator[simpy.Event, Any, None]:
        yield env.timeout(at)
        if use_book:
            book.add(delay, item)
        else:
            env.timeout(delay).callbacks.append(lambda _e: fired.append((env.now, item)))

    for item, (at, delay) in enumerate(adds):
        env.process(adder(at, delay, item))
    env.run()
    return fired


def _fired(adds: Adds) -> tuple[list[tuple[float, int]], list[tuple[float, int]]]:
    """What the book does with ``adds``, and what one timeout per item does."""
    return _run(adds, use_book=True), _run(adds, use_book=False)


def test_an_item_added_after_a_later_one_still_falls_due_first() -> None:
    book_order, _ = _fired([(0.0, 10.0), (1.0, 2.0), (1.0, 2.0), (0.5, 30.0)])
    assert [item for _when, item in book_order] == [1, 2, 0, 3]
    assert [when for when, _item in book_order] == [3.0, 3.0, 10.0, 30.5]


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([0.0, 0.5, 1.0, 7.25]) | st.floats(0, 400, allow_nan=False),
            st.sampled_from([0.0, 1 / 86_400, 90.0, 365.0]) | st.floats(0, 800, allow_nan=False),
        ),
        max_size=40,
    )
)
def test_the_book_fires_like_one_timeout_per_item(adds: Adds) -> None:
    book_order, timeouts_order = _fired(adds)
    assert [item for _w, item in book_order] == [item for _w, item in timeouts_order]
    for (book_when, _a), (timeout_when, _b) in zip(book_order, timeouts_order, strict=True):
        assert abs(book_when - timeout_when) <= 1e-9 * max(1.0, timeout_when)
