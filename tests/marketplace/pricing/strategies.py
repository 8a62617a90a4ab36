"""Shared Hypothesis strategies for venues: streams of orders, bids and value draws."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import strategies as st

from marketplace.pricing import LimitOrder

#: Few traders and a narrow price range, so that orders cross, tie and replace one another often.
TRADERS = ("t0", "t1", "t2", "t3")
prices = st.integers(min_value=1, max_value=30)


@dataclass(frozen=True)
class Cancel:
    """Withdraw the ``which``-th order submitted so far (modulo their number)."""

    which: int


@st.composite
def limit_orders(draw: st.DrawFn, index: int, at: int) -> LimitOrder:
    side = draw(st.sampled_from(["buy", "sell"]))
    if side == "buy":
        quantity: int | None = draw(st.integers(min_value=1, max_value=5))
    else:
        quantity = draw(st.none() | st.integers(min_value=1, max_value=5))
    return LimitOrder(
        order=f"O{index:04d}",
        trader=draw(st.sampled_from(TRADERS)),
        side=side,
        listing="L1",
        price_fen=draw(prices),
        quantity=quantity,
        at=at,
    )


@st.composite
def order_streams(draw: st.DrawFn, max_size: int = 40) -> list[LimitOrder | Cancel]:
    """Orders in arrival order (``at`` never decreasing, with ties), cancels interleaved."""
    size = draw(st.integers(min_value=1, max_value=max_size))
    stream: list[LimitOrder | Cancel] = []
    at = 0
    for index in range(size):
        if index and draw(st.integers(min_value=0, max_value=5)) == 0:
            stream.append(Cancel(draw(st.integers(min_value=0, max_value=10**6))))
            continue
        at += draw(st.integers(min_value=0, max_value=2))
        stream.append(draw(limit_orders(index, at)))
    return stream


#: Sealed bids: a price per bidder, several bidders tying often.
bid_lists = st.lists(st.integers(min_value=1, max_value=50), min_size=0, max_size=12)
