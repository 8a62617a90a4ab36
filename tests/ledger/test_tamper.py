"""Tamper evidence: any single change to any stored row is detected and the right seq is named.

The ledger is written once per backend; each example mutates the stored rows, audits, and puts the
original rows back, so the same code runs against SQLite and a real PostgreSQL.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, delete, insert, select, update

from ledger import Store, audit
from ledger.entry import signing_input, statement_bytes
from ledger.store import checkpoints_table, entries_table
from tests.ledger.helpers import Cast, small_ledger

ENTRIES = 1 + 4 + 24 + 1  # genesis, four registrations, 24 market entries, close
LAST = ENTRIES - 1


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def written(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Cast]]:
    from tests.conftest import PG_URL, _fresh_pg

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('tamper') / 'ledger.db'}"
    elif PG_URL is None:
        pytest.skip("DXSIM_TEST_PG_URL is not set")
    else:
        url = _fresh_pg()
    who = small_ledger(url, entries=24, checkpoint_every=8)
    yield url, who


Mutation = Callable[[Connection], None]


def _tampered(url: str, mutate: Mutation) -> Any:
    """Apply ``mutate`` to the stored rows, audit, restore the rows; return the report."""
    store = Store(url, create=True)  # writable: the test edits rows
    try:
        with store.engine.begin() as conn:
            original = [dict(r._mapping) for r in conn.execute(select(entries_table))]
            notes = [dict(r._mapping) for r in conn.execute(select(checkpoints_table))]
            mutate(conn)
        try:
            return audit(store, threads=2, chunk=7)
        finally:
            with store.engine.begin() as conn:
                conn.execute(delete(entries_table))
                conn.execute(insert(entries_table), original)
                conn.execute(delete(checkpoints_table))
                conn.execute(insert(checkpoints_table), notes)
    finally:
        store.close()


def _row(conn: Connection, seq: int) -> dict[str, Any]:
    return dict(
        conn.execute(select(entries_table).where(entries_table.c.seq == seq)).one()._mapping
    )


def test_intact_ledger_verifies(written: tuple[str, Cast]) -> None:
    report = audit(written[0])
    assert report.ok and report.entries == ENTRIES


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seq=st.integers(0, LAST), position=st.integers(0, 10_000), bit=st.integers(0, 7))
def test_any_flipped_bit_in_a_leaf_names_its_seq(
    written: tuple[str, Cast], seq: int, position: int, bit: int
) -> None:
    def flip(conn: Connection) -> None:
        leaf = bytearray(_row(conn, seq)["leaf"])
        leaf[position % len(leaf)] ^= 1 << bit
        conn.execute(
            update(entries_table).where(entries_table.c.seq == seq).values(leaf=bytes(leaf))
        )

    report = _tampered(written[0], flip)
    assert not report.ok
    assert report.first_bad.seq == seq, report.summary()


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seq=st.integers(0, LAST), column=st.sampled_from(["time", "kind", "actor"]))
def test_changed_index_column_names_its_seq(
    written: tuple[str, Cast], seq: int, column: str
) -> None:
    def change(conn: Connection) -> None:
        value = _row(conn, seq)[column]
        new = (
            value + 1 if isinstance(value, int) else value[:-1] + ("x" if value[-1] != "x" else "y")
        )
        conn.execute(update(entries_table).where(entries_table.c.seq == seq).values({column: new}))

    report = _tampered(written[0], change)
    assert not report.ok and report.first_bad.seq == seq, report.summary()


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seq=st.integers(0, LAST))
def test_deleted_row_names_its_seq(written: tuple[str, Cast], seq: int) -> None:
    report = _tampered(
        written[0],
        lambda conn: conn.execute(delete(entries_table).where(entries_table.c.seq == seq)),
    )
    assert not report.ok and report.first_bad.seq == seq, report.summary()


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seq=st.integers(0, LAST), new_seq=st.integers(ENTRIES, ENTRIES + 5))
def test_moved_seq_and_duplicated_rows_are_named(
    written: tuple[str, Cast], seq: int, new_seq: int
) -> None:
    # Moving a row leaves a gap at its old seq.
    report = _tampered(
        written[0],
        lambda conn: conn.execute(
            update(entries_table).where(entries_table.c.seq == seq).values(seq=new_seq)
        ),
    )
    assert not report.ok and report.first_bad.seq == seq, report.summary()

    # A copy of a row appended under a new seq is named at that seq (or at the gap before it).
    def duplicate(conn: Connection) -> None:
        row = _row(conn, seq)
        row["seq"] = new_seq
        conn.execute(insert(entries_table).values(row))

    report = _tampered(written[0], duplicate)
    assert not report.ok and report.first_bad.seq == ENTRIES, report.summary()


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(pair=st.tuples(st.integers(0, LAST), st.integers(0, LAST)).filter(lambda p: p[0] != p[1]))
def test_reordered_rows_name_the_first(written: tuple[str, Cast], pair: tuple[int, int]) -> None:
    first, second = sorted(pair)

    def swap(conn: Connection) -> None:
        a, b = _row(conn, first), _row(conn, second)
        for row, seq in ((a, second), (b, first)):
            values = {k: v for k, v in row.items() if k != "seq"}
            conn.execute(update(entries_table).where(entries_table.c.seq == seq).values(values))

    report = _tampered(written[0], swap)
    assert not report.ok and report.first_bad.seq == first, report.summary()


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seq=st.integers(5, LAST))
def test_entry_resigned_by_another_valid_key_is_named(written: tuple[str, Cast], seq: int) -> None:
    """An insider with a registered key rewrites an entry as their own, keeping the chain intact
    as far as they can: the next entry's signed back-link (or the checkpoint) still exposes it."""
    url, who = written

    def resign(conn: Connection) -> None:
        row = _row(conn, seq)
        doc = json.loads(row["leaf"])
        inner = doc["entry"]
        forger = who.carol
        body = {"want": "forged", "max_fen": 1}
        statement = statement_bytes(
            seq, inner["time"], "market.order", forger.id, base64.b64decode(inner["prev"]), body
        )
        sig = forger.sign(signing_input(b"test-log", statement))
        leaf = (
            b'{"entry":'
            + statement
            + b',"sigs":'
            + json.dumps(
                [[forger.id, base64.b64encode(sig).decode()]], separators=(",", ":")
            ).encode()
            + b"}"
        )
        conn.execute(
            update(entries_table)
            .where(entries_table.c.seq == seq)
            .values(leaf=leaf, kind="market.order", actor=forger.id)
        )

    report = _tampered(url, resign)
    assert not report.ok and report.first_bad.seq == seq, report.summary()


def test_truncated_tail_is_detected(written: tuple[str, Cast]) -> None:
    report = _tampered(
        written[0],
        lambda conn: conn.execute(delete(entries_table).where(entries_table.c.seq >= 20)),
    )
    assert not report.ok and report.first_bad.seq == 20
    assert "truncated" in report.first_bad.reason


def test_tampered_checkpoint_is_detected(written: tuple[str, Cast]) -> None:
    def corrupt(conn: Connection) -> None:
        note = conn.execute(
            select(checkpoints_table.c.note).where(checkpoints_table.c.size == 16)
        ).scalar_one()
        lines = note.split("\n")
        lines[1] = "17"
        conn.execute(
            update(checkpoints_table)
            .where(checkpoints_table.c.size == 16)
            .values(note="\n".join(lines))
        )

    report = _tampered(written[0], corrupt)
    assert not report.ok and report.first_bad.seq == 15
    assert "checkpoint at size 16" in report.first_bad.reason
