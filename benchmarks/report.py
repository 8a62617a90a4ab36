"""Print benchmark figures as a table (and as JSON for notes and CI logs)."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table


def print_results(title: str, results: dict[str, Any]) -> None:
    table = Table(title=f"dxsim benchmark: {title}")
    table.add_column("figure")
    table.add_column("value", justify="right")
    for key, value in results.items():
        table.add_row(key, f"{value:,}" if isinstance(value, int) else str(value))
    Console().print(table)
    print(json.dumps({title: results}, sort_keys=True))
