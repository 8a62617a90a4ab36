"""Tidy tables in three formats (CSV, Parquet, JSON Lines), written a batch at a time.

A table is a list of typed :class:`Column` s and rows of Python values. The types are stable
across formats and runs: ``int`` columns hold integers only (money stays integer fen), ``float``
only floats, ``bool`` booleans, ``str`` text (a list or a free-form object is JSON text); any
value may be missing (None: an empty CSV field, ``null`` in JSON and Parquet). So pandas,
polars, R and DuckDB read the same columns from any of the three files.

Parquet goes through ``pyarrow`` directly (the ``export`` extra), imported only when asked for,
so CSV and JSON Lines need nothing beyond the standard library.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from scenarios.cli_errors import UserError

__all__ = ["FORMATS", "Column", "ColumnType", "TableWriter", "open_table"]

ColumnType = Literal["int", "float", "bool", "str"]
FORMATS = ("csv", "parquet", "jsonl")
BATCH = 8192  # rows buffered before a Parquet row group is written


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType


class TableWriter(Protocol):
    def write(self, row: Sequence[Any]) -> None: ...

    def close(self) -> None: ...


def _csv_text(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value  # ints as digits; floats as repr, the shortest text that reads back exactly


class _CsvWriter:
    def __init__(self, path: Path, columns: Sequence[Column]) -> None:
        self._file = path.open("w", encoding="utf-8", newline="")
        self._csv = csv.writer(self._file, lineterminator="\n")
        self._csv.writerow([c.name for c in columns])

    def write(self, row: Sequence[Any]) -> None:
        self._csv.writerow([_csv_text(v) for v in row])

    def close(self) -> None:
        self._file.close()


class _JsonlWriter:
    def __init__(self, path: Path, columns: Sequence[Column]) -> None:
        self._file: io.TextIOWrapper = path.open("w", encoding="utf-8", newline="\n")
        self._names = [c.name for c in columns]

    def write(self, row: Sequence[Any]) -> None:
        record = dict(zip(self._names, row, strict=True))
        self._file.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")

    def close(self) -> None:
        self._file.close()


class _ParquetWriter:
    def __init__(self, path: Path, columns: Sequence[Column]) -> None:
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError as exc:
            raise UserError(
                "--format parquet needs pyarrow: pip install 'dxsim[export]' (or use csv, jsonl)"
            ) from exc
        types = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_(), "str": pa.string()}
        self._pa = pa
        self._schema = pa.schema([pa.field(c.name, types[c.type]) for c in columns])
        self._writer = pq.ParquetWriter(str(path), self._schema)
        self._rows: list[Sequence[Any]] = []

    def write(self, row: Sequence[Any]) -> None:
        self._rows.append(row)
        if len(self._rows) >= BATCH:
            self._flush()

    def _flush(self) -> None:
        arrays = [
            self._pa.array([row[i] for row in self._rows], type=field.type)
            for i, field in enumerate(self._schema)
        ]
        self._writer.write_table(self._pa.Table.from_arrays(arrays, schema=self._schema))
        self._rows = []

    def close(self) -> None:
        if self._rows:
            self._flush()
        self._writer.close()


def open_table(path: Path, columns: Sequence[Column], fmt: str) -> TableWriter:
    """A writer of rows of ``columns`` to ``path`` in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "csv":
        return _CsvWriter(path, columns)
    if fmt == "jsonl":
        return _JsonlWriter(path, columns)
    if fmt == "parquet":
        return _ParquetWriter(path, columns)
    raise UserError(f"--format {fmt!r}: unknown format; allowed: {', '.join(FORMATS)}")
