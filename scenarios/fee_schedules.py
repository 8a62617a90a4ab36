"""Fee schedules as data: one TOML file per venue (``scenarios/fees/NAME.toml``), named by a
scenario's ``[exchange.fees] schedule = "NAME"`` (or a path relative to the scenario).

A schedule file holds the venue, where its schedule is published, and a ``[fees]`` table of
:class:`marketplace.config.FeeSchedule` fields. The scenario starts from those values; any fee it
also writes in ``[exchange.fees]`` (or sets with ``--set``) wins, so a study can vary one fee of
a published schedule. The resolved values, and the schedule's name, are in ``scenario.json``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from marketplace import tomlfile
from marketplace.config import FeeSchedule
from marketplace.tomlfile import ConfigError, locate

__all__ = ["FEES_DIR", "FeeScheduleFile", "apply_fee_schedule", "builtin_schedules"]

FEES_DIR = Path(__file__).resolve().parent / "fees"


class FeeScheduleFile(BaseModel):
    """One venue's published schedule."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    venue: str = Field(min_length=1, max_length=200)
    #: Where the schedule is published (a notice, a report), so a reader can check it.
    source: str = Field(min_length=1, max_length=500)
    fees: FeeSchedule


def builtin_schedules() -> dict[str, Path]:
    return {path.stem: path for path in sorted(FEES_DIR.glob("*.toml"))}


def _schedule_file(name: str, scenario_dir: Path | None) -> Path | None:
    builtins = builtin_schedules()
    if name in builtins:
        return builtins[name]
    if name.endswith(".toml"):
        path = Path(name) if scenario_dir is None else scenario_dir / name
        return path if path.is_file() else None
    return None


def apply_fee_schedule(
    data: dict[str, Any], source: str, path: Path | None, error: type[ConfigError]
) -> None:
    """Replace ``exchange.fees.schedule`` by the schedule's fees, under the fees the scenario
    writes itself. A schedule that does not exist, or a schedule file that is wrong, is an
    ``error`` located in the file at fault."""
    exchange = data.get("exchange")
    fees = exchange.get("fees") if isinstance(exchange, dict) else None
    if not isinstance(fees, dict) or "schedule" not in fees:
        return  # no schedule named (a wrong table is the model's to report)
    name = fees["schedule"]
    where = ("exchange", "fees", "schedule")
    line = locate(source, where)
    allowed = ", ".join(builtin_schedules()) or "none"
    if not isinstance(name, str):
        raise error(path, line, "exchange.fees.schedule", f"a schedule's name; built-in: {allowed}")
    found = _schedule_file(name, path.parent if path is not None else None)
    if found is None:
        raise error(
            path,
            line,
            "exchange.fees.schedule",
            f"no fee schedule {name!r}; built-in: {allowed} (or a .toml file beside the scenario)",
        )
    table, text = tomlfile.load_toml(found, "fee schedule", error)
    schedule = tomlfile.validate(FeeScheduleFile, table, text, found, error)
    published = schedule.fees.model_dump(mode="json", exclude_unset=True)
    exchange_table: dict[str, Any] = data["exchange"]
    exchange_table["fees"] = {**published, **fees, "schedule": found.stem}
