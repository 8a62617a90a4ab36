"""`dxsim policy` as a user meets it: check, explain, test, packs, show, and bad input."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from marketplace.crossborder import BUILTIN_DIR
from scenarios.cli import app
from tests.scenarios.test_cli_run import dxsim

CASES = Path(__file__).resolve().parents[1] / "marketplace" / "crossborder" / "cases"
FACTS = {
    "date": "2025-06-01",
    "origin": "CN",
    "destination": "SG",
    "exporter": {"ciio": False, "ftz": None, "pi_subjects_processed": 500000},
    "data": {
        "personal": True,
        "sensitive": False,
        "important": False,
        "core": False,
        "transit_only": False,
    },
    "pi_subjects_ytd": 150000,
    "sensitive_pi_subjects_ytd": 0,
    "purpose": "general",
}
SPEC_KEYS = ["outcome", "any_of", "rules", "citations", "lead_time_days", "missing", "explanation"]


@pytest.fixture
def facts(tmp_path: Path) -> Path:
    path = tmp_path / "facts.json"
    path.write_text(json.dumps(FACTS, indent=2))
    return path


def one_error_line(done: object, code: int = 2) -> str:
    assert done.returncode == code, (done.stdout, done.stderr)  # type: ignore[attr-defined]
    err: str = done.stderr  # type: ignore[attr-defined]
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    return err.strip()


def test_check_prints_the_spec_json_and_explain_cites_each_sentence(facts: Path) -> None:
    done = dxsim("policy", "check", "--pack", "prc-2024", "--facts", str(facts), "--json")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert list(out)[: len(SPEC_KEYS)] == SPEC_KEYS
    assert out["outcome"] == "conditional" and out["any_of"] == [
        "certification",
        "standard-contract",
    ]
    assert out["lead_time_days"] == 10 and out["rules"] == ["prc-2024/art8-100k-1m-pi"]
    prose = dxsim("policy", "explain", "--pack", "prc-2024", "--facts", str(facts))
    assert prose.returncode == 0, prose.stderr
    head, *sentences = prose.stdout.strip().splitlines()
    assert head.startswith("prc-2024: conditional") and len(sentences) >= 2
    assert all(line.endswith("]") and "[" in line for line in sentences), sentences
    assert "Art. 8]" in sentences[0]


def test_policy_test_runs_the_case_files_and_fails_on_a_wrong_case(tmp_path: Path) -> None:
    done = dxsim("policy", "test", str(CASES))
    assert done.returncode == 0, done.stdout + done.stderr
    assert " 0 failed" in done.stdout.strip().splitlines()[-1]
    wrong = tmp_path / "wrong.toml"
    text = (CASES / "prc-2024.toml").read_text()
    case = 'fewer than 100,000)"\nfacts = { pi_subjects_ytd = 99_999 }'
    assert case in text
    wrong.write_text(text.replace(case, case.replace("99_999", "100_000")))
    failed = dxsim("policy", "test", str(wrong))
    assert failed.returncode == 1, failed.stdout + failed.stderr
    fail_lines = [line for line in failed.stdout.splitlines() if line.startswith("FAIL ")]
    assert len(fail_lines) == 1 and f"{wrong}:" in fail_lines[0]
    assert "outcome: expected 'allowed', got 'conditional'" in fail_lines[0]
    assert "any_of: expected [], got ['certification', 'standard-contract']" in fail_lines[0]
    assert failed.stdout.strip().splitlines()[-1].endswith("1 failed")


@pytest.mark.parametrize(
    ("old", "new", "says"),
    [
        ('outcome = "allowed"', 'outcome = "alowed"', "outcome: unknown value 'alowed'"),
        (
            "exemption = true",
            "exemptoin = true",
            "exemptoin: unknown field; did you mean 'exemption'?",
        ),
        ('id = "prc-2024/art5-2-hr"', 'id = "prc-2024/art5-1-contract"', "duplicate rule id"),
    ],
)
def test_a_typo_in_a_pack_is_one_line_exit_2(
    tmp_path: Path, facts: Path, old: str, new: str, says: str
) -> None:
    text = (BUILTIN_DIR / "prc-2024.toml").read_text()
    assert old in text
    pack = tmp_path / "typo.toml"
    pack.write_text(text.replace(old, new, 1))
    line = one_error_line(dxsim("policy", "check", "--pack", str(pack), "--facts", str(facts)))
    assert line.startswith(f"dxsim: error: {pack}:") and '(id "prc-2024/' in line and says in line


def test_bad_facts_and_missing_files_are_one_line_exit_2(tmp_path: Path, facts: Path) -> None:
    typo = tmp_path / "typo.json"
    typo.write_text(facts.read_text().replace('"ciio"', '"ciioo"'))
    line = one_error_line(dxsim("policy", "check", "--pack", "prc-2024", "--facts", str(typo)))
    row = next(i for i, text in enumerate(typo.read_text().splitlines(), 1) if "ciioo" in text)
    assert line.startswith(
        f"dxsim: error: {typo}:{row}: exporter.ciioo: unknown field; did you mean 'ciio'?"
    )
    absent = one_error_line(
        dxsim("policy", "check", "--pack", "prc-2024", "--facts", str(tmp_path / "no.json"))
    )
    assert "no such facts file" in absent
    unknown = one_error_line(
        dxsim("policy", "explain", "--pack", "prc-2025", "--facts", str(facts))
    )
    assert "unknown policy pack 'prc-2025'" in unknown
    nothing = one_error_line(dxsim("policy", "test", str(tmp_path / "none")))
    assert "no such case file or directory" in nothing


def test_packs_show_and_help(tmp_path: Path) -> None:
    listed = dxsim("policy", "packs")
    assert listed.returncode == 0 and all(
        p in listed.stdout for p in ("prc-2024", "gdpr-ch5", "us-doj-bulk")
    )
    shown = dxsim("policy", "show", "beijing-ftz")
    assert shown.returncode == 0, shown.stderr
    assert "beijing-ftz/art6-off-list" in shown.stdout and "prc-2024/art7-1-ciio" in shown.stdout
    assert "汽车" in shown.stdout  # the list's sectors, as data
    runner = CliRunner()  # --help in-process: five interpreter starts saved
    for command in ("check", "explain", "test", "packs", "show"):
        helped = runner.invoke(app, ["policy", command, "--help"])
        assert helped.exit_code == 0 and "Usage" in helped.output, command
    copy = tmp_path / "mine.toml"
    shutil.copy(BUILTIN_DIR / "us-doj-bulk.toml", copy)
    assert dxsim("policy", "show", str(copy)).returncode == 0
