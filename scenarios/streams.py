"""Seeded random streams: one ``SeedSequence`` per run, one named child stream per component.

A stream is keyed by its name (``"buyer/buyer-0007"``, ``"operation"``), not by the order in which
components were created, so two variants of a scenario that add or drop a population still give
every shared component the same random numbers (common random numbers across policy variants).
"""

from __future__ import annotations

import hashlib

import numpy as np

__all__ = ["Streams"]


class Streams:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._issued: set[str] = set()

    def spawn_key(self, name: str) -> tuple[int, ...]:
        digest = hashlib.sha256(name.encode()).digest()
        return tuple(int.from_bytes(digest[i : i + 4], "big") for i in range(0, 16, 4))

    def generator(self, name: str) -> np.random.Generator:
        """The stream named ``name``; each name may be issued once per run."""
        if name in self._issued:
            raise ValueError(f"random stream {name!r} issued twice: streams are not shared")
        self._issued.add(name)
        sequence = np.random.SeedSequence(entropy=self.seed, spawn_key=self.spawn_key(name))
        return np.random.Generator(np.random.PCG64(sequence))
