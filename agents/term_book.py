"""The licences the buyers of one market hold until their terms end: one book for the whole
market, with the near future in a heap and the rest on disk.

A long run holds every live licence at once (the baseline's buyers renew a licence whose need
outlives its term, so the book only grows), and what each one costs is what a long run's memory
grows by: a suspended process was about a kilobyte, a pending timeout with its callback about
half that, a heap entry with the contract it held a few hundred bytes. The book keeps in memory
only what falls due before its *horizon* (a window of ``window_days`` ahead of the last time it
woke) and the rest in a private temporary SQLite database, read back a window at a time, so the
memory it takes is that of one window's terms however many are live.

An item is a tuple of scalars (int, float, str, None), stored on disk with :mod:`marshal`, which
round-trips them exactly. The book keeps one pending timeout for its earliest due time (and one
for each item added due earlier than every pending one, until it fires).
"""

from __future__ import annotations

import heapq
import marshal
import math
import sqlite3
from collections.abc import Callable
from functools import partial

import simpy

from agents.callbacks import when_done

__all__ = ["Fields", "TermBook"]

Fields = tuple[int | float | str | None, ...]
"""What an item carries back to its owner: scalars only (they are stored on disk)."""

_Due = tuple[float, int, int, Fields]  # (due time, order added, owner, fields)

#: Items spilled but not yet written, at most: written in one transaction, and before a read.
_WRITE_BATCH = 4096


class TermBook:
    """Call ``on_due(fields)`` of the owner each item was added for, when its delay has passed,
    in order of due time and, for equal times, in the order the items were added: the order
    one timeout per item would have fired in. (Other events at the very same instant may
    interleave differently than with one timeout per item: items due together are called back
    together.)

    Args:
        env: the simulation.
        window_days: how far ahead of its last wake the book keeps items in memory.
    """

    def __init__(self, env: simpy.Environment, window_days: float = 1.0) -> None:
        if not window_days > 0:
            raise ValueError(f"window_days must be positive, got {window_days}")
        self._env = env
        self._window = window_days
        self._horizon = env.now + window_days  # items due before it are in the heap
        self._heap: list[_Due] = []
        self._owners: list[Callable[[Fields], None]] = []
        self._added = 0
        self._wakes: list[float] = []  # due times of the timeouts pending (a few at most)
        self._disk: sqlite3.Connection | None = None
        self._unwritten: list[tuple[float, int, int, bytes]] = []
        self._disk_first = math.inf  # the earliest due time on disk (or unwritten)
        self._closed = False
        self.spilled = 0  # items that went to disk (a figure for benchmarks)

    def owner(self, on_due: Callable[[Fields], None]) -> int:
        """Register who is called back; returns the handle its items are added under."""
        self._owners.append(on_due)
        return len(self._owners) - 1

    def add(self, owner: int, delay: float, fields: Fields) -> None:
        """Let ``fields`` fall due to ``owner`` ``delay`` (sim-days, ≥ 0) from now."""
        if self._closed:
            raise RuntimeError("the term book is closed: its run has ended")
        due = self._env.now + delay
        order = self._added
        self._added += 1
        if due < self._horizon:
            heapq.heappush(self._heap, (due, order, owner, fields))
        else:
            self._spill(due, order, owner, fields)
        if not any(wake <= due for wake in self._wakes):
            self._wake(due, delay)

    def __len__(self) -> int:
        """Items not yet due."""
        disk = 0
        if self._disk is not None:
            self._write()
            disk = self._disk.execute("SELECT COUNT(*) FROM due").fetchone()[0]
        return len(self._heap) + len(self._unwritten) + disk

    def close(self) -> None:
        """End the book with its run: drop what it holds (the temporary database is deleted on
        closing); a wake still pending does nothing, and adding is an error."""
        self._closed = True
        if self._disk is not None:
            self._disk.close()
            self._disk = None
        self._unwritten.clear()
        self._heap.clear()
        self._disk_first = math.inf

    # -- disk ---------------------------------------------------------------------------------
    def _spill(self, due: float, order: int, owner: int, fields: Fields) -> None:
        self._unwritten.append((due, order, owner, marshal.dumps(fields)))
        self._disk_first = min(self._disk_first, due)
        self.spilled += 1
        if len(self._unwritten) >= _WRITE_BATCH:
            self._write()

    def _write(self) -> None:
        if not self._unwritten:
            return
        try:
            if self._disk is None:
                self._disk = _open_scratch()
            self._disk.execute("BEGIN")
            try:
                self._disk.executemany(
                    "INSERT INTO due (due, n, owner, fields) VALUES (?, ?, ?, ?)", self._unwritten
                )
            except BaseException:
                self._disk.execute("ROLLBACK")
                raise
            self._disk.execute("COMMIT")
        except sqlite3.Error as exc:
            raise _scratch_failed(exc) from exc
        self._unwritten.clear()

    def _read_until(self, horizon: float) -> None:
        """Move every item due before ``horizon`` from disk to the heap."""
        self._horizon = horizon
        if self._disk_first >= horizon:
            return
        self._write()
        assert self._disk is not None
        try:
            rows = self._disk.execute(
                "SELECT due, n, owner, fields FROM due WHERE due < ?", (horizon,)
            ).fetchall()
            self._disk.execute("DELETE FROM due WHERE due < ?", (horizon,))
            first = self._disk.execute("SELECT MIN(due) FROM due").fetchone()[0]
        except sqlite3.Error as exc:
            raise _scratch_failed(exc) from exc
        heap = self._heap
        for due, order, owner, fields in rows:
            heapq.heappush(heap, (due, order, owner, marshal.loads(fields)))
        self._disk_first = math.inf if first is None else first

    # -- waking -------------------------------------------------------------------------------
    def _wake(self, due: float, delay: float) -> None:
        self._wakes.append(due)
        when_done(self._env.timeout(delay), partial(self._fall_due, due))

    def _fall_due(self, target: float, _timeout: simpy.Event) -> None:
        if self._closed:
            return
        self._wakes.remove(target)
        # A timeout set for ``target`` fires at now + (target - now), which rounding may put an
        # ulp before it: what it was set for is due too.
        limit = max(self._env.now, target)
        # Past ``limit`` by at least one float step, however small the window is next to now.
        horizon = max(limit + self._window, math.nextafter(limit, math.inf))
        if horizon > self._horizon:
            self._read_until(horizon)
        heap, owners = self._heap, self._owners
        while heap and heap[0][0] <= limit:
            _due, _order, owner, fields = heapq.heappop(heap)
            owners[owner](fields)
        due = min(heap[0][0] if heap else math.inf, self._disk_first)
        if due < math.inf and not any(wake <= due for wake in self._wakes):
            self._wake(due, _delay_to(self._env.now, due))


def _open_scratch() -> sqlite3.Connection:
    """A private temporary database on disk ("" as its name), deleted when the connection
    closes (https://www.sqlite.org/inmemorydb.html#temp_db); scratch, so no journal or sync."""
    disk = sqlite3.connect("", isolation_level=None)
    disk.execute("PRAGMA journal_mode = OFF")
    disk.execute("PRAGMA synchronous = OFF")
    disk.execute("PRAGMA cache_size = -4096")  # KiB: the page cache stays small
    disk.execute(
        "CREATE TABLE due (n INTEGER PRIMARY KEY, due REAL NOT NULL,"
        " owner INTEGER NOT NULL, fields BLOB NOT NULL)"
    )
    disk.execute("CREATE INDEX due_at ON due (due)")
    return disk


def _scratch_failed(exc: sqlite3.Error) -> OSError:
    return OSError(
        f"the licence term book's temporary database failed ({exc}); SQLite keeps it in "
        "SQLITE_TMPDIR or TMPDIR (else /var/tmp or /tmp): is that directory full or unwritable?"
    )


def _delay_to(now: float, due: float) -> float:
    """The delay a timeout set at ``now`` needs to fire at ``due`` exactly (SimPy fires it at
    ``now + delay``, which ``due - now`` can miss by an ulp)."""
    delay = max(0.0, due - now)
    while now + delay < due:
        delay = math.nextafter(delay, math.inf)
    return delay
