"""The five invariants: each passes on the reference story and fails, naming the offence, on a
story crafted to break it."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings

from ledger import Store
from marketplace.entries import CertificateEnded
from marketplace.invariants import (
    CERTIFIED,
    CROSSBORDER,
    DERIVED,
    ENTRIES_VERIFY,
    MONEY,
    SAME_ROOT,
    InvariantResult,
    check_invariants,
)
from marketplace.metrics import fold
from tests.marketplace.stories import (
    CERTIFICATE,
    DAY,
    ENDOWMENTS,
    EXPECTED,
    LISTING,
    OPS,
    Script,
    certified_market,
    delivered,
    failed,
    good_story,
    play,
)

NAMES = [ENTRIES_VERIFY, MONEY, CERTIFIED, CROSSBORDER, SAME_ROOT, DERIVED]


def by_name(results: list[InvariantResult]) -> dict[str, InvariantResult]:
    assert [r.name for r in results] == NAMES
    return {r.name: r for r in results}


def only_failure(results: list[InvariantResult]) -> InvariantResult:
    """The one failing fold invariant (a crafted story should break exactly what it targets).

    Many crafted stories also break the exchange's rules of record (a settlement of a contract
    never signed, a certificate never issued), which the audit of invariant 1 catches too: it
    may fail alongside, but then it must name a seq, like the invariant does.
    """
    failing = [r for r in results if not r.ok and r.name != ENTRIES_VERIFY]
    assert len(failing) == 1, failing
    verify = next(r for r in results if r.name == ENTRIES_VERIFY)
    assert verify.ok or verify.detail.startswith("BAD  seq "), verify
    return failing[0]


@pytest.fixture
def story(tmp_path: Path) -> tuple[Path, Script, bytes]:
    path = tmp_path / "ledger.db"
    script = good_story(path)
    return path, script, script.close()


def test_the_reference_story_keeps_every_invariant(story: tuple[Path, Script, bytes]) -> None:
    path, _script, root = story
    live = fold(path).balances_fen
    results = by_name(check_invariants(path, expected_root=root, live_balances=live))
    assert all(r.ok for r in results.values()), results
    assert results[ENTRIES_VERIFY].detail.startswith(f"OK  {EXPECTED['entries']} entries  root ")
    assert "Σ endowments = Σ balances = 1500000 fen" in results[MONEY].detail
    assert "live balances match" in results[MONEY].detail
    assert results[CERTIFIED].detail.startswith("4 contracts")
    assert results[CROSSBORDER].detail.startswith("1 contracts required a mechanism; 1 delivered")
    assert results[SAME_ROOT].detail == f"final root {root.hex()} reproduced"


def test_same_seed_same_root_is_left_to_the_caller_without_a_second_run(
    story: tuple[Path, Script, bytes],
) -> None:
    result = by_name(check_invariants(story[0]))[SAME_ROOT]
    assert result == InvariantResult(
        SAME_ROOT, True, "no second run to compare the final root with", checked=False
    )
    assert result.status == "not checked"


def test_a_second_run_of_the_same_story_reproduces_the_root(
    story: tuple[Path, Script, bytes], tmp_path: Path
) -> None:
    again = good_story(tmp_path / "again.db").close()
    assert by_name(check_invariants(story[0], expected_root=again))[SAME_ROOT].ok


def test_a_wrong_expected_root_fails(story: tuple[Path, Script, bytes]) -> None:
    path, _script, root = story
    result = only_failure(check_invariants(path, expected_root=bytes(32)))
    assert result.name == SAME_ROOT
    assert root.hex() in result.detail and bytes(32).hex() in result.detail


def test_an_open_store_is_lent_not_closed(story: tuple[Path, Script, bytes]) -> None:
    store = Store(f"sqlite:///{story[0]}")
    try:
        assert all(r.ok for r in check_invariants(store))
        assert store.count() == EXPECTED["entries"]
    finally:
        store.close()


# -- money --------------------------------------------------------------------------------------
def test_a_settlement_paying_more_than_the_price_is_a_leak(tmp_path: Path) -> None:
    s = certified_market(tmp_path / "ledger.db")
    s.contract("K1", "b1", 100_000, 8, fee=5_000)
    s.contract("K2", "b2", 100_000, 8, fee=5_000)
    generous = delivered("K1", 100_000, 5_000, 9).model_copy(update={"to_provider_fen": 96_000})
    seq = s.settle(10, generous)
    s.close()
    result = only_failure(check_invariants(tmp_path / "ledger.db"))
    assert result.name == MONEY
    assert result.detail == (
        f"seq {seq} contract K1: delivered, to_provider 96000 + fee 5000 + refund 0 = 101000 "
        "fen != price 100000 fen"
    )


def test_escrow_going_negative_and_a_short_refund_are_named(tmp_path: Path) -> None:
    s = certified_market(tmp_path / "ledger.db")
    s.contract("K1", "b1", 100_000, 8)
    seq = s.settle(10, failed("K1", 100_000, 9).model_copy(update={"refund_fen": 150_000}))
    s.close()
    result = only_failure(check_invariants(tmp_path / "ledger.db"))
    assert result.detail == (
        f"seq {seq} contract K1: failed, refund 150000 fen != price 100000 fen (and 1 more)"
    )


def test_a_contract_settled_twice_or_never_signed_is_named(tmp_path: Path) -> None:
    s = certified_market(tmp_path / "ledger.db")
    s.contract("K1", "b1", 100_000, 8, fee=5_000)
    s.settle(9, delivered("K1", 100_000, 5_000, 9))
    seq = s.settle(10, delivered("K1", 100_000, 5_000, 9), delivered("K9", 1, 0, 9), cycle=2)
    s.close()
    result = only_failure(check_invariants(tmp_path / "ledger.db"))
    assert result.detail.startswith(f"seq {seq} contract K1: settled a second time (and ")


def test_live_balances_must_equal_the_folded_ones(story: tuple[Path, Script, bytes]) -> None:
    live = dict(fold(story[0]).balances_fen)
    live["b1"] += 1
    result = only_failure(check_invariants(story[0], live_balances=live))
    assert result.name == MONEY
    assert result.detail == "account b1: live balance 890001 fen, ledger says 890000 fen"
    live.pop("b1")
    live["ghost"] = 0
    detail = only_failure(check_invariants(story[0], live_balances=live)).detail
    assert detail == "account b1: live balance None fen, ledger says 890000 fen"


# -- certificates -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("contract", "why"),
    [
        (
            {"certificate": "C-FORGED"},
            "certificate 'C-FORGED' was not issued by any earlier approved rights.decision",
        ),
        (
            {"certificate": "C-A2"},  # A2 was refused: no certificate was ever issued
            "certificate 'C-A2' was not issued by any earlier approved rights.decision",
        ),
        (
            {"listing": "p2/L001"},
            "certificate C-A1 (seq {decision}) is for listing p1/L001, not p2/L001",
        ),
        (
            {"day": 400},
            f"signed at {400 * DAY} s, outside certificate C-A1's validity "
            f"[{3 * DAY}, {368 * DAY}) s",
        ),
        (
            {"day": 2},  # before the certificate (and before its decision)
            "certificate 'C-A1' was not issued by any earlier approved rights.decision",
        ),
    ],
)
def test_trades_need_a_valid_certificate_for_their_listing(
    tmp_path: Path, contract: dict[str, Any], why: str
) -> None:
    path = tmp_path / "ledger.db"
    s = Script.create(path)
    s.open("b1", 1_000_000)
    s.listing(LISTING, 1)
    s.listing("p2/L001", 1)
    s.apply("A1", LISTING, 1)
    day = contract.pop("day", 8)
    if day == 2:
        s.contract("K1", "b1", 1_000, day, **contract)
    decision = s.decide("A1", LISTING, 3)
    s.decide("A2", "p2/L001", 3, approved=False)
    if day != 2:
        s.contract("K1", "b1", 1_000, day, **contract)
    s.close()
    result = only_failure(check_invariants(path))
    assert result.name == CERTIFIED
    assert result.detail == f"seq {s.seqs['K1']} contract K1: " + why.format(decision=decision)


def test_a_revoked_certificate_no_longer_covers_trades(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    s = certified_market(path)
    s.contract("K1", "b1", 1_000, 8)  # before the revocation: fine
    ended = CertificateEnded(certificate=CERTIFICATE, listing=LISTING, reason="upheld claim")
    revoked = s.record("rights.revocation", ended, 9, "op")
    s.contract("K2", "b1", 1_000, 10)
    s.close()
    results = by_name(check_invariants(path))
    assert "is no longer in force" in results[ENTRIES_VERIFY].detail  # the rules of record
    assert results[CERTIFIED].detail == (
        f"seq {s.seqs['K2']} contract K2: certificate C-A1 was revoked at seq {revoked}"
    )


# -- cross-border mechanisms --------------------------------------------------------------------
REQUIRED = ["security-assessment", "standard-contract"]


@pytest.mark.parametrize(
    ("mechanism", "day"),
    [(None, 0), ("certification", 9), ("standard-contract", 12)],
)
def test_no_cross_border_delivery_without_a_completed_mechanism(
    tmp_path: Path, mechanism: str | None, day: int
) -> None:
    """Nothing approved; an approval of a mechanism the pack did not ask for; one approved only
    after the data moved: each is a delivery abroad without its mechanism."""
    s = certified_market(tmp_path / "ledger.db")
    s.contract("K1", "b1", 1_000, 8, fee=50, destination="US", required=REQUIRED)
    if mechanism is not None:
        s.mechanism("K1", mechanism, day)
    seq = s.settle(12, delivered("K1", 1_000, 50, 11))  # data moved and delivered on day 11
    s.close()
    result = only_failure(check_invariants(tmp_path / "ledger.db"))
    assert result.name == CROSSBORDER
    assert result.detail == (
        f"seq {seq} contract K1: data moved at {11 * DAY} s without a valid approval of any of "
        f"{REQUIRED} for p1 -> b1"
    )


def test_an_approval_before_the_data_moved_covers_the_delivery(tmp_path: Path) -> None:
    s = certified_market(tmp_path / "ledger.db")
    s.contract("K1", "b1", 1_000, 8, fee=50, destination="US", required=REQUIRED)
    s.mechanism("K1", "security-assessment", 10)
    s.settle(12, delivered("K1", 1_000, 50, 11))
    s.close()
    assert all(r.ok for r in check_invariants(tmp_path / "ledger.db"))


def test_failed_or_domestic_deliveries_need_no_mechanism(tmp_path: Path) -> None:
    s = certified_market(tmp_path / "ledger.db")
    s.contract("K1", "b1", 1_000, 8, destination="US", required=REQUIRED)
    s.contract("K2", "b1", 1_000, 8, destination="US")  # the pack required nothing
    s.settle(12, failed("K1", 1_000, 11), delivered("K2", 1_000, 50, 11))
    s.close()
    results = check_invariants(tmp_path / "ledger.db")
    assert all(r.ok for r in results), results


# -- tampering ----------------------------------------------------------------------------------
def _rewrite_leaf(path: Path, seq: int, old: bytes, new: bytes) -> None:
    with sqlite3.connect(path) as db:
        (leaf,) = db.execute("SELECT leaf FROM entries WHERE seq = ?", (seq,)).fetchone()
        assert old in leaf
        db.execute("UPDATE entries SET leaf = ? WHERE seq = ?", (leaf.replace(old, new, 1), seq))


def test_a_tampered_price_fails_verification_at_its_seq(story: tuple[Path, Script, bytes]) -> None:
    path, script, root = story
    seq = script.seqs["K1"]
    _rewrite_leaf(path, seq, b'"price_fen":100000', b'"price_fen":900000')
    results = by_name(check_invariants(path, expected_root=root))
    assert not results[ENTRIES_VERIFY].ok
    assert results[ENTRIES_VERIFY].detail.startswith(f"BAD  seq {seq}  kind trade.contract")
    assert not results[SAME_ROOT].ok  # the root covers the altered leaf
    assert "K1: delivered" in results[MONEY].detail  # the fold believes the new price


def test_an_unreadable_leaf_fails_every_fold_invariant(story: tuple[Path, Script, bytes]) -> None:
    path, script, _root = story
    seq = script.seqs["K2"]
    _rewrite_leaf(path, seq, b'"price_fen":100000', b'"price_fen":1.5')
    results = by_name(check_invariants(path))
    assert [r.ok for r in results.values()] == [False, False, False, False, True, False]
    for name in (MONEY, CERTIFIED, CROSSBORDER):
        assert results[name].detail.startswith(f"cannot fold the ledger: seq {seq}: ")


# -- money is conserved in random stories, end to end ---------------------------------------------
@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(OPS, ENDOWMENTS)
def test_random_ledgers_keep_every_invariant(
    ops: list[tuple[Any, ...]], endowments: tuple[int, int]
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "ledger.db"
        s = Script.create(path)
        live = play(s, ops, endowments)
        s.close()
        results = check_invariants(path, live_balances=live.snapshot())
        assert all(r.ok for r in results), results
