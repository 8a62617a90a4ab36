"""The ``dxsim`` command line (typer). Output and exit codes live here and nowhere below.

Exit codes are those of :mod:`scenarios.cli_errors`. ``--debug`` (anywhere on the command line,
or ``DXSIM_DEBUG=1``) shows the traceback of an internal error.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from pathlib import Path
from typing import Annotated

import typer

from ledger.interrupts import install as install_interrupts
from scenarios.cli_check import register as register_check_command
from scenarios.cli_compare import register as register_compare_command
from scenarios.cli_errors import EXIT_INTERNAL, REPORT_BUGS, UserError, fail, one_line_errors
from scenarios.cli_experiment import register as register_experiment_commands
from scenarios.cli_inspect import register as register_inspect_command
from scenarios.cli_ledger import register as register_ledger_commands
from scenarios.cli_policy import register as register_policy_commands
from scenarios.cli_replay import register as register_replay_command
from scenarios.cli_report import register as register_report_commands
from scenarios.cli_run import register as register_run_commands
from scenarios.cli_sweep import register as register_sweep_command
from scenarios.keys import find_key_secret
from scenarios.plugins import PluginError, load_entry_points
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
register_check_command(app)
register_policy_commands(app)
register_compare_command(app)
register_replay_command(app)
register_inspect_command(app)
register_report_commands(app)
register_experiment_commands(app)
register_sweep_command(app)


@app.callback()
def _options(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show the traceback of an internal error.")
    ] = False,
) -> None:
    """Data-exchange marketplace simulator over a signed, Merkle-logged ledger."""
    try:
        load_entry_points()  # installed packages' strategies and mechanisms (dxsim.plugins)
    except PluginError as exc:
        fail(str(exc))


@app.command()
@one_line_errors
def synthetic(
    out: Annotated[Path, typer.Argument(help="Directory to write ledger.db into.")],
    entries: Annotated[
        int, typer.Option(min=1, max=100_000_000, help="Entries after genesis.")
    ] = 5000,
    seed: Annotated[int, typer.Option(min=0, max=2**63 - 1)] = 1,
    key_secret: Annotated[
        Path | None, typer.Option(help="Key secret file (default: see README, 'Keys').")
    ] = None,
) -> None:
    """Write a closed ledger of synthetic signed entries (exercises the ledger without a market)."""
    target = out / "ledger.db"
    if target.exists() or (out.exists() and not out.is_dir()):
        raise UserError(f"{target} exists; choose a new directory")
    source = find_key_secret(key_secret)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    ledger = write_synthetic(target, source.secret, seed, entries)
    seconds = time.perf_counter() - started
    sys.stdout.write(
        f"wrote {ledger.size} entries to {target} in {seconds:.2f} s "
        f"({ledger.size / seconds:,.0f} entries/s)\n"
    )


def main() -> None:
    """Console-script entry point: user errors are one line and exit 2, never a traceback;
    anything else is a bug, reported in one line with exit code 3."""
    args = sys.argv[1:]
    debug = "--debug" in args or os.environ.get("DXSIM_DEBUG") == "1"
    args = [arg for arg in args if arg != "--debug"]
    install_interrupts()  # SIGTERM unwinds like ^C, and neither splits a ledger write
    try:
        app(args=args, prog_name="dxsim")  # exits itself (typer): ^C and SIGTERM exit 130
    except Exception as exc:
        if debug:
            traceback.print_exc()
        text = str(exc).splitlines()[0] if str(exc) else ""
        sys.stderr.write(f"dxsim: internal error: {type(exc).__name__}: {text}\n{REPORT_BUGS}\n")
        sys.exit(EXIT_INTERNAL)
