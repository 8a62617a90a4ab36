"""Cross-border rules engine benchmark: decisions per second of a compiled pack on one core.

The simulation calls the engine on every cross-border trade, so each pack is timed on a fixed
set of varied facts (seeded: the same facts every run), as a validated ``Transfer`` and as the
plain dict the simulation builds. The figure to hold is ≥ 20,000 decisions/s on one core.

Run: ``python -m benchmarks.crossborder_bench [--decisions N]``.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

import numpy as np

from marketplace.crossborder import Transfer, builtin_packs, load_pack
from marketplace.transfer_facts import US_CATEGORIES

SEED = 2024
TARGET_PER_S = 20_000
COUNTS = [0, 50, 9_999, 10_000, 99_999, 100_000, 500_000, 999_999, 1_000_000, 2_000_000]
ORIGINS = {"gdpr-ch5": ["DE", "FR", "US"], "us-doj-bulk": ["US", "CN"]}
DESTINATIONS = ["SG", "US", "HK", "DE", "JP", "GB", "IN", "CN", "RU", "BR"]
DATES = ["2023-01-15", "2024-06-01", "2025-06-01", "2026-03-01"]
GAPS = ["pi_subjects_ytd", "data.core", "exporter.ciio", "safeguard", "recipient.covered_person"]


def varied_facts(pack: str, count: int, seed: int = SEED) -> list[dict[str, Any]]:
    """``count`` nested fact dicts in the spec's shape, varied over what the rules read."""
    rng = np.random.default_rng(seed)

    def pick(options: list[Any]) -> Any:
        return options[int(rng.integers(len(options)))]

    def flag(p: float) -> bool:
        return bool(rng.random() < p)

    out = []
    for _ in range(count):
        gap = pick(GAPS) if flag(0.1) else None  # one in ten misses a fact: needs-information
        bulk = {k: pick([0, 100, 101, 1_001, 10_001, 100_001]) for k in US_CATEGORIES}
        out.append(
            {
                "date": pick(DATES),
                "origin": pick(ORIGINS.get(pack, ["CN", "CN", "CN", "US"])),
                "destination": pick(DESTINATIONS),
                "exporter": {
                    "ciio": flag(0.1),
                    "ftz": pick([None, None, "beijing", "tianjin", "shanghai"]),
                    "pi_subjects_processed": pick(COUNTS),
                    "gdpr_art3_2": flag(0.2),
                },
                "data": {
                    "personal": flag(0.85),
                    "sensitive": flag(0.3),
                    "important": flag(0.1),
                    "core": flag(0.02),
                    "ftz_negative_list": flag(0.5),
                    "transit_only": flag(0.05),
                },
                "pi_subjects_ytd": pick(COUNTS),
                "sensitive_pi_subjects_ytd": pick(COUNTS),
                "pi_subjects_since_last_year": pick(COUNTS),
                "sensitive_pi_subjects_since_last_year": pick(COUNTS),
                "purpose": pick(["general", "general", "general", "contract", "hr", "emergency"]),
                "recipient": {"dpf_certified": flag(0.5), "covered_person": flag(0.1)},
                "safeguard": pick([None, None, "sccs", "bcrs"]),
                "derogation": pick([None, None, None, "explicit-consent"]),
                "us": {
                    "transaction": pick(["vendor", "employment", "data-brokerage", "other"]),
                    "government_related": flag(0.05),
                    "bulk": bulk,
                },
            }
        )
        if gap is not None:
            head, _, leaf = gap.partition(".")
            out[-1][head].pop(leaf) if leaf else out[-1].pop(head)
    return out


def bench_pack(name: str, decisions: int) -> dict[str, Any]:
    pack = load_pack(name)
    raw = varied_facts(name, min(decisions, 5_000))
    models = [Transfer.model_validate(f) for f in raw]
    plain = [m.model_dump() for m in models]  # dates as date objects, as the simulation holds them
    results: dict[str, Any] = {}
    evaluate = pack.evaluate
    for f in models[:200]:  # warm the decision cache, as a long simulation would be
        evaluate(f)
    cases = (
        ("dict", plain, evaluate),  # what the simulation passes
        ("transfer", models, evaluate),  # a validated Transfer
        ("json_validated", raw, lambda f: evaluate(Transfer.model_validate(f))),
    )
    for label, facts, decide in cases:
        rounds = max(1, decisions // len(facts))
        started = time.perf_counter()
        for _ in range(rounds):
            for f in facts:
                decide(f)
        seconds = time.perf_counter() - started
        results[f"{name}_{label}_decisions_per_s"] = round(rounds * len(facts) / seconds)
    outcomes = {pack.evaluate(f).outcome for f in models}
    results[f"{name}_outcomes_seen"] = ",".join(sorted(outcomes))
    return results


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--decisions", type=int, default=50_000, help="Decisions per pack and input kind."
    )
    args = parser.parse_args(argv)
    results: dict[str, Any] = {}
    started = time.perf_counter()
    for name in builtin_packs():
        results.update(bench_pack(name, args.decisions))
    compiled = [
        v
        for k, v in results.items()
        if k.endswith(("_dict_decisions_per_s", "_transfer_decisions_per_s"))
    ]
    results["slowest_compiled_decisions_per_s"] = min(compiled)
    results["target_decisions_per_s"] = TARGET_PER_S
    results["meets_target"] = "yes" if min(compiled) >= TARGET_PER_S else "NO"
    results["bench_seconds"] = round(time.perf_counter() - started, 1)
    return results


if __name__ == "__main__":
    from benchmarks.report import print_results

    print_results("crossborder", main())
