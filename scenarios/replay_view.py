"""The live replay view (Textual): a scrolling tape beside panels of what the market holds.

Keys: space pause / resume, ``+`` / ``-`` speed (sim-days per second, doubled or halved), ``n``
next entry while paused, ``/`` filter the tape by text (Enter applies, an empty filter clears),
``q`` quit. With ``--verify`` every entry was checked before it reaches the tape (✓); a bad one
is shown in red with its seq and reason, and the replay stops there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import ClassVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Header, Input, RichLog, Static

from marketplace.replay import Filter, TapeState, Tick, format_tick

__all__ = ["ReplayApp", "sparkline"]

_BARS = "▁▂▃▄▅▆▇█"
FRAME_SECONDS = 0.05
#: At speed 0 (as fast as possible) a frame shows at most this many entries.
BURST = 2_000


def sparkline(values: list[int]) -> str:
    if not values:
        return ""
    low, high = min(values), max(values)
    span = high - low or 1
    return "".join(_BARS[(v - low) * (len(_BARS) - 1) // span] for v in values)


def _yuan(fen: int) -> str:
    return f"¥{fen / 100:,.2f}"


class ReplayApp(App[int]):
    """Replays ``ticks`` at ``speed`` sim-days per second; returns an exit code (1 if an entry
    did not verify)."""

    TITLE = "dxsim replay"
    AUTO_FOCUS = None  # keys go to the replay; the filter box takes them only once opened
    CSS = """
    #tape { width: 3fr; border: round $accent; }
    #panels { width: 1fr; min-width: 34; }
    .panel { border: round $secondary; padding: 0 1; height: auto; }
    #filter { display: none; }
    #filter.open { display: block; }
    """
    BINDINGS: ClassVar[list[Binding | tuple[str, str] | tuple[str, str, str]]] = [
        Binding("space", "pause", "pause/resume"),
        Binding("plus", "faster", "faster", key_display="+"),
        Binding("minus", "slower", "slower", key_display="-"),
        Binding("n", "step", "next"),
        Binding("slash", "filter", "filter", key_display="/"),
        Binding("q", "quit_replay", "quit"),
    ]

    def __init__(
        self,
        ticks: Callable[[], Iterator[Tick]],
        flt: Filter,
        *,
        speed: float,
        source: str,
        follow: bool = False,
    ) -> None:
        super().__init__()
        self._ticks = ticks()
        self.flt = flt
        self.speed = speed
        self.source = source
        self.follow = follow
        self.state = TapeState()
        self.paused = False
        self.stopped = False  # a bad entry, or the end of the ledger
        self.bad: Tick | None = None
        self.clock = 0.0  # sim days shown so far
        self.shown: list[str] = []  # the tape's lines as plain text (what a reader sees)
        self._next: Tick | None = None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield RichLog(id="tape", max_lines=5_000, markup=False, wrap=False)
            with Vertical(id="panels"):
                yield Static(id="backlogs", classes="panel")
                yield Static(id="prices", classes="panel")
                yield Static(id="balances", classes="panel")
                yield Static(id="flows", classes="panel")
        yield Input(placeholder="filter the tape (kind, actor, dataset...)", id="filter")
        yield Footer()

    def on_mount(self) -> None:
        self.set_interval(FRAME_SECONDS, self.advance)
        self._refresh_panels()

    # -- the clock ----------------------------------------------------------------------------
    def _peek(self) -> Tick | None:
        if self._next is None:
            self._next = next(self._ticks, None)
        return self._next

    def _emit(self) -> Tick | None:
        tick = self._peek()
        self._next = None
        if tick is None:
            return None
        if tick.verified is False:
            self._show_bad(tick)
            return tick
        self.state.feed(tick)
        if self.flt.shows(tick):
            line = format_tick(tick)
            self.shown.append(line)
            self.query_one("#tape", RichLog).write(Text(line))
        return tick

    def advance(self) -> None:
        if self.paused or self.stopped:
            return
        if self.speed <= 0:
            for _ in range(BURST):
                if self._emit() is None or self.stopped:
                    break
        else:
            self.clock += self.speed * FRAME_SECONDS
            while (tick := self._peek()) is not None and tick.day <= self.clock:
                self._emit()
                if self.stopped:
                    break
        if self._peek() is None and not self.stopped and not self.follow:
            self.stopped = True
            self.notify("end of the ledger")
        self._refresh_panels()

    def _show_bad(self, tick: Tick) -> None:
        self.stopped = True
        self.bad = tick
        line = f"BAD  seq {tick.seq}  kind {tick.kind}  actor {tick.actor}: {tick.problem}"
        self.shown.append(line)
        self.query_one("#tape", RichLog).write(Text(line, style="bold white on red"))
        self.notify(f"entry {tick.seq} does not verify: {tick.problem}", severity="error")

    # -- panels -------------------------------------------------------------------------------
    def _refresh_panels(self) -> None:
        s = self.state
        mode = "⏸ paused" if self.paused else ("■ stopped" if self.stopped else "▶")
        self.sub_title = (
            f"{self.source}  day {s.day:.2f}  speed {self.speed:g} d/s  {mode}  "
            f"{s.entries:,} entries"
        )
        self.query_one("#backlogs", Static).update(
            Text(
                "backlogs\n"
                f"  rights applications  {len(s.rights_pending):>6}\n"
                f"  orders at the desk   {len(s.orders_waiting):>6}\n"
                f"  contracts delivering {len(s.in_delivery):>6}\n"
                f"  at the regulator     {len(s.regulator_queue):>6}"
            )
        )
        prices = list(s.prices)
        last = _yuan(prices[-1]) if prices else "n/a"
        self.query_one("#prices", Static).update(
            Text(f"recent prices (last {last})\n  {sparkline(prices[-30:])}")
        )
        top = "\n".join(f"  {name:<22} {_yuan(fen):>14}" for name, fen in s.top_balances(6))
        self.query_one("#balances", Static).update(Text(f"top balances\n{top}"))
        flows = "\n".join(f"  {corridor:<8} {n:>6}" for corridor, n in s.flows.most_common(6))
        self.query_one("#flows", Static).update(Text(f"cross-border flows\n{flows or '  none'}"))

    # -- keys ---------------------------------------------------------------------------------
    def action_pause(self) -> None:
        self.paused = not self.paused
        self._refresh_panels()

    def action_faster(self) -> None:
        self.speed = self.speed * 2 if self.speed > 0 else 0.0
        self._refresh_panels()

    def action_slower(self) -> None:
        self.speed = self.speed / 2 if self.speed > 0 else 64.0
        self._refresh_panels()

    def action_step(self) -> None:
        """The next entry the tape shows (entries it hides still feed the panels)."""
        if not self.paused or self.stopped:
            return
        while (tick := self._emit()) is not None and not self.stopped:
            self.clock = max(self.clock, tick.day)
            if tick.verified is False or self.flt.shows(tick):
                break
        self._refresh_panels()

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.add_class("open")
        box.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.flt = replace(self.flt, text=event.value.strip())
        event.input.remove_class("open")
        self.set_focus(None)
        self.notify(f"filter: {self.flt.text or 'none'}")

    def action_quit_replay(self) -> None:
        self.exit(1 if self.bad is not None else 0)
