"""A queue's length over time, folded from the entries that change it: its maximum, its
time-weighted mean over the run, and where it ended (a backlog is a level, so its mean is the
integral of the level over time divided by the time, not the mean of the levels seen)."""

from __future__ import annotations

__all__ = ["Backlog"]


class Backlog:
    __slots__ = ("_area", "_since", "level", "peak")

    def __init__(self) -> None:
        self.level = 0
        self.peak = 0
        self._area = 0  # Σ level × seconds
        self._since = 0

    def change(self, time: int, by: int) -> None:
        """The level changes by ``by`` at ``time`` (entries arrive in time order)."""
        self._area += self.level * max(0, time - self._since)
        self._since = max(self._since, time)
        self.level += by
        self.peak = max(self.peak, self.level)

    def time_mean(self, end: int) -> float | None:
        """The mean level over ``[0, end]``; None for a run of no time."""
        if end <= 0:
            return None
        return (self._area + self.level * max(0, end - self._since)) / end
