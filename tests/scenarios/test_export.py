"""``dxsim export``: every format round-trips to the folds (row counts per kind, volumes, fees),
types are stable across formats, and nothing it did not write is ever overwritten."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from marketplace.entries import BODY_MODELS
from marketplace.metrics import Metrics
from scenarios.run import RunResult
from tests.scenarios.runs import cli, short_run
from tests.scenarios.test_cli_run import dxsim

FORMATS = ("csv", "parquet", "jsonl")


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> RunResult:
    """Thirty days of cross-border trade: contracts with requirements, clearance, refusals."""
    return short_run("crossborder", tmp_path_factory.mktemp("export") / "cb", days=30)


def read(path: Path) -> list[dict[str, Any]]:
    """A table as the user's tools would read it: csv with the csv module (text), parquet with
    pyarrow, jsonl with json."""
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))
    if path.suffix == ".parquet":
        return list(pq.read_table(path).to_pylist())
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def number(value: Any) -> int:
    """An integer column's value: exact in every format (csv text must be digits)."""
    if isinstance(value, str):
        assert value.lstrip("-").isdigit(), value
        return int(value)
    assert type(value) is int, value
    return value


@pytest.fixture(scope="module", params=FORMATS)
def exported(request: pytest.FixtureRequest, run: RunResult) -> tuple[str, Path]:
    out = run.out.parent / f"export-{request.param}"
    done = cli("export", str(run.out), "--format", request.param, "--out", str(out))
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"wrote 49 {request.param} tables")
    return request.param, out


def test_rows_per_kind_equal_the_fold(exported: tuple[str, Path], run: RunResult) -> None:
    ext, out = exported
    m: Metrics = run.metrics
    entries = read(out / f"entries.{ext}")
    assert len(entries) == m.entries
    assert [number(e["seq"]) for e in entries] == list(range(m.entries))
    kinds: dict[str, int] = {}
    for entry in entries:
        kinds[entry["kind"]] = kinds.get(entry["kind"], 0) + 1
    assert kinds == m.entries_by_kind
    for kind in set(BODY_MODELS) | set(m.entries_by_kind):
        rows = read(out / f"{kind.replace('.', '_')}.{ext}")
        assert len(rows) == m.entries_by_kind.get(kind, 0), kind
    contracts = read(out / f"trade_contract.{ext}")
    assert json.loads(entries[number(contracts[0]["seq"])]["signers"]) == [
        contracts[0]["buyer"],
        contracts[0]["provider"],
    ]


def test_sums_equal_the_folds(exported: tuple[str, Path], run: RunResult) -> None:
    ext, out = exported
    m = run.metrics
    contracts = read(out / f"trade_contract.{ext}")
    assert sum(number(r["price_fen"]) for r in contracts) == m.volume_fen
    assert sum(r["cross_border"] in (True, "true") for r in contracts) == m.cross_border_trades
    items = read(out / f"operation_settlement_items.{ext}")
    delivered = [r for r in items if r["outcome"] == "delivered"]
    assert len(delivered) == m.delivered
    assert sum(number(r["fee_fen"]) for r in delivered) == m.fees_supplier_fen
    assert sum(number(r["refund_fen"]) for r in items) == m.refunds_fen
    membership = read(out / f"operation_membership.{ext}")
    assert sum(number(r["fee_fen"]) for r in membership) == m.fees_membership_fen
    charges = read(out / f"storage_hosting_charges.{ext}")
    assert sum(number(r["value"]) for r in charges) == m.fees_hosting_fen
    metrics = {(r["metric"], r["key"] or ""): r for r in read(out / f"metrics.{ext}")}
    for name in ("volume_fen", "trades", "fees_total_fen", "entries"):
        assert number(metrics[(name, "")]["value_int"]) == getattr(m, name)
    assert float(metrics[("hhi", "")]["value"]) == pytest.approx(m.hhi)
    flows = m.crossborder["flows"]
    corridor = next(iter(flows))
    mechanism = next(iter(flows[corridor]))
    for outcome, count in flows[corridor][mechanism].items():
        key = f"flows.{corridor}.{mechanism}.{outcome}"
        assert number(metrics[("crossborder", key)]["value_int"]) == count
    series = read(out / f"timeseries.{ext}")
    daily = [r for r in series if r["series"] == "count" and r["key"] == "contracts"]
    assert sum(number(r["value_int"]) for r in daily) == m.trades
    assert [number(r["day"]) for r in daily] == list(range(len(daily)))
    fees = [r for r in series if r["series"] == "fees_fen"]
    assert sum(number(r["value_int"]) for r in fees) == m.fees_total_fen


def test_types_are_stable(exported: tuple[str, Path], run: RunResult) -> None:
    ext, out = exported
    first = read(out / f"trade_contract.{ext}")[0]
    assert list(first)[:6] == ["seq", "time", "day", "actor", "contract", "listing"]
    assert "terms.purpose" in first and "research" in first  # dotted, and JSON text
    assert isinstance(json.loads(first["requirements"]), list)
    if ext == "parquet":
        schema = pq.read_schema(out / "trade_contract.parquet")
        assert str(schema.field("price_fen").type) == "int64"
        assert str(schema.field("cross_border").type) == "bool"
        assert str(pq.read_schema(out / "metrics.parquet").field("value").type) == "double"
        assert pq.read_table(out / "trade_unmet.parquet").num_rows == run.metrics.unmet_needs
    if ext == "jsonl":
        assert type(first["price_fen"]) is int and type(first["cross_border"]) is bool


def test_an_existing_export_is_never_overwritten(run: RunResult, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert cli("export", str(run.out), "--format", "jsonl", "--out", str(out)).returncode == 0
    mine = out / "notes.txt"
    mine.write_text("mine")
    before = (out / "entries.jsonl").stat().st_mtime_ns
    again = cli("export", str(run.out), "--format", "jsonl", "--out", str(out))
    assert again.returncode == 2 and "--force" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    assert (out / "entries.jsonl").stat().st_mtime_ns == before
    # --force replaces what the previous export wrote (another format's files too) only
    forced = cli("export", str(run.out), "--format", "csv", "--out", str(out), "--force")
    assert forced.returncode == 0, forced.stderr
    assert mine.read_text() == "mine"
    assert not list(out.glob("*.jsonl"))
    assert (out / "entries.csv").is_file()
    manifest = json.loads((out / "dxsim-export.json").read_text())
    assert manifest["status"] == "complete" and "notes.txt" not in manifest["files"]
    # a file of the user's where the export would write is refused, even with --force
    (out / "dxsim-export.json").unlink()
    refused = cli("export", str(run.out), "--out", str(out), "--force")
    assert refused.returncode == 2 and "did not write it" in refused.stderr
    assert mine.read_text() == "mine" and (out / "entries.csv").is_file()


def test_the_default_place_is_inside_the_run(run: RunResult) -> None:
    done = cli("export", str(run.out), "--format", "csv")
    assert done.returncode == 0, done.stderr
    assert (run.out / "export" / "entries.csv").is_file()
    assert (run.out / "run.json").is_file()  # the run itself is untouched
    assert cli("check", str(run.out)).returncode == 0


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--format", "xlsx"], "unknown format"),
        (["--format", "csv", "--out", "/dev/null"], "not a directory"),
    ],
)
def test_bad_options_are_one_line(run: RunResult, args: list[str], says: str) -> None:
    done = dxsim("export", str(run.out), *args)  # through the console entry point
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and says in done.stderr


def test_bad_run_directories_are_one_line(tmp_path: Path) -> None:
    (tmp_path / "plain").mkdir()
    (tmp_path / "file").write_text("x")
    for target, says in (
        (tmp_path / "missing", "no such run directory"),
        (tmp_path / "plain", "not a dxsim run directory"),
        (tmp_path / "file", "not a directory"),
    ):
        done = cli("export", str(target), "--out", str(tmp_path / "o"))
        assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and says in done.stderr
    assert not (tmp_path / "o").exists()
    assert "--format" in cli("export", "--help").stdout
