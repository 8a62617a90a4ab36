"""How the CLI fails: one clear line on stderr and a documented exit code, never a traceback.

=====  ==========================================================================================
code   meaning
=====  ==========================================================================================
0      ok: verified, closed, complete
1      does not verify, an invariant is broken, or stored results differ from the ledger
2      bad input: a scenario, pack, file, key or option that cannot be used (the line says which)
3      an internal error: a bug in dxsim (the line says where to report it; ``--debug`` shows
       the traceback)
4      verifies but incomplete: the log was not closed (a crash, or cut back to a checkpoint),
       or the run directory is marked incomplete or failed
=====  ==========================================================================================
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import NoReturn, ParamSpec, TypeVar

import typer

from ledger.errors import LedgerError

__all__ = [
    "EXIT_BAD_INPUT",
    "EXIT_FAILED",
    "EXIT_INCOMPLETE",
    "EXIT_INTERNAL",
    "EXIT_OK",
    "REPORT_BUGS",
    "UserError",
    "fail",
    "one_line_errors",
]

EXIT_OK = 0
EXIT_FAILED = 1  # the thing checked is bad (a ledger that does not verify, an invariant broken)
EXIT_BAD_INPUT = 2  # the user's input is unusable (missing file, bad scenario, wrong key)
EXIT_INTERNAL = 3  # a bug in dxsim
EXIT_INCOMPLETE = 4  # verifies, but the log is not closed or the run is not complete

REPORT_BUGS = (
    "this is a bug in dxsim: please report it to the dxsim maintainers (the issue tracker named "
    "in README.md, 'Reporting bugs') with the command line and the output of the same command "
    "run with --debug"
)

P = ParamSpec("P")
R = TypeVar("R")


class UserError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    first, *rest = message.splitlines() or [""]
    sys.stderr.write(f"dxsim: error: {first}\n")
    for line in rest:
        sys.stderr.write(f"{line}\n")
    raise typer.Exit(code)


def one_line_errors(command: Callable[P, R]) -> Callable[P, R]:
    """Turn the errors a user can cause into one line and exit code 2."""

    @wraps(command)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (UserError, LedgerError) as exc:
            fail(str(exc))
        except OSError as exc:
            fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))

    return wrapper
