"""Drawing helpers of the report's plots: the runs as plots see them, binning of days, and
figures on matplotlib's Agg canvas (no pyplot, no global state, no display).

matplotlib is imported inside the functions, so importing this module costs nothing and a
missing ``plots`` extra is found by the caller before anything is drawn.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from marketplace.metrics import Metrics
from marketplace.timeseries import TimeSeries

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "DPI",
    "STYLES",
    "Bins",
    "Plot",
    "RunView",
    "compact_yuan",
    "figure_grid",
    "legend",
    "palette_for",
    "png_bytes",
    "yuan_axis",
]

DPI = 110
STYLES = ("-", "--")  # run 1, run 2 when overlaid


@dataclass(frozen=True)
class RunView:
    """What the plots need of one run."""

    label: str
    metrics: Metrics
    series: TimeSeries


@dataclass(frozen=True)
class Plot:
    """One drawn plot: its file name, title, a caption saying how to read it, and the PNG."""

    name: str
    title: str
    caption: str
    png: bytes


@dataclass(frozen=True)
class Bins:
    """Days grouped into bins of ``width`` over a run of ``span`` days (its last entry's
    time): per week for long runs, per day for runs of 60 days or less. The last bin ends at
    ``span``, takes in a tail shorter than half a bin and the entries at that very instant, and
    rates divide by each bin's true length, so the end of a run is not drawn as a dip or a
    spike."""

    width: int
    span: float

    @classmethod
    def of(cls, runs: Sequence[RunView], run: RunView) -> Bins:
        longest = max(r.metrics.days_simulated for r in runs)
        return cls(1 if longest <= 60 else 7, max(run.metrics.days_simulated, 1e-9))

    @property
    def unit(self) -> str:
        return "day" if self.width == 1 else "week"

    @property
    def count(self) -> int:
        return max(1, round(self.span / self.width))  # a short tail joins the last bin

    def starts(self) -> list[int]:
        return [i * self.width for i in range(self.count)]

    def sums(self, values: Sequence[float]) -> list[float]:
        totals = [0.0] * self.count
        for day, value in enumerate(values):
            totals[min(day // self.width, self.count - 1)] += value
        return totals

    def per_day(self, values: Sequence[float]) -> list[float]:
        """The mean per day over each bin."""
        ends = [(i + 1) * self.width for i in range(self.count - 1)] + [self.span]
        return [
            total / max(end - i * self.width, 1e-9)
            for i, (total, end) in enumerate(zip(self.sums(values), ends, strict=True))
        ]

    def rate_label(self, what: str) -> str:
        return f"{what} per day" + (" (weekly mean)" if self.width > 1 else "")


def yuan_axis(ax: Axes) -> None:
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"¥{v:,.0f}"))


def figure_grid(
    rows: int, cols: int, *, height: float = 3.2, width: float = 10.0, sharey: bool = True
) -> tuple[Figure, list[list[Axes]]]:
    """A figure of ``rows`` x ``cols`` axes on the Agg canvas (columns share x; rows share y
    unless ``sharey`` is false)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, 0.9 + height * rows), dpi=DPI, layout="constrained")
    FigureCanvasAgg(figure)
    axes = figure.subplots(
        rows, cols, squeeze=False, sharex="col", sharey="row" if sharey else False
    )
    return figure, [list(row) for row in axes]


def png_bytes(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()


def palette_for(keys: Sequence[str]) -> dict[str, Any]:
    from matplotlib import colormaps

    palette = colormaps["tab10"]
    return {key: palette(i % 10) for i, key in enumerate(keys)}


def legend(ax: Axes, **options: Any) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small", framealpha=0.85, edgecolor="none", **options)


def compact_yuan(value: float) -> str:
    for size, suffix in ((1e9, "bn"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"¥{value / size:,.3g}{suffix}"
    return f"¥{value:,.0f}"
