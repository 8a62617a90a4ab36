"""A pack with a mistake is refused when it loads, with the file, line, rule id and field."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from marketplace.crossborder import PackError, Transfer, evaluate, load_pack

MINI = """\
name = "mini"
title = "A small pack"

[params]
limit = 100

[instruments.law]
title = "A Law"

[scope]
applies = { fact = "origin", eq = "CN" }
cite = { instrument = "law", article = 1 }
because = "It reads exports from CN"

[default]
cite = { instrument = "law", article = 2 }
because = "Nothing else is lawful"

[mechanisms.contract]
title = "A contract"
lead_time_days = 5
lead_time_basis = "five days"

[[rules]]
id = "mini/small"
title = "Small"
outcome = "allowed"
when = { fact = "pi_subjects_ytd", lt = "@limit" }
cite = { instrument = "law", article = 3 }
because = "Small volumes are free"

[[rules]]
id = "mini/big"
title = "Big"
outcome = "conditional"
mechanisms = ["contract"]
when = { fact = "pi_subjects_ytd", gte = "@limit" }
cite = { instrument = "law", article = 4, paragraph = 1, item = 2 }
because = "Big volumes need a contract"
"""


def write(tmp_path: Path, text: str, name: str = "mini.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str, start: int = 1) -> int:
    lines = text.splitlines()
    return next(i for i, line in enumerate(lines, 1) if i >= start and needle in line)


def refused(tmp_path: Path, old: str, new: str) -> tuple[str, PackError, str]:
    assert old in MINI
    text = MINI.replace(old, new, 1)
    with pytest.raises(PackError) as caught:
        load_pack(write(tmp_path, text))
    return text, caught.value, str(caught.value).splitlines()[0]


def test_the_mini_pack_works(tmp_path: Path) -> None:
    pack = load_pack(write(tmp_path, MINI))
    d = evaluate(Transfer.model_validate({"origin": "CN", "pi_subjects_ytd": 100}), pack)
    assert (d.outcome, d.any_of, d.rules, d.lead_time_days) == (
        "conditional",
        ("contract",),
        ("mini/big",),
        5,
    )
    assert d.citations == ("A Law Art. 4 para. 1 item (2)",)


@pytest.mark.parametrize(
    ("old", "new", "field", "says"),
    [
        (
            'outcome = "allowed"',
            'outcome = "alowed"',
            'rules[0] (id "mini/small"): outcome',
            "unknown value 'alowed'; allowed: 'allowed', 'conditional', 'forbidden'",
        ),
        (
            'because = "Small volumes are free"',
            'becuase = "Small volumes are free"',
            'rules[0] (id "mini/small"): becuase',
            "unknown field; did you mean 'because'?",
        ),
        (
            'id = "mini/big"',
            'id = "mini/small"',
            'rules[1] (id "mini/small"): id',
            "duplicate rule id 'mini/small'",
        ),
        (
            'fact = "pi_subjects_ytd", lt',
            'fact = "pi_subject_ytd", lt',
            'rules[0] (id "mini/small"): when.fact',
            "unknown fact 'pi_subject_ytd'; did you mean 'pi_subjects_ytd'?",
        ),
        (
            'lt = "@limit"',
            'lt = "many"',
            'rules[0] (id "mini/small"): when.lt',
            "'many' is not allowed: pi_subjects_ytd is a whole number",
        ),
        (
            'lt = "@limit"',
            'lt = "@limt"',
            'rules[0] (id "mini/small"): when.lt',
            "unknown parameter 'limt'; did you mean 'limit'?",
        ),
        (
            'when = { fact = "pi_subjects_ytd", lt = "@limit" }',
            'when = { fact = "exporter.ciio", lt = 3 }',
            'rules[0] (id "mini/small"): when.lt',
            "lt compares counts or dates",
        ),
        (
            'when = { fact = "pi_subjects_ytd", lt = "@limit" }',
            'when = { fact = "purpose", eq = "sales" }',
            'rules[0] (id "mini/small"): when.eq',
            "'sales' is not allowed: purpose is one of",
        ),
        (
            'mechanisms = ["contract"]',
            'mechanisms = ["contrat"]',
            'rules[1] (id "mini/big"): mechanisms[0]',
            "unknown mechanism 'contrat'",
        ),
        (
            'mechanisms = ["contract"]\n',
            "",
            'rules[1] (id "mini/big"): mechanisms',
            "a conditional rule names the mechanisms",
        ),
        (
            'id = "mini/big"',
            'id = "other/big"',
            'rules[1] (id "other/big"): id',
            "starts with its pack's name",
        ),
        (
            'cite = { instrument = "law", article = 3 }',
            'cite = { instrument = "lwa", article = 3 }',
            'rules[0] (id "mini/small"): cite.instrument',
            "unknown instrument 'lwa'",
        ),
        (
            'when = { fact = "pi_subjects_ytd", lt = "@limit" }',
            "when = { all = [] }",
            'rules[0] (id "mini/small"): when.all',
            "non-empty array",
        ),
        (
            'when = { fact = "pi_subjects_ytd", lt = "@limit" }',
            'when = { fact = "pi_subjects_ytd", lt = 1, gt = 0 }',
            'rules[0] (id "mini/small"): when.gt',
            "one operator",
        ),
        (
            'when = { fact = "pi_subjects_ytd", lt = "@limit" }',
            'when = { fact = "safeguard", is_null = 1 }',
            'rules[0] (id "mini/small"): when.is_null',
            "is_null takes true or false",
        ),
    ],
)
def test_a_mistake_is_one_located_line(
    tmp_path: Path, old: str, new: str, field: str, says: str
) -> None:
    text, error, first = refused(tmp_path, old, new)
    assert error.line is not None
    assert first.startswith(f"{error.path}:{error.line}: {field}: "), first
    assert says in first, first
    rules_start = line_of(text, "[[rules]]")
    assert error.line >= rules_start  # located inside the rules, not at the top of the file


def test_a_missing_scope_and_an_invalid_toml_file(tmp_path: Path) -> None:
    scope = MINI[MINI.index("[scope]") : MINI.index("[default]")]
    _, _error, first = refused(tmp_path, scope, "")
    assert "scope: required field is missing" in first
    path = write(tmp_path, MINI + "\n[[rules]\n", "broken.toml")
    with pytest.raises(PackError, match=r"broken.toml:\d+: invalid TOML"):
        load_pack(path)
    with pytest.raises(PackError, match="no such policy pack file"):
        load_pack(tmp_path / "absent.toml")
    with pytest.raises(PackError, match="unknown policy pack 'prc-2025'; built-in packs: "):
        load_pack("prc-2025")


def child(tmp_path: Path, body: str) -> Path:
    write(tmp_path, MINI)
    head = 'name = "kid"\ntitle = "A child"\nextends = "mini.toml"\n'
    return write(tmp_path, head + body, "kid.toml")


def test_a_child_inherits_and_adds(tmp_path: Path) -> None:
    path = child(
        tmp_path,
        """
[[rules]]
id = "kid/free"
title = "Free in the zone"
outcome = "allowed"
exemption = true
when = { fact = "exporter.ftz", eq = "beijing" }
cite = { instrument = "law", article = 9 }
because = "The zone is free"
""",
    )
    pack = load_pack(path)
    assert pack.chain == ("kid", "mini") and [r.id for r in pack.rules][-1] == "kid/free"
    facts = {"origin": "CN", "pi_subjects_ytd": 500, "exporter": {"ftz": "beijing"}}
    assert evaluate(Transfer.model_validate(facts), pack).rules == ("kid/free",)
    facts["exporter"]["ftz"] = None
    assert evaluate(Transfer.model_validate(facts), pack).rules == ("mini/big",)


@pytest.mark.parametrize(
    ("body", "says"),
    [
        ("[params]\nlimit = 5\n", "params.limit: already defined by the pack this one extends"),
        (
            '[scope]\napplies = { fact = "origin", eq = "US" }\n'
            'cite = { instrument = "law" }\nbecause = "x"\n',
            "scope: a pack that extends another inherits its scope",
        ),
        (
            '[[rules]]\nid = "kid/x"\ntitle = "x"\noutcome = "forbidden"\nexemption = true\n'
            'when = { fact = "origin", eq = "CN" }\ncite = { instrument = "law" }\nbecause = "x"\n',
            "exemption: a prohibition cannot be an exemption",
        ),
        (
            '[[rules]]\nid = "mini/small"\ntitle = "x"\noutcome = "allowed"\n'
            'when = { fact = "origin", eq = "CN" }\ncite = { instrument = "law" }\nbecause = "x"\n',
            "starts with its pack's name: kid/",
        ),
        ('[conditions]\na = { condition = "b" }\nb = { condition = "a" }\n', "in a cycle"),
    ],
)
def test_a_child_may_not_change_its_parent(tmp_path: Path, body: str, says: str) -> None:
    with pytest.raises(PackError) as caught:
        load_pack(child(tmp_path, body))
    assert "kid.toml:" in str(caught.value) and says in str(caught.value), str(caught.value)


def test_extends_must_name_a_pack_and_not_loop(tmp_path: Path) -> None:
    write(tmp_path, 'name = "a"\ntitle = "a"\nextends = "b.toml"\n', "a.toml")
    write(tmp_path, 'name = "b"\ntitle = "b"\nextends = "a.toml"\n', "b.toml")
    with pytest.raises(PackError, match="cycle"):
        load_pack(tmp_path / "a.toml")
    write(tmp_path, 'name = "c"\ntitle = "c"\nextends = "nowhere"\n', "c.toml")
    with pytest.raises(PackError, match=r"c.toml:3: extends: unknown policy pack 'nowhere'"):
        load_pack(tmp_path / "c.toml")


def test_packs_compile_once_and_reload_when_edited(tmp_path: Path) -> None:
    path = write(tmp_path, MINI)
    first = load_pack(path)
    assert load_pack(path) is first and load_pack(str(path)) is first
    path.write_text(MINI.replace("limit = 100", "limit = 7"), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    again = load_pack(path)
    assert again is not first and again.params["limit"] == 7
    assert load_pack("prc-2024") is load_pack("prc-2024")
