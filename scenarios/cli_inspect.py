"""``dxsim inspect RUN_DIR``: a run's figures as tables, or the whole history of one dataset or
one participant (with its balance over time), read from the verified ledger."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from ledger import Store, audit
from marketplace.authorship import market_rules
from marketplace.metrics import Metrics, fold
from marketplace.money import format_fen
from marketplace.replay import TapeState, Tick, read_ticks
from scenarios.cli_errors import EXIT_FAILED, UserError, one_line_errors
from scenarios.rundir import ledger_location

__all__ = ["register"]

#: The metrics tables: a title and the figures it shows, in order.
SECTIONS: list[tuple[str, list[str]]] = [
    ("market", ["entries", "days_simulated", "participants_by_role", "listings"]),
    (
        "rights confirmation",
        [
            "rights_applications", "rights_approvals", "rights_rejections",
            "rights_approval_rate", "review_wait_days_mean", "review_wait_days_p90",
            "rights_backlog_max", "rights_backlog_time_mean",
        ],
    ),
    (
        "trading",
        [
            "orders", "trades", "volume_fen", "price_mean_fen", "price_p10_fen", "price_p50_fen",
            "price_p90_fen", "desk_wait_days_mean", "desk_wait_days_p90", "desk_backlog_max",
            "rejections", "rejections_by_reason", "unmet_needs", "unmet_by_reason",
            "unmet_value_fen", "trades_by_licence", "time_to_trade_days_mean",
        ],
    ),
    (
        "operation",
        [
            "delivered", "failed", "cancelled", "refunds_fen", "settlement_lag_days_mean",
            "in_escrow", "escrow_balance_fen",
        ],
    ),
    (
        "fees, welfare, concentration",
        [
            "fees_supplier_fen", "fees_membership_fen", "fees_hosting_fen", "fees_total_fen",
            "buyer_surplus_fen", "provider_surplus_fen", "total_surplus_fen", "hhi", "gini",
        ],
    ),
]  # fmt: skip


def _value(name: str, value: Any) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, int) and name.endswith("_fen"):
        return format_fen(value)
    if isinstance(value, float):
        return f"{value:,.3f}"
    if isinstance(value, dict):
        return ", ".join(f"{k} {_value(name, v)}" for k, v in value.items()) or "none"
    return f"{value:,}" if isinstance(value, int) else str(value)


def _metrics_tables(metrics: Metrics, console: Console) -> None:
    data = metrics.to_json()
    for title, names in SECTIONS:
        table = Table(title=title, show_header=False, title_justify="left")
        table.add_column("figure")
        table.add_column("value", justify="right", overflow="fold")
        for name in names:
            table.add_row(name, _value(name, data[name]))
        console.print(table)
    crossing = metrics.crossborder
    table = Table(title="cross-border", show_header=False, title_justify="left")
    table.add_column("figure")
    table.add_column("value", overflow="fold")
    for name in (
        "delivered_abroad", "cancelled_abroad", "refusals", "refused_by_rule",
        "refused_value_fen", "decisions", "regulator_backlog_max", "exporter_years_over",
        "important_delivered_abroad", "important_without_assessment",
    ):  # fmt: skip
        table.add_row(name, _value(name, crossing[name]))
    for mechanism, wait in crossing["mechanism_wait_days"].items():
        table.add_row(f"wait: {mechanism} (days)", f"p50 {_value('', wait['p50'])}, "
                      f"p90 {_value('', wait['p90'])}, n {wait['n']}")  # fmt: skip
    for corridor, flows in crossing["flows"].items():
        table.add_row(f"flows {corridor}", json.dumps(flows, sort_keys=True))
    console.print(table)


def _summary(tick: Tick) -> str:
    body = tick.body
    keep = {k: v for k, v in body.items() if not isinstance(v, dict | list) and v is not None}
    text = ", ".join(f"{k}={format_fen(v) if k.endswith('_fen') else v}" for k, v in keep.items())
    return text[:160]


def _history(ticks: list[Tick], title: str, console: Console) -> None:
    table = Table(title=title, title_justify="left")
    for column in ("day", "seq", "kind", "by", "what"):
        table.add_column(column, overflow="fold")
    for tick in ticks:
        table.add_row(f"{tick.day:.3f}", str(tick.seq), tick.kind, tick.actor, _summary(tick))
    console.print(table)


def _dataset_ticks(ticks: list[Tick], wanted: str) -> list[Tick]:
    """Every entry of one listing (by listing or dataset id): its listing, certificates,
    quotes, orders, contracts, clearance, and the settlement items of its contracts."""
    listing = next(
        (t.body["listing"] for t in ticks if t.kind == "storage.listing"
         and wanted in (t.body["listing"], t.body["dataset"])),
        None,
    )  # fmt: skip
    if listing is None:
        raise UserError(f"no listing or dataset {wanted!r} in this ledger")
    contracts = {t.body["contract"] for t in ticks if t.kind == "trade.contract"
                 and t.body["listing"] == listing}  # fmt: skip
    found = []
    for tick in ticks:
        body = tick.body
        if body.get("listing") == listing or body.get("contract") in contracts:
            found.append(tick)
        elif tick.kind == "operation.settlement":
            items = [i for i in body["items"] if i["contract"] in contracts]
            if items:
                found.append(Tick(tick.seq, tick.time, tick.kind, tick.actor, tick.signers,
                                  {**body, "items": items}))  # fmt: skip
    return found


@one_line_errors
def inspect(
    run_dir: Annotated[str, typer.Argument(help="Run directory, ledger file or URL.")],
    dataset: Annotated[
        str | None, typer.Option(help="The history of one listing (or dataset) id.")
    ] = None,
    actor: Annotated[
        str | None, typer.Option(help="The history of one participant, with its balance.")
    ] = None,
    no_verify: Annotated[
        bool, typer.Option("--no-verify", help="Skip verifying the ledger first.")
    ] = False,
) -> None:
    """A run's metrics as tables, or the full history of one dataset or participant."""
    location = ledger_location(run_dir)
    console = Console()
    if not no_verify:
        report = audit(location, domain=market_rules)
        if not report.verified:
            console.print(report.summary(), style="bold red", highlight=False)
            raise typer.Exit(EXIT_FAILED)
    if dataset is None and actor is None:
        _metrics_tables(fold(location), console)
        return
    store = Store(location)
    try:
        ticks = list(read_ticks(store))
    finally:
        store.close()
    if dataset is not None:
        _history(_dataset_ticks(ticks, dataset), f"history of {dataset}", console)
    if actor is not None:
        _actor(ticks, actor, console)


def _actor(ticks: list[Tick], actor: str, console: Console) -> None:
    state = TapeState()
    mine: list[Tick] = []
    balances: list[tuple[Tick, int]] = []
    for tick in ticks:
        before = state.balances.get(actor)
        state.feed(tick)
        after = state.balances.get(actor)
        if actor in tick.parties() or before != after:
            mine.append(tick)
            balances.append((tick, after or 0))
    if not mine:
        raise UserError(f"no entry names {actor!r} in this ledger")
    _history(mine, f"history of {actor}", console)
    table = Table(title=f"balance of {actor} over time", title_justify="left")
    for column in ("day", "seq", "kind", "balance"):
        table.add_column(column, justify="right")
    previous: int | None = None
    for tick, balance in balances:
        if balance != previous:
            table.add_row(f"{tick.day:.3f}", str(tick.seq), tick.kind, format_fen(balance))
            previous = balance
    console.print(table)
    from scenarios.replay_view import sparkline  # Textual only when it is drawn

    console.print(f"  {sparkline([b for _t, b in balances][-60:])}", highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(inspect)
