"""What a policy pack file may say (pydantic, ``extra="forbid"``), and how citations read.

A pack is a TOML file: a name and title, the instruments it cites, its parameters (thresholds and
the readings it takes of ambiguous law), its mechanisms with their lead times, a scope, a default,
and its rules. A pack may ``extends`` another: it inherits all of that and adds rules, parameters,
instruments and mechanisms of its own, but may not change its parent's.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr

__all__ = [
    "Citation",
    "Default",
    "InForce",
    "Instrument",
    "Mechanism",
    "NegativeList",
    "PackFile",
    "RuleSpec",
    "Scope",
    "Sector",
    "cited_instruments",
    "render_citations",
]

Name = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
RuleId = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*/[a-z0-9][a-z0-9.-]*$")]
Number = StrictInt | StrictStr
ParamValue = StrictBool | StrictInt | dt.date | StrictStr | list[StrictStr]


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Instrument(_Spec):
    """A legal text a pack cites; ``style`` fixes how its articles are written."""

    title: str
    style: Literal["prc", "eu", "cfr", "decision"] = "prc"
    url: str | None = None
    date: dt.date | None = None


class Citation(_Spec):
    """Instrument and article, paragraph (款 / numbered paragraph) and item (项 / point)."""

    instrument: Name
    article: Number | None = None
    paragraph: Number | None = None
    item: Number | None = None
    note: str | None = None


Cites = Citation | list[Citation]


class Mechanism(_Spec):
    """A way to make a transfer lawful, with the working days it takes before data may move."""

    title: str
    lead_time_days: Annotated[int, Field(ge=0, strict=True)]
    lead_time_basis: str
    lead_time_cite: Cites | None = None  # None: the law sets no period; the basis says so
    supersedes: list[Name] = []
    supersedes_cite: Cites | None = None
    valid_years: Annotated[int, Field(gt=0, strict=True)] | None = None
    renewal: str | None = None
    validity_cite: Cites | None = None


class RuleSpec(_Spec):
    """One rule: when its condition holds, the law says ``outcome`` (with ``mechanisms``).

    ``exemption = true`` marks a rule the law puts before the requirements (PRC Art. 3-6 "从其规定",
    a GDPR adequacy decision, an Art. 46 safeguard or Art. 49 derogation): it overrides
    conditional rules, never a prohibition.
    """

    id: RuleId
    title: str
    outcome: Literal["allowed", "conditional", "forbidden"]
    exemption: bool = False
    mechanisms: list[Name] = []
    when: dict[str, Any]
    cite: Cites
    because: str


class InForce(_Spec):
    start: dt.date = Field(alias="from")
    until: dt.date | None = None  # the first day it no longer covers


class Scope(_Spec):
    """Which transfers the pack reads; outside it, the decision is ``allowed`` (not applicable)."""

    applies: dict[str, Any]
    in_force: InForce | None = None
    cite: Cites
    because: str


class Default(_Spec):
    """What the pack says when no rule covers a transfer within its scope: it is not lawful."""

    cite: Cites
    because: str


class Sector(_Spec):
    name: str
    zh: str | None = None
    items: list[str] = []
    note: str | None = None


class NegativeList(_Spec):
    """An FTZ negative list as data: its title, date and the sectors or categories it covers."""

    title: str
    zh_title: str | None = None
    issued_by: str | None = None
    effective: dt.date
    url: str | None = None
    sectors: list[Sector] = []
    note: str | None = None


class PackFile(_Spec):
    name: Name
    title: str
    extends: str | None = None
    scope: Scope | None = None
    default: Default | None = None
    params: dict[str, ParamValue] = {}
    conditions: dict[Name, dict[str, Any]] = {}
    instruments: dict[Name, Instrument] = {}
    mechanisms: dict[Name, Mechanism] = {}
    negative_list: NegativeList | None = None
    rules: list[RuleSpec] = []


def _one(cite: Citation, instruments: dict[str, Instrument]) -> str:
    inst = instruments[cite.instrument]
    head = inst.title
    if inst.style == "decision":
        text = head + (f" Art. {cite.article}" if cite.article is not None else "")
    elif cite.article is None:
        text = head
    elif inst.style == "prc":
        text = f"{head} Art. {cite.article}"
        text += f" para. {cite.paragraph}" if cite.paragraph is not None else ""
        text += f" item ({cite.item})" if cite.item is not None else ""
    else:
        text = f"{head} {'Art.' if inst.style == 'eu' else '§'} {cite.article}"
        text += f"({cite.paragraph})" if cite.paragraph is not None else ""
        text += f"({cite.item})" if cite.item is not None else ""
    return text + (f", {cite.note}" if cite.note else "")


def render_citations(cites: Cites | None, instruments: dict[str, Instrument]) -> str:
    """One citation string: ``Title Art. 7 para. 1 item (2); Other Art. 4``."""
    if cites is None:
        return ""
    items = cites if isinstance(cites, list) else [cites]
    return "; ".join(_one(c, instruments) for c in items)


def cited_instruments(cites: Cites | None) -> list[str]:
    items = [] if cites is None else cites if isinstance(cites, list) else [cites]
    return [c.instrument for c in items]
