"""``dxsim sweep``: a study runs the same on every backend (serial, local processes, a Dask
cluster: a LocalCluster, or a scheduler and a worker started as separate processes), resumes
by digest, shares random numbers across variants, and refuses bad studies with located errors."""

from __future__ import annotations

import math
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from scenarios.sweeps import StudyError, load_study, run_study
from scenarios.sweeps.study import replication_seeds
from scenarios.sweeps.tables import interval
from tests.scenarios.runs import cli

STUDY = """\
[study]
name = "tiny"
scenario = "baseline"
replications = 2
seed = 11
metrics = ["trades", "volume_fen", "fees_supplier_fen", "price_p50_fen"]

[set]
"run.days" = 12
"population.0.count" = 15
"population.1.count" = 60

[grid]
"exchange.fees.supplier_fee_bp" = [0, 1000]
"""


@pytest.fixture
def study_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(STUDY, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def serial_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("serial")
    path = tmp / "tiny.toml"
    path.write_text(STUDY, encoding="utf-8")
    run_study(load_study(path), tmp / "out", backend="serial")
    return tmp / "out"


def tables(out: Path) -> tuple[bytes, bytes]:
    return (out / "results.csv").read_bytes(), (out / "summary.csv").read_bytes()


def test_every_variant_shares_replication_seeds(serial_run: Path) -> None:
    lines = (serial_run / "results.csv").read_text().splitlines()
    header = lines[0].split(",")
    rows = [dict(zip(header, line.split(","), strict=True)) for line in lines[1:]]
    assert len(rows) == 4 and header[:3] == [
        "variant",
        "exchange.fees.supplier_fee_bp",
        "replication",
    ]
    seeds = {(r["variant"], r["replication"]): r["seed"] for r in rows}
    assert seeds[("0", "0")] == seeds[("1", "0")] != seeds[("0", "1")] == seeds[("1", "1")]
    assert [int(s) for s in (seeds[("0", "0")], seeds[("0", "1")])] == replication_seeds(11, 2)
    # a 10 % supplier fee is charged; none at 0
    assert all(int(r["fees_supplier_fen"]) == 0 for r in rows if r["variant"] == "0")
    assert all(int(r["fees_supplier_fen"]) > 0 for r in rows if r["variant"] == "1")


def test_local_processes_give_the_same_tables(serial_run: Path, study_file: Path) -> None:
    out = study_file.parent / "processes"
    run_study(load_study(study_file), out, backend="processes", workers=2)
    assert tables(out) == tables(serial_run)


def test_a_dask_local_cluster_gives_the_same_tables(serial_run: Path, study_file: Path) -> None:
    out = study_file.parent / "dask"
    run_study(load_study(study_file), out, backend="dask", workers=2)
    assert tables(out) == tables(serial_run)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def scheduler() -> Iterator[str]:
    """A real Dask scheduler and one worker, each its own process, on 127.0.0.1."""
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    dask = str(Path(sys.executable).parent / "dask")
    procs = [
        subprocess.Popen(
            [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
             "--no-dashboard"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    ]  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    procs.append(
        subprocess.Popen(
            [dask, "worker", address, "--nworkers", "2", "--nthreads", "1",
             "--no-dashboard"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
    )  # fmt: skip
    try:
        yield address
    finally:
        for proc in reversed(procs):
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=30)


def test_a_dask_scheduler_at_an_address_gives_the_same_tables(
    serial_run: Path, study_file: Path, scheduler: str
) -> None:
    out = study_file.parent / "remote"
    done = cli("sweep", str(study_file), "--out", str(out), "--backend", "dask",
               "--scheduler", scheduler)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert tables(out) == tables(serial_run)


def test_a_rerun_resumes_only_what_is_missing(serial_run: Path, study_file: Path) -> None:
    out = study_file.parent / "resumed"
    shutil.copytree(serial_run, out)
    rows = sorted((out / "rows").glob("*.json"))
    rows[0].unlink()
    rows[1].write_text("{ cut short by a crash", encoding="utf-8")
    outcome = run_study(load_study(study_file), out, backend="serial")
    assert (outcome.ran, outcome.reused) == (2, 2)
    assert tables(out) == tables(serial_run)


def test_the_interval_is_student_t() -> None:
    got = interval([1.0, 2.0, 3.0])
    half = 4.302652729911275 / math.sqrt(3)  # t(0.975, 2) · s / √n, s = 1
    assert got.mean == 2.0 and got.low is not None and got.high is not None
    assert math.isclose(got.high - 2.0, half) and math.isclose(2.0 - got.low, half)
    assert interval([5.0]).low is None and interval([]).mean is None


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ('"exchange.fees.supplier_fee_bp" = [0, -5]', "grid", "variant 1"),
        ('"population.9.count" = [1]', "grid", "the list has entries"),
    ],
)
def test_a_wrong_variant_is_named_before_anything_runs(
    tmp_path: Path, change: str, field: str, message: str
) -> None:
    text = STUDY.replace('"exchange.fees.supplier_fee_bp" = [0, 1000]', change)
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(StudyError) as raised:
        load_study(path)
    assert raised.value.field == field and message in str(raised.value)
    assert raised.value.line == text.splitlines().index(change) + 1


def test_an_unknown_metric_lists_the_figures_there_are(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(STUDY.replace('"trades",', '"tardes",'), encoding="utf-8")
    with pytest.raises(StudyError) as raised:
        load_study(path)
    assert "tardes" in str(raised.value) and "volume_fen" in str(raised.value)
    assert raised.value.line == 6


def test_a_directory_with_someone_elses_files_is_refused(study_file: Path) -> None:
    out = study_file.parent / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me", encoding="utf-8")
    done = cli("sweep", str(study_file), "--out", str(out))
    assert done.returncode != 0 and "notes.txt" in done.stderr
    assert (out / "notes.txt").read_text() == "keep me"


def test_a_design_table_gives_one_variant_per_row(study_file: Path) -> None:
    design = study_file.parent / "design.csv"
    design.write_text(
        "exchange.fees.supplier_fee_bp,exchange.fees.membership_fee_fen\n0,0\n250,100000\n",
        encoding="utf-8",
    )
    done = cli("sweep", str(study_file), "--out", str(study_file.parent / "d"),
               "--design", str(design), "--replications", "1")  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    lines = (study_file.parent / "d" / "results.csv").read_text().splitlines()
    assert lines[0].startswith(
        "variant,exchange.fees.supplier_fee_bp,exchange.fees.membership_fee_fen,replication"
    )
    assert [line.split(",")[:3] for line in lines[1:]] == [["0", "0", "0"], ["1", "250", "100000"]]


def test_a_nan_in_the_grid_is_refused_by_the_field_it_sets(tmp_path: Path) -> None:
    path = tmp_path / "nan.toml"
    path.write_text(
        STUDY.replace(
            '"exchange.fees.supplier_fee_bp" = [0, 1000]',
            '"population.1.arrival_rate_per_day" = [nan, inf]',
        ),
        encoding="utf-8",
    )
    with pytest.raises(StudyError) as raised:
        load_study(path)
    assert "arrival_rate_per_day" in str(raised.value) and "finite" in str(raised.value)
