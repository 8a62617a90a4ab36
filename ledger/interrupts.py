"""Interrupts (Ctrl-C, SIGTERM) that wait until the log is consistent.

Python runs a signal handler between any two bytecodes of the main thread, so an interrupt raised
straight from the handler can land between the Merkle tree taking a leaf and the batch taking
its row, or between signing a checkpoint and storing it. The run's clean-up then persists a
checkpoint over a tree the stored rows do not match, and the prefix that was meant to stay
verifiable does not verify. Sections of the log that must not be split run inside
:data:`CONSISTENT`; an interrupt that arrives during one is held and raised as
``KeyboardInterrupt`` when the outermost section ends.
"""

from __future__ import annotations

import signal
from types import FrameType, TracebackType


class _ConsistentSection:
    """Re-entrant: only the outermost exit raises a held interrupt."""

    def __init__(self) -> None:
        self.depth = 0
        self.held = False

    def __enter__(self) -> None:
        self.depth += 1

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.depth -= 1
        if self.depth == 0 and self.held:
            self.held = False
            if kind is None:
                raise KeyboardInterrupt

    def interrupt(self, _signum: int, _frame: FrameType | None) -> None:
        """Signal handler: raise now, or when the section in progress ends."""
        if self.depth:
            self.held = True
            return
        raise KeyboardInterrupt


CONSISTENT = _ConsistentSection()


def install() -> None:
    """Route SIGINT and SIGTERM through :data:`CONSISTENT` (call from the main thread)."""
    signal.signal(signal.SIGINT, CONSISTENT.interrupt)
    signal.signal(signal.SIGTERM, CONSISTENT.interrupt)
