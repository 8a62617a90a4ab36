"""The public API and decision format of ``specs/crossborder-facts.md``, and the precedence."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from pydantic import ValidationError

from marketplace.crossborder import (
    Decision,
    PackGate,
    Transfer,
    evaluate,
    flatten,
    load_pack,
)
from marketplace.crossborder_hook import GateDecision, Requirement

SPEC_KEYS = ["outcome", "any_of", "rules", "citations", "lead_time_days", "missing", "explanation"]

#: The example of the spec, comments dropped.
SPEC_EXAMPLE: dict[str, Any] = {
    "date": "2025-06-01",
    "origin": "CN",
    "destination": "SG",
    "exporter": {"ciio": False, "ftz": None, "pi_subjects_processed": 500000, "gdpr_art3_2": False},
    "data": {
        "personal": True,
        "sensitive": False,
        "important": False,
        "core": False,
        "ftz_negative_list": False,
        "transit_only": False,
    },
    "pi_subjects_ytd": 50000,
    "sensitive_pi_subjects_ytd": 0,
    "pi_subjects_since_last_year": 0,
    "sensitive_pi_subjects_since_last_year": 0,
    "purpose": "general",
    "recipient": {"dpf_certified": False, "covered_person": False},
    "safeguard": None,
    "derogation": None,
    "us": {
        "transaction": "vendor",
        "government_related": False,
        "bulk": {
            "genomic": 0,
            "biometric": 0,
            "precise_geolocation": 0,
            "health": 0,
            "financial": 0,
            "identifiers": 0,
        },
    },
}


def test_the_spec_example_and_the_json_keys() -> None:
    d = evaluate(Transfer.model_validate(SPEC_EXAMPLE), load_pack("prc-2024"))
    assert (d.outcome, d.any_of, d.rules) == ("allowed", (), ("prc-2024/art5-4-below-100k",))
    out = json.loads(d.to_json())
    assert list(out)[: len(SPEC_KEYS)] == SPEC_KEYS
    assert out["any_of"] == [] and out["missing"] == [] and out["lead_time_days"] == 0
    assert "Art. 5 item (4)" in out["citations"][0] and out["explanation"].endswith(").")


def test_a_conditional_decision_carries_everything() -> None:
    facts = {**SPEC_EXAMPLE, "pi_subjects_ytd": 1_000_000}
    d = evaluate(Transfer.model_validate(facts), load_pack("prc-2024"))
    assert d.as_dict()["any_of"] == ["security-assessment"] and d.lead_time_days == 57
    assert d.fastest == "security-assessment"
    assert d.validity["security-assessment"]["years"] == 3
    assert "Art. 9" in d.validity["security-assessment"]["citation"]
    assert all(cite for _, cite in d.sentences) and "57 working days" in d.explanation
    with pytest.raises(dataclasses.FrozenInstanceError):
        d.outcome = "allowed"  # type: ignore[misc]


def test_facts_are_validated_strictly() -> None:
    for bad in (
        {"exporter": {"ciioo": True}},
        {"pi_subjects_ytd": -1},
        {"pi_subjects_ytd": "9"},
        {"date": "1 June 2025"},
        {"destination": "usa"},
        {"purpose": "sales"},
        {"data": {"personal": "yes"}},
    ):
        with pytest.raises(ValidationError):
            Transfer.model_validate(bad)


def test_null_and_absent_differ_only_where_null_is_a_value() -> None:
    facts = flatten(Transfer.model_validate({"exporter": {"ciio": None, "ftz": None}}))
    assert facts == {"exporter.ftz": None}
    assert flatten(Transfer.model_validate({"exporter": {}})) == {}


def test_a_plain_dict_decides_like_a_transfer() -> None:
    pack = load_pack("gdpr-ch5")
    facts = {
        "date": "2025-06-01",
        "origin": "DE",
        "destination": "IN",
        "data": {"personal": True},
        "safeguard": None,
        "derogation": None,
    }
    model = evaluate(Transfer.model_validate(facts), pack)
    plain = evaluate({**facts, "date": Transfer.model_validate(facts).date}, pack)
    assert model == plain == evaluate(facts, pack) and model.outcome == "conditional"


def test_the_pack_gate_speaks_the_trade_hook() -> None:
    pack = load_pack("prc-2024")
    gate = PackGate([pack, load_pack("gdpr-ch5")])
    facts = {**SPEC_EXAMPLE, "pi_subjects_ytd": 150_000}
    decided = gate.evaluate(Transfer.model_validate(facts).model_dump())
    assert decided == GateDecision(
        "conditional",
        ("prc-2024/art8-100k-1m-pi", "gdpr-ch5/not-applicable"),
        (
            Requirement(
                pack="prc-2024",
                any_of=("certification", "standard-contract"),
                fastest="standard-contract",
                lead_time_days=10,
                rules=("prc-2024/art8-100k-1m-pi",),
                lead_times={"certification": 60, "standard-contract": 10},
                valid_days={},
            ),
        ),
    )


def test_the_pack_gate_refuses_when_any_pack_forbids_or_lacks_a_fact() -> None:
    gate = PackGate([load_pack("prc-2024"), load_pack("us-doj-bulk")])
    core = {**SPEC_EXAMPLE, "data": {**SPEC_EXAMPLE["data"], "core": True}}
    refused = gate.evaluate(Transfer.model_validate(core).model_dump())
    assert refused.outcome == "forbidden" and refused.rules == ("prc-2024/core-data",)
    assert refused.requirements == ()
    unknown = {k: v for k, v in SPEC_EXAMPLE.items() if k != "pi_subjects_ytd"}
    asked = gate.evaluate(Transfer.model_validate(unknown).model_dump())
    assert asked.outcome == "needs-information" and "pi_subjects_ytd" in asked.missing


def test_an_exemption_beats_a_requirement_but_never_a_prohibition() -> None:
    pack = load_pack("prc-2024")

    def decide(**over: Any) -> Decision:
        facts = json.loads(json.dumps(SPEC_EXAMPLE))
        for path, value in over.items():
            *parents, leaf = path.split("__")
            node = facts
            for key in parents:
                node = node[key]
            node[leaf] = value
        return evaluate(Transfer.model_validate(facts), pack)

    assert decide(pi_subjects_ytd=5_000_000).outcome == "conditional"
    assert decide(pi_subjects_ytd=5_000_000, purpose="contract").outcome == "allowed"
    assert decide(data__core=True, purpose="contract").outcome == "forbidden"


def test_decisions_are_shared_when_the_same_rules_fire() -> None:
    pack = load_pack("prc-2024")
    a = evaluate(Transfer.model_validate({**SPEC_EXAMPLE, "pi_subjects_ytd": 1}), pack)
    b = evaluate(Transfer.model_validate({**SPEC_EXAMPLE, "pi_subjects_ytd": 2}), pack)
    assert a is b
