"""Persistence: one repository class over SQLAlchemy 2 Core tables.

SQLite is the default (a file, WAL journal, ``synchronous=NORMAL``: a commit survives a process
crash, and readers never block the writer); any SQLAlchemy URL works, PostgreSQL is tested. Rows are
inserted in batches, one transaction per batch, so a crash loses at most the open batch and never
corrupts what was committed. The ``entries`` table keeps the canonical leaf bytes; its other columns
are an index for queries, and the audit checks them against the leaf.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    insert,
    inspect,
    select,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError

from ledger.errors import StoreError
from ledger.merkle import leaf_hash

__all__ = ["SCHEMA_VERSION", "EntryRow", "Store", "resolve_url"]

SCHEMA_VERSION = 1

metadata = MetaData()

#: SQLite makes only ``INTEGER PRIMARY KEY`` the rowid alias: the fast, compact B-tree key.
_SEQ = BigInteger().with_variant(Integer(), "sqlite")

entries_table = Table(
    "entries",
    metadata,
    Column("seq", _SEQ, primary_key=True, autoincrement=False),
    Column("time", BigInteger, nullable=False),
    Column("kind", String(128), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("leaf", LargeBinary, nullable=False),
)

identities_table = Table(
    "identities",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("role", String(64), nullable=False),
    Column("public_key", LargeBinary, nullable=False),
    Column("registered_seq", BigInteger, nullable=False),
)

checkpoints_table = Table(
    "checkpoints",
    metadata,
    Column("size", _SEQ, primary_key=True, autoincrement=False),
    Column("note", Text, nullable=False),
)

meta_table = Table(
    "ledger_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

EntryRow = tuple[int, int, str, str, bytes]
"""(seq, time, kind, actor, leaf) as stored."""


def resolve_url(target: str | Path) -> str:
    """Turn a run directory, a ``.db`` path or an SQLAlchemy URL into an SQLAlchemy URL."""
    text = str(target)
    if "://" in text:
        return text
    path = Path(text)
    if path.is_dir():
        path = path / "ledger.db"
    return f"sqlite:///{path}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class Store:
    """The ledger's tables behind one repository object.

    Args:
        url: an SQLAlchemy URL (see :func:`resolve_url` for paths).
        create: make the schema if absent. When false, a missing SQLite file is an error rather
            than a new empty ledger, and the schema version must match.
    """

    def __init__(self, url: str, *, create: bool = False) -> None:
        self.url = url
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise StoreError(f"{url}: not a database URL ({exc})") from exc
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite:
            database = parsed.database or ""
            if not database or database == ":memory:":
                raise StoreError("an in-memory SQLite ledger cannot be audited later; give a file")
            path = Path(database)
            if not create and not path.is_file():
                raise StoreError(f"{path}: no such ledger file")
            if create:
                path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.engine: Engine = create_engine(url)
        except (ArgumentError, ImportError) as exc:
            raise StoreError(f"{url}: cannot open ({exc})") from exc
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        try:
            self._prepare(create)
        except (DBAPIError, sqlite3.DatabaseError) as exc:
            self.engine.dispose()
            reason = str(getattr(exc, "orig", exc)).splitlines()[0]
            raise StoreError(f"{self._name()}: not a dxsim ledger ({reason})") from exc

    def _name(self) -> str:
        return str(make_url(self.url).database) if self.is_sqlite else self.url

    def _prepare(self, create: bool) -> None:
        tables = set(inspect(self.engine).get_table_names())
        if create and not tables & {t.name for t in metadata.sorted_tables}:
            metadata.create_all(self.engine)
            self.set_meta("schema_version", str(SCHEMA_VERSION))
            return
        missing = {t.name for t in metadata.sorted_tables} - tables
        if missing:
            raise StoreError(f"{self._name()}: not a dxsim ledger (no table {sorted(missing)[0]})")
        version = self.get_meta("schema_version")
        if version != str(SCHEMA_VERSION):
            raise StoreError(
                f"{self._name()}: ledger schema version {version!r}, this dxsim reads "
                f"{SCHEMA_VERSION}"
            )

    # -- metadata ---------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            value = conn.execute(select(meta_table.c.value).where(meta_table.c.key == key))
            return value.scalar_one_or_none()

    def set_meta(self, key: str, value: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(meta_table.delete().where(meta_table.c.key == key))
            conn.execute(insert(meta_table).values(key=key, value=value))

    # -- writing ----------------------------------------------------------------------------
    def write_batch(
        self,
        rows: Sequence[EntryRow],
        identities: Sequence[tuple[str, str, bytes, int]] = (),
        checkpoint: tuple[int, str] | None = None,
    ) -> None:
        """Insert entries (and the identities / checkpoint they bring) in one transaction."""
        try:
            with self.engine.begin() as conn:
                if rows:
                    conn.execute(
                        insert(entries_table),
                        [
                            {"seq": s, "time": t, "kind": k, "actor": a, "leaf": leaf}
                            for s, t, k, a, leaf in rows
                        ],
                    )
                if identities:
                    conn.execute(
                        insert(identities_table),
                        [
                            {"id": i, "role": r, "public_key": p, "registered_seq": s}
                            for i, r, p, s in identities
                        ],
                    )
                if checkpoint is not None:
                    conn.execute(
                        insert(checkpoints_table).values(size=checkpoint[0], note=checkpoint[1])
                    )
        except SQLAlchemyError as exc:
            raise StoreError(f"{self._name()}: write failed ({exc})") from exc

    # -- reading ----------------------------------------------------------------------------
    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(entries_table)).scalar_one())

    def max_seq(self) -> int | None:
        with self.engine.connect() as conn:
            value = conn.execute(select(func.max(entries_table.c.seq))).scalar_one()
            return None if value is None else int(value)

    def iter_rows(self, start: int = 0, chunk: int = 4096) -> Iterator[list[EntryRow]]:
        """Yield every entry row in stored order (by seq) in chunks, streaming from the database."""
        query = (
            select(
                entries_table.c.seq,
                entries_table.c.time,
                entries_table.c.kind,
                entries_table.c.actor,
                entries_table.c.leaf,
            )
            .where(entries_table.c.seq >= start)
            .order_by(entries_table.c.seq)
        )
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=chunk).execute(query)
            for part in result.partitions(chunk):
                yield [(r[0], r[1], r[2], r[3], bytes(r[4])) for r in part]

    def leaves(self, start: int, end: int) -> list[bytes]:
        """Leaf bytes for seqs in ``[start, end)``, in order."""
        query = (
            select(entries_table.c.leaf)
            .where(entries_table.c.seq >= start, entries_table.c.seq < end)
            .order_by(entries_table.c.seq)
        )
        with self.engine.connect() as conn:
            return [bytes(r[0]) for r in conn.execute(query)]

    def leaf_hashes(self, start: int, end: int) -> list[bytes]:
        """RFC 6962 leaf hashes of seqs ``[start, end)``: what Merkle proofs read from the store."""
        return [leaf_hash(leaf) for leaf in self.leaves(start, end)]

    def entry_row(self, seq: int) -> EntryRow | None:
        query = select(
            entries_table.c.seq,
            entries_table.c.time,
            entries_table.c.kind,
            entries_table.c.actor,
            entries_table.c.leaf,
        ).where(entries_table.c.seq == seq)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else (row[0], row[1], row[2], row[3], bytes(row[4]))

    def checkpoints(self) -> list[tuple[int, str]]:
        """Every stored checkpoint note as (tree size, note text), by size."""
        query = select(checkpoints_table.c.size, checkpoints_table.c.note).order_by(
            checkpoints_table.c.size
        )
        with self.engine.connect() as conn:
            return [(int(r[0]), str(r[1])) for r in conn.execute(query)]

    def identities(self) -> list[tuple[str, str, bytes, int]]:
        query = select(identities_table).order_by(identities_table.c.registered_seq)
        with self.engine.connect() as conn:
            rows = conn.execute(query)
            return [(r.id, r.role, bytes(r.public_key), int(r.registered_seq)) for r in rows]

    def close(self) -> None:
        self.engine.dispose()

    def drop_all(self) -> None:
        """Remove the ledger's tables (tests use this to reset a shared PostgreSQL database)."""
        metadata.drop_all(self.engine)
