"""Crash safety: a writer killed with SIGKILL mid-append leaves a ledger whose committed prefix
verifies (one transaction per batch; WAL on SQLite), and which the audit reports as not closed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

from ledger import Store, audit

WRITER = textwrap.dedent(
    """
    import sys
    from ledger import Ledger
    from tests.ledger.helpers import AUTHORIZATION, cast

    who = cast()
    ledger = Ledger.create(sys.argv[1], who.log, AUTHORIZATION, batch_size=50, checkpoint_every=400)
    for signer in (who.alice, who.bob):
        ledger.register(signer)
    i = 0
    while True:  # until killed
        body = {"contract": i, "price_fen": 100 + i}
        ledger.record("market.contract", body, i, [who.bob, who.alice])
        i += 1
    """
)


def test_sigkill_mid_append_leaves_a_verifiable_prefix(ledger_url: str) -> None:
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    child = subprocess.Popen([sys.executable, "-c", WRITER, ledger_url], cwd=root)
    try:
        deadline = time.monotonic() + 60
        committed = 0
        while committed < 1000 and time.monotonic() < deadline:
            time.sleep(0.05)
            assert child.poll() is None, "the writer died on its own"
            try:
                store = Store(ledger_url)
                committed = store.count()
                store.close()
            except Exception:  # the schema may not exist yet
                committed = 0
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    report = audit(ledger_url)
    assert report.verified, report.summary()
    assert report.state == "not-closed" and not report.ok  # a crash is never reported as OK
    assert report.summary().startswith("NOT CLOSED  ")
    assert report.uncovered == report.entries - 400 * (report.entries // 400)
    assert report.entries >= committed >= 1000
    store = Store(ledger_url)
    assert report.entries == store.count()  # every committed row verifies, none is half-written
    store.close()
    assert report.verified_checkpoints >= 2


def test_an_interrupt_inside_a_write_waits_for_the_write_to_finish(tmp_path) -> None:
    """The SIGTERM/^C handler fires between any two bytecodes: here it fires while the Merkle
    tree takes the leaf (before the batch has the row) and while a checkpoint is stored. The
    interrupt comes after the write, and the abandoned log's every entry verifies."""
    from ledger import Ledger
    from ledger.interrupts import CONSISTENT
    from tests.ledger.helpers import AUTHORIZATION, cast

    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    who = cast()
    ledger = Ledger.create(url, who.log, AUTHORIZATION, batch_size=7, checkpoint_every=10)
    for signer in (who.alice, who.bob):
        ledger.register(signer)
    tree = ledger.tree
    write_batch = ledger.store.write_batch
    fired: list[int] = []

    class InterruptedTree:
        """The log's tree, with the handler firing right after it takes leaf 23."""

        def __getattr__(self, name: str) -> object:
            return getattr(tree, name)

        def append_leaf_hash(self, digest: bytes) -> None:
            tree.append_leaf_hash(digest)
            if tree.size == 23:
                fired.append(tree.size)
                CONSISTENT.interrupt(15, None)

    def interrupted_write(*args: object) -> None:
        if ledger.size == 20:
            fired.append(ledger.size)
            CONSISTENT.interrupt(15, None)
        write_batch(*args)

    ledger.tree = InterruptedTree()  # type: ignore[assignment]
    ledger.store.write_batch = interrupted_write  # type: ignore[method-assign]
    recorded = 0
    for stop in (20, 23):
        try:
            while ledger.size < stop + 5:
                ledger.record(
                    "market.contract", {"contract": recorded}, recorded, [who.bob, who.alice]
                )
                recorded += 1
        except KeyboardInterrupt:
            assert ledger.size == stop  # raised after the entry was whole, not halfway
    assert fired == [20, 23] and not CONSISTENT.held and CONSISTENT.depth == 0
    ledger.abandon()
    report = audit(url)
    assert report.verified and report.entries == 23, report.summary()
    assert report.state == "not-closed"
