"""A whole run does not depend on where the term book keeps a licence until its term ends: the
same scenario gives the same ledger whether every term waits in memory or on disk."""

from __future__ import annotations

import hashlib
import importlib
from functools import partial
from pathlib import Path

import pytest

from ledger import KeySecret, Store
from ledger.entry import parse_leaf
from scenarios.build import build
from scenarios.catalog import resolve
from scenarios.keys import run_keys
from scenarios.load import load
from scenarios.schema import Scenario

#: The module itself (``scenarios.build`` as an attribute is the function it exports).
build_module = importlib.import_module("scenarios.build")
SECRET = KeySecret(hashlib.sha256(b"term book runs").digest())


def _run(tmp_path: Path, name: str) -> tuple[bytes, str, int, int]:
    """(Merkle root, statement digest, terms spilled to disk, renewal orders) of one run."""
    scenario = load(
        resolve("delivery_modes"),
        Scenario,
        ["population.0.count=10", "population.1.count=30", "run.days=130"],
    )
    world = build(scenario, tmp_path / f"{name}.db", keys=run_keys(SECRET, scenario.run.seed))
    book = world.terms
    assert book is not None
    world.run()
    store = Store(tmp_path / f"{name}.db")
    try:
        orders = [
            parse_leaf(row[4]).body
            for rows in store.iter_rows()
            for row in rows
            if row[2] == "trade.order"
        ]
    finally:
        store.close()
    renewals = sum(1 for body in orders if body.get("renews") is not None)
    return world.ledger.root(), world.statements.hexdigest(), book.spilled, renewals


def test_terms_on_disk_and_in_memory_give_the_same_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    on_disk = _run(tmp_path, "disk")
    monkeypatch.setattr(build_module, "TermBook", partial(build_module.TermBook, window_days=1e9))
    in_memory = _run(tmp_path, "memory")
    assert on_disk[2] > 0 and in_memory[2] == 0  # the first run really went to disk
    assert on_disk[3] > 0  # and terms ended and were renewed
    assert on_disk == (*in_memory[:2], on_disk[2], in_memory[3])
