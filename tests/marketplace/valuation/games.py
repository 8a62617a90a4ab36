"""Games given by a table of worths, and Hypothesis strategies for them."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from marketplace.valuation import Coalitions, Worths


class TableGame:
    """A game whose worth of mask S is ``table[S]``."""

    def __init__(self, table: Worths) -> None:
        self.table = np.asarray(table, dtype=np.float64)
        self._players = len(self.table).bit_length() - 1
        assert len(self.table) == 1 << self._players

    @property
    def players(self) -> int:
        return self._players

    def worth(self, coalitions: Coalitions) -> Worths:
        return self.table[coalitions]


def from_dict(players: int, worths: dict[frozenset[int], float]) -> TableGame:
    """A game from {coalition: worth}; coalitions not named are worth 0."""
    table = np.zeros(1 << players)
    for coalition, value in worths.items():
        table[sum(1 << i for i in coalition)] = value
    return TableGame(table)


@st.composite
def games(draw: st.DrawFn, most: int = 6) -> TableGame:
    """Any game of 1..``most`` players with worths in [-100, 100] (the empty one's too)."""
    players = draw(st.integers(1, most))
    worth = st.floats(-100, 100, allow_nan=False, allow_infinity=False)
    return TableGame(np.array(draw(st.lists(worth, min_size=1 << players, max_size=1 << players))))
