"""The facts of one cross-border transfer, in the fixed format of ``specs/crossborder-facts.md``.

Every field may be absent. Absent means *unknown*: a rule that needs it yields
``needs-information``. Three fields take ``null`` as a value of their own (``exporter.ftz``,
``safeguard``, ``derogation``: "registered in no zone", "no safeguard", "no derogation"), so for
them an explicit ``null`` is a known fact and only a missing key is unknown; for every other field
``null`` and a missing key both mean unknown.

Packs name facts by dotted path (``exporter.ciio``); :data:`FACTS` lists every path with its type,
so a pack that names a fact that does not exist, or compares it with the wrong kind of value, is
refused when it loads. :func:`flatten` turns a :class:`Transfer` (or a plain dict of the same shape,
trusted) into ``{dotted path: value}`` holding the known facts only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt

__all__ = [
    "FACTS",
    "US",
    "Bulk",
    "Data",
    "Exporter",
    "FactType",
    "Recipient",
    "Transfer",
    "flatten",
]


def _iso_date(value: Any) -> Any:
    """Accept a date or an ISO ``YYYY-MM-DD`` string, nothing else (no timestamps, no guessing)."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError(f"{value!r} is not an ISO date (YYYY-MM-DD)")


Count = Annotated[StrictInt, Field(ge=0)]
Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$", strict=True)]
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]


class _Facts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Exporter(_Facts):
    ciio: StrictBool | None = None
    ftz: Literal["beijing", "tianjin", "shanghai"] | None = None
    pi_subjects_processed: Count | None = None
    gdpr_art3_2: StrictBool | None = None


class Data(_Facts):
    personal: StrictBool | None = None
    sensitive: StrictBool | None = None
    important: StrictBool | None = None
    core: StrictBool | None = None
    ftz_negative_list: StrictBool | None = None
    transit_only: StrictBool | None = None


class Recipient(_Facts):
    dpf_certified: StrictBool | None = None
    covered_person: StrictBool | None = None


class Bulk(_Facts):
    genomic: Count | None = None
    biometric: Count | None = None
    precise_geolocation: Count | None = None
    health: Count | None = None
    financial: Count | None = None
    identifiers: Count | None = None


class US(_Facts):
    transaction: Literal["data-brokerage", "vendor", "employment", "investment", "other"] | None = (
        None
    )
    government_related: StrictBool | None = None
    bulk: Bulk | None = None


class Transfer(_Facts):
    """One transfer's facts (``extra="forbid"``: an unknown field is an error, never ignored)."""

    date: IsoDate | None = None
    origin: Country | None = None
    destination: Country | None = None
    exporter: Exporter | None = None
    data: Data | None = None
    pi_subjects_ytd: Count | None = None
    sensitive_pi_subjects_ytd: Count | None = None
    pi_subjects_since_last_year: Count | None = None
    sensitive_pi_subjects_since_last_year: Count | None = None
    purpose: Literal["general", "contract", "hr", "emergency"] | None = None
    recipient: Recipient | None = None
    safeguard: Literal["sccs", "bcrs", "code", "certification"] | None = None
    derogation: (
        Literal[
            "explicit-consent",
            "contract",
            "public-interest",
            "legal-claims",
            "vital-interests",
            "public-register",
        ]
        | None
    ) = None
    us: US | None = None


#: Fields where ``null`` is a value ("none"), not "unknown".
NULL_IS_A_VALUE = frozenset({"exporter.ftz", "safeguard", "derogation"})


@dataclass(frozen=True, slots=True)
class FactType:
    """What a fact holds: ``kind`` is bool, int, date, code (a country) or choice (``choices``)."""

    path: str
    kind: Literal["bool", "int", "date", "code", "choice"]
    choices: tuple[str, ...] = ()
    nullable: bool = False  # ``null`` is one of its values

    def describe(self) -> str:
        if self.kind == "choice":
            return "one of " + ", ".join(map(repr, self.choices)) + (" or null" * self.nullable)
        names = {"bool": "true or false", "int": "a whole number", "date": "a date"}
        return names.get(self.kind, "a two-letter country code")


def _leaf(path: str, annotation: Any) -> FactType:
    args = [a for a in get_args(annotation) if a is not type(None)] or [annotation]
    inner = args[0]
    while get_origin(inner) is Annotated:
        inner = get_args(inner)[0]
    nullable = path in NULL_IS_A_VALUE
    if get_origin(inner) is Literal:
        return FactType(path, "choice", tuple(map(str, get_args(inner))), nullable)
    kind = {bool: "bool", int: "int", dt.date: "date", str: "code"}[inner]
    return FactType(path, kind, (), nullable)  # type: ignore[arg-type]


def _walk(model: type[BaseModel], prefix: str, out: dict[str, FactType], nested: set[str]) -> None:
    for name, info in model.model_fields.items():
        path = f"{prefix}{name}"
        args = [a for a in get_args(info.annotation) if a is not type(None)]
        sub = args[0] if args and isinstance(args[0], type) else None
        if sub is not None and issubclass(sub, BaseModel):
            nested.add(path)
            _walk(sub, f"{path}.", out, nested)
        else:
            out[path] = _leaf(path, info.annotation)


def _registry() -> tuple[dict[str, FactType], frozenset[str]]:
    out: dict[str, FactType] = {}
    nested: set[str] = set()
    _walk(Transfer, "", out, nested)
    return out, frozenset(nested)


FACTS, _OBJECTS = _registry()


def flatten(transfer: Transfer | Mapping[str, Any]) -> dict[str, Any]:
    """The known facts as ``{dotted path: value}``; unknown facts are left out.

    A :class:`Transfer` is read through the fields it was given (``model_fields_set``), so an
    explicit ``null`` can be told from a missing key. A plain mapping is trusted to have the
    Transfer's shape (the simulation builds its facts itself); it is not validated, except that
    its ``date`` may be the spec's ISO string.
    """
    raw = transfer.model_dump(exclude_unset=True) if isinstance(transfer, BaseModel) else transfer
    out: dict[str, Any] = {}
    _into(raw, "", out)
    if isinstance(out.get("date"), str):
        out["date"] = _iso_date(out["date"])
    return out


def _into(raw: Mapping[str, Any], prefix: str, out: dict[str, Any]) -> None:
    for key, value in raw.items():
        path = prefix + key
        if path in _OBJECTS:
            if value is not None:
                _into(value, path + ".", out)
        elif value is not None or path in NULL_IS_A_VALUE:
            out[path] = value
