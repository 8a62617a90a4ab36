"""SALib designs and sensitivity indices: known answers for the Ishigami function (analytic
indices, Ishigami & Homma 1990), screening that finds the inert field, a design table that
was edited refused, and `dxsim design` + `dxsim sweep --design` end to end."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest

from scenarios.cli_errors import UserError
from scenarios.sweeps.sensitivity import (
    DesignSpec,
    Parameter,
    analyse,
    draw_design,
    read_spec,
    write_design,
)
from tests.scenarios.runs import cli

PI = math.pi


def ishigami(x1: float, x2: float, x3: float, a: float = 7.0, b: float = 0.1) -> float:
    return math.sin(x1) + a * math.sin(x2) ** 2 + b * x3**4 * math.sin(x1)


def responses(spec: DesignSpec, model) -> list[dict[str, object]]:  # type: ignore[no-untyped-def]
    _sample, rows = draw_design(spec)
    names = [p.path for p in spec.parameters]
    return [
        {"variant": i, "replication": 0, "y": model(*(row[n] for n in names))}
        for i, row in enumerate(rows)
    ]


def box(*names: str, low: float = -PI, high: float = PI) -> tuple[Parameter, ...]:
    return tuple(Parameter(path=n, low=low, high=high) for n in names)


def test_sobol_indices_of_the_ishigami_function() -> None:
    spec = DesignSpec(method="sobol", n=1024, seed=3, parameters=box("x1", "x2", "x3"))
    found = {r["parameter"]: r for r in analyse(spec, responses(spec, ishigami), ["y"])}
    # Analytic (a = 7, b = 0.1): S1 = 0.3139, 0.4424, 0; ST = 0.5576, 0.4424, 0.2437.
    for name, s1, st in (("x1", 0.3139, 0.5576), ("x2", 0.4424, 0.4424), ("x3", 0.0, 0.2437)):
        assert found[name]["S1"] == pytest.approx(s1, abs=0.05)
        assert found[name]["ST"] == pytest.approx(st, abs=0.05)


def test_morris_and_delta_find_the_field_that_does_nothing() -> None:
    def model(a: float, b: float) -> float:
        return 3 * a + a * a

    morris = DesignSpec(method="morris", n=8, seed=1, parameters=box("a", "b", low=0, high=1))
    found = {r["parameter"]: r for r in analyse(morris, responses(morris, model), ["y"])}
    assert found["b"]["mu_star"] == 0 and found["a"]["mu_star"] > 1
    latin = DesignSpec(method="latin", n=200, seed=1, parameters=box("a", "b", low=0, high=1))
    found = {r["parameter"]: r for r in analyse(latin, responses(latin, model), ["y"])}
    assert found["a"]["S1"] > 0.9 and found["b"]["S1"] < 0.1
    assert found["a"]["delta"] > 3 * found["b"]["delta"]


def test_a_constant_or_missing_metric_gets_a_note_not_an_index() -> None:
    spec = DesignSpec(method="latin", n=10, seed=1, parameters=box("a"))
    rows = [{"variant": i, "replication": 0, "flat": 5, "gone": None} for i in range(10)]
    notes = {r["metric"]: r.get("note") for r in analyse(spec, rows, ["flat", "gone"])}
    assert notes == {"flat": "constant over the design", "gone": "missing in some variant"}


def test_integer_fields_are_rounded_and_an_edited_table_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "d.csv"
    fee = Parameter(path="exchange.fees.supplier_fee_bp", low=0, high=500, integer=True)
    assert write_design(path, DesignSpec(method="sobol", n=4, seed=1, parameters=(fee,))) == 12
    values = [row["exchange.fees.supplier_fee_bp"] for row in csv.DictReader(path.open())]
    assert all(v.isdigit() and 0 <= int(v) <= 500 for v in values)
    assert read_spec(path) is not None
    path.write_text(path.read_text().replace(values[0], "499", 1))
    with pytest.raises(UserError, match="was changed since dxsim design drew it"):
        read_spec(path)
    with pytest.raises(UserError, match="exists"):
        write_design(path, DesignSpec(method="sobol", n=4, seed=1, parameters=(fee,)))


def test_bad_design_options_are_one_line_errors(tmp_path: Path) -> None:
    done = cli("design", str(tmp_path / "d.csv"), "--param", "run.days=9:3")
    assert done.returncode == 2 and "need finite low < high" in done.stderr
    done = cli("design", str(tmp_path / "d.csv"), "--param", "run.days")
    assert done.returncode == 2 and "PATH=LOW:HIGH" in done.stderr
    done = cli("design", str(tmp_path / "d.csv"), "--method", "fast", "--param", "run.days=1:2")
    assert done.returncode == 2 and "allowed: sobol, morris, latin" in done.stderr


def test_dxsim_design_then_sweep_writes_the_indices(tmp_path: Path) -> None:
    design = tmp_path / "d.csv"
    made = cli("design", str(design), "--method", "morris", "--n", "2", "--int-param",
               "exchange.fees.supplier_fee_bp=0:3000")  # fmt: skip
    assert made.returncode == 0, made.stderr
    study = tmp_path / "s.toml"
    study.write_text(
        '[study]\nname = "s"\nscenario = "baseline"\nreplications = 1\nseed = 2\n'
        'metrics = ["trades", "fees_supplier_fen"]\nbackend = "serial"\n\n'
        '[set]\n"run.days" = 8\n'
    )
    out = tmp_path / "out"
    done = cli("sweep", str(study), "--design", str(design), "--out", str(out))
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader((out / "sensitivity.csv").open()))
    assert [(r["metric"], r["parameter"]) for r in rows] == [
        ("trades", "exchange.fees.supplier_fee_bp"),
        ("fees_supplier_fen", "exchange.fees.supplier_fee_bp"),
    ]
    assert float(rows[1]["mu_star"]) > 0  # the fee moves the fees it collects
