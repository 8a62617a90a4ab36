"""An experiment's outcome as a table, a JSON document and a PNG plot.

The table puts each figure's mean ± the half-width of its 95 % t interval over replications
beside the published value or claim, where it was published, and whether ours agrees. The
JSON holds the same and every replication's value, and nothing that varies between runs of
the same seed (no times, no paths), so two runs can be compared byte for byte. The plot draws
each series (figures sharing ``series``) as mean ± CI over ``x``, on matplotlib's Agg canvas
(no pyplot), imported only when drawing.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from rich import box
from rich.table import Table

from scenarios.experiments.base import Experiment, Figure, Outcome, Plan
from scenarios.report_canvas import figure_grid, legend, palette_for, png_bytes

__all__ = ["FORMAT", "document", "has_plot", "plot_png", "table"]

#: The ``format`` of the JSON document.
FORMAT = "dxsim-experiment-result/1"


def _ours(figure: Figure) -> str:
    if figure.mean is None:
        return "n/a"
    text = f"{figure.mean:.{figure.digits}f}"
    if figure.half_width is not None:
        text += f" ± {figure.half_width:.{figure.digits}f}"
    if figure.defined < len(figure.values):
        text += f" (n={figure.defined})"
    return text


def _verdict(agrees: bool | None) -> str:
    return "" if agrees is None else "yes" if agrees else "NO"


def table(experiment: Experiment[Any], outcome: Outcome, plan: Plan) -> Table:
    """The rich table of an outcome (deterministic for a seed)."""
    grid = Table(
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
        title=f"dxsim experiment {experiment.name}: {experiment.title}",
        caption=(
            f"{plan.reps} replications from seed {plan.seed}; ours = mean ± half-width of the "
            "95 % t interval over replications"
        ),
    )
    grid.add_column("figure", no_wrap=True)
    grid.add_column("ours", justify="right", no_wrap=True)
    grid.add_column("published", justify="right")
    grid.add_column("source")
    checked = any(f.agrees is not None for f in outcome.figures)
    if checked:
        grid.add_column("agrees")
    for figure in outcome.figures:
        row = [figure.label, _ours(figure), figure.published, figure.source]
        grid.add_row(*row, *([_verdict(figure.agrees)] if checked else []))
    return grid


def document(
    experiment: Experiment[Any], config: BaseModel, outcome: Outcome, plan: Plan
) -> dict[str, Any]:
    """The JSON document of an outcome: what ran, from what, and every figure."""
    return {
        "format": FORMAT,
        "experiment": experiment.name,
        "title": experiment.title,
        "source": experiment.source,
        "seed": plan.seed,
        "replications": plan.reps,
        "config": config.model_dump(mode="json"),
        "figures": [figure.to_json() for figure in outcome.figures],
        "notes": list(outcome.notes),
    }


def _series(outcome: Outcome) -> dict[str, list[Figure]]:
    lines: dict[str, list[Figure]] = {}
    for figure in outcome.figures:
        if figure.series is not None and figure.x is not None and figure.mean is not None:
            lines.setdefault(figure.series, []).append(figure)
    return lines


def has_plot(outcome: Outcome) -> bool:
    """Whether the outcome has anything to draw (a plot spec and at least one series)."""
    return outcome.plot is not None and bool(_series(outcome))


def plot_png(experiment: Experiment[Any], outcome: Outcome, plan: Plan) -> bytes:
    """Each series as mean with its 95 % interval as a band, over x.

    Raises:
        ValueError: the outcome has nothing to draw (see :func:`has_plot`).
    """
    spec, lines = outcome.plot, _series(outcome)
    if spec is None or not lines:
        raise ValueError(f"experiment {experiment.name} has no series to plot")
    figure, axes = figure_grid(1, 1, height=4.2, width=8.0)
    ax = axes[0][0]
    colours = palette_for(list(lines))
    for name, points in lines.items():
        points = sorted(points, key=lambda f: f.x or 0.0)
        xs = [p.x or 0.0 for p in points]
        means = [p.mean or 0.0 for p in points]
        halves = [p.half_width or 0.0 for p in points]
        ax.plot(xs, means, marker="o", color=colours[name], label=name)
        low = [m - h for m, h in zip(means, halves, strict=True)]
        high = [m + h for m, h in zip(means, halves, strict=True)]
        ax.fill_between(xs, low, high, color=colours[name], alpha=0.2, linewidth=0)
    ax.set_title(f"{spec.title}\n({plan.reps} replications, seed {plan.seed}; bands: 95 % CI)")
    ax.set_xlabel(spec.x_label)
    ax.set_ylabel(spec.y_label)
    ax.grid(alpha=0.3)
    legend(ax)
    return png_bytes(figure)
