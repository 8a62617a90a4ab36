"""The facts of one transfer, in the fixed format of ``specs/crossborder-facts.md``.

Everything in them is known to the exchange when a cross-border order meets its seller: the
exporter's profile and the dataset's classification from the listing, the purpose and the
recipient from the order, and the people counts from what the exporter has already delivered
abroad (:class:`marketplace.exports.ExportBook`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from marketplace.exports import ExportBook
from marketplace.state import ListingState, Order

__all__ = ["US_CATEGORIES", "transfer_facts"]


US_CATEGORIES = (
    "genomic",
    "biometric",
    "precise_geolocation",
    "health",
    "financial",
    "identifiers",
)


def transfer_facts(
    listing: ListingState, order: Order, date: dt.date, exports: ExportBook, now: int
) -> dict[str, Any]:
    """The transfer's facts in the fixed format of ``specs/crossborder-facts.md``, every one
    known to the exchange: the exporter's profile and the dataset's classification from the
    listing, the purpose and the recipient from the order, and the people counts from what the
    exporter has already delivered abroad (``exports``), this transfer included."""
    spec = listing.spec
    subjects = spec.subjects
    personal = spec.pi_subjects > 0
    ytd, sensitive_ytd, since, sensitive_since = (
        exports.counts(listing.provider, date.year, subjects) if personal else (0, 0, 0, 0)
    )
    category = spec.us_category
    bulk = dict.fromkeys(US_CATEGORIES, 0)
    if category is not None and personal:
        bulk[category] = exports.bulk(listing.provider, order.buyer, category, subjects, now)
    exporter, terms = spec.exporter, order.terms
    return {
        "date": date.isoformat(),
        "origin": spec.origin,
        "destination": order.destination,
        "exporter": {
            "ciio": exporter.ciio,
            "ftz": exporter.ftz,
            "pi_subjects_processed": exporter.people,
            "gdpr_art3_2": exporter.gdpr_art3_2,
        },
        "data": {
            "personal": personal,
            "sensitive": spec.sensitive_pi_subjects > 0,
            "important": spec.classification == "important",
            "core": spec.classification == "core",
            "ftz_negative_list": spec.ftz_negative_list,
            "transit_only": spec.transit_only,
        },
        "pi_subjects_ytd": ytd,
        "sensitive_pi_subjects_ytd": sensitive_ytd,
        "pi_subjects_since_last_year": since,
        "sensitive_pi_subjects_since_last_year": sensitive_since,
        "purpose": terms.purpose,
        "recipient": {
            "dpf_certified": terms.dpf_certified,
            "covered_person": terms.covered_person,
        },
        "safeguard": terms.safeguard,
        "derogation": terms.derogation,
        "us": {
            "transaction": terms.us_transaction,
            "government_related": spec.government_related,
            "bulk": bulk,
        },
    }
