"""The report document: ``report.md`` (figures as a table, plots as image links) and a
self-contained ``report.html`` (the same, PNGs embedded as base64, an inline stylesheet, no
external reference of any kind), for one run or two side by side.

Both are rendered from one list of blocks, so the Markdown and the HTML never say different
things. Every number is a fold over the ledger (:mod:`marketplace.metrics`), shown in yuan, days,
percent or index points, and a statistic of nothing is "n/a", never 0.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from marketplace.metrics import Metrics
from marketplace.money import format_fen
from scenarios.report import NOT_AVAILABLE
from scenarios.report_plots import Plot

__all__ = ["HEADLINES", "ReportRun", "render_html", "render_markdown"]

Unit = Literal["count", "fen", "days", "share", "hhi", "gini"]


@dataclass(frozen=True)
class ReportRun:
    """What the document says about one run besides its metrics."""

    label: str
    path: str
    scenario: str
    seed: int | None
    status: str
    root: str | None
    statements: str | None
    metrics: Metrics


def _refused(m: Metrics) -> int:
    return int(sum(m.crossborder["refusals"].values()))


#: The key figures: label, unit, and how to read the figure from the metrics.
HEADLINES: list[tuple[str, Unit, Callable[[Metrics], float | int | None]]] = [
    ("simulated days", "days", lambda m: m.days_simulated),
    ("ledger entries", "count", lambda m: m.entries),
    ("storage: listings", "count", lambda m: m.listings),
    ("storage: listings never traded", "count", lambda m: m.listings_never_traded),
    ("rights: applications", "count", lambda m: m.rights_applications),
    ("rights: approval rate", "share", lambda m: m.rights_approval_rate),
    ("rights: review wait, mean", "days", lambda m: m.review_wait_days_mean),
    ("rights: backlog, peak", "count", lambda m: m.rights_backlog_max),
    ("trading: orders", "count", lambda m: m.orders),
    ("trading: desk wait, mean", "days", lambda m: m.desk_wait_days_mean),
    ("trading: contracts", "count", lambda m: m.trades),
    ("trading: volume", "fen", lambda m: m.volume_fen),
    ("trading: mean price", "fen", lambda m: m.price_mean_fen),
    ("trading: median price", "fen", lambda m: m.price_p50_fen),
    ("trading: time to first trade, mean", "days", lambda m: m.time_to_trade_days_mean),
    ("trading: rejected orders", "count", lambda m: m.rejections),
    ("trading: order rejection rate", "share", lambda m: m.order_rejection_rate),
    ("trading: unmet needs", "count", lambda m: m.unmet_needs),
    ("trading: value of unmet needs", "fen", lambda m: m.unmet_value_fen),
    ("operation: delivered", "count", lambda m: m.delivered),
    ("operation: failed", "count", lambda m: m.failed),
    ("operation: cancelled (mechanism refused)", "count", lambda m: m.cancelled),
    ("operation: refunds", "fen", lambda m: m.refunds_fen),
    ("operation: settlement lag, mean", "days", lambda m: m.settlement_lag_days_mean),
    ("cross-border: contracts", "count", lambda m: m.cross_border_trades),
    ("cross-border: delivered abroad", "count", lambda m: m.crossborder["delivered_abroad"]),
    ("cross-border: orders refused by policy", "count", _refused),
    (
        "cross-border: regulator backlog, peak",
        "count",
        lambda m: m.crossborder["regulator_backlog_max"],
    ),
    ("fees: supplier", "fen", lambda m: m.fees_supplier_fen),
    ("fees: membership", "fen", lambda m: m.fees_membership_fen),
    ("fees: hosting", "fen", lambda m: m.fees_hosting_fen),
    ("fees: compute", "fen", lambda m: m.fees_compute_fen),
    ("fees: total", "fen", lambda m: m.fees_total_fen),
    ("welfare: buyer surplus", "fen", lambda m: m.buyer_surplus_fen),
    ("welfare: provider surplus", "fen", lambda m: m.provider_surplus_fen),
    ("welfare: total surplus", "fen", lambda m: m.total_surplus_fen),
    ("concentration: HHI of provider revenue", "hhi", lambda m: m.hhi),
    ("concentration: Gini of provider revenue", "gini", lambda m: m.gini),
]


def _show(value: float | int | None, unit: Unit) -> str:
    if value is None:
        return NOT_AVAILABLE
    if unit == "fen":
        return format_fen(round(value))
    if unit == "days":
        return f"{value:,.2f} days"
    if unit == "share":
        return f"{value:.1%}"
    if unit == "hhi":
        return f"{value:,.0f}"
    if unit == "gini":
        return f"{value:.3f}"
    return f"{value:,}"


def _difference(a: float | int | None, b: float | int | None, unit: Unit) -> str:
    if a is None or b is None:
        return NOT_AVAILABLE
    d = b - a
    sign = "+" if d > 0 else ""
    if unit == "fen":
        return ("+" if d > 0 else "") + format_fen(round(d))
    if unit == "share":
        return f"{sign}{100 * d:.1f} pp"
    if unit == "days":
        return f"{sign}{d:,.2f} days"
    if unit == "gini":
        return f"{sign}{d:.3f}"
    return f"{sign}{d:,.0f}" if isinstance(d, float) else f"{sign}{d:,}"


# -- blocks: what both renderings say -----------------------------------------------------------
@dataclass(frozen=True)
class _Table:
    header: list[str]
    rows: list[list[str]]
    code_rows: frozenset[int] = frozenset()  # rows whose values are shown as code (hashes)


def _title(runs: Sequence[ReportRun]) -> str:
    return "dxsim report: " + " vs ".join(r.label for r in runs)


def _intro(runs: Sequence[ReportRun]) -> str:
    one = len(runs) == 1
    return (
        ("What the ledger of this run says" if one else "What the ledgers of two runs say")
        + ": every figure and plot below is a fold over the signed entries of "
        + ("its" if one else "each run's")
        + " ledger, read-only. Money is in yuan (¥, 100 fen), time in simulated days. This "
        "report does not verify the ledger: `dxsim verify RUN_DIR` does, and `dxsim check "
        "RUN_DIR` re-derives every stored figure from it."
        + ("" if one else " The last column is the second run minus the first.")
    )


def _runs_table(runs: Sequence[ReportRun]) -> _Table:
    rows = [
        ["run directory", *(r.path for r in runs)],
        ["scenario (seed)", *(f"{r.scenario} ({r.seed})" for r in runs)],
        ["status", *(r.status for r in runs)],
        ["ledger entries", *(f"{r.metrics.entries:,}" for r in runs)],
        ["final Merkle root", *(r.root or NOT_AVAILABLE for r in runs)],
        ["statement digest", *(r.statements or NOT_AVAILABLE for r in runs)],
    ]
    return _Table(["", *(r.label for r in runs)], rows, frozenset({0, 4, 5}))


def _figures_table(runs: Sequence[ReportRun]) -> _Table:
    header = ["figure", *(r.label for r in runs)]
    if len(runs) == 2:
        header.append(f"{runs[1].label} − {runs[0].label}")
    rows = []
    for label, unit, read in HEADLINES:
        values = [read(r.metrics) for r in runs]
        row = [label, *(_show(v, unit) for v in values)]
        if len(runs) == 2:
            row.append(_difference(values[0], values[1], unit))
        rows.append(row)
    return _Table(header, rows)


# -- Markdown -----------------------------------------------------------------------------------
def _md_cell(text: str, code: bool) -> str:
    text = text.replace("|", "\\|")
    return f"`{text}`" if code and text != NOT_AVAILABLE else text


def _md_table(table: _Table) -> list[str]:
    aligns = ["---"] + ["--:" if not table.code_rows else "---"] * (len(table.header) - 1)
    lines = [
        "| " + " | ".join(table.header) + " |",
        "| " + " | ".join(aligns) + " |",
    ]
    for n, row in enumerate(table.rows):
        cells = [_md_cell(c, i > 0 and n in table.code_rows) for i, c in enumerate(row)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def render_markdown(runs: Sequence[ReportRun], plots: Sequence[Plot], notes: Sequence[str]) -> str:
    """``report.md``: the plots are links to the PNGs beside it."""
    lines = [
        f"# {_title(runs)}",
        "",
        _intro(runs),
        "",
        "## The run" + ("s" if len(runs) > 1 else ""),
        "",
    ]
    lines += _md_table(_runs_table(runs))
    lines += ["", "## Key figures", ""]
    lines += _md_table(_figures_table(runs))
    for plot in plots:
        lines += ["", f"## {plot.title}", "", plot.caption, "", f"![{plot.title}]({plot.name})"]
    if notes:
        lines += ["", "## Not plotted", ""] + [f"- {note[0].upper()}{note[1:]}." for note in notes]
    return "\n".join(lines) + "\n"


# -- HTML ---------------------------------------------------------------------------------------
STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 72rem;
       margin: 2rem auto; padding: 0 1rem; color: #1b1b1b; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2.2rem; }
table { border-collapse: collapse; margin: 0.5rem 0; font-size: 0.92rem; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25rem 0.8rem; text-align: right; }
th:first-child, td:first-child { text-align: left; }
thead th { border-bottom: 2px solid #888; }
td.code { font-family: ui-monospace, monospace; font-size: 0.8rem; text-align: left;
          word-break: break-all; }
figure { margin: 1rem 0; } img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption, p.caption { color: #444; font-size: 0.92rem; }
code { font-family: ui-monospace, monospace; background: #f4f4f4; padding: 0 0.2rem; }
"""


def _inline(text: str) -> str:
    """Escape ``text``, turning `backticks` into <code>."""
    parts = html.escape(text).split("`")
    return "".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts))


def _html_table(table: _Table) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in table.header)
    body = []
    for n, row in enumerate(table.rows):
        cells = "".join(
            f'<td class="code">{html.escape(c)}</td>'
            if i > 0 and n in table.code_rows
            else f"<td>{html.escape(c)}</td>"
            for i, c in enumerate(row)
        )
        body.append(f"<tr>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def render_html(runs: Sequence[ReportRun], plots: Sequence[Plot], notes: Sequence[str]) -> str:
    """``report.html``: one file that opens anywhere, offline: images are data URIs."""
    title = html.escape(_title(runs))
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{title}</title><style>{STYLE}</style></head><body>",
        f"<h1>{title}</h1>",
        f"<p>{_inline(_intro(runs))}</p>",
        f"<h2>The run{'s' if len(runs) > 1 else ''}</h2>",
        _html_table(_runs_table(runs)),
        "<h2>Key figures</h2>",
        _html_table(_figures_table(runs)),
    ]
    for plot in plots:
        data = base64.b64encode(plot.png).decode("ascii")
        anchor = html.escape(plot.name.removesuffix(".png"))
        parts += [
            f'<h2 id="{anchor}">{html.escape(plot.title)}</h2>',
            f'<figure><img alt="{html.escape(plot.title)}" src="data:image/png;base64,{data}">',
            f"<figcaption>{_inline(plot.caption)}</figcaption></figure>",
        ]
    if notes:
        items = "".join(f"<li>{_inline(note[0].upper() + note[1:])}.</li>" for note in notes)
        parts += ["<h2>Not plotted</h2>", f"<ul>{items}</ul>"]
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"
