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
from ledger.audit import VerifiedAtAppend
from ledger.entry import signing_input, statement_bytes
from ledger.store import checkpoints_table, entries_table, identities_table, meta_table
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


TABLES = (entries_table, checkpoints_table, identities_table, meta_table)


def _tampered(url: str, mutate: Mutation, vouched: VerifiedAtAppend | None = None) -> Any:
    """Apply ``mutate`` to the stored rows, audit, restore every table; return the report."""
    store = Store(url, create=True)  # writable: the test edits rows
    try:
        with store.engine.begin() as conn:
            saved = {t.name: [dict(r._mapping) for r in conn.execute(select(t))] for t in TABLES}
            mutate(conn)
        reader = Store(url)  # the audit reads read-only, as `dxsim verify` does
        try:
            return audit(reader, threads=2, chunk=7, verified_at_append=vouched)
        finally:
            reader.close()
            with store.engine.begin() as conn:
                for table in TABLES:
                    conn.execute(delete(table))
                    if saved[table.name]:
                        conn.execute(insert(table), saved[table.name])
    finally:
        store.close()


def _flip(seq: int, position: int, bit: int) -> Mutation:
    """Flip one bit of the stored leaf of ``seq`` (``position`` taken modulo its length)."""

    def flip(conn: Connection) -> None:
        leaf = bytearray(_row(conn, seq)["leaf"])
        leaf[position % len(leaf)] ^= 1 << bit
        conn.execute(
            update(entries_table).where(entries_table.c.seq == seq).values(leaf=bytes(leaf))
        )

    return flip


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
    report = _tampered(written[0], _flip(seq, position, bit))
    assert not report.ok
    assert report.first_bad.seq == seq, report.summary()


def _writers_word(url: str) -> VerifiedAtAppend:
    """What the writer of the intact ledger vouches for: the size and root it verified."""
    intact = audit(url)
    return VerifiedAtAppend(intact.entries, intact.root)


def test_the_writers_word_gives_the_same_verdict_on_an_intact_ledger(
    written: tuple[str, Cast],
) -> None:
    url = written[0]
    full, once = audit(url), audit(url, verified_at_append=_writers_word(url))
    assert once.ok and (once.entries, once.root, once.statements) == (
        full.entries,
        full.root,
        full.statements,
    )
    wrong = audit(url, verified_at_append=VerifiedAtAppend(ENTRIES, bytes(32)))
    assert wrong.ok  # a word that does not hold is not taken: the full audit decides


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seq=st.integers(0, LAST), position=st.integers(0, 10_000), bit=st.integers(0, 7))
def test_the_writers_word_hides_no_flipped_bit(
    written: tuple[str, Cast], seq: int, position: int, bit: int
) -> None:
    """Signatures verified at append are not verified again, yet any change to a stored leaf
    (a signature's bits included) is still named at its seq: the leaves no longer hash to the
    root the writer verified, so the audit verifies every signature after all."""
    url = written[0]

    report = _tampered(url, _flip(seq, position, bit), vouched=_writers_word(url))
    assert not report.ok
    assert report.first_bad.seq == seq, report.summary()


def test_the_writers_word_does_not_cover_a_cut_log(written: tuple[str, Cast]) -> None:
    url = written[0]

    def cut(conn: Connection) -> None:
        conn.execute(delete(entries_table).where(entries_table.c.seq >= LAST - 2))

    assert (
        _tampered(url, cut, vouched=_writers_word(url)).summary() == _tampered(url, cut).summary()
    )


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


# -- whole-log tampers: the closing state, the cadence, every table -------------------------


def test_an_intact_ledger_is_closed(written: tuple[str, Cast]) -> None:
    report = audit(written[0])
    assert report.state == "closed" and report.uncovered == 0


def test_a_log_cut_back_to_an_earlier_checkpoint_is_not_closed(written: tuple[str, Cast]) -> None:
    def cut(conn: Connection) -> None:
        conn.execute(delete(entries_table).where(entries_table.c.seq >= 16))
        conn.execute(delete(checkpoints_table).where(checkpoints_table.c.size > 16))

    report = _tampered(written[0], cut)
    assert report.verified and report.state == "not-closed" and not report.ok
    assert report.entries == 16 and report.uncovered == 0
    assert report.summary().startswith("NOT CLOSED  16 entries")


def test_a_cut_past_the_last_checkpoint_counts_what_lies_beyond(written: tuple[str, Cast]) -> None:
    def cut(conn: Connection) -> None:
        conn.execute(delete(entries_table).where(entries_table.c.seq >= 20))
        conn.execute(delete(checkpoints_table).where(checkpoints_table.c.size > 16))

    report = _tampered(written[0], cut)
    assert report.state == "not-closed" and report.uncovered == 4


def test_a_log_stripped_of_its_checkpoints_does_not_verify(written: tuple[str, Cast]) -> None:
    report = _tampered(written[0], lambda conn: conn.execute(delete(checkpoints_table)))
    assert report.state == "bad" and "checkpoint at size 8 is missing" in report.first_bad.reason


def test_a_removed_cadence_checkpoint_is_named(written: tuple[str, Cast]) -> None:
    report = _tampered(
        written[0],
        lambda conn: conn.execute(delete(checkpoints_table).where(checkpoints_table.c.size == 16)),
    )
    assert report.state == "bad" and report.first_bad.seq == 15
    assert "checkpoint at size 16 is missing" in report.first_bad.reason


def test_the_final_checkpoint_removed_is_named(written: tuple[str, Cast]) -> None:
    report = _tampered(
        written[0],
        lambda conn: conn.execute(
            delete(checkpoints_table).where(checkpoints_table.c.size == ENTRIES)
        ),
    )
    assert report.state == "bad" and report.first_bad.seq == LAST
    assert report.first_bad.reason == "the final checkpoint is missing"


@pytest.mark.parametrize("seq", [-1, -5, -(2**40)])
def test_a_row_with_a_negative_seq_is_named(written: tuple[str, Cast], seq: int) -> None:
    def extra(conn: Connection) -> None:
        row = _row(conn, 3)
        row["seq"] = seq
        conn.execute(insert(entries_table).values(row))

    report = _tampered(written[0], extra)
    assert report.state == "bad" and report.first_bad.seq == seq
    assert "negative" in report.first_bad.reason


def test_an_entry_after_the_close_is_named(written: tuple[str, Cast]) -> None:
    def append(conn: Connection) -> None:
        row = _row(conn, 5)
        row["seq"] = ENTRIES
        conn.execute(insert(entries_table).values(row))

    report = _tampered(written[0], append)
    assert report.state == "bad" and report.first_bad.seq == ENTRIES


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (delete(identities_table).where(identities_table.c.id == "bob"), "'bob' is missing"),
        (
            update(identities_table).where(identities_table.c.id == "bob").values(role="operator"),
            "'bob' differs from its signed registration",
        ),
        (
            update(identities_table)
            .where(identities_table.c.id == "carol")
            .values(public_key=bytes(32)),
            "'carol' differs from its signed registration",
        ),
        (
            insert(identities_table).values(
                id="mallory", role="operator", public_key=bytes(32), registered_seq=2
            ),
            "'mallory' has no signed registration",
        ),
    ],
)
def test_the_identities_table_must_equal_the_signed_registrations(
    written: tuple[str, Cast], tamper: Any, reason: str
) -> None:
    report = _tampered(written[0], lambda conn: conn.execute(tamper))
    assert report.state == "bad" and reason in report.first_bad.reason, report.summary()


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (
            update(meta_table)
            .where(meta_table.c.key == "verifier_key")
            .values(value="test-log+00000000+AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
            "stored verifier key is not the genesis log key",
        ),
        (
            update(meta_table).where(meta_table.c.key == "origin").values(value="other-log"),
            "stored origin",
        ),
        (insert(meta_table).values(key="trust_me", value="yes"), "unexpected key 'trust_me'"),
    ],
)
def test_the_stored_metadata_must_equal_the_genesis(
    written: tuple[str, Cast], tamper: Any, reason: str
) -> None:
    report = _tampered(written[0], lambda conn: conn.execute(tamper))
    assert report.state == "bad" and reason in report.first_bad.reason, report.summary()


def test_a_statement_digest_ignores_keys_but_not_statements(tmp_path: Any) -> None:
    a = tmp_path / "a.db"
    b = tmp_path / "b.db"
    small_ledger(f"sqlite:///{a}", entries=12, seed=3)
    small_ledger(f"sqlite:///{b}", entries=12, seed=4)  # same statements, other keys
    ra, rb = audit(a), audit(b)
    assert ra.root != rb.root and ra.statements == rb.statements
    c = tmp_path / "c.db"
    small_ledger(f"sqlite:///{c}", entries=13, seed=3)
    assert audit(c).statements != ra.statements
