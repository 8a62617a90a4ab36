"""A compiled pack and how its rules combine into one decision.

Precedence, from the top (documented in the README, and the reason packs can stay short):

0. **forbidden** rules — nothing overrides a prohibition (PRC core data, US prohibited
   transactions);
1. **exemptions** (``exemption = true``) — the law puts them before its requirements: PRC
   Provisions Art. 7 and 8 end "属于本规定第三条、第四条、第五条、第六条规定情形的，从其规定";
   a GDPR adequacy decision, safeguard or derogation makes the transfer lawful. Any one suffices,
   so an allowed exemption wins and conditional exemptions offer the union of their mechanisms;
2. **conditional** rules — requirements all apply at once, so ``any_of`` is the mechanisms that
   satisfy every one of them: those a rule names, or one that supersedes a mechanism it names
   (a security assessment supersedes a standard contract: it is the stricter route);
3. **allowed** rules — nothing is required (no personal information, no important data);
4. otherwise the pack's **default**: not lawful (forbidden).

The first tier with a TRUE rule decides. A rule whose condition is UNKNOWN (it needs an absent fact)
blocks the decision — ``needs-information``, naming the absent facts it hinged on — if it sits in a
higher tier, or in the same tier and would change the result. With fewer facts a condition only
moves towards UNKNOWN, so removing a fact can turn a decision into ``needs-information`` but never
turn ``needs-information`` into a guess.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from marketplace.crossborder.conditions import TRUE, UNKNOWN, Condition
from marketplace.crossborder.decision import Decision, Outcome
from marketplace.crossborder.facts import Transfer, flatten
from marketplace.crossborder.schema import NegativeList, PackFile

__all__ = ["CompiledMechanism", "CompiledRule", "Pack", "Scope", "evaluate"]

FORBIDDEN, EXEMPTION, CONDITIONAL, ALLOWED = range(4)
TIER_NAMES = ("forbidden", "exemption", "conditional", "allowed")
_CACHE_LIMIT = 4096
_NO_GUESS = "dxsim never guesses a missing fact"


@dataclass(frozen=True, slots=True)
class CompiledRule:
    index: int
    id: str
    title: str
    outcome: Outcome
    tier: int
    mechanisms: frozenset[str]
    when: Condition
    citation: str
    because: str
    pack: str  # the pack that wrote it (a child's rules name the child)


@dataclass(frozen=True, slots=True)
class CompiledMechanism:
    name: str
    title: str
    lead_time_days: int
    basis: str
    citation: str
    supersedes: frozenset[str]  # transitive
    supersedes_citation: str
    validity: Mapping[str, Any] | None


@dataclass(frozen=True, slots=True)
class Scope:
    id: str
    when: Condition
    citation: str
    because: str


class Pack:
    """A policy pack, compiled: ``pack.evaluate(transfer)`` or :func:`evaluate`."""

    def __init__(
        self,
        *,
        name: str,
        title: str,
        chain: tuple[str, ...],
        files: tuple[Path, ...],
        spec: PackFile,
        params: Mapping[str, Any],
        conditions: Mapping[str, Condition],
        mechanisms: Mapping[str, CompiledMechanism],
        rules: Sequence[CompiledRule],
        scope: Scope,
        default: tuple[str, str, str],
        negative_lists: Sequence[tuple[str, NegativeList]],
    ) -> None:
        self.name, self.title, self.chain, self.files, self.spec = name, title, chain, files, spec
        self.params = MappingProxyType(dict(params))
        self.conditions = MappingProxyType(dict(conditions))
        self.mechanisms = MappingProxyType(dict(mechanisms))
        self.rules = tuple(rules)
        self.scope = scope
        self.default_id, self.default_citation, self.default_because = default
        self.negative_lists = tuple(negative_lists)
        self._tiers = tuple(
            tuple((r, r.when.fast) for r in self.rules if r.tier == t) for t in range(4)
        )
        self._cache: dict[tuple[Any, ...], Decision] = {}

    def __repr__(self) -> str:
        return f"<Pack {self.name}: {len(self.rules)} rules>"

    @property
    def extends(self) -> str | None:
        return self.chain[1] if len(self.chain) > 1 else None

    # -- evaluation ------------------------------------------------------------------------

    def evaluate(self, transfer: Transfer | Mapping[str, Any]) -> Decision:
        """The decision on one transfer (a :class:`Transfer`, or a trusted dict of its shape)."""
        return self.decide(flatten(transfer))

    def decide(self, facts: Mapping[str, Any]) -> Decision:
        """The decision on already flattened facts (``{dotted path: value}``)."""
        scope = self.scope.when.fast(facts)
        if scope != TRUE:
            return self._out_of_scope(facts) if scope != UNKNOWN else self._needs([], facts)
        pending: list[CompiledRule] = []
        for tier, rules in enumerate(self._tiers):
            fired: list[CompiledRule] = []
            unknown: list[CompiledRule] = []
            for rule, fast in rules:
                value = fast(facts)
                if value == TRUE:
                    fired.append(rule)
                elif value == UNKNOWN:
                    unknown.append(rule)
            if fired:
                if pending:
                    return self._needs(pending, facts)
                blocking = [u for u in unknown if self._would_change(tier, fired, u)]
                if blocking:
                    return self._needs(blocking, facts)
                return self._decided(tier, fired)
            pending += unknown
        if pending:
            return self._needs(pending, facts)
        return self._cached(("default",), self._default)

    # -- combining -------------------------------------------------------------------------

    def any_of(self, rules: Sequence[CompiledRule]) -> tuple[str, ...]:
        """Mechanisms that satisfy every requirement in ``rules`` (the union if none does)."""
        offered = sorted(frozenset().union(*(r.mechanisms for r in rules)))
        fits = [m for m in offered if all(self._satisfies(m, r) for r in rules)]
        return tuple(fits or offered)

    def _satisfies(self, mechanism: str, rule: CompiledRule) -> bool:
        return mechanism in rule.mechanisms or bool(
            self.mechanisms[mechanism].supersedes & rule.mechanisms
        )

    def _would_change(self, tier: int, fired: list[CompiledRule], rule: CompiledRule) -> bool:
        if tier == EXEMPTION:
            if any(r.outcome == "allowed" for r in fired):
                return False
            offered = frozenset().union(*(r.mechanisms for r in fired))
            return rule.outcome == "allowed" or not rule.mechanisms <= offered
        if tier == CONDITIONAL:
            return self.any_of([*fired, rule]) != self.any_of(fired)
        return False

    def _decided(self, tier: int, fired: list[CompiledRule]) -> Decision:
        if tier == EXEMPTION and any(r.outcome == "allowed" for r in fired):
            fired = [r for r in fired if r.outcome == "allowed"]
        key = ("decided", tier, tuple(r.index for r in fired))
        return self._cached(key, lambda: self._build(tier, fired))

    def _build(self, tier: int, fired: list[CompiledRule]) -> Decision:
        sentences = [(r.because, r.citation) for r in fired]
        if tier == FORBIDDEN:
            return self._make("forbidden", fired, sentences)
        if tier == ALLOWED or fired[0].outcome == "allowed":  # an allowed exemption
            return self._make("allowed", fired, sentences)
        if tier == EXEMPTION:
            any_of = tuple(sorted(frozenset().union(*(r.mechanisms for r in fired))))
        else:
            any_of = self.any_of(fired)
        lead, fastest = min((self.mechanisms[m].lead_time_days, m) for m in any_of)
        mech = self.mechanisms[fastest]
        if len(any_of) == 1:
            how = f"Only a {fastest} makes the transfer lawful; it takes {lead} working days"
        else:
            how = (
                f"Any one of {', '.join(any_of)} makes the transfer lawful; "
                f"the fastest, {fastest}, takes {lead} working days"
            )
        cite = mech.citation or "dxsim assumption: the law sets no period"
        sentences.append((f"{how} ({mech.basis})", cite))
        for r in fired:
            above = [m for m in any_of if m not in r.mechanisms]
            if above and tier == CONDITIONAL:
                over = self.mechanisms[above[0]]
                sentences.append(
                    (
                        f"The {over.name} also meets {r.id}, which asks for "
                        f"{' or '.join(sorted(r.mechanisms))}: it is the stricter route",
                        over.supersedes_citation or over.citation,
                    )
                )
        validity: dict[str, Mapping[str, Any]] = {}
        for m in any_of:
            v = self.mechanisms[m].validity
            if v is not None:
                validity[m] = v
                sentences.append(
                    (f"A passed {m} lasts {v['years']} years; {v['renewal']}", v["citation"])
                )
        return self._make("conditional", fired, sentences, any_of, lead, fastest, validity)

    def _make(
        self,
        outcome: Outcome,
        rules: Sequence[CompiledRule],
        sentences: list[tuple[str, str]],
        any_of: tuple[str, ...] = (),
        lead: int = 0,
        fastest: str | None = None,
        validity: Mapping[str, Mapping[str, Any]] | None = None,
        missing: tuple[str, ...] = (),
        ids: tuple[str, ...] | None = None,
        citations: tuple[str, ...] | None = None,
    ) -> Decision:
        cites = citations if citations is not None else _unique(r.citation for r in rules)
        return Decision(
            outcome=outcome,
            any_of=any_of,
            rules=ids if ids is not None else tuple(r.id for r in rules),
            citations=cites,
            lead_time_days=lead,
            missing=missing,
            explanation=" ".join(f"{text} ({cite})." for text, cite in sentences),
            pack=self.name,
            fastest=fastest,
            validity=MappingProxyType(dict(validity or {})),
            sentences=tuple(sentences),
        )

    def _needs(self, rules: Sequence[CompiledRule], facts: Mapping[str, Any]) -> Decision:
        if not rules:  # the scope itself is unknown
            gone = tuple(sorted(self.scope.when.trace(facts)[1]))
            key: tuple[Any, ...] = ("scope?", gone)
            return self._cached(key, lambda: self._needs_scope(gone))
        per_rule = [(r, tuple(sorted(r.when.trace(facts)[1]))) for r in rules]
        gone = tuple(sorted(frozenset().union(*(set(g) for _, g in per_rule))))
        key = ("needs", tuple((r.index, g) for r, g in per_rule))
        return self._cached(key, lambda: self._needs_rules(per_rule, gone))

    def _needs_rules(
        self, per_rule: list[tuple[CompiledRule, tuple[str, ...]]], gone: tuple[str, ...]
    ) -> Decision:
        sentences = [(f"The decision needs facts that are not given: {', '.join(gone)}", _NO_GUESS)]
        sentences += [
            (f"They decide whether {r.id} ({r.title}) applies: {', '.join(g)}", r.citation)
            for r, g in per_rule
        ]
        return self._make("needs-information", [r for r, _ in per_rule], sentences, missing=gone)

    def _needs_scope(self, gone: tuple[str, ...]) -> Decision:
        sentences = [
            (f"Whether this pack applies depends on facts not given: {', '.join(gone)}", _NO_GUESS),
            (self.scope.because, self.scope.citation),
        ]
        return self._make(
            "needs-information", [], sentences, missing=gone, ids=(self.scope.id,),
            citations=(self.scope.citation,),
        )  # fmt: skip

    def _out_of_scope(self, facts: Mapping[str, Any]) -> Decision:
        seen = ", ".join(f"{k} {facts[k]}" for k in ("origin", "destination", "date") if k in facts)
        sentences = [
            (f"{self.scope.because}. This transfer ({seen}) is outside it", self.scope.citation)
        ]
        return self._make(
            "allowed", [], sentences, ids=(self.scope.id,), citations=(self.scope.citation,)
        )

    def _default(self) -> Decision:
        return self._make(
            "forbidden", [], [(self.default_because, self.default_citation)],
            ids=(self.default_id,), citations=(self.default_citation,),
        )  # fmt: skip

    def _cached(self, key: tuple[Any, ...], build: Any) -> Decision:
        found = self._cache.get(key)
        if found is None:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            found = self._cache[key] = build()
        return found


def _unique(items: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(i for i in items if i))


def evaluate(transfer: Transfer | Mapping[str, Any], pack: Pack) -> Decision:
    """``evaluate(Transfer.model_validate(facts), load_pack("prc-2024"))`` → :class:`Decision`."""
    return pack.evaluate(transfer)
