"""``dxsim replay``: a run's ledger replayed as a tape, live in the terminal or as plain lines.

Sources are run directories, ledger files and SQLAlchemy URLs (PostgreSQL too); the ledger is
opened read-only. ``--verify`` replays through the audit (every signature, back-link and
checkpoint root checked as entries pass): a bad entry ends the replay, named with its seq and
reason, and the command exits 1. ``--follow`` tails a ledger still being written.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer

from ledger import AuditReport, Location, Store, describe
from marketplace.replay import Filter, Tick, format_tick, read_ticks, verified_ticks
from scenarios.cli_errors import EXIT_FAILED, one_line_errors
from scenarios.rundir import ledger_location

__all__ = ["register", "ticks_of"]

POLL_SECONDS = 0.5


def _plain(location: Location) -> Iterator[Tick]:
    store = Store(location)
    try:
        yield from read_ticks(store)
    finally:
        store.close()


def _followed(location: Location, verify: bool, threads: int) -> Iterator[Tick]:
    """Ticks of a ledger still being written: each pass reads (or verifies) what is there and
    yields what is new, until the log's close entry has passed."""
    shown = -1
    while True:
        reports: list[AuditReport] = []
        source = (
            verified_ticks(location, threads=threads, on_report=reports.append)
            if verify
            else _plain(location)
        )
        for tick in source:
            if tick.seq > shown or tick.verified is False:
                yield tick
                if tick.verified is False:
                    return
                shown = tick.seq
                if tick.kind == "ledger.close":
                    return
        time.sleep(POLL_SECONDS)


def ticks_of(location: Location, *, verify: bool, follow: bool, threads: int = 2) -> Iterator[Tick]:
    if follow:
        return _followed(location, verify, threads)
    if verify:
        return verified_ticks(location, threads=threads, on_report=lambda _report: None)
    return _plain(location)


def _write_lines(ticks: Iterator[Tick], flt: Filter, speed: float) -> int:
    """The plain tape on stdout; the exit code (1 if an entry did not verify)."""
    out = sys.stdout
    started = time.monotonic()
    first_day: float | None = None
    try:
        for tick in ticks:
            if tick.verified is False:
                out.write(
                    f"BAD  seq {tick.seq}  kind {tick.kind}  actor {tick.actor}: {tick.problem}\n"
                )
                return EXIT_FAILED
            if not flt.shows(tick):
                continue
            if speed > 0:
                first_day = tick.day if first_day is None else first_day
                wait = (tick.day - first_day) / speed - (time.monotonic() - started)
                if wait > 0:
                    out.flush()
                    time.sleep(wait)
            out.write(format_tick(tick) + "\n")
        out.flush()
    except BrokenPipeError:  # `| head`: the reader has what it wanted
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return 0


@one_line_errors
def replay(
    target: Annotated[
        str, typer.Argument(help="Run directory, ledger .db file or SQLAlchemy URL.")
    ],
    speed: Annotated[
        float | None,
        typer.Option(
            min=0,
            max=1e6,
            help="Sim-days per second; 0 = as fast as possible "
            "(default: 2 live, 0 for plain lines).",
        ),
    ] = None,
    start: Annotated[float | None, typer.Option("--from", min=0, help="From sim-day.")] = None,
    end: Annotated[float | None, typer.Option("--to", min=0, help="Up to sim-day.")] = None,
    kind: Annotated[
        list[str] | None, typer.Option(help="Only these kinds (or a prefix: trade).")
    ] = None,
    actor: Annotated[str | None, typer.Option(help="Only entries naming this participant.")] = None,
    dataset: Annotated[str | None, typer.Option(help="Only entries of this listing.")] = None,
    corridor: Annotated[str | None, typer.Option(help="Only this corridor (CN-US).")] = None,
    follow: Annotated[
        bool, typer.Option("--follow", help="Tail a run still being written.")
    ] = False,
    verify: Annotated[
        bool, typer.Option("--verify", help="Check every signature and root as entries pass.")
    ] = False,
    no_live: Annotated[
        bool, typer.Option("--no-live", help="Plain lines (the default when not a terminal).")
    ] = False,
) -> None:
    """Replay a run's ledger as a tape, live in the terminal or as plain lines.

    Keys of the live view: space pause/resume, + and - speed, n next entry, / filter, q quit.
    """
    location = ledger_location(target)
    Store(location).close()  # a missing or foreign ledger is bad input, before anything starts
    flt = Filter(
        kinds=tuple(kind or ()),
        actor=actor,
        dataset=dataset,
        corridor=corridor,
        start_day=start,
        end_day=end,
    )
    live = not no_live and sys.stdout.isatty()

    def source() -> Iterator[Tick]:
        return ticks_of(location, verify=verify, follow=follow)

    if not live:
        code = _write_lines(source(), flt, 0.0 if speed is None else speed)
        if code:
            raise typer.Exit(code)
        return
    from scenarios.replay_view import ReplayApp  # Textual only for the live view

    app = ReplayApp(
        source,
        flt,
        speed=2.0 if speed is None else speed,
        source=describe(location if isinstance(location, str) else Path(location)),
        follow=follow,
    )
    code = app.run() or 0
    if code:
        raise typer.Exit(code)


def register(app: typer.Typer) -> None:
    app.command()(replay)
