"""Acting on a SimPy event without a process to wait for it.

A process is a suspended generator (about a kilobyte with its frame); an agent that only needs
to react once when something happens (a delivery ends, a term runs out) can attach a callback
instead, which costs the event's list slot. A long run holds every live licence at once, so this
is what keeps its memory flat.
"""

from __future__ import annotations

from collections.abc import Callable

import simpy

__all__ = ["when_done"]


def when_done(event: simpy.Event, action: Callable[[simpy.Event], None]) -> None:
    """Call ``action(event)`` when ``event`` is processed: at once if it already was (its
    value is settled), else as its callback, in the order callbacks were attached (SimPy
    runs them in that order, as it resumes waiting processes)."""
    if event.callbacks is None:
        action(event)
    else:
        event.callbacks.append(action)
