"""Global sensitivity analysis of a study over a sampled design, with SALib.

``dxsim design`` draws the design (one row per variant, the study's ``--design`` table) and
writes beside it ``NAME.salib.json``: the method, the problem (field paths and bounds), the
seed and a digest of the table. After the sweep, each variant's response is the mean of a
metric over its replications (common random numbers, so the variants differ by their fields
alone), and the indices are computed by the analysis that belongs to the sample:

* ``sobol``: Saltelli's sampling scheme over a Sobol' sequence, first-order and total indices
  ``S1``/``ST`` with bootstrap confidence intervals (Saltelli 2002, *Comput. Phys. Commun.*
  145:280; Saltelli et al. 2010, *Comput. Phys. Commun.* 181:259);
* ``morris``: elementary effects on a ``levels``-level grid, ``mu_star`` (mean absolute
  effect) and ``sigma`` (Morris 1991, *Technometrics* 33:161; Campolongo, Cariboni & Saltelli
  2007, *Environ. Model. Softw.* 22:1509);
* ``latin``: a Latin hypercube (McKay, Beckman & Conover 1979, *Technometrics* 21:239) read with
  the moment-independent ``delta`` and first-order ``S1`` (Borgonovo 2007, *Reliab. Eng. Syst.
  Saf.* 92:771; Plischke, Borgonovo & Smith 2013, *Eur. J. Oper. Res.* 226:536).

Integer fields are rounded after sampling (a fee in basis points stays an integer); the
indices then describe the model on that lattice. SALib is the optional ``studies`` extra.
"""

from __future__ import annotations

import csv
import hashlib
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from scenarios.cli_errors import UserError

__all__ = [
    "DesignSpec",
    "Parameter",
    "analyse",
    "draw_design",
    "read_spec",
    "sidecar",
    "write_design",
    "write_indices",
]

Method = Literal["sobol", "morris", "latin"]


class Parameter(BaseModel):
    """One sampled field: its dotted path in the scenario and its range."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(min_length=1)
    low: float
    high: float
    integer: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Parameter:
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or self.low >= self.high:
            raise ValueError(f"{self.path}: need finite low < high, got {self.low}, {self.high}")
        return self


class DesignSpec(BaseModel):
    """How a design was drawn: what ``dxsim sweep`` needs to analyse it afterwards."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format: Literal["dxsim-design/1"] = "dxsim-design/1"
    method: Method
    n: int = Field(ge=2, le=1_000_000)
    seed: int = Field(ge=0, le=2**32 - 1)
    parameters: tuple[Parameter, ...] = Field(min_length=1)
    levels: int = Field(default=4, ge=2, le=64)  # morris grid levels
    table_sha256: str = ""

    def problem(self) -> dict[str, Any]:
        return {
            "num_vars": len(self.parameters),
            "names": [p.path for p in self.parameters],
            "bounds": [[p.low, p.high] for p in self.parameters],
        }


def _salib() -> None:
    try:
        import SALib  # noqa: F401
    except ImportError as exc:
        raise UserError(
            "designs and sensitivity indices need SALib: pip install 'dxsim[studies]'"
        ) from exc


def draw_design(spec: DesignSpec) -> tuple[np.ndarray, list[dict[str, Any]]]:
    """The sample as SALib draws it (floats, in its order) and the design rows (integer fields
    rounded), one per variant."""
    _salib()
    from SALib.sample import latin, morris, sobol

    problem = spec.problem()
    if spec.method == "sobol":
        sample = sobol.sample(problem, spec.n, calc_second_order=False, seed=spec.seed)
    elif spec.method == "morris":
        sample = morris.sample(problem, spec.n, num_levels=spec.levels, seed=spec.seed)
    else:
        sample = latin.sample(problem, spec.n, seed=spec.seed)
    rows = []
    for point in sample:
        row: dict[str, Any] = {}
        for parameter, value in zip(spec.parameters, point, strict=True):
            exact = float(value)  # a numpy scalar from SALib
            row[parameter.path] = round(exact) if parameter.integer else exact
        rows.append(row)
    return sample, rows


def sidecar(design: Path) -> Path:
    """Where ``dxsim design`` keeps a design's spec: ``NAME.salib.json`` beside ``NAME.csv``."""
    return design.with_suffix(".salib.json")


def _table_text(spec: DesignSpec, rows: Sequence[dict[str, Any]]) -> str:
    lines = [",".join(p.path for p in spec.parameters)]
    for row in rows:
        lines.append(",".join(repr(row[p.path]) for p in spec.parameters))
    return "\n".join(lines) + "\n"


def write_design(design: Path, spec: DesignSpec) -> int:
    """Draw ``spec`` into a new CSV ``design`` and its sidecar; return the number of rows."""
    _sample, rows = draw_design(spec)
    text = _table_text(spec, rows)
    digest = hashlib.sha256(text.encode()).hexdigest()
    stamped = spec.model_copy(update={"table_sha256": digest})
    for path in (design, sidecar(design)):
        if path.exists():
            raise UserError(f"{path} exists; dxsim design writes new files")
    design.write_text(text, encoding="utf-8")
    sidecar(design).write_text(stamped.model_dump_json(indent=2) + "\n", encoding="utf-8")
    return len(rows)


def read_spec(design: Path) -> DesignSpec | None:
    """The spec of a design ``dxsim design`` drew, or None for a table made elsewhere.

    Raises:
        UserError: the sidecar is not a design spec, or the table was changed since it was
            drawn (the indices need the sample exactly as drawn, row for row).
    """
    path = sidecar(design)
    if not path.is_file():
        return None
    try:
        spec = DesignSpec.model_validate_json(path.read_bytes())
    except (ValidationError, ValueError) as exc:
        raise UserError(f"{path}: not a dxsim design spec ({str(exc).splitlines()[0]})") from exc
    digest = hashlib.sha256(design.read_bytes()).hexdigest()
    if digest != spec.table_sha256:
        raise UserError(
            f"{design} was changed since dxsim design drew it; sensitivity indices need the "
            f"sample as drawn (draw a new design, or remove {path.name} to run it as a table)"
        )
    return spec


def _responses(
    spec: DesignSpec, variants: int, rows: Sequence[dict[str, Any]], metric: str
) -> np.ndarray | None:
    """Each variant's mean ``metric`` over its replications; None when a variant has none."""
    sums = [0.0] * variants
    counts = [0] * variants
    for row in rows:
        value = row.get(metric)
        if value is None:
            continue
        sums[row["variant"]] += float(value)
        counts[row["variant"]] += 1
    if not all(counts):
        return None
    return np.array([s / c for s, c in zip(sums, counts, strict=True)])


def analyse(
    spec: DesignSpec, rows: Sequence[dict[str, Any]], metrics: Sequence[str]
) -> list[dict[str, Any]]:
    """Sensitivity indices of every metric to every sampled field (one row per pair).

    Columns: ``metric``, ``parameter``, ``method``, then the indices of the method and their
    95 % confidence half-widths (``*_conf``). A metric missing in some variant (a median of
    no trades), or constant over the design, gets no indices: a row says why.
    """
    _salib()
    from SALib.analyze import delta, morris, sobol

    sample, _design_rows = draw_design(spec)
    problem = spec.problem()
    names: list[str] = problem["names"]
    rounded = np.array([[row[name] for name in names] for row in _design_rows], dtype=float)
    out: list[dict[str, Any]] = []
    for metric in metrics:
        y = _responses(spec, len(sample), rows, metric)
        if y is None or float(np.ptp(y)) == 0.0:
            why = "missing in some variant" if y is None else "constant over the design"
            out += [
                {"metric": metric, "parameter": n, "method": spec.method, "note": why}
                for n in names
            ]
            continue
        if spec.method == "sobol":
            found = sobol.analyze(problem, y, calc_second_order=False, seed=spec.seed)
            keys: tuple[str, ...] = ("S1", "S1_conf", "ST", "ST_conf")
        elif spec.method == "morris":
            found = morris.analyze(problem, sample, y, num_levels=spec.levels, seed=spec.seed)
            keys = ("mu_star", "mu_star_conf", "sigma")
        else:
            found = dict(delta.analyze(problem, rounded, y, seed=spec.seed))
            if "delta" not in found:  # SALib 1.6 names the bias-corrected estimate "balanced"
                found["delta"] = found["delta_balanced"]
                found["delta_conf"] = found["delta_balanced_conf"]
            keys = ("delta", "delta_conf", "S1", "S1_conf")
        for i, name in enumerate(names):
            row: dict[str, Any] = {"metric": metric, "parameter": name, "method": spec.method}
            row.update({key: float(found[key][i]) for key in keys})
            out.append(row)
    return out


def write_indices(path: Path, indices: Sequence[dict[str, Any]]) -> None:
    """``sensitivity.csv``: one row per metric and field."""
    columns: list[str] = []
    for row in indices:
        columns += [key for key in row if key not in columns]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        for row in indices:
            writer.writerow(
                {k: (f"{v:.6g}" if isinstance(v, float) else v) for k, v in row.items()}
            )
