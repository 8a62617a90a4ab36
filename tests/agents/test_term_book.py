"""The term book calls each item back when its delay has passed, in the order one timeout per
item would have: by due time, then by the order the items were added, whether the item waited
in memory or on disk."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Generator
from typing import Any

import pytest
import simpy
from hypothesis import given, settings
from hypothesis import strategies as st

from agents.term_book import Fields, TermBook

# (when the item is added, its delay, its owner), in sim-days
Adds = list[tuple[float, float, int]]
Fired = list[tuple[float, int, Fields]]


def _run(adds: Adds, *, window: float | None) -> Fired:
    """(when, owner, fields) as each item falls due: through a book with that window, or with
    one timeout per item (``window=None``)."""
    env = simpy.Environment()
    fired: Fired = []
    book = TermBook(env, window_days=window or 1.0)

    def recorder(owner: int) -> Callable[[Fields], None]:
        return lambda fields: fired.append((env.now, owner, fields))

    handles = [book.owner(recorder(owner)) for owner in range(3)]

    def adder(at: float, delay: float, owner: int, item: int) -> Generator[simpy.Event, Any, None]:
        yield env.timeout(at)
        fields: Fields = (item, f"K{item:07d}", delay, None)
        if window is not None:
            book.add(handles[owner], delay, fields)
        else:
            env.timeout(delay).callbacks.append(lambda _e: fired.append((env.now, owner, fields)))

    for item, (at, delay, owner) in enumerate(adds):
        env.process(adder(at, delay, owner, item))
    env.run()
    book.close()
    return fired


def _same(book: Fired, timeouts: Fired) -> None:
    assert [(o, f) for _w, o, f in book] == [(o, f) for _w, o, f in timeouts]
    for (book_when, *_a), (timeout_when, *_b) in zip(book, timeouts, strict=True):
        assert abs(book_when - timeout_when) <= 1e-9 * max(1.0, timeout_when)


def test_an_item_added_after_a_later_one_still_falls_due_first() -> None:
    fired = _run([(0.0, 10.0, 0), (1.0, 2.0, 1), (1.0, 2.0, 0), (0.5, 30.0, 2)], window=1.0)
    assert [(owner, fields[0]) for _when, owner, fields in fired] == [
        (1, 1),
        (0, 2),
        (0, 0),
        (2, 3),
    ]
    assert [when for when, _owner, _fields in fired] == [3.0, 3.0, 10.0, 30.5]


def test_items_far_ahead_wait_on_disk_and_come_back_exactly() -> None:
    env = simpy.Environment()
    fired: list[Fields] = []
    book = TermBook(env, window_days=1.0)
    handle = book.owner(fired.append)
    sent = [(n, f"K{n:07d}", "CN", 0.1 * n, None, -(2**62)) for n in range(10_000)]
    for n, fields in enumerate(sent):
        book.add(handle, 30.0 + n / 1_000, fields)
    assert book.spilled == len(sent) and len(book) == len(sent)
    env.run()
    assert fired == sent and len(book) == 0
    book.close()


def test_a_window_must_be_positive() -> None:
    with pytest.raises(ValueError, match="window_days"):
        TermBook(simpy.Environment(), window_days=0)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([0.0, 0.5, 1.0, 7.25]) | st.floats(0, 400, allow_nan=False),
            st.sampled_from([0.0, 1 / 86_400, 90.0, 365.0]) | st.floats(0, 800, allow_nan=False),
            st.integers(0, 2),
        ),
        max_size=40,
    ),
    st.sampled_from([1e-6, 0.5, 1.0, 30.0, 10_000.0]),
)
def test_the_book_fires_like_one_timeout_per_item(adds: Adds, window: float) -> None:
    _same(_run(adds, window=window), _run(adds, window=None))


def test_a_window_below_one_float_step_of_now_still_fires() -> None:
    env = simpy.Environment(initial_time=3_650.0)
    fired: list[Fields] = []
    book = TermBook(env, window_days=1e-13)
    handle = book.owner(fired.append)
    book.add(handle, 2.0, ("far",))
    book.add(handle, 0.0, ("now",))
    env.run(until=3_700.0)
    assert fired == [("now",), ("far",)]


def test_a_closed_book_calls_nobody_back_and_takes_nothing() -> None:
    env = simpy.Environment()
    fired: list[Fields] = []
    book = TermBook(env)
    handle = book.owner(fired.append)
    book.add(handle, 5.0, ("ends",))
    book.close()
    env.run()
    assert fired == []
    with pytest.raises(RuntimeError, match="closed"):
        book.add(handle, 1.0, ("late",))


def test_a_failing_scratch_database_is_named_not_a_bare_sqlite_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("agents.term_book._open_scratch", lambda: sqlite3.connect(":memory:"))
    env = simpy.Environment()
    book = TermBook(env)
    handle = book.owner(lambda _fields: None)
    book.add(handle, 30.0, ("spilled",))
    with pytest.raises(OSError, match="term book's temporary database failed"):
        env.run()
