"""Money: integer fen (1 yuan = 100 fen) everywhere; rates in basis points (1 bp = 0.01 %).

Floats never hold a balance, a price or a fee. Percentages are applied with exact integer
arithmetic and one documented rounding rule, so every run gives the same fen.
"""

from __future__ import annotations

__all__ = ["BASIS_POINTS", "FEN_PER_YUAN", "Fen", "apply_bp", "break_even_fen", "format_fen"]

Fen = int
FEN_PER_YUAN = 100
BASIS_POINTS = 10_000


def apply_bp(amount: Fen, rate_bp: int) -> Fen:
    """``amount × rate_bp / 10 000`` rounded half up, in exact integers (amount, rate ≥ 0)."""
    if amount < 0 or rate_bp < 0:
        raise ValueError("apply_bp takes non-negative amounts and rates")
    return (amount * rate_bp + BASIS_POINTS // 2) // BASIS_POINTS


def break_even_fen(cost: Fen, fee_bp: int) -> Fen | None:
    """The lowest price ``p`` whose seller keeps at least ``cost`` after the exchange's fee:
    ``p − apply_bp(p, fee_bp) ≥ cost``. None when no price does (a fee of 100 %).

    A seller who knows the fee it will pay prices over this, not over its bare cost: the
    Shanghai Data Exchange's 2.5 % supplier fee raises every floor by about 2.56 %.
    """
    if cost < 0 or not 0 <= fee_bp <= BASIS_POINTS:
        raise ValueError("break_even_fen takes a cost >= 0 and a fee in [0, 10 000] bp")
    if cost == 0:
        return 0
    if fee_bp == BASIS_POINTS:
        return None
    keep = BASIS_POINTS - fee_bp
    price = -(-cost * BASIS_POINTS // keep)  # ceil(cost / (1 - fee)): within a fen or two
    while price - apply_bp(price, fee_bp) < cost:  # apply_bp rounds the fee half up
        price += 1
    while price > 1 and price - 1 - apply_bp(price - 1, fee_bp) >= cost:
        price -= 1
    return price


def format_fen(amount: Fen) -> str:
    """``123456`` → ``"¥1,234.56"`` for reports."""
    sign = "-" if amount < 0 else ""
    yuan, fen = divmod(abs(amount), FEN_PER_YUAN)
    return f"{sign}¥{yuan:,}.{fen:02d}"
