"""The cross-border rules engine: declarative policy packs read from the law.

``evaluate(Transfer.model_validate(facts), load_pack("prc-2024"))`` answers, for one transfer,
what the law requires (``outcome``, ``any_of`` mechanisms), why (rule ids and citations), how long
it takes (``lead_time_days``), and refuses to guess when a fact is missing (``needs-information``
with the facts' dotted paths). The facts and decision format are fixed by
``specs/crossborder-facts.md``; the packs are TOML files under ``scenarios/policies/``.
"""

from marketplace.crossborder.cases import CaseResult, run_case_files
from marketplace.crossborder.decision import Decision, Outcome
from marketplace.crossborder.engine import Pack, evaluate
from marketplace.crossborder.facts import FACTS, Transfer, flatten
from marketplace.crossborder.gate import PackGate
from marketplace.crossborder.loader import BUILTIN_DIR, PackError, builtin_packs, load_pack

__all__ = [
    "BUILTIN_DIR",
    "FACTS",
    "CaseResult",
    "Decision",
    "Outcome",
    "Pack",
    "PackError",
    "PackGate",
    "Transfer",
    "builtin_packs",
    "evaluate",
    "flatten",
    "load_pack",
    "run_case_files",
]
