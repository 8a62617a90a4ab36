"""The metrics fold's handlers for rights registration (a mixin of
:class:`marketplace.metrics.LedgerFold`): registration acts by kind, reviews by specialty, and
the wait from application to decision."""

from __future__ import annotations

from collections import Counter

from marketplace import entries as vocab

__all__ = ["RightsFold"]


class RightsFold:
    """Needs the fold's ``count`` tallies, ``pending`` applications, ``review_waits`` and the
    set of ``derived`` listings."""

    count: dict[str, Counter[str]]
    pending: dict[str, int]
    review_waits: list[int]
    derived: set[str]

    def _on_rights_application(self, time: int, actor: str, body: vocab.RightsApplication) -> None:
        if body.registration == "derived" and body.listing not in self.derived:
            self.derived.add(body.listing)
            self.count["brokers"]["derived_listings"] += 1
        self.count["rights"]["applications"] += 1
        self.count["rights_events"][body.registration] += 1
        self.pending[body.application] = time

    def _on_rights_review(self, time: int, actor: str, body: vocab.RightsReview) -> None:
        self.count["reviews"][body.specialty] += 1
        if not body.passed:
            self.count["reviews_failed"][body.specialty] += 1

    def _on_rights_notice(self, time: int, actor: str, body: vocab.RightsNotice) -> None:
        self.count["rights_events"]["notice"] += 1

    def _on_rights_objection(self, time: int, actor: str, body: vocab.RightsObjection) -> None:
        self.count["rights_events"]["objection"] += 1

    def _on_rights_arbitration(self, time: int, actor: str, body: vocab.RightsArbitration) -> None:
        if body.upheld:
            self.count["rights_events"]["upheld"] += 1

    def _on_rights_revocation(self, time: int, actor: str, body: vocab.CertificateEnded) -> None:
        self.count["rights_events"]["revocation"] += 1

    def _on_rights_cancellation(self, time: int, actor: str, body: vocab.CertificateEnded) -> None:
        self.count["rights_events"]["cancellation"] += 1

    def _on_rights_refusal(self, time: int, actor: str, body: vocab.RightsRefusal) -> None:
        self.count["rights_events"]["refusal"] += 1

    def _on_rights_decision(self, time: int, actor: str, body: vocab.CertificateDecision) -> None:
        self.count["rights"]["approvals" if body.approved else "rejections"] += 1
        applied = self.pending.pop(body.application, None)
        if applied is not None:
            self.review_waits.append(time - applied)
