"""Persistence: one repository class over SQLAlchemy 2 Core tables.

SQLite is the default (a file; WAL journal with ``synchronous=NORMAL`` while it is written, so a
commit survives a process crash and readers never block the writer; one self-contained file once
sealed at close); any SQLAlchemy URL works, PostgreSQL is tested. Rows are inserted in batches,
one transaction per batch, so a crash loses at most the open batch and never corrupts what was
committed. Readers open the store read-only and never change it. The ``entries`` table keeps the
canonical leaf bytes; its other columns are an index for queries, and the audit checks them
against the leaf.
"""

from __future__ import annotations

import functools
import re
import sqlite3
from collections.abc import Generator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    Select,
    String,
    Table,
    Text,
    and_,
    bindparam,
    create_engine,
    event,
    func,
    insert,
    inspect,
    or_,
    select,
    text,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from ledger.errors import StoreError
from ledger.merkle import leaf_hash
from ledger.tiles import TILE_WIDTH, TileHashes, TileRow

__all__ = [
    "SCHEMA_VERSION",
    "EntryRow",
    "Location",
    "Store",
    "describe",
    "is_url",
    "resolve_target",
    "resolve_url",
    "without_password",
]

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

#: The stored hashes of the Merkle tree in rows of 256 (:mod:`ledger.tiles`; the rows of tree
#: levels 0, 8, 16... are C2SP tlog-tiles). Kept apart from ``metadata``: a ledger written before
#: it existed still opens (its proofs recompute the rows), and a writer adds it on opening.
tile_metadata = MetaData()
tiles_table = Table(
    "merkle_tiles",
    tile_metadata,
    Column("tree_level", Integer, primary_key=True, autoincrement=False),
    Column("idx", _SEQ, primary_key=True, autoincrement=False),
    Column("hashes", LargeBinary, nullable=False),
)


@functools.cache
def _tile_rows_query(count: int, schema: str | None = None) -> Select[Any]:
    """The query for ``count`` tile rows, built once per count (proofs ask for about 20), in
    ``schema`` when given (it is run on the driver, which a schema translation map never sees).

    ORed equalities, not a row-value IN: SQLite answers those from the primary key, but scans
    the whole table for ``(a, b) IN (VALUES ...)``.
    """
    table = tiles_table if schema is None else tiles_table.to_metadata(MetaData(), schema=schema)
    level, index = table.c.tree_level, table.c.idx
    wanted = (and_(level == bindparam(f"k{j}"), index == bindparam(f"i{j}")) for j in range(count))
    return select(level, index, table.c.hashes).where(or_(*wanted))


#: A full tile row: 256 hashes of 32 bytes.
_FULL_ROW_BYTES = TILE_WIDTH * 32

EntryRow = tuple[int, int, str, str, bytes]
"""(seq, time, kind, actor, leaf) as stored."""

#: A ledger's location: an SQLite file (a :class:`~pathlib.Path`) or an SQLAlchemy URL (``str``).
Location = Path | str

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")
_SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
#: Errors a database driver raises for a damaged or unreadable file, besides SQLAlchemy's own.
_DB_ERRORS = (SQLAlchemyError, sqlite3.DatabaseError)


def is_url(target: str | Path) -> bool:
    """A target is a URL only when it has a scheme (``postgresql+psycopg://``); else a path."""
    return isinstance(target, str) and bool(_SCHEME.match(target))


def resolve_target(target: str | Path) -> Location:
    """A run directory or ``.db`` path becomes the SQLite file's path; a URL stays a URL.

    Paths are never parsed as URLs, so a ``?`` or ``#`` in a directory name stays in the path.
    """
    if is_url(target):
        return str(target)
    path = Path(target)
    return path / "ledger.db" if path.is_dir() else path


def resolve_url(target: str | Path) -> str:
    """The SQLAlchemy URL of a target (for display and for tools that want a URL)."""
    location = resolve_target(target)
    if isinstance(location, str):
        return location
    return f"sqlite:///{location}"


def without_password(url: str) -> str:
    """``url`` with any password removed: what may be written into a run directory (give the
    password through ``PGPASSWORD`` or ``~/.pgpass`` instead)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url
    if parsed.password is None:
        return url
    return parsed.set(password=None).render_as_string(hide_password=False)


def describe(location: Location) -> str:
    """How a location is named in messages: the file path, or the URL without its password."""
    if isinstance(location, Path):
        return str(location)
    try:
        return make_url(location).render_as_string(hide_password=True)
    except ArgumentError:
        return location


def _sqlite_writer_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _postgres_read_only(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")
    cursor.close()
    dbapi_connection.commit()


class Store:
    """The ledger's tables behind one repository object.

    Args:
        target: a path (SQLite file, or a run directory holding ``ledger.db``) or an SQLAlchemy
            URL. A PostgreSQL URL may name a schema with ``?schema=NAME`` (made on create), so
            that many ledgers share one database.
        create: make the schema if absent (a writer). Otherwise the store is opened **read-only**
            and never changed: an SQLite file is opened with ``mode=ro`` and no pragma is set
            (its journal mode stays as it is), a PostgreSQL session is ``READ ONLY``; a missing
            file is an error, not a new empty ledger, and the schema version must match.
    """

    def __init__(self, target: str | Path, *, create: bool = False) -> None:
        self.location = resolve_target(target)
        self.read_only = not create
        self._tile_reader: Any = None  # a DBAPI connection from the pool (see tile_rows)
        self._tile_sql: dict[int, tuple[str, tuple[str, ...] | None]] = {}
        self.schema: str | None = None
        self.is_sqlite = isinstance(self.location, Path)
        if isinstance(self.location, Path):
            self.engine: Engine = self._sqlite_engine(self.location, create)
        else:
            self.engine = self._url_engine(self.location, create)
        try:
            self._prepare(create)
        except _DB_ERRORS as exc:
            self.engine.dispose()
            reason = str(getattr(exc, "orig", exc)).splitlines()[0]
            raise StoreError(f"{self._name()}: not a dxsim ledger ({reason})") from exc

    def _sqlite_engine(self, path: Path, create: bool) -> Engine:
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
            database = str(path)
            engine = create_engine(
                "sqlite://", creator=lambda: sqlite3.connect(database, check_same_thread=False)
            )
            event.listen(engine, "connect", _sqlite_writer_pragmas)
            return engine
        if not path.is_file():
            raise StoreError(f"{path}: no such ledger file")
        uri = path.resolve().as_uri() + "?mode=ro"
        engine = create_engine(
            "sqlite://",
            creator=lambda: sqlite3.connect(uri, uri=True, check_same_thread=False),
        )
        return engine

    def _url_engine(self, url: str, create: bool) -> Engine:
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise StoreError(f"{url}: not a database URL ({exc})") from exc
        if parsed.get_backend_name() == "sqlite":
            database = parsed.database or ""
            if not database or database == ":memory:":
                raise StoreError("an in-memory SQLite ledger cannot be audited later; give a file")
            self.location = Path(database)
            self.is_sqlite = True
            return self._sqlite_engine(self.location, create)
        schema = parsed.query.get("schema")
        if schema is not None:
            if not isinstance(schema, str) or not _SCHEMA_NAME.match(schema):
                raise StoreError(
                    f"{describe(url)}: schema must be lower-case letters, digits and _ "
                    "(at most 63, not starting with a digit)"
                )
            parsed = parsed.difference_update_query(["schema"])
            self.schema = schema
        try:
            engine = create_engine(parsed)
        except (ArgumentError, ImportError) as exc:
            raise StoreError(f"{describe(url)}: cannot open ({exc})") from exc
        if not create and parsed.get_backend_name() == "postgresql":
            event.listen(engine, "connect", _postgres_read_only)
        if self.schema is not None:
            if create:
                try:
                    with engine.begin() as conn:
                        conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
                except _DB_ERRORS as exc:
                    engine.dispose()
                    reason = str(getattr(exc, "orig", exc)).splitlines()[0]
                    raise StoreError(f"{describe(url)}: cannot open ({reason})") from exc
            engine = engine.execution_options(schema_translate_map={None: self.schema})
        return engine

    def _name(self) -> str:
        return describe(self.location)

    def _prepare(self, create: bool) -> None:
        tables = set(inspect(self.engine).get_table_names(schema=self.schema))
        self.has_tiles = tiles_table.name in tables
        if create and not tables & {t.name for t in metadata.sorted_tables}:
            metadata.create_all(self.engine)
            tile_metadata.create_all(self.engine)
            self.has_tiles = True
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
        if create and not self.has_tiles:
            tile_metadata.create_all(self.engine)
            self.has_tiles = True

    def _read_failed(self, exc: BaseException, what: str) -> StoreError:
        reason = str(getattr(exc, "orig", exc)).splitlines()[0]
        return StoreError(f"{self._name()}: cannot read {what}: the database is damaged ({reason})")

    # -- metadata ---------------------------------------------------------------------------
    def get_meta(self, key: str) -> str | None:
        with self.engine.connect() as conn:
            value = conn.execute(select(meta_table.c.value).where(meta_table.c.key == key))
            return value.scalar_one_or_none()

    def meta(self) -> dict[str, str]:
        """Every metadata row (the audit checks there is nothing it does not expect)."""
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(select(meta_table.c.key, meta_table.c.value))
                return {str(k): str(v) for k, v in rows}
        except _DB_ERRORS as exc:
            raise self._read_failed(exc, "the metadata") from exc

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
        tiles: Sequence[TileRow] = (),
    ) -> None:
        """Insert entries (and the identities, checkpoint and full tile rows they bring) in one
        transaction."""
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
                if tiles:
                    conn.execute(
                        insert(tiles_table),
                        [{"tree_level": k, "idx": i, "hashes": data} for k, i, data in tiles],
                    )
        except _DB_ERRORS as exc:
            raise StoreError(f"{self._name()}: write failed ({exc})") from exc

    def seal(self) -> None:
        """A closed SQLite ledger becomes one self-contained file (journal mode DELETE).

        While it is written the ledger is in WAL mode; a reader of a WAL file must create the
        ``-wal`` and ``-shm`` files beside it, so an archive left in WAL mode could not be read
        without writing. A crashed writer leaves the WAL (and what it committed) in place.
        """
        if self.is_sqlite and not self.read_only:
            try:
                with self.engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA journal_mode=DELETE")
            except _DB_ERRORS:
                pass  # a reader has it open (a live replay): it stays in WAL mode, as valid

    # -- reading ----------------------------------------------------------------------------
    def count(self) -> int:
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(entries_table)).scalar_one())

    def max_seq(self) -> int | None:
        with self.engine.connect() as conn:
            value = conn.execute(select(func.max(entries_table.c.seq))).scalar_one()
            return None if value is None else int(value)

    def iter_rows(
        self, start: int | None = None, chunk: int = 4096
    ) -> Generator[list[EntryRow], None, None]:
        """Yield entry rows in seq order in chunks, streaming from the database.

        Without ``start`` every stored row is yielded, negative seqs included: an auditor must
        account for every row, not only for those a well-behaved writer would have made.

        Raises:
            StoreError: a page of the database cannot be read (naming where it stopped).
        """
        query = select(
            entries_table.c.seq,
            entries_table.c.time,
            entries_table.c.kind,
            entries_table.c.actor,
            entries_table.c.leaf,
        ).order_by(entries_table.c.seq)
        if start is not None:
            query = query.where(entries_table.c.seq >= start)
        last: int | None = None
        try:
            with self.engine.connect() as conn:
                result = conn.execution_options(yield_per=chunk).execute(query)
                for part in result.partitions(chunk):
                    rows = [(r[0], r[1], r[2], r[3], bytes(r[4])) for r in part]
                    last = rows[-1][0] if rows else last
                    yield rows
        except _DB_ERRORS as exc:
            where = "any entry" if last is None else f"the entries after seq {last}"
            raise self._read_failed(exc, where) from exc

    def leaves(self, start: int, end: int) -> list[bytes]:
        """Leaf bytes for seqs in ``[start, end)``, in order."""
        query = (
            select(entries_table.c.leaf)
            .where(entries_table.c.seq >= start, entries_table.c.seq < end)
            .order_by(entries_table.c.seq)
        )
        try:
            with self.engine.connect() as conn:
                return [bytes(r[0]) for r in conn.execute(query)]
        except _DB_ERRORS as exc:
            raise self._read_failed(exc, f"the entries {start}..{end - 1}") from exc

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
        try:
            with self.engine.connect() as conn:
                row = conn.execute(query).first()
        except _DB_ERRORS as exc:
            raise self._read_failed(exc, f"entry {seq}") from exc
        return None if row is None else (row[0], row[1], row[2], row[3], bytes(row[4]))

    def checkpoints(self) -> list[tuple[int, str]]:
        """Every stored checkpoint note as (tree size, note text), by size."""
        query = select(checkpoints_table.c.size, checkpoints_table.c.note).order_by(
            checkpoints_table.c.size
        )
        try:
            with self.engine.connect() as conn:
                return [(int(r[0]), str(r[1])) for r in conn.execute(query)]
        except _DB_ERRORS as exc:
            raise self._read_failed(exc, "the checkpoints") from exc

    def tile_rows(self, keys: Sequence[tuple[int, int]]) -> dict[tuple[int, int], bytes]:
        """The stored full tile rows among ``keys`` ((tree level, row index)), in one query.

        A proof is one short query, so it goes to the driver directly: the query is compiled
        for the database once per number of rows, and run on a DBAPI connection kept open (the
        Core's per-execution bookkeeping cost more than the query itself).
        """
        if not keys or not self.has_tiles:
            return {}
        compiled = self._tile_sql.get(len(keys))
        if compiled is None:
            query = _tile_rows_query(len(keys), self.schema)
            done = query.compile(dialect=self.engine.dialect)
            compiled = done.string, tuple(done.positiontup or ()) if done.positional else None
            self._tile_sql[len(keys)] = compiled
        sql, order = compiled
        named = {}
        for j, (k, i) in enumerate(keys):
            named[f"k{j}"], named[f"i{j}"] = k, i
        params: Any = named if order is None else tuple(named[name] for name in order)
        driver_error = self.engine.dialect.loaded_dbapi.Error
        try:
            if self._tile_reader is None:
                self._tile_reader = self.engine.raw_connection()
            reader = self._tile_reader
            cursor = reader.cursor()
            try:
                cursor.execute(sql, params)
                rows = cursor.fetchall()
            finally:
                cursor.close()
            if self.engine.dialect.name != "sqlite":
                reader.rollback()  # end the read: never left idle in a transaction
            found = {(int(r[0]), int(r[1])): bytes(r[2]) for r in rows}
        except (*_DB_ERRORS, driver_error, TypeError, ValueError) as exc:
            self._drop_tile_reader()
            raise self._read_failed(exc, "the Merkle tiles") from exc
        for (level, index), data in found.items():
            if len(data) != _FULL_ROW_BYTES:
                raise StoreError(
                    f"{self._name()}: Merkle tile row (level {level}, index {index}) is damaged: "
                    f"{len(data)} bytes, not {_FULL_ROW_BYTES}; dxsim verify checks every row"
                )
        return found

    def _drop_tile_reader(self) -> None:
        if self._tile_reader is not None:
            try:
                self._tile_reader.invalidate()  # after a failure: not back into the pool
            finally:
                self._tile_reader = None

    def iter_tiles(self) -> Generator[TileRow, None, None]:
        """Every stored tile row, by tree level then index (the audit compares them)."""
        if not self.has_tiles:
            return
        query = select(tiles_table.c.tree_level, tiles_table.c.idx, tiles_table.c.hashes).order_by(
            tiles_table.c.tree_level, tiles_table.c.idx
        )
        try:
            with self.engine.connect() as conn:
                for r in conn.execution_options(yield_per=256).execute(query):
                    yield int(r[0]), int(r[1]), bytes(r[2])
        except _DB_ERRORS as exc:
            raise self._read_failed(exc, "the Merkle tiles") from exc

    def tile_hashes(self) -> TileHashes:
        """The stored tree, for proofs that read O(log n) hashes (:class:`ledger.tiles.TileHashes`):
        tile rows where stored, else recomputed from the leaves."""
        top = self.max_seq()  # from the key's index: a count would scan every row
        return TileHashes(0 if top is None else top + 1, self.tile_rows, self.leaf_hashes)

    def tile_keys(self) -> set[tuple[int, int]]:
        """(tree level, row index) of every stored tile row."""
        if not self.has_tiles:
            return set()
        query = select(tiles_table.c.tree_level, tiles_table.c.idx)
        try:
            with self.engine.connect() as conn:
                return {(int(r[0]), int(r[1])) for r in conn.execute(query)}
        except _DB_ERRORS as exc:
            raise self._read_failed(exc, "the Merkle tiles") from exc

    def identities(self) -> list[tuple[str, str, bytes, int]]:
        query = select(identities_table).order_by(identities_table.c.registered_seq)
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(query)
                return [(r.id, r.role, bytes(r.public_key), int(r.registered_seq)) for r in rows]
        except _DB_ERRORS as exc:
            raise self._read_failed(exc, "the identities") from exc

    def close(self) -> None:
        if self._tile_reader is not None:
            self._tile_reader.close()
            self._tile_reader = None
        self.engine.dispose()

    def drop_all(self) -> None:
        """Remove the ledger's tables (tests use this to reset a shared PostgreSQL database)."""
        tile_metadata.drop_all(self.engine)
        metadata.drop_all(self.engine)
