"""``dxsim export``: a run's ledger and its folds as tidy tables, for pandas, polars, R and DuckDB.

What it writes (``<ext>`` is ``csv``, ``parquet`` or ``jsonl``):

- ``entries.<ext>``: one row per entry — ``seq, time`` (sim-seconds), ``day`` (``time // 86400``),
  ``kind, actor, signers`` (a JSON list of the signers' ids);
- one table per kind, ``<kind with _ for .>.<ext>`` (``trade_contract.csv``): ``seq, time, day,
  actor`` and the body's fields as its pydantic model declares them — a nested object as dotted
  columns (``terms.purpose``), a list or a free-form object as JSON text, money as integer fen
  — with defaults filled in, so every row of a kind has the same columns;
- a child table for each list of objects and each map to integers in a body
  (``operation_settlement_items``: ``seq, index`` and the item's fields;
  ``storage_hosting_charges``: ``seq, key, value``), so settlements and hosting charges sum
  without parsing JSON;
- ``ledger_*.<ext>`` for the log's own kinds (genesis, identities, close), the body as JSON;
- ``metrics.<ext>``: every figure of ``metrics.json`` as ``metric, key, value, value_int, text``
  (``key`` the dotted path inside a nested figure, ``value`` the number as a float, ``value_int``
  the same number exactly when it is an integer, ``text`` a figure that is text);
- ``timeseries.<ext>``: ``series, key, day, value, value_int``, the per-day folds of
  :mod:`marketplace.timeseries`.

The tables and the metrics come from one pass over the ledger, so they agree by construction, and
the tests check that they do (counts per kind, volumes, fees).
"""

from __future__ import annotations

import json
import types
import typing
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, ValidationError

from ledger import Store
from marketplace.entries import BODY_MODELS
from marketplace.metrics import DAY, FoldError, LedgerFold, parsed_entries
from marketplace.timeseries import DailyPrices, SeriesFold, TimeSeries
from scenarios.export_tables import Column, ColumnType, TableWriter, open_table
from scenarios.outdir import OutputDir

__all__ = ["ENTRY_COLUMNS", "KindTable", "export_ledger", "kind_table", "planned_files"]

ENTRY_COLUMNS = [
    Column("seq", "int"),
    Column("time", "int"),
    Column("day", "int"),
    Column("kind", "str"),
    Column("actor", "str"),
    Column("signers", "str"),
]
_HEAD = [Column("seq", "int"), Column("time", "int"), Column("day", "int"), Column("actor", "str")]
METRIC_COLUMNS = [
    Column("metric", "str"),
    Column("key", "str"),
    Column("value", "float"),
    Column("value_int", "int"),
    Column("text", "str"),
]
SERIES_COLUMNS = [
    Column("series", "str"),
    Column("key", "str"),
    Column("day", "int"),
    Column("value", "float"),
    Column("value_int", "int"),
]


@dataclass(frozen=True)
class _Leaf:
    path: tuple[str, ...]  # where the value sits in the dumped body
    column: Column


@dataclass(frozen=True)
class _Child:
    field: str
    name: str
    leaves: list[_Leaf] | None  # a list of objects' columns; None for a map (key, value)


@dataclass(frozen=True)
class KindTable:
    """How one kind's bodies become rows: its columns, and its child tables."""

    kind: str
    name: str
    leaves: list[_Leaf]
    children: list[_Child] = field(default_factory=list)
    model: type[BaseModel] | None = None  # None: a kind outside the vocabulary, body as JSON

    @property
    def columns(self) -> list[Column]:
        return [*_HEAD, *(leaf.column for leaf in self.leaves)]


def _unwrap(annotation: Any) -> Any:
    """Strip ``Annotated`` and ``| None`` (every column may be missing)."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            present = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(present) != 1:
                return Any
            annotation = present[0]
        else:
            return annotation


def _scalar(annotation: Any) -> ColumnType | None:
    if annotation is bool:
        return "bool"
    if annotation in (int, float, str):
        return typing.cast(ColumnType, annotation.__name__)
    if typing.get_origin(annotation) is typing.Literal:
        kinds = {type(a) for a in typing.get_args(annotation)}
        return _scalar(kinds.pop()) if len(kinds) == 1 else None
    return None


def _model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _leaves(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[_Leaf]:
    leaves: list[_Leaf] = []
    for name, info in model.model_fields.items():
        path, annotation = (*prefix, name), _unwrap(info.annotation)
        nested = _model(annotation)
        if nested is not None:
            leaves += _leaves(nested, path)
        else:
            leaves.append(_Leaf(path, Column(".".join(path), _scalar(annotation) or "str")))
    return leaves


def _children(model: type[BaseModel], table: str) -> list[_Child]:
    children = []
    for name, info in model.model_fields.items():
        annotation = _unwrap(info.annotation)
        origin, args = typing.get_origin(annotation), typing.get_args(annotation)
        if origin is list and args and (item := _model(_unwrap(args[0]))) is not None:
            children.append(_Child(name, f"{table}_{name}", _leaves(item)))
        elif origin is dict and len(args) == 2 and _unwrap(args[1]) is int:
            children.append(_Child(name, f"{table}_{name}", None))
    return children


def kind_table(kind: str) -> KindTable:
    """The table of ``kind``: from its body model, or a JSON ``body`` column for other kinds."""
    name = kind.replace(".", "_")
    model = BODY_MODELS.get(kind)
    if model is None:
        return KindTable(kind, name, [_Leaf((), Column("body", "str"))])
    return KindTable(kind, name, _leaves(model), _children(model, name), model)


def _child_columns(child: _Child) -> list[Column]:
    if child.leaves is None:
        return [Column("seq", "int"), Column("key", "str"), Column("value", "int")]
    return [Column("seq", "int"), Column("index", "int"), *(leaf.column for leaf in child.leaves)]


def planned_files(ext: str) -> list[str]:
    """Every file an export writes whatever the ledger holds (``ledger_*`` tables come on top)."""
    names = ["entries", "metrics", "timeseries"]
    for kind in BODY_MODELS:
        table = kind_table(kind)
        names += [table.name, *(child.name for child in table.children)]
    return [f"{name}.{ext}" for name in names]


def _value(data: Any, leaf: _Leaf) -> Any:
    for part in leaf.path:
        data = data.get(part) if isinstance(data, dict) else None
    if data is None or leaf.column.type != "str" or isinstance(data, str):
        return data
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


class _Exporter:
    """One pass over a ledger: entry rows out as they come, folds fed alongside."""

    def __init__(self, out: OutputDir, ext: str) -> None:
        self.out, self.ext = out, ext
        self.writers: dict[str, TableWriter] = {}
        self.rows: dict[str, int] = {}
        self.tables: dict[str, KindTable] = {}
        self.totals, self.daily = LedgerFold(), SeriesFold()

    def table(self, name: str, columns: Sequence[Column]) -> TableWriter:
        if name not in self.writers:
            path = self.out.file(f"{name}.{self.ext}")
            self.writers[name] = open_table(path, columns, self.ext)
            self.rows[name] = 0
        return self.writers[name]

    def write(self, name: str, row: Sequence[Any]) -> None:
        self.writers[name].write(row)
        self.rows[name] += 1

    def open_kind(self, kind: str) -> KindTable:
        table = self.tables.get(kind)
        if table is None:
            table = self.tables[kind] = kind_table(kind)
            self.table(table.name, table.columns)
            for child in table.children:
                self.table(child.name, _child_columns(child))
        return table

    def entry(self, seq: int, time: int, kind: str, actor: str, body: dict[str, Any]) -> None:
        self.totals.feed(seq, time, kind, actor, body)
        self.daily.feed(seq, time, kind, actor, body)
        table = self.open_kind(kind)
        head = [seq, time, time // DAY, actor]
        if table.model is None:
            self.write(table.name, [*head, _value(body, table.leaves[0])])
            return
        try:
            data = table.model.model_validate(body).model_dump(mode="json")
        except ValidationError as exc:
            raise FoldError(f"seq {seq}: {kind} body does not parse ({exc.errors()[0]})") from exc
        self.write(table.name, [*head, *(_value(data, leaf) for leaf in table.leaves)])
        for child in table.children:
            value = data.get(child.field) or {}
            if child.leaves is None:
                for key in sorted(value):
                    self.write(child.name, [seq, key, value[key]])
            else:
                for index, item in enumerate(value):
                    self.write(child.name, [seq, index, *(_value(item, c) for c in child.leaves)])

    def close(self) -> None:
        for writer in self.writers.values():
            writer.close()


def export_ledger(store: Store, out: OutputDir, ext: str) -> dict[str, int]:
    """Write every table of the module docstring into ``out``; return the rows per table.

    Raises:
        FoldError: an entry does not parse (run ``dxsim verify``).
        ledger.StoreError: the ledger cannot be read.
    """
    exporter = _Exporter(out, ext)
    try:
        exporter.table("entries", ENTRY_COLUMNS)
        for kind in BODY_MODELS:
            exporter.open_kind(kind)  # every kind's table, empty or not: scripts can rely on it
        for e in parsed_entries(store):
            signers = json.dumps([signer for signer, _sig in e.sigs], separators=(",", ":"))
            exporter.write("entries", [e.seq, e.time, e.time // DAY, e.kind, e.actor, signers])
            exporter.entry(e.seq, e.time, e.kind, e.actor, e.body)
        exporter.table("metrics", METRIC_COLUMNS)
        for row in metric_rows(exporter.totals.metrics().to_json()):
            exporter.write("metrics", row)
        exporter.table("timeseries", SERIES_COLUMNS)
        for row in series_rows(exporter.daily.series()):
            exporter.write("timeseries", row)
    finally:
        exporter.close()
    return dict(sorted(exporter.rows.items()))


def metric_rows(value: Any, metric: str = "", key: str = "") -> Iterator[list[Any]]:
    """``metric, key, value, value_int, text`` rows of a metrics JSON object, depth first."""
    if isinstance(value, dict):
        for name, item in value.items():
            if metric:
                yield from metric_rows(item, metric, f"{key}.{name}" if key else str(name))
            else:
                yield from metric_rows(item, str(name), "")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from metric_rows(item, metric, f"{key}.{index}" if key else str(index))
    elif isinstance(value, bool | int):
        yield [metric, key, float(value), int(value), None]
    elif isinstance(value, float):
        yield [metric, key, value, None, None]
    elif value is None:
        yield [metric, key, None, None, None]
    else:
        yield [metric, key, None, None, str(value)]


def _ints(series: str, key: str, values: Sequence[int]) -> Iterator[list[Any]]:
    for day, number in enumerate(values):
        yield [series, key, day, float(number), number]


def _prices(by: str, table: dict[str, DailyPrices]) -> Iterator[list[Any]]:
    for key, cell in table.items():
        yield from _ints(f"trades_by_{by}", key, cell.trades)
        yield from _ints(f"volume_fen_by_{by}", key, cell.volume_fen)
        for day, mean in enumerate(cell.mean_fen()):
            yield [f"price_mean_fen_by_{by}", key, day, mean, None]


def series_rows(s: TimeSeries) -> Iterator[list[Any]]:
    """``series, key, day, value, value_int`` rows of every daily series (dense: every day)."""
    yield from _prices("category", s.prices_by_category)
    yield from _prices("mechanism", s.prices_by_mechanism)
    for name, table in (
        ("count", s.counts),
        ("backlog_end", s.backlog_end),
        ("backlog_peak", s.backlog_peak),
        ("fees_fen", s.fees_fen),
    ):
        for key, values in table.items():
            yield from _ints(name, key, values)
    for name, floats in (("hhi", s.hhi), ("gini", s.gini)):
        for day, number in enumerate(floats):
            yield [name, "", day, number, None]
