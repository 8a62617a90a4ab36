"""Money: integer fen (1 yuan = 100 fen) everywhere; rates in basis points (1 bp = 0.01 %).

Floats never hold a balance, a price or a fee. Percentages are applied with exact integer
arithmetic and one documented rounding rule, so every run gives the same fen.
"""

from __future__ import annotations

__all__ = ["BASIS_POINTS", "FEN_PER_YUAN", "Fen", "apply_bp", "format_fen"]

Fen = int
FEN_PER_YUAN = 100
BASIS_POINTS = 10_000


def apply_bp(amount: Fen, rate_bp: int) -> Fen:
    """``amount × rate_bp / 10 000`` rounded half up, in exact integers (amount, rate ≥ 0)."""
    if amount < 0 or rate_bp < 0:
        raise ValueError("apply_bp takes non-negative amounts and rates")
    return (amount * rate_bp + BASIS_POINTS // 2) // BASIS_POINTS


def format_fen(amount: Fen) -> str:
    """``123456`` → ``"¥1,234.56"`` for reports."""
    sign = "-" if amount < 0 else ""
    yuan, fen = divmod(abs(amount), FEN_PER_YUAN)
    return f"{sign}¥{yuan:,}.{fen:02d}"
