"""The licences one buyer holds until their terms end, kept as a heap, not as one SimPy
event per licence.

A long run holds every live licence at once (the baseline's buyers renew a licence whose need
outlives its term, so the book only grows), and what each one costs is what a long run's memory
grows by: a suspended process was about a kilobyte, a pending timeout with its callback about
half that, a heap entry about a fifth. The book keeps a pending timeout for its earliest term
end (and one for each item that was added due earlier than every pending one, until it fires);
each licence is one tuple until then.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Callable
from functools import partial
from typing import Generic, TypeVar

import simpy

from agents.callbacks import when_done

__all__ = ["TermBook"]

T = TypeVar("T")


class TermBook(Generic[T]):
    """Call ``on_due(item)`` for each item added with ``add(delay, item)`` when its delay has
    passed, in order of due time and, for equal times, in the order the items were added: the
    order separate timeouts would have fired in. (Other events at the very same instant may
    interleave differently than with one timeout per item: items due together are called back
    together.)"""

    def __init__(self, env: simpy.Environment, on_due: Callable[[T], None]) -> None:
        self._env = env
        self._on_due = on_due
        self._heap: list[tuple[float, int, T]] = []
        self._added = 0
        self._wakes: list[float] = []  # due times of the timeouts pending (a few at most)

    def add(self, delay: float, item: T) -> None:
        """Let ``item`` fall due ``delay`` (sim-days, ≥ 0) from now."""
        due = self._env.now + delay
        heapq.heappush(self._heap, (due, self._added, item))
        self._added += 1
        if not any(wake <= due for wake in self._wakes):
            self._wake(due, delay)

    def _wake(self, due: float, delay: float) -> None:
        self._wakes.append(due)
        when_done(self._env.timeout(delay), partial(self._fall_due, due))

    def _fall_due(self, target: float, _timeout: simpy.Event) -> None:
        self._wakes.remove(target)
        # A timeout set for ``target`` fires at now + (target - now), which rounding may put an
        # ulp before it: what it was set for is due too.
        limit = max(self._env.now, target)
        heap = self._heap
        while heap and heap[0][0] <= limit:
            self._on_due(heapq.heappop(heap)[2])
        if heap:
            due = heap[0][0]
            if not any(wake <= due for wake in self._wakes):
                self._wake(due, _delay_to(self._env.now, due))


def _delay_to(now: float, due: float) -> float:
    """The delay a timeout set at ``now`` needs to fire at ``due`` exactly (SimPy fires it at
    ``now + delay``, which ``due - now`` can miss by an ulp)."""
    delay = max(0.0, due - now)
    while now + delay < due:
        delay = math.nextafter(delay, math.inf)
    return delay
