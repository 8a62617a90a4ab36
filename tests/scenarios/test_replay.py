"""`dxsim replay` and `dxsim inspect`: the plain tape (golden), its filters, verification that
stops at a tampered entry, the live view driven by key presses, following a run being written."""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from marketplace.replay import Filter, TapeState, format_tick
from scenarios.cli_replay import ticks_of
from scenarios.replay_view import ReplayApp, sparkline
from tests.marketplace.stories import good_story
from tests.scenarios.test_cli_run import dxsim

GOLDEN = Path(__file__).parent / "golden" / "replay-story.txt"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("replay") / "ledger.db"
    good_story(path).close()
    return path


def flip(path: Path, seq: int, tmp: Path) -> Path:
    copy = tmp / "tampered.db"
    shutil.copyfile(path, copy)
    with sqlite3.connect(copy) as db:
        (leaf,) = db.execute("SELECT leaf FROM entries WHERE seq = ?", (seq,)).fetchone()
        changed = bytearray(leaf)
        changed[len(changed) // 2] ^= 0x01
        db.execute("UPDATE entries SET leaf = ? WHERE seq = ?", (bytes(changed), seq))
    return copy


def test_the_plain_tape_is_the_golden_one(story: Path) -> None:
    """Regenerate with DXSIM_REGEN_GOLDEN=1 when the tape's format changes on purpose."""
    done = dxsim("replay", str(story), "--no-live")
    assert done.returncode == 0, done.stderr
    if os.environ.get("DXSIM_REGEN_GOLDEN"):
        GOLDEN.write_text(done.stdout, encoding="utf-8")
    assert done.stdout == GOLDEN.read_text(encoding="utf-8")
    verified = dxsim("replay", str(story), "--no-live", "--verify")
    marks = [line[12] for line in verified.stdout.splitlines()]
    assert verified.returncode == 0 and set(marks) == {"✓"}
    assert len(marks) == len(done.stdout.splitlines())


def test_filters_show_what_they_name(story: Path) -> None:
    ticks = list(ticks_of(story, verify=False, follow=False))

    def lines(flt: Filter) -> list[str]:
        return [format_tick(t) for t in ticks if flt.shows(t)]

    contracts = lines(Filter(kinds=("trade.contract",)))
    assert len(contracts) == 4 and all("trade.contract" in line for line in contracts)
    assert {line.split()[2] for line in lines(Filter(kinds=("trade",)))} == {
        "trade.order", "trade.contract", "trade.rejected"
    }  # fmt: skip
    b2 = lines(Filter(actor="b2"))
    assert b2 and all("b2" in line for line in b2)
    assert len(b2) == len([t for t in ticks if "b2" in t.parties()])
    assert all("p2/L001" in line for line in lines(Filter(dataset="p2/L001")))
    assert lines(Filter(corridor="CN-US")) == []  # the story's contracts carry no facts
    early = lines(Filter(end_day=5))
    assert early and all(float(line.split()[0]) <= 5 for line in early)
    assert all("contract" in line for line in lines(Filter(text="CONTRACT")))
    cli = dxsim("replay", str(story), "--no-live", "--kind", "trade.contract", "--actor", "b1")
    assert cli.returncode == 0 and cli.stdout.splitlines() == lines(
        Filter(kinds=("trade.contract",), actor="b1")
    )


def test_verify_stops_at_a_flipped_byte_and_names_its_seq(story: Path, tmp_path: Path) -> None:
    tampered = flip(story, 20, tmp_path)
    done = dxsim("replay", str(tampered), "--no-live", "--verify")
    assert done.returncode == 1
    *before, last = done.stdout.splitlines()
    assert last.startswith("BAD  seq 20  ") and all(int(line.split()[2]) < 20 for line in before)


def _tape(app: ReplayApp) -> list[str]:
    """What a reader sees in the tape widget, line by line."""
    from textual.widgets import RichLog

    return [strip.text for strip in app.query_one("#tape", RichLog).lines]


def test_the_live_view_answers_its_keys(story: Path) -> None:
    async def drive() -> None:
        app = ReplayApp(
            lambda: ticks_of(story, verify=False, follow=False), Filter(), speed=1.0, source="t"
        )
        async with app.run_test(size=(160, 48)) as pilot:
            await pilot.press("space")
            assert app.paused
            shown = len(_tape(app))
            await pilot.press("n")
            await pilot.pause()
            assert len(_tape(app)) == shown + 1
            await pilot.press("plus")
            assert app.speed == 2.0
            await pilot.press("minus", "minus")
            assert app.speed == 0.5
            await pilot.press("slash")
            await pilot.press(*"contract", "enter")
            await pilot.pause()
            assert app.flt.text == "contract"
            await pilot.press("space")  # resume: the rest of the story, filtered
            app.speed = 0.0
            for _ in range(20):
                await pilot.pause(0.06)
            tail = _tape(app)[shown + 1 :]
            assert tail and all("contract" in line for line in tail)
            assert "backlogs" in str(app.query_one("#backlogs").render())
            await pilot.press("q")
        assert app.return_value == 0

    asyncio.run(drive())


def test_the_live_view_shows_a_bad_entry_in_red_and_stops(story: Path, tmp_path: Path) -> None:
    tampered = flip(story, 20, tmp_path)

    async def drive() -> None:
        app = ReplayApp(
            lambda: ticks_of(tampered, verify=True, follow=False), Filter(), speed=0.0, source="t"
        )
        async with app.run_test(size=(160, 48)) as pilot:
            for _ in range(40):
                await pilot.pause(0.05)
                if app.stopped:
                    break
            assert app.bad is not None and app.bad.seq == 20
            last = _tape(app)[-1]
            assert last.startswith("BAD  seq 20  ")
            from textual.widgets import RichLog

            strip = app.query_one("#tape", RichLog).lines[-1]
            assert any(seg.style and seg.style.bgcolor and "red" in str(seg.style.bgcolor.name)
                       for seg in strip)  # fmt: skip
            await pilot.press("q")
        assert app.return_value == 1

    asyncio.run(drive())


def test_follow_tails_a_run_being_written(tmp_path: Path) -> None:
    out = tmp_path / "run"
    writer = subprocess.Popen(
        [sys.executable, "-c", "from scenarios.cli import main; main()", "run", "baseline",
         "--out", str(out), "--days", "30", "--no-rerun"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not (out / "ledger.db").is_file() and time.monotonic() < deadline:
            time.sleep(0.05)
        done = dxsim("replay", str(out), "--follow", "--no-live", "--kind", "ledger")
    finally:
        writer.wait(timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].split()[2] == "ledger.close"


def test_inspect_shows_figures_and_histories(story: Path) -> None:
    run = dxsim("inspect", str(story))
    assert run.returncode == 0 and "trading" in run.stdout and "¥3,300.00" in run.stdout
    listing = dxsim("inspect", str(story), "--dataset", "p1/L001")
    assert listing.returncode == 0
    for kind in ("storage.listing", "rights.decision", "trade.contract", "operation.settlement"):
        assert kind in listing.stdout, kind
    buyer = dxsim("inspect", str(story), "--actor", "b1")
    assert buyer.returncode == 0 and "balance of b1 over time" in buyer.stdout
    assert "¥8,900.00" in buyer.stdout  # 1,000,000 − 10,000 − 100,000 − 80,000 + 80,000 fen
    for args in (("--dataset", "nobody/L009"), ("--actor", "nobody")):
        bad = dxsim("inspect", str(story), *args)
        assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_panel_state_and_sparkline() -> None:
    assert sparkline([1, 2, 3, 8]) == "▁▂▃█" and sparkline([]) == ""
    state = TapeState()
    assert state.top_balances() == []
