"""Experiment configurations: the built-in files load, ``--set`` replaces values, and every
mistake is one line naming the file and line, or the --set, and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios.cli_errors import UserError
from scenarios.experiments import experiments, load_config
from scenarios.experiments.agarwal_copy import EXPERIMENT, AgarwalCopy
from scenarios.experiments.config import parse_override


@pytest.mark.parametrize("name", list(experiments()))
def test_every_builtin_configuration_loads(name: str) -> None:
    experiment = experiments()[name]
    assert experiment.builtin.is_file()
    config = load_config(experiment.config, experiment.builtin)
    assert isinstance(config, experiment.config)


def test_builtin_file_states_the_defaults() -> None:
    """The TOML a researcher edits says what the model would default to anyway."""
    assert load_config(AgarwalCopy, EXPERIMENT.builtin) == AgarwalCopy()


@pytest.mark.parametrize(
    ("text", "key", "value"),
    [
        ("task.train_rows=50", ("task", "train_rows"), 50),
        ("task.view_noise = 0.25", ("task", "view_noise"), 0.25),
        ("allocation.method=exact", ("allocation", "method"), "exact"),
        ('allocation.method="sampled"', ("allocation", "method"), "sampled"),
        ("flag=true", ("flag",), True),
    ],
)
def test_parse_override(text: str, key: tuple[str, ...], value: object) -> None:
    parsed = parse_override(text)
    assert (parsed.key, parsed.value) == (key, value)


@pytest.mark.parametrize("text", ["novalue", "a..b=1", "=3", "a b=1"])
def test_malformed_override(text: str) -> None:
    with pytest.raises(UserError, match="expected KEY=VALUE"):
        parse_override(text)


def test_set_replaces_one_value() -> None:
    config = load_config(AgarwalCopy, EXPERIMENT.builtin, ["copies.max=2", "task.view_noise=0.1"])
    assert config.copies.max == 2 and config.task.view_noise == 0.1
    assert config.task.train_rows == AgarwalCopy().task.train_rows


def _problem(sets: list[str]) -> str:
    with pytest.raises(UserError) as caught:
        load_config(AgarwalCopy, EXPERIMENT.builtin, sets)
    return str(caught.value)


def test_set_mistakes_name_the_set() -> None:
    assert _problem(["task.trian_rows=5"]).startswith(
        "--set task.trian_rows=5: task.trian_rows: unknown field; did you mean 'train_rows'?"
    )
    assert _problem(["allocation.method=fast"]) == (
        "--set allocation.method=fast: allocation.method: unknown value 'fast'; "
        "allowed: 'auto', 'exact', 'sampled'"
    )
    assert _problem(["task.train_rows=1000000000"]).endswith(
        "Input should be less than or equal to 100000"
    )
    assert _problem(["task.train_rows=1e3"]).endswith("Input should be a valid integer")
    assert _problem(["task.train_rows.x=1"]) == (
        "--set task.train_rows.x=1: task.train_rows is a value, not a table"
    )


def test_whole_config_problems_are_located() -> None:
    assert _problem(["copies.max=30", "task.shared_signals=8"]).startswith(
        "--set copies.max=30: copies.max: 30 copies make 288 columns; allowed: at most 62"
    )
    assert "'exact' over 24 columns" in _problem(["allocation.method=exact", "copies.max=10"])


def test_file_mistakes_are_located(tmp_path: Path) -> None:
    text = EXPERIMENT.builtin.read_text(encoding="utf-8").replace(
        "view_noise = 0.5", "view_nois = 0.5"
    )
    line = next(i for i, row in enumerate(text.splitlines(), 1) if row.startswith("view_nois"))
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(UserError) as caught:
        load_config(AgarwalCopy, path)
    assert str(caught.value).startswith(
        f"{path}:{line}: task.view_nois: unknown field; did you mean 'view_noise'?"
    )
    with pytest.raises(UserError, match="no such experiment file"):
        load_config(AgarwalCopy, tmp_path / "absent.toml")
