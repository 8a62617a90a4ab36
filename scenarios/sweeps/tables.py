"""A study's tables: the tidy results (one row per replication) and the summary (per variant
and metric: mean with its 95 % confidence interval, and the paired difference to the base).

The interval is Student's t: mean ± t(0.975, n − 1)·s/√n. The paired difference of variant v
to the base in replication r is ``m(v, r) − m(base, r)``; with common random numbers the two
share every random draw, so its interval is usually far narrower than the difference of two
independent means (Law, *Simulation Modeling and Analysis*, 5th ed., §10.2, "common random
numbers").

Floats are written with :func:`repr` (the shortest text that reads back as the same float), so
the same rows give byte-identical files.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scenarios.compare import paired_interval
from scenarios.sweeps.execute import Row
from scenarios.sweeps.study import Study

__all__ = ["Summary", "results_columns", "summarise", "write_csv", "write_parquet"]


def results_columns(study: Study) -> list[str]:
    return ["variant", *study.axes, "replication", "seed", *study.config.metrics, "digest"]


def tidy(study: Study, rows: Sequence[Row]) -> list[Row]:
    """The rows with each variant's field values, in (variant, replication) order."""
    fields = {v.index: dict(v.fields) for v in study.variants}
    ordered = sorted(rows, key=lambda r: (r["variant"], r["replication"]))
    return [{**row, **fields[row["variant"]]} for row in ordered]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    return str(value)


def write_csv(path: Path, columns: Sequence[str], rows: Sequence[Row]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_text(row.get(c)) for c in columns])
    path.write_text(buffer.getvalue(), encoding="utf-8")


def write_parquet(path: Path, columns: Sequence[str], rows: Sequence[Row]) -> bool:
    """Write the table as Parquet if pyarrow is installed (the ``export`` extra); False if not."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        return False
    table = pa.table({c: [row.get(c) for row in rows] for c in columns})
    pq.write_table(table, path, compression="zstd")
    return True


@dataclass(frozen=True, slots=True)
class Interval:
    n: int
    mean: float | None
    low: float | None
    high: float | None


def interval(values: Sequence[float]) -> Interval:
    """Mean and Student-t 95 % interval of ``values`` (no interval from one value): the
    interval ``dxsim compare`` reports, :func:`scenarios.compare.paired_interval`."""
    if not values:
        return Interval(0, None, None, None)
    found = paired_interval(list(values))
    if found is None:
        return Interval(1, float(values[0]), None, None)
    mean, low, high = found
    return Interval(len(values), mean, low, high)


@dataclass(frozen=True, slots=True)
class Summary:
    variant: int
    fields: dict[str, Any]
    metric: str
    value: Interval
    paired: Interval  # the paired difference to the base (variant 0)

    def row(self) -> Row:
        return {
            "variant": self.variant,
            **self.fields,
            "metric": self.metric,
            "n": self.value.n,
            "mean": self.value.mean,
            "ci95_low": self.value.low,
            "ci95_high": self.value.high,
            "diff_to_base": self.paired.mean,
            "diff_ci95_low": self.paired.low,
            "diff_ci95_high": self.paired.high,
        }


def summary_columns(study: Study) -> list[str]:
    return [
        "variant", *study.axes, "metric", "n", "mean", "ci95_low", "ci95_high",
        "diff_to_base", "diff_ci95_low", "diff_ci95_high",
    ]  # fmt: skip


def summarise(study: Study, rows: Sequence[Row]) -> list[Summary]:
    """Per variant and metric; replications where a metric is missing are left out (of the
    paired difference too, where either side misses it)."""
    by_cell: dict[tuple[int, int], Row] = {(r["variant"], r["replication"]): r for r in rows}
    base = study.variants[0].index
    replications = sorted({r["replication"] for r in rows})
    out: list[Summary] = []
    for variant in study.variants:
        for metric in study.config.metrics:
            mine = [by_cell.get((variant.index, r)) for r in replications]
            values = [float(row[metric]) for row in mine if row and row[metric] is not None]
            diffs = []
            for r, row in zip(replications, mine, strict=True):
                other = by_cell.get((base, r))
                if row and other and row[metric] is not None and other[metric] is not None:
                    diffs.append(float(row[metric]) - float(other[metric]))
            out.append(
                Summary(
                    variant.index, dict(variant.fields), metric, interval(values), interval(diffs)
                )
            )
    return out
