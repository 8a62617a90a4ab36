"""Forgeries by attackers who hold more and more keys, against `dxsim verify` and `dxsim check`.

* Whoever holds only the run directory can derive no key from it: every re-signed forgery fails.
* A participant holds its own key: a contract it signs naming someone else is caught.
* Whoever holds every participant key but not the log's cannot re-sign the checkpoints.
* Whoever holds the key secret (the exchange operator) can re-sign the whole log consistently;
  what it says is then caught by the rules of record where they apply, by `dxsim check` (money,
  figures, the manifest) and always by a checkpoint kept outside the run directory.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from ledger import Identity
from scenarios.catalog import resolve
from scenarios.keys import run_keys
from scenarios.load import load
from scenarios.run import run_scenario
from scenarios.schema import Scenario
from tests.keys import TEST_SECRET
from tests.scenarios.forge import Forged, forge, seed_derived_key
from tests.scenarios.test_cli_run import dxsim

SEED = 5
ROLES = {"dxsim-log": "log", "exchange-operator": "operator"}


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Path:
    scenario = load(resolve("baseline"), Scenario).with_overrides(seed=SEED, days=15)
    out = tmp_path_factory.mktemp("forgery") / "run"
    run_scenario(scenario, out, keys=run_keys(TEST_SECRET, SEED), check_determinism=False)
    return out


@pytest.fixture
def run(pristine: Path, tmp_path: Path) -> Iterator[Path]:
    copy = tmp_path / "run"
    shutil.copytree(pristine, copy)
    yield copy


def real(identity_id: str) -> Identity:
    return run_keys(TEST_SECRET, SEED)(identity_id, ROLES.get(identity_id, "x"))


def participants_only(identity_id: str) -> Identity | None:
    return None if identity_id == "dxsim-log" else real(identity_id)


def from_the_run_directory(identity_id: str) -> Identity:
    return seed_derived_key(SEED, identity_id, "x")


def first(entries: list[Forged], kind: str, skip: int = 0) -> Forged:
    return [e for e in entries if e.kind == kind][skip]


def triple_a_price(entries: list[Forged]) -> list[Forged]:
    """A posted price tripled, and the story kept consistent the way a forger holding every
    key would: the quote the third contract cites, every contract that fills at it, and each
    buyer's order limit where the new price exceeds it."""
    contract = first(entries, "trade.contract", 3)
    quote_seq = contract.body["quote_seq"]
    quote = next(e for e in entries if e.seq == quote_seq)
    quote.body = {**quote.body, "price_fen": quote.body["price_fen"] * 3}
    quote.changed = True
    orders = {e.body["order"]: e for e in entries if e.kind == "trade.order"}
    for sale in entries:
        if sale.kind != "trade.contract" or sale.body["ask"] != f"quote-{quote_seq}":
            continue
        price = sale.body["price_fen"] * 3
        sale.body = {**sale.body, "price_fen": price}
        sale.changed = True
        order = orders[sale.body["order"]]
        if order.body["price_fen"] < price:
            order.body = {**order.body, "price_fen": price}
            order.changed = True
    return entries


def _the_third_contract(entries: list[Forged], price: Callable[[int, int], int]) -> None:
    """Re-price the third contract alone: ``price(old price, its buyer's limit)``."""
    contract = first(entries, "trade.contract", 3)
    order = next(
        e for e in entries if e.kind == "trade.order" and e.body["order"] == contract.body["order"]
    )
    new = price(contract.body["price_fen"], order.body["price_fen"])
    assert new != contract.body["price_fen"]
    contract.body = {**contract.body, "price_fen": new}
    contract.changed = True


def test_a_price_above_the_buyers_order_is_caught_even_when_re_signed(run: Path) -> None:
    def above_the_limit(entries: list[Forged]) -> list[Forged]:
        _the_third_contract(entries, lambda _old, limit: limit + 1)
        return entries

    forge(run / "ledger.db", above_the_limit, real, "dxsim-log")
    code, out = verify(run)
    assert code == 1 and "above the buyer's limit" in out, out


def test_a_price_off_the_posted_quote_is_caught_even_within_both_limits(run: Path) -> None:
    """A buyer's limit is its value, so a forger could raise a posted price and stay within
    it; the posted venue's rule is the quote cited, exactly."""

    def a_little_more(entries: list[Forged]) -> list[Forged]:
        _the_third_contract(entries, lambda old, limit: min(old + 1, limit))
        return entries

    forge(run / "ledger.db", a_little_more, real, "dxsim-log")
    code, out = verify(run)
    assert code == 1 and "a posted price fills at the ask" in out, out


def verify(run: Path, *extra: str) -> tuple[int, str]:
    done = dxsim("verify", str(run), *extra)
    assert "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout + done.stderr


def test_the_run_directory_holds_no_key_material(run: Path) -> None:
    """Nothing in the directory is the secret, a key derived from it, or gives the keys."""
    secret = TEST_SECRET.to_hex()
    blobs = b"".join(path.read_bytes() for path in run.iterdir())
    assert secret.encode() not in blobs and bytes.fromhex(secret) not in blobs
    for identity_id in ("dxsim-log", "exchange-operator", "buyer-0001", "provider-0001"):
        key = real(identity_id).private_key.private_bytes_raw()
        assert key not in blobs and key.hex().encode() not in blobs
        assert from_the_run_directory(identity_id).public_key != real(identity_id).public_key


def test_forgery_with_keys_derived_from_the_run_directory_fails(run: Path) -> None:
    key = dxsim("checkpoint", "--verifier-key", str(run)).stdout.strip()
    forge(run / "ledger.db", triple_a_price, from_the_run_directory, "dxsim-log")
    for extra in ((), ("--key", key)):
        code, out = verify(run, *extra)
        assert code == 1 and out.startswith("BAD  seq "), out
        assert "bad signature" in out or "checkpoint" in out


def test_a_forger_without_the_log_key_cannot_re_sign_the_checkpoints(run: Path) -> None:
    unsigned = forge(run / "ledger.db", triple_a_price, participants_only, "dxsim-log")
    assert unsigned > 0  # the log's own entries after the change
    code, out = verify(run)
    assert code == 1 and out.startswith("BAD  seq "), out


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        ("another buyer signs", "a contract is signed by its buyer"),
        ("provider signature removed", "a contract is signed by its buyer"),
        ("signers swapped", "a contract is signed by its buyer"),
        ("contract names another provider", "a contract is signed by its buyer"),
        ("settlement of a contract never signed", "which was never signed"),
        ("a contract settled twice", "a second time"),
        ("a certificate never issued", "was not issued for"),
        ("time goes back", "time goes backwards"),
    ],
)
def test_consistent_forgeries_that_break_the_rules_of_record_are_caught(
    run: Path, edit: str, expected: str
) -> None:
    """Even re-signed with every real key, a contract must be signed by whom it names."""

    def change(entries: list[Forged]) -> list[Forged]:
        contract = first(entries, "trade.contract", 2)
        other = first(entries, "trade.contract", 9)
        settlements = [e for e in entries if e.kind == "operation.settlement"]
        if edit == "another buyer signs":
            stranger = next(s for s, _ in other.sigs if s != contract.body["buyer"])
            contract.sigs = [(stranger, b""), contract.sigs[1]]
            contract.actor = stranger
        elif edit == "provider signature removed":
            contract.sigs = contract.sigs[:1]
        elif edit == "signers swapped":
            contract.sigs = contract.sigs[::-1]
            contract.actor = contract.sigs[0][0]
        elif edit == "contract names another provider":
            contract.body = {**contract.body, "provider": "provider-0049"}
        elif edit == "settlement of a contract never signed":
            item = dict(settlements[-1].body["items"][0], contract="K9999999")
            settlements[-1].body = {**settlements[-1].body, "items": [item]}
            settlements[-1].changed = True
        elif edit == "a contract settled twice":
            items = settlements[-1].body["items"]
            settlements[-1].body = {**settlements[-1].body, "items": [*items, items[0]]}
            settlements[-1].changed = True
        elif edit == "a certificate never issued":
            contract.body = {**contract.body, "certificate": "C-FORGED"}
        elif edit == "time goes back":
            contract.time = 0
        contract.changed = True
        return entries

    forge(run / "ledger.db", change, real, "dxsim-log")
    code, out = verify(run)
    assert code == 1 and out.startswith("BAD  seq ") and expected in out, out


def test_the_secret_holder_is_caught_by_a_checkpoint_kept_elsewhere_and_by_check(
    run: Path, tmp_path: Path
) -> None:
    kept = tmp_path / "kept.note"
    kept.write_text(dxsim("checkpoint", str(run)).stdout)
    key = dxsim("checkpoint", "--verifier-key", str(run)).stdout.strip()
    forge(run / "ledger.db", triple_a_price, real, "dxsim-log")
    code, out = verify(run)
    assert code == 0, out  # consistent with itself: only what is kept elsewhere can tell
    code, out = verify(run, "--key", key, "--checkpoint", str(kept))
    assert code == 1 and "root differs from checkpoint" in out, out
    done = dxsim("check", str(run))
    assert done.returncode == 1, done.stdout
    assert "DIFF  metrics.json: volume_fen" in done.stdout
    assert "DIFF  run.json: root" in done.stdout and "DIFF  run.json: statements" in done.stdout
    assert "FAIL  invariant money-conserved" in done.stdout  # delivered != the new price


def test_a_deleted_row_renumbered_and_re_signed_is_caught(run: Path, tmp_path: Path) -> None:
    kept = tmp_path / "kept.note"
    kept.write_text(dxsim("checkpoint", str(run)).stdout)
    original = forge(run / "ledger.db", lambda entries: entries, real, "dxsim-log")
    assert original == 0 and verify(run)[0] == 0  # the toolkit itself forges faithfully

    def drop_a_membership_fee(entries: list[Forged]) -> list[Forged]:
        victim = first(entries, "operation.membership", 1)
        return [e for e in entries if e is not victim]

    forge(run / "ledger.db", drop_a_membership_fee, real, "dxsim-log")
    code, out = verify(run)
    # the buyer trades without a membership; and later entries cite seqs that moved
    assert code == 1 and ("is not a member" in out or "is not a quote of" in out), out
    code, out = verify(run, "--checkpoint", str(kept))
    assert code == 1, out


def test_the_last_settlement_deleted_and_re_signed_is_caught_elsewhere(
    run: Path, tmp_path: Path
) -> None:
    kept = tmp_path / "kept.note"
    kept.write_text(dxsim("checkpoint", str(run)).stdout)

    def drop_the_last_settlement(entries: list[Forged]) -> list[Forged]:
        victim = [e for e in entries if e.kind == "operation.settlement"][-1]
        return [e for e in entries if e is not victim]

    forge(run / "ledger.db", drop_the_last_settlement, real, "dxsim-log")
    assert verify(run)[0] == 0  # nothing after it cites it: only what is kept elsewhere tells
    code, out = verify(run, "--checkpoint", str(kept))
    assert code == 1 and ("log truncated" in out or "root differs" in out), out
    done = dxsim("check", str(run))
    assert done.returncode == 1 and "DIFF  metrics.json: delivered" in done.stdout


def test_a_settlement_paying_the_exchange_instead_of_the_provider_fails_check(run: Path) -> None:
    def skim(entries: list[Forged]) -> list[Forged]:
        settlement = first(entries, "operation.settlement", 2)
        items = [dict(item) for item in settlement.body["items"]]
        paid = next(item for item in items if item["outcome"] == "delivered")
        paid["fee_fen"] += paid["to_provider_fen"]
        paid["to_provider_fen"] = 0
        settlement.body = {**settlement.body, "items": items}
        settlement.changed = True
        return entries

    forge(run / "ledger.db", skim, real, "dxsim-log")
    done = dxsim("check", str(run))
    assert done.returncode == 1
    assert "FAIL  invariant money-conserved" in done.stdout and "supplier fee" in done.stdout


def test_edited_results_files_fail_check(run: Path) -> None:
    metrics = run / "metrics.json"
    metrics.write_text(metrics.read_text().replace('"trades": ', '"trades": 1', 1))
    done = dxsim("check", str(run))
    assert done.returncode == 1 and "DIFF  metrics.json: trades: stored 1" in done.stdout
    invariants = run / "invariants.json"
    invariants.write_text(invariants.read_text().replace('"ok": true', '"ok": false', 1))
    assert "invariants.json: invariant 1 entries-verify" in dxsim("check", str(run)).stdout


def test_an_intact_run_passes_check(run: Path) -> None:
    done = dxsim("check", str(run))
    assert done.returncode == 0, done.stdout
    assert done.stdout.splitlines()[-1].startswith("OK  ")
