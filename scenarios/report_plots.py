"""The report's plots: PNGs drawn with matplotlib's Agg renderer from the folds of one or two runs.

Every plot reads :class:`marketplace.timeseries.TimeSeries` and :class:`marketplace.metrics.Metrics`
only, so it shows what the ledger says. Money is drawn in yuan (fen / 100), time in sim-days;
every plot has a title, labelled axes with units and a legend. Daily series are grouped per week
(per day for runs of 60 days or less) and drawn as rates per day, which keeps a 180-day run
readable and the end of a run honest. With two runs a plot overlays them, one line style per
run (volumes, time to trade, backlogs, concentration, fees), or sets them side by side on shared
axes, one column per run (prices, cross-border flows), where overlaying would tangle the lines.
Stages with different scales get panels of their own.

matplotlib is the ``plots`` extra, imported only when a report is drawn
(:mod:`scenarios.report_canvas`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from marketplace.money import FEN_PER_YUAN
from marketplace.timeseries import BACKLOGS, DailyPrices, TimeSeries
from scenarios.report_canvas import (
    STYLES,
    Bins,
    Plot,
    RunView,
    compact_yuan,
    figure_grid,
    legend,
    palette_for,
    png_bytes,
    yuan_axis,
)

__all__ = ["PLOT_NAMES", "Plot", "RunView", "draw_all"]

#: Every file a report may draw, in the report's order.
PLOT_NAMES = (
    "prices.png",
    "volume.png",
    "time_to_trade.png",
    "backlogs.png",
    "crossborder_flows.png",
    "concentration.png",
    "fees.png",
)
STAGES = {  # stage counts -> panel title, in the order of the chain
    ("listings",): "listings",
    ("rights_applications",): "rights applications",
    ("orders",): "orders",
    ("contracts",): "contracts",
    ("rejections",): "rejected orders",
    ("unmet",): "unmet needs",
    ("delivered",): "deliveries",
    ("failed", "cancelled"): "failed or cancelled deliveries",
}
BACKLOG_TITLES = {
    "rights": "rights applications awaiting an assessor",
    "desk": "orders waiting at the trading desk",
    "delivery": "contracts in delivery (price in escrow)",
    "clearance": "cross-border applications at the regulator",
}
FEE_LABELS = {
    "supplier": "supplier fees",
    "membership": "membership",
    "hosting": "hosting",
    "compute": "compute",
}


# -- the plots ----------------------------------------------------------------------------------
def _prices(runs: Sequence[RunView]) -> Plot | None:
    if not any(r.metrics.trades for r in runs):
        return None
    unit = Bins.of(runs, runs[0]).unit
    figure, grid = figure_grid(2, len(runs))
    tables: tuple[tuple[str, Callable[[TimeSeries], dict[str, DailyPrices]]], ...] = (
        ("category", lambda s: s.prices_by_category),
        ("pricing mechanism", lambda s: s.prices_by_mechanism),
    )
    for row, (by, table) in enumerate(tables):
        keys = sorted({k for r in runs for k in table(r.series)})
        colours = palette_for(keys)
        for col, run in enumerate(runs):
            ax, bins = grid[row][col], Bins.of(runs, run)
            for key, cell in table(run.series).items():
                trades, volume = bins.sums(cell.trades), bins.sums(cell.volume_fen)
                points = [
                    (start, v / n / FEN_PER_YUAN)
                    for start, n, v in zip(bins.starts(), trades, volume, strict=True)
                    if n
                ]
                if points:
                    xs, ys = zip(*points, strict=True)
                    ax.plot(xs, ys, marker="o", markersize=3, color=colours[key], label=key)
            ax.set_title(f"{run.label}: by {by}" if len(runs) > 1 else f"by {by}")
            ax.set_ylabel(f"mean price per {unit} (yuan)")
            yuan_axis(ax)
            ax.set_ylim(bottom=0)
            ax.grid(alpha=0.3)
            legend(ax, ncols=3 if len(keys) > 4 else 1, loc="lower left")
        for col in range(len(runs)):
            grid[1][col].set_xlabel(f"sim-day (start of each {unit})")
    figure.suptitle("Contract prices over time, by category and by pricing mechanism")
    return Plot(
        "prices.png",
        "Prices over time",
        f"Mean contract price per {unit} in yuan, by the listing's category (top) and by "
        f"the mechanism of the quote each contract accepted (bottom); a {unit} without a "
        "contract is left out.",
        png_bytes(figure),
    )


def _volumes(runs: Sequence[RunView]) -> Plot:
    figure, grid = figure_grid(2, 4, height=2.6, width=12.0, sharey=False)
    bins = Bins.of(runs, runs[0])
    for i, (stages, label) in enumerate(STAGES.items()):
        ax = grid[i // 4][i % 4]
        for j, run in enumerate(runs):
            mine = Bins.of(runs, run)
            daily = [sum(v) for v in zip(*(run.series.counts[s] for s in stages), strict=True)]
            ax.plot(
                mine.starts(),
                mine.per_day(daily),
                linestyle=STYLES[j],
                marker=".",
                color=f"C{j}",
                label=run.label,
            )
        if not any(
            run.series.counts[s][d] for run in runs for s in stages for d in range(run.series.days)
        ):
            ax.text(0.5, 0.5, "none", transform=ax.transAxes, ha="center", color="grey")
        ax.set_title(label, fontsize="medium")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
    for row in grid:
        row[0].set_ylabel(bins.rate_label("entries"))
    for ax in grid[1]:
        ax.set_xlabel("sim-day")
    if len(runs) > 1:
        figure.legend(
            *grid[0][0].get_legend_handles_labels(),
            loc="outside lower center",
            ncols=len(runs),
            frameon=False,
        )
    figure.suptitle("Volume per stage: entries per day at each stage of the chain")
    return Plot(
        "volume.png",
        "Volume per stage",
        "Entries per day at each stage"
        + (f", averaged over each {bins.unit}" if bins.width > 1 else "")
        + ": listings stored, rights applications, orders placed, contracts signed, orders "
        "rejected, buyers' needs left unmet (no acceptable offer), deliveries settled, and "
        "deliveries that failed or were cancelled (refunded). Each panel has its own scale.",
        png_bytes(figure),
    )


def _time_to_trade(runs: Sequence[RunView]) -> Plot | None:
    samples = [r.series.time_to_trade_days for r in runs]
    if not any(samples):
        return None
    figure, grid = figure_grid(1, 1, height=4.0, width=9.0)
    ax = grid[0][0]
    top = max(max(s) for s in samples if s)
    bins = [top * i / 30 for i in range(31)] if top > 0 else [0.0, 1.0]
    for i, (run, sample) in enumerate(zip(runs, samples, strict=True)):
        if sample:
            mean = sum(sample) / len(sample)
            ax.hist(
                sample,
                bins=bins,
                histtype="step" if len(runs) > 1 else "bar",
                linewidth=1.8,
                linestyle=STYLES[i],
                alpha=0.9 if len(runs) > 1 else 0.75,
                label=f"{run.label}: {len(sample)} of {run.metrics.listings} listings traded, "
                f"mean {mean:.1f} days",
            )
    ax.set_xlabel("days from listing to first contract")
    ax.set_ylabel("listings")
    ax.grid(alpha=0.3)
    legend(ax)
    figure.suptitle("Time to trade: how long a listing waited for its first contract")
    return Plot(
        "time_to_trade.png",
        "Time to trade",
        "Distribution over the listings that traded of the days from listing to first "
        "contract (listings never traded are not shown; see the figures table).",
        png_bytes(figure),
    )


def _backlogs(runs: Sequence[RunView]) -> Plot:
    from matplotlib.ticker import MaxNLocator

    figure, grid = figure_grid(2, 2, height=3.0, sharey=False)
    for i, stage in enumerate(BACKLOGS):
        ax = grid[i // 2][i % 2]
        for j, run in enumerate(runs):
            ends = run.series.backlog_end[stage]
            ax.step(
                range(len(ends)),
                ends,
                where="post",
                linestyle=STYLES[j],
                label=f"{run.label} (peak {max(run.series.backlog_peak[stage], default=0)})",
            )
        if not any(v for r in runs for v in r.series.backlog_peak[stage]):
            ax.text(0.5, 0.5, "never any waiting", transform=ax.transAxes, ha="center")
        ax.set_title(BACKLOG_TITLES[stage], fontsize="medium")
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("waiting at end of day")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        legend(ax, loc="upper left")
    for ax in grid[1]:
        ax.set_xlabel("sim-day")
    figure.suptitle("Backlogs per stage over time")
    return Plot(
        "backlogs.png",
        "Backlogs per stage",
        "How many items each queue held at the end of each sim-day (the legend gives the "
        "peak within any day). Each panel has its own scale.",
        png_bytes(figure),
    )


def _mechanism_colours(mechanisms: Sequence[str]) -> dict[str, Any]:
    """'none' light grey and 'refused' black, so the mechanisms' colours stand out."""
    colours = palette_for([m for m in mechanisms if m not in ("none", "refused")])
    return {**colours, "none": "#c8c8c8", "refused": "#202020"}


def _flows(runs: Sequence[RunView]) -> Plot | None:
    flows = [r.metrics.crossborder["flows"] for r in runs]
    if not any(flows):
        return None
    corridors = sorted({c for f in flows for c in f})
    found = {m for f in flows for by in f.values() for m in by}
    mechanisms = [*(["none"] if "none" in found else []), *sorted(found - {"none", "refused"})]
    mechanisms += ["refused"] if "refused" in found else []
    colours = _mechanism_colours(mechanisms)
    figure, grid = figure_grid(1, len(runs), height=max(3.0, 0.3 * len(corridors) + 1.0))
    widest = max(
        sum(sum(by.values()) for by in f.get(c, {}).values()) for f in flows for c in corridors
    )
    for col, (run, flow) in enumerate(zip(runs, flows, strict=True)):
        ax = grid[0][col]
        left = [0] * len(corridors)
        for mechanism in mechanisms:
            counts = [sum(flow.get(c, {}).get(mechanism, {}).values()) for c in corridors]
            ax.barh(corridors, counts, left=left, color=colours[mechanism], label=mechanism)
            left = [a + b for a, b in zip(left, counts, strict=True)]
        if len(runs) > 1:
            ax.set_title(run.label)
        if not flow:
            ax.text(0.5, 0.5, "no cross-border contracts", transform=ax.transAxes, ha="center")
        ax.set_xlabel("cross-border contracts settled")
        ax.set_xlim(0, 1.05 * max(widest, 1))
        ax.grid(axis="x", alpha=0.3)
    grid[0][0].invert_yaxis()  # once: the columns share it
    grid[0][0].set_ylabel("corridor (origin-destination)")
    figure.legend(
        *grid[0][0].get_legend_handles_labels(),
        loc="outside right upper",
        title="mechanism used",
        frameon=False,
        fontsize="small",
    )
    figure.suptitle("Cross-border flows by corridor and mechanism")
    return Plot(
        "crossborder_flows.png",
        "Cross-border flows",
        "Settled cross-border contracts (delivered, failed or cancelled) per corridor, split "
        "by the mechanism that cleared each transfer ('none': no mechanism was required; "
        "'refused': a required mechanism was refused and the contract cancelled and refunded).",
        png_bytes(figure),
    )


def _concentration(runs: Sequence[RunView]) -> Plot:
    from matplotlib.ticker import FuncFormatter

    figure, grid = figure_grid(1, 2, height=3.8, sharey=False)
    for ax, name, label in ((grid[0][0], "hhi", "HHI (0-10,000)"), (grid[0][1], "gini", "Gini")):
        for j, run in enumerate(runs):
            values = getattr(run.series, name)
            points = [(d, v) for d, v in enumerate(values) if v is not None]
            if points:
                xs, ys = zip(*points, strict=True)
                ax.plot(xs, ys, linestyle=STYLES[j], label=f"{run.label} (end {ys[-1]:,.3g})")
        ax.set_xlabel("sim-day")
        ax.set_ylabel(label)
        ax.set_title(f"{label.split(' ')[0]} of provider revenue to date", fontsize="medium")
        ax.set_ylim(bottom=0, top=1.0 if name == "gini" else None)
        if name == "hhi":
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
        ax.grid(alpha=0.3)
        legend(ax)
    figure.suptitle("Concentration of provider revenue over time")
    return Plot(
        "concentration.png",
        "Concentration",
        "Herfindahl-Hirschman index (left; above 1,800 is highly concentrated in the 2023 US "
        "Merger Guidelines) and Gini coefficient (right) of providers' cumulative revenue.",
        png_bytes(figure),
    )


def _fees(runs: Sequence[RunView]) -> Plot:
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    figure, grid = figure_grid(1, 2, height=4.0, sharey=False)
    left, right = grid[0]
    colours = palette_for(list(FEE_LABELS))
    for j, run in enumerate(runs):
        for stream, label in FEE_LABELS.items():
            total, cumulative = 0, []
            for fen in run.series.fees_fen[stream]:
                total += fen
                cumulative.append(total / FEN_PER_YUAN)
            left.step(
                range(len(cumulative)),
                cumulative,
                where="post",
                color=colours[stream],
                linestyle=STYLES[j],
                label=f"{label} ({run.label})" if len(runs) > 1 else label,
            )
    left.set_title("cumulative, by stream", fontsize="medium")
    left.set_xlabel("sim-day")
    left.set_ylabel("fees collected to date (yuan)")
    left.set_ylim(bottom=0)
    left.grid(alpha=0.3)
    yuan_axis(left)
    legend(left, loc="center left")
    height = 0.8 / len(runs)
    streams = list(FEE_LABELS)
    for j, run in enumerate(runs):
        yuan = [sum(run.series.fees_fen[s]) / FEN_PER_YUAN for s in streams]
        ys = [i + (j - (len(runs) - 1) / 2) * height for i in range(len(streams))]
        bars = right.barh(
            ys,
            yuan,
            height=height * 0.95,
            color=[colours[s] for s in streams],
            hatch="//" if j else None,
            edgecolor="white",
            label=run.label,
        )
        right.bar_label(bars, labels=[f"¥{v:,.0f}" for v in yuan], padding=3, fontsize="small")
    right.set_yticks(range(len(streams)), [FEE_LABELS[s] for s in streams])
    right.invert_yaxis()
    right.set_xlabel("total over the run (yuan)")
    right.set_title("total, by stream", fontsize="medium")
    right.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: compact_yuan(v)))
    right.xaxis.set_major_locator(MaxNLocator(5))
    right.set_xlim(0, 1.25 * max(1, max(r.metrics.fees_total_fen for r in runs) / FEN_PER_YUAN))
    right.grid(axis="x", alpha=0.3)
    if len(runs) > 1:
        legend(right, loc="lower right", title="hatched: second run")
    totals = ", ".join(f"{r.label} ¥{r.metrics.fees_total_fen / FEN_PER_YUAN:,.0f}" for r in runs)
    figure.suptitle(f"The exchange's fee revenue ({totals} in all)")
    return Plot(
        "fees.png",
        "Fee revenue",
        "Fees the exchange collected, in yuan: supplier fees taken at each settlement, "
        "buyers' membership fees (paid when they join), providers' hosting charges (billed "
        "per period); to date over the run (left) and in total (right).",
        png_bytes(figure),
    )


def draw_all(runs: Sequence[RunView]) -> tuple[list[Plot], list[str]]:
    """Every plot of the report for one run (or two, compared); and a note for each plot
    left out because the runs have nothing to show in it."""
    plots: list[Plot] = []
    notes: list[str] = []
    for draw, absent in (
        (_prices, "no contracts were signed, so there are no prices to plot"),
        (_volumes, ""),
        (_time_to_trade, "no listing traded, so there is no time to trade"),
        (_backlogs, ""),
        (_flows, "no cross-border contract was settled, so there are no flows to plot"),
        (_concentration, ""),
        (_fees, ""),
    ):
        plot = draw(runs)
        if plot is None:
            notes.append(absent)
        else:
            plots.append(plot)
    assert all(plot.name in PLOT_NAMES for plot in plots)
    return plots, notes
