"""Raw ceilings: the bare cost of the work the ledger cannot avoid (Ed25519, SQL inserts).

Every benchmark reports its throughput as a ratio to a ceiling measured in the same process, so the
figures mean the same on any machine.
"""

from __future__ import annotations

import sqlite3
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

__all__ = ["executemany_rows_per_s", "sign_per_s", "verify_per_s"]

T = TypeVar("T")


def sign_per_s(messages: Sequence[bytes], threads: int = 1) -> float:
    """Bare Ed25519 signatures per second over ``messages`` with ``threads`` threads."""
    key = Ed25519PrivateKey.generate()

    def sign(part: Sequence[bytes]) -> None:
        for message in part:
            key.sign(message)

    return len(messages) / _timed_split(sign, messages, threads)


def _timed_split(work: Callable[[Sequence[T]], None], items: Sequence[T], threads: int) -> float:
    """Seconds to run ``work`` over ``items`` split evenly across ``threads`` threads."""
    size = len(items)
    parts = [items[i * size // threads : (i + 1) * size // threads] for i in range(threads)]
    started = time.perf_counter()
    if threads == 1:
        work(items)
    else:
        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(work, parts))
    return time.perf_counter() - started


def verify_per_s(messages: Sequence[bytes], threads: int = 1) -> float:
    """Bare Ed25519 verifications per second over ``messages`` with ``threads`` threads."""
    key = Ed25519PrivateKey.generate()
    public = key.public_key()
    pairs = [(key.sign(m), m) for m in messages]

    def check(part: Sequence[tuple[bytes, bytes]]) -> None:
        verify = public.verify
        for sig, message in part:
            verify(sig, message)

    return len(pairs) / _timed_split(check, pairs, threads)


def executemany_rows_per_s(rows: Sequence[tuple[int, int, str, str, bytes]], batch: int) -> float:
    """Bare ``sqlite3`` executemany of the same rows (same batch size, WAL, synchronous=NORMAL)."""
    with tempfile.TemporaryDirectory() as folder:
        db = sqlite3.connect(Path(folder) / "raw.db", isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(
            "CREATE TABLE entries (seq INTEGER PRIMARY KEY, time BIGINT, kind TEXT, actor TEXT,"
            " leaf BLOB)"
        )
        started = time.perf_counter()
        for start in range(0, len(rows), batch):
            db.execute("BEGIN")
            db.executemany(
                "INSERT INTO entries VALUES (?, ?, ?, ?, ?)", rows[start : start + batch]
            )
            db.execute("COMMIT")
        elapsed = time.perf_counter() - started
        db.close()
    return len(rows) / elapsed
