"""The end-of-run report: a summary table of the folded metrics and the invariant verdicts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console
from rich.table import Table

from marketplace.money import format_fen

if TYPE_CHECKING:
    from scenarios.run import RunResult

__all__ = ["NOT_AVAILABLE", "invariant_lines", "summary_table", "summary_text"]

#: How a statistic of nothing is shown (a mean price when nothing traded is not 0).
NOT_AVAILABLE = "n/a"


def _num(value: float | None, spec: str) -> str:
    return NOT_AVAILABLE if value is None else format(value, spec)


def _fen(value: int | None) -> str:
    return NOT_AVAILABLE if value is None else format_fen(value)


def summary_table(result: RunResult) -> Table:
    """Key figures of a run, every one a fold over its ledger."""
    m = result.metrics
    cb = m.crossborder
    table = Table(title=f"dxsim run: {result.scenario.run.name} (seed {result.scenario.run.seed})")
    table.add_column("stage / figure")
    table.add_column("value", justify="right")
    rows: list[tuple[str, str]] = [
        ("simulated days", f"{m.days_simulated:g}"),
        ("ledger entries", f"{m.entries:,}"),
        ("storage: listings", f"{m.listings:,}"),
        (
            "rights: applications / approved / rejected",
            f"{m.rights_applications:,} / {m.rights_approvals:,} / {m.rights_rejections:,}",
        ),
        ("rights: review wait (mean days)", _num(m.review_wait_days_mean, ".2f")),
        (
            "rights: backlog (max / mean)",
            f"{m.rights_backlog_max} / {_num(m.rights_backlog_mean, '.2f')}",
        ),
        ("trading: contracts", f"{m.trades:,}"),
        ("trading: volume", format_fen(m.volume_fen)),
        ("trading: mean price", _fen(m.price_mean_fen)),
        ("trading: time to first trade (mean days)", _num(m.time_to_trade_days_mean, ".2f")),
        ("trading: rejected orders", f"{m.rejections:,} {dict(m.rejections_by_reason)}"),
        ("trading: cross-border contracts", f"{m.cross_border_trades:,}"),
        (
            "cross-border: delivered / refused / cancelled",
            f"{cb['delivered_abroad']:,} / {sum(cb['refusals'].values()):,} / "
            f"{cb['cancelled_abroad']:,}",
        ),
        (
            "cross-border: approvals by mechanism",
            ", ".join(f"{k} {v['approved']}" for k, v in cb["decisions"].items()) or "none",
        ),
        (
            "cross-border: regulator backlog (max / mean)",
            f"{cb['regulator_backlog_max']} / {_num(cb['regulator_backlog_time_mean'], '.1f')}",
        ),
        ("operation: delivered / failed", f"{m.delivered:,} / {m.failed:,}"),
        ("operation: refunds", format_fen(m.refunds_fen)),
        ("operation: in escrow at end", f"{m.in_escrow:,} ({format_fen(m.escrow_balance_fen)})"),
        (
            "fees: supplier / membership / hosting",
            f"{format_fen(m.fees_supplier_fen)} / {format_fen(m.fees_membership_fen)} / "
            f"{format_fen(m.fees_hosting_fen)}",
        ),
        ("welfare: buyer surplus", format_fen(m.buyer_surplus_fen)),
        ("welfare: provider surplus", format_fen(m.provider_surplus_fen)),
        ("welfare: total surplus", format_fen(m.total_surplus_fen)),
        ("concentration: HHI / Gini", f"{_num(m.hhi, '.0f')} / {_num(m.gini, '.3f')}"),
        (
            "run time",
            f"{result.seconds:.2f} s ({result.trades / max(result.seconds, 1e-9):,.0f} trades/s)",
        ),
        ("final Merkle root", result.root.hex()),
        ("statement digest (keyless)", result.statements),
    ]
    for label, value in rows:
        table.add_row(label, value)
    return table


def invariant_lines(result: RunResult) -> list[str]:
    """One line per invariant of DESIGN.md §6, and a verdict."""
    lines = [
        f"{r.status:<4}  invariant {i}: {r.name}: {r.detail}"
        for i, r in enumerate(result.invariants, start=1)
    ]
    unchecked = sum(1 for r in result.invariants if not r.checked)
    if not result.ok:
        verdict = "INVARIANT BROKEN"
    elif unchecked:
        verdict = f"every checked invariant holds ({unchecked} not checked)"
    else:
        verdict = "all invariants hold"
    lines.append(f"{verdict}: {result.out}")
    return lines


def summary_text(result: RunResult) -> str:
    """The summary table and invariant lines as plain text (``summary.txt``)."""
    plain = Console(width=100, color_system=None, force_terminal=False)
    with plain.capture() as captured:
        plain.print(summary_table(result))
        for line in invariant_lines(result):
            plain.print(line, highlight=False)
    return captured.get()
