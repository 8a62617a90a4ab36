"""A researcher's own strategies and mechanisms: --plugin, a [plugins] table, entry points.

Each case runs the real ``dxsim`` in a fresh interpreter, so what a plugin registers never
leaks into the other tests' registries.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

UNDERCUT = """
from dataclasses import dataclass

from agents.strategies import PriceObservation, register


@register("pricing", "undercut")
@dataclass(frozen=True)
class Undercut:
    step_bp: int = 500

    def decide(self, seen: PriceObservation) -> int:
        rival = min(seen.rival_prices_fen, default=seen.current_fen or seen.unit_cost_fen)
        return max(seen.unit_cost_fen, rival - rival * self.step_bp // 10_000)
"""

MARKDOWN_PRICE = """
from dataclasses import dataclass
from typing import ClassVar

from marketplace.pricing import PostedVenue, PricingContext, Quote, register_mechanism


@register_mechanism("half-off")
@dataclass(frozen=True)
class HalfOff:
    kind: ClassVar[str] = "posted"
    name: ClassVar[str] = "half-off"

    def quote(self, context: PricingContext) -> Quote:
        proposed = context.proposed_fen or context.unit_cost_fen
        return Quote(max(context.unit_cost_fen, proposed // 2), "half the proposal")

    def open_venue(self, good: str, opened_at: int) -> PostedVenue:
        return PostedVenue(good)
"""


def scenario(strategy: str, pricing: str = "posted", plugins: str = "") -> str:
    return f"""{plugins}
[run]
name = "plugged"
seed = 3
days = 20

[[population]]
kind = "provider"
count = 4
datasets = {{ dist = "uniform-int", low = 2, high = 3 }}
listing_window_days = 5
pricing = "{pricing}"
strategy = "{strategy}"
reprice_every_days = 5

[[population]]
kind = "buyer"
count = 20
arrival_rate_per_day = 0.5

[[population]]
kind = "assessor"
count = 2
"""


def dxsim(
    *args: str, cwd: Path, pythonpath: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"DXSIM_KEY_SECRET": bytes(range(32)).hex()}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    return subprocess.run(
        [sys.executable, "-c", "from scenarios.cli import main; main()", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_plugin_file_registers_a_strategy_a_scenario_names(tmp_path: Path) -> None:
    (tmp_path / "my_strategies.py").write_text(UNDERCUT)
    (tmp_path / "plugged.toml").write_text(scenario("undercut"))

    without = dxsim("validate", "plugged.toml", cwd=tmp_path)
    assert without.returncode == 2
    assert "unknown pricing strategy 'undercut'" in without.stderr
    assert "Traceback" not in without.stderr

    done = dxsim(
        "run",
        "plugged.toml",
        "--plugin",
        "my_strategies.py",
        "--no-rerun",
        "--out",
        "run",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    manifest = json.loads((tmp_path / "run" / "run.json").read_text())
    [plugin] = manifest["plugins"]
    assert plugin["name"] == "my_strategies.py"
    assert len(plugin["sha256"]) == 64
    assert (tmp_path / "run" / "ledger.db").stat().st_size > 0


def test_a_plugins_table_is_read_relative_to_the_scenario(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    (tmp_path / "lib" / "pricing_rules.py").write_text(MARKDOWN_PRICE)
    table = '[plugins]\nmodules = ["lib/pricing_rules.py"]\n'
    (tmp_path / "plugged.toml").write_text(scenario("markup", "half-off", table))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    done = dxsim("run", "../plugged.toml", "--no-rerun", "--out", "run", cwd=elsewhere)

    assert done.returncode == 0, done.stderr
    pricing = json.loads((elsewhere / "run" / "metrics.json").read_text())["pricing"]
    assert list(pricing) == ["half-off"] and pricing["half-off"]["contracts"] > 0


def test_a_broken_plugin_is_one_line_naming_its_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "broken.py").write_text("x = 1\nraise RuntimeError('no licence server')\n")
    (tmp_path / "typo.py").write_text("def f(:\n    pass\n")
    (tmp_path / "plugged.toml").write_text(scenario("markup"))

    broken = dxsim("validate", "plugged.toml", "--plugin", "broken.py", cwd=tmp_path)
    typo = dxsim("validate", "plugged.toml", "--plugin", "typo.py", cwd=tmp_path)
    missing = dxsim("validate", "plugged.toml", "--plugin", "nowhere.py", cwd=tmp_path)
    module = dxsim("validate", "plugged.toml", "--plugin", "no_such_module", cwd=tmp_path)

    assert broken.returncode == typo.returncode == missing.returncode == module.returncode == 2
    assert "broken.py:2: no licence server" in broken.stderr.replace("RuntimeError at ", "")
    assert "SyntaxError at" in typo.stderr and "typo.py:1" in typo.stderr
    assert "no such file" in missing.stderr
    assert "no module named 'no_such_module'" in module.stderr
    for done in (broken, typo, missing, module):
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
        assert "Traceback" not in done.stderr


def test_a_bad_plugins_table_entry_names_its_line(tmp_path: Path) -> None:
    table = '[plugins]\nmodules = [\n  "missing_file.py",\n]\n'
    (tmp_path / "plugged.toml").write_text(scenario("markup", plugins=table))

    done = dxsim("validate", "plugged.toml", cwd=tmp_path)

    assert done.returncode == 2
    assert "plugged.toml:3" in done.stderr and "plugins.modules[0]" in done.stderr


@pytest.fixture
def installed_package(tmp_path: Path) -> Path:
    """A distribution installed on a PYTHONPATH directory, declaring a dxsim.plugins entry
    point (the files pip writes: the module, METADATA and entry_points.txt)."""
    site = tmp_path / "site"
    (site / "acme_pricing").mkdir(parents=True)
    (site / "acme_pricing" / "__init__.py").write_text("")
    (site / "acme_pricing" / "strategies.py").write_text(UNDERCUT)
    info = site / "acme_pricing-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-pricing\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[dxsim.plugins]\nundercut = acme_pricing.strategies\n")
    return site


def test_an_installed_package_registers_through_its_entry_point(
    tmp_path: Path, installed_package: Path
) -> None:
    (tmp_path / "plugged.toml").write_text(scenario("undercut"))

    done = dxsim("validate", "plugged.toml", cwd=tmp_path, pythonpath=installed_package)

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("OK  plugged")
