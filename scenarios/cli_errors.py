"""How the CLI fails: one clear line on stderr and a documented exit code, never a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import NoReturn, ParamSpec, TypeVar

import typer

from ledger.errors import LedgerError

__all__ = ["EXIT_BAD_INPUT", "EXIT_FAILED", "EXIT_OK", "UserError", "fail", "one_line_errors"]

EXIT_OK = 0
EXIT_FAILED = 1  # the thing checked is bad (a ledger that does not verify, an invariant broken)
EXIT_BAD_INPUT = 2  # the user's input is unusable (missing file, bad scenario, wrong key)

P = ParamSpec("P")
R = TypeVar("R")


class UserError(Exception):
    """Bad input from the user: printed as one line, exit code 2."""


def fail(message: str, code: int = EXIT_BAD_INPUT) -> NoReturn:
    sys.stderr.write(f"dxsim: error: {message}\n")
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
