"""The scenario loader: every mistake a user can make is reported at its line, in one line.

The loader is generic, so these tests use small models of their own, shaped like a scenario:
tables, an inline table, a nested table, and ``[[population]]`` tables whose ``kind`` selects
the model (a discriminated union).
"""

from __future__ import annotations

import json
import pickle
import re
import tomllib
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, field_validator

from scenarios.load import ScenarioError, load, load_toml, locate, validate

X = Path("scenarios/x.toml")


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Dist(_Model):
    dist: Literal["lognormal", "normal"]
    mu: float = 0.0


class Buyer(_Model):
    kind: Literal["buyer"]
    count: int = Field(ge=0)
    strategy: Literal["best-surplus", "cheapest", "naive"] = "naive"
    budget: Dist = Dist(dist="normal")


class Provider(_Model):
    kind: Literal["provider"]
    count: int = Field(default=1, ge=0)
    price: Dist = Dist(dist="lognormal")


class Exchange(_Model):
    capacity: int = 10
    fee_supplier_bp: int = 0
    fee_buyer_bp: int = 0
    weights: dict[str, float] = {}
    seed: int | Literal["random"] = 1


class Run(_Model):
    name: str
    days: float = Field(default=1.0, gt=0)


class Doc(_Model):
    run: Run
    exchange: Exchange = Exchange()
    population: list[Annotated[Buyer | Provider, Field(discriminator="kind")]] = Field(min_length=1)

    @field_validator("population")
    @classmethod
    def _one_per_kind(cls, population: list[Buyer | Provider]) -> list[Buyer | Provider]:
        kinds = [p.kind for p in population]
        repeated = sorted({k for k in kinds if kinds.count(k) > 1})
        if repeated:
            raise ValueError(f"one [[population]] table per kind; repeated: {repeated}")
        return population


GOOD = """\
# a scenario
[run]
name = "t"  # the name = [not a table]
days = 30

[exchange]
capacity = 5
fee_supplier_bp = 10

[[population]]
kind = "provider"
[population.price]
dist = "normal"

[[population]]
kind = "buyer"
count = 3
strategy = "cheapest"
budget = { dist = "lognormal", mu = 1.5 }
"""


def line_of(source: str, text: str) -> int:
    """The line holding ``text`` (exactly once), so the tests need not count lines by hand."""
    hits = [n for n, line in enumerate(source.splitlines(), 1) if text in line]
    assert len(hits) == 1, (text, hits)
    return hits[0]


def error(source: str, model: type[BaseModel] = Doc) -> ScenarioError:
    with pytest.raises(ScenarioError) as caught:
        validate(model, tomllib.loads(source), source, X)
    return caught.value


def test_a_good_scenario_loads(tmp_path: Path) -> None:
    path = tmp_path / "good.toml"
    path.write_text(GOOD, encoding="utf-8")
    doc = load(str(path), Doc)
    assert isinstance(doc, Doc)
    assert doc.exchange.capacity == 5
    assert doc.population[0] == Provider(kind="provider", price=Dist(dist="normal"))
    assert doc.population[1] == Buyer(
        kind="buyer", count=3, strategy="cheapest", budget=Dist(dist="lognormal", mu=1.5)
    )
    data, source = load_toml(path)
    assert source == GOOD and data["run"]["name"] == "t"


def test_unknown_field_says_where_and_what_was_meant() -> None:
    source = GOOD.replace("fee_supplier_bp = 10", "fee_suplier_bp = 10")
    err = error(source)
    line = line_of(source, "fee_suplier_bp")
    assert str(err) == (
        f"scenarios/x.toml:{line}: exchange.fee_suplier_bp: unknown field; "
        "did you mean 'fee_supplier_bp'? allowed: capacity, fee_buyer_bp, fee_supplier_bp, "
        "seed, weights"
    )
    assert (err.path, err.line, err.field, err.others) == (X, line, "exchange.fee_suplier_bp", ())


def test_unknown_field_without_a_close_match_lists_what_is_allowed() -> None:
    source = GOOD.replace('dist = "normal"', 'dist = "normal"\nzzz = 1')
    assert str(error(source)) == (
        f"scenarios/x.toml:{line_of(source, 'zzz')}: population[0].price.zzz: "
        "unknown field; allowed: dist, mu"
    )


def test_wrong_type() -> None:
    source = GOOD.replace("days = 30", 'days = "soon"')
    assert str(error(source)) == (
        f"scenarios/x.toml:{line_of(source, 'days')}: run.days: 'soon' is not allowed: "
        "Input should be a valid number, unable to parse string as a number"
    )


def test_bad_literal_value_lists_the_allowed_values() -> None:
    source = GOOD.replace('strategy = "cheapest"', 'strategy = "best-surplu"')
    assert str(error(source)) == (
        f"scenarios/x.toml:{line_of(source, 'strategy')}: population[1].strategy: "
        "unknown value 'best-surplu'; allowed: 'best-surplus', 'cheapest', 'naive'"
    )


def test_bad_value_in_an_inline_table_is_on_its_line() -> None:
    source = GOOD.replace('dist = "lognormal"', 'dist = "lognorml"')
    assert str(error(source)) == (
        f"scenarios/x.toml:{line_of(source, 'budget')}: population[1].budget.dist: "
        "unknown value 'lognorml'; allowed: 'lognormal', 'normal'"
    )


def test_negative_count() -> None:
    source = GOOD.replace("count = 3", "count = -3")
    assert str(error(source)) == (
        f"scenarios/x.toml:{line_of(source, 'count')}: population[1].count: "
        "-3 is not allowed: Input should be greater than or equal to 0"
    )


def test_missing_field_is_reported_at_its_table_header() -> None:
    source = GOOD.replace("count = 3\n", "")
    header = [n for n, line in enumerate(source.splitlines(), 1) if line == "[[population]]"]
    assert str(error(source)) == (
        f"scenarios/x.toml:{header[1]}: population[1].count: required field is missing"
    )
    source = GOOD.replace('name = "t"  # the name = [not a table]\n', "")
    assert str(error(source)) == (
        f"scenarios/x.toml:{line_of(source, '[run]')}: run.name: required field is missing"
    )


def test_missing_table_has_no_line() -> None:
    source = "[exchange]" + GOOD.split("[exchange]")[1]
    err = error(source)
    assert str(err) == "scenarios/x.toml: run: required field is missing"
    assert err.line is None


def test_unknown_kind() -> None:
    source = GOOD.replace('kind = "buyer"', 'kind = "sellr"')
    assert str(error(source)) == (
        f"scenarios/x.toml:{line_of(source, 'sellr')}: population[1].kind: "
        "unknown value 'sellr'; allowed: 'buyer', 'provider'"
    )


def test_missing_kind() -> None:
    source = GOOD.replace('kind = "provider"\n', "")
    assert str(error(source)) == (
        "scenarios/x.toml:10: population[0].kind: required field is missing (it selects the kind)"
    )


def test_discriminator_tag_is_not_shown_as_a_field() -> None:
    source = GOOD.replace("count = 3", "count = 3\nbuyer = 1")  # a key named like the tag
    err = error(source)
    assert err.field == "population[1].buyer"
    assert err.line == line_of(source, "buyer = 1")
    assert err.message.startswith("unknown field; allowed: budget, count, kind, strategy")


def test_custom_validator_message_without_pydantic_prefix() -> None:
    source = '[run]\nname = "t"\n\n' + '[[population]]\nkind = "buyer"\ncount = 1\n' * 2
    assert str(error(source)) == (
        "scenarios/x.toml:4: population: one [[population]] table per kind; repeated: ['buyer']"
    )


def test_dict_values_and_union_members() -> None:
    source = GOOD.replace("capacity = 5", 'capacity = 5\nweights = { a = 1, "b c" = "heavy" }')
    err = error(source)
    assert str(err) == (
        f'scenarios/x.toml:{line_of(source, "weights")}: exchange.weights."b c": '
        "'heavy' is not allowed: Input should be a valid number, unable to parse string as a number"
    )
    source = GOOD.replace("capacity = 5", 'capacity = 5\nseed = "rand"')
    err = error(source)  # `int | Literal["random"]`: pydantic reports each member, one field here
    assert (err.field, err.line, err.others) == ("exchange.seed", line_of(source, "seed"), ())
    assert err.message == (
        "'rand' is not allowed: Input should be a valid integer, unable to parse string as an "
        "integer or unknown value 'rand'; allowed: 'random'"
    )


class Speed(Enum):
    FAST = "fast"
    SLOW = "slow"


class Single(_Model):
    """A discriminated union on a plain field, and an enum."""

    agent: Buyer | Provider = Field(discriminator="kind")
    speed: Speed = Speed.FAST


def test_discriminated_field_and_enum() -> None:
    source = 'speed = "fats"\n[agent]\nkind = "buyer"\ncount = 1\nstrategi = "naive"\n'
    err = error(source, Single)
    assert str(err).splitlines() == [
        "scenarios/x.toml:1: speed: unknown value 'fats'; allowed: 'fast', 'slow' "
        "(and 1 more problem)",
        "  also scenarios/x.toml:5: agent.strategi",
    ]
    assert err.others[0].message == (
        "unknown field; did you mean 'strategy'? allowed: budget, count, kind, strategy"
    )


def test_without_a_path() -> None:
    source = GOOD.replace("count = 3", "count = -3")
    with pytest.raises(ScenarioError) as caught:
        validate(Doc, tomllib.loads(source), source, None)
    assert str(caught.value).startswith(f"<scenario>:{line_of(source, 'count')}: population[1]")


def test_several_problems_report_the_first_and_count_the_rest() -> None:
    source = (
        GOOD.replace("count = 3", "count = -3")
        .replace("capacity = 5", "capacity = 'many'")
        .replace("days = 30", "days = 0")
    )
    err = error(source)
    assert str(err).splitlines() == [
        f"scenarios/x.toml:{line_of(source, 'days')}: run.days: 0 is not allowed: "
        "Input should be greater than 0 (and 2 more problems)",
        f"  also scenarios/x.toml:{line_of(source, 'capacity')}: exchange.capacity",
        f"  also scenarios/x.toml:{line_of(source, 'count')}: population[1].count",
    ]
    assert [o.field for o in err.others] == ["exchange.capacity", "population[1].count"]


def test_long_values_are_truncated() -> None:
    source = GOOD.replace("days = 30", f'days = "{"x" * 100}"')
    message = error(source).message
    assert message.startswith("'" + "x" * 56 + "... is not allowed")


def test_toml_syntax_error_has_its_line(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text('[run]\nname = "t"\ndays = \n', encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load(path, Doc)
    assert caught.value.line == 3
    assert str(caught.value) == f"{path}:3: invalid TOML: Invalid value (column 8)"


def test_toml_syntax_error_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text('[run]\nname = "t"\ndays = [1,\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as caught:
        load(path, Doc)
    assert caught.value.line == 4
    assert str(caught.value).startswith(f"{path}:4: invalid TOML: ")


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ScenarioError) as caught:
        load(path, Doc)
    assert str(caught.value) == f"{path}: no such scenario file"
    assert (caught.value.line, caught.value.field) == (None, "")


def test_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_bytes(b'[run]\nname = "caf\xe9"\n')
    with pytest.raises(ScenarioError) as caught:
        load(path, Doc)
    assert str(caught.value) == f"{path}:2: not UTF-8 text (byte 0xe9)"


def test_crlf_and_byte_order_mark(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_bytes(
        ("\ufeff" + GOOD.replace("count = 3", "count = -3")).encode().replace(b"\n", b"\r\n")
    )
    with pytest.raises(ScenarioError) as caught:
        load(path, Doc)
    assert caught.value.line == line_of(GOOD, "count")


def test_the_error_pickles() -> None:
    err = error(GOOD.replace("count = 3", "count = -3").replace("days = 30", "days = 0"))
    copy = pickle.loads(pickle.dumps(err))
    assert str(copy) == str(err) and copy.others[0].field == err.others[0].field


# --- locate -------------------------------------------------------------------------------

TRICKY = '''\
title = "a = [b] # c"          # 1
'quoted.key' = 1               # 2
"esc \\" = [" = 2              # 3
server.host.name = "h"         # 4
point = { x = 1, "y y" = { z = 2 } }  # 5
ports = [                      # 6
  8000,                        # 7  a comment = [x]
  "80[01]",                    # 8
  { inner = 1 },               # 9
]                              # 10
text = """                     # 11
[not.a.table]
fake = 1
"""
lit = \'\'\'a\'\'\'\'               # 15
[ table . "sub.part" ]         # 16
key = 1979-05-27 07:32:00      # 17
[[fleet]]                      # 18
name = "one"                   # 19
[[fleet]]                      # 20
[fleet.engine]                 # 21
power = 1.5e3                  # 22
[[fleet.crew]]                 # 23
role = "pilot"                 # 24
[[fleet.crew]]                 # 25
role = "cook"                  # 26
[[fleet]]                      # 27
[[fleet.crew]]                 # 28
'''


@pytest.mark.parametrize(
    ("loc", "line"),
    [
        (("title",), 1),
        (("quoted.key",), 2),
        (('esc " = [',), 3),
        (("server",), 4),
        (("server", "host", "name"), 4),
        (("point", "y y", "z"), 5),
        (("ports",), 6),
        (("ports", 0), 7),
        (("ports", 1), 8),
        (("ports", 2, "inner"), 9),
        (("text",), 11),
        (("lit",), 15),
        (("table",), 16),
        (("table", "sub.part"), 16),
        (("table", "sub.part", "key"), 17),
        (("fleet",), 18),
        (("fleet", 0), 18),
        (("fleet", 0, "name"), 19),
        (("fleet", 1), 20),
        (("fleet", 1, "engine"), 21),
        (("fleet", 1, "engine", "power"), 22),
        (("fleet", 1, "crew", 0, "role"), 24),
        (("fleet", 1, "crew", 1), 25),
        (("fleet", 1, "crew", 1, "role"), 26),
        (("fleet", 2), 27),
        (("fleet", 2, "crew", 0), 28),
        # what is not written falls back to the nearest ancestor that is
        (("fleet", 2, "crew", 0, "role"), 28),
        (("fleet", 1, "engine", "missing"), 21),
        (("point", "x", "deeper"), 5),
        (("not",), None),
        (("fake",), None),
        ((), None),
    ],
)
def test_locate(loc: tuple[str | int, ...], line: int | None) -> None:
    tomllib.loads(TRICKY)  # the fixture is valid TOML
    assert locate(TRICKY, loc) == line


def test_locate_survives_invalid_toml() -> None:
    assert locate('a = 1\n[b\nc = "unterminated', ("a",)) == 1
    assert locate("[[[", ("a",)) is None
    assert locate("", ("a",)) is None


# --- the property: generated documents ----------------------------------------------------

BARE = st.from_regex(r"[A-Za-z0-9_-]{1,6}", fullmatch=True)
ODD = st.text(alphabet="ab =[]{}#.,'\"\\é", min_size=1, max_size=6)
NUMBERS = ["1", "-2.5e3", "true", "inf", "0x1F", "1979-05-27T07:32:00Z", "1979-05-27 07:32:00"]
OTHERS = ["[1, 2]", "[]", "{}", "'x = [y] # z'", '"""a = [b]"""', "'''c\n[d]\ne = 1'''"]
SCALARS = st.one_of(st.sampled_from([*NUMBERS, *OTHERS]), ODD.map(json.dumps))


def render(key: str, quote: int) -> str:
    """A key as TOML: bare if it can be, else (or if asked) in basic or literal quotes."""
    if quote == 0 and re.fullmatch(r"[A-Za-z0-9_-]+", key):
        return key
    if quote == 1 and "'" not in key:
        return f"'{key}'"
    return json.dumps(key)


@st.composite
def documents(draw: st.DrawFn) -> tuple[str, dict[tuple[str | int, ...], int]]:
    """A TOML document of tables, arrays of tables and varied keys; where each key is written."""
    lines: list[str] = []
    expected: dict[tuple[str | int, ...], int] = {}
    keys = st.lists(st.one_of(BARE, ODD), min_size=1, max_size=4, unique=True)

    def r(key: str) -> str:
        return render(key, draw(st.integers(0, 2)))

    def emit(text: str) -> int:
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from(["", "# k = [x]", "  # [[y]] = 1", "\t"])))
        lines.extend(text.split("\n"))
        return len(lines) - text.count("\n")

    def body(table: tuple[str | int, ...], names: list[str]) -> None:
        eq = draw(st.sampled_from([" = ", "=", "  =\t"]))
        for name in names:
            path = (*table, name)
            form = draw(st.sampled_from(["scalar", "dotted", "inline", "array", "tables"]))
            if form == "scalar":
                expected[path] = emit(f"{r(name)}{eq}{draw(SCALARS)}  # = [x]")
            elif form == "dotted":
                sub = draw(st.one_of(BARE, ODD))
                line = emit(f"{r(name)} . {r(sub)}{eq}{draw(SCALARS)}")
                expected[path] = expected[(*path, sub)] = line
            elif form == "inline":
                inner = draw(keys)
                parts = [f"{r(k)}{eq}{draw(SCALARS)}" for k in inner]
                expected[path] = line = emit(f"{r(name)}{eq}{{ {', '.join(parts)} }}")
                for k, part in zip(inner, parts, strict=True):  # after a multi-line string: later
                    expected[(*path, k)] = line
                    line += part.count("\n")
            elif form == "array":
                items = draw(st.lists(SCALARS, max_size=3))
                line = emit("\n".join([f"{r(name)}{eq}[", *(f"  {v}, # ]" for v in items), "]"]))
                expected[path] = line
                for i, item in enumerate(items):  # one a line; a multi-line string spans more
                    expected[(*path, i)] = line = line + 1
                    line += item.count("\n")
            else:
                inner = draw(keys)
                rows = [f"  {{ {r(k)}{eq}{draw(SCALARS)} }}," for k in inner]
                line = emit("\n".join([f"{r(name)}{eq}[", *rows, "]"]))
                expected[path] = line
                for i, (k, row) in enumerate(zip(inner, rows, strict=True)):
                    expected[(*path, i)] = expected[(*path, i, k)] = line = line + 1
                    line += row.count("\n")

    names = draw(st.lists(st.one_of(BARE, ODD), max_size=6, unique=True))
    split = draw(st.integers(0, len(names)))
    body((), names[:split])
    for name in names[split:]:
        *own, sub = draw(st.lists(st.one_of(BARE, ODD), min_size=2, max_size=5, unique=True))
        for i in range(draw(st.integers(1, 3))) if draw(st.booleans()) else [None]:
            here: tuple[str | int, ...] = (name,) if i is None else (name, i)
            line = emit(f"[{r(name)}]" if i is None else f"[[ {r(name)} ]]")
            expected[here] = line
            expected.setdefault((name,), line)
            body(here, own)
            if draw(st.booleans()):
                expected[(*here, sub)] = emit(f"[ {r(name)} .{r(sub)}]")
                body((*here, sub), draw(keys))
    return "\n".join(lines) + "\n", expected


def lookup(data: Any, loc: tuple[str | int, ...]) -> Any:
    for seg in loc:
        data = data[seg]
    return data


@settings(max_examples=300, deadline=None)
@given(documents())
def test_locate_finds_the_line_of_every_key(doc: tuple[str, dict[Any, int]]) -> None:
    source, expected = doc
    data = tomllib.loads(source)  # the generator writes valid TOML...
    for loc, line in expected.items():
        lookup(data, loc)  # ...in which every expected path exists
        assert locate(source, loc) == line, (loc, source)
