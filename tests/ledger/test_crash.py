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
