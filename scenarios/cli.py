"""The ``dxsim`` command line (typer). Output and exit codes live here and nowhere below."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from scenarios.cli_errors import UserError, fail, one_line_errors
from scenarios.cli_ledger import register as register_ledger_commands
from scenarios.cli_policy import register as register_policy_commands
from scenarios.cli_run import register as register_run_commands
from scenarios.synthetic import write_synthetic

__all__ = ["app", "main"]

app = typer.Typer(
    name="dxsim",
    help="Data-exchange marketplace simulator over a signed, Merkle-logged ledger.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
register_ledger_commands(app)
register_run_commands(app)
register_policy_commands(app)


@app.command()
@one_line_errors
def synthetic(
    out: Annotated[Path, typer.Argument(help="Directory to write ledger.db into.")],
    entries: Annotated[int, typer.Option(min=1, help="Entries after genesis.")] = 5000,
    seed: Annotated[int, typer.Option(min=0)] = 1,
) -> None:
    """Write a closed ledger of synthetic signed entries (exercises the ledger without a market)."""
    out.mkdir(parents=True, exist_ok=True)
    target = out / "ledger.db"
    if target.exists():
        raise UserError(f"{target} exists; choose a new directory")
    started = time.perf_counter()
    ledger = write_synthetic(target, seed, entries)
    seconds = time.perf_counter() - started
    sys.stdout.write(
        f"wrote {ledger.size} entries to {target} in {seconds:.2f} s "
        f"({ledger.size / seconds:,.0f} entries/s)\n"
    )


def main() -> None:
    """Console-script entry point: user errors are one line and exit 2, never a traceback."""
    try:
        app()
    except KeyboardInterrupt:
        fail("interrupted", 130)
    except typer.Exit as done:
        sys.exit(done.exit_code)
