"""The operation part of the vocabulary (:mod:`marketplace.entries`): settlement, compute
jobs, metered API usage, delivery disputes and royalties flowing upstream."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "ActFee",
    "ApiUsage",
    "ComputeJob",
    "DeliveryDispute",
    "DeliveryRuling",
    "Royalty",
    "Settlement",
    "SettlementItem",
    "UsageRefusal",
]

NonNegative = Annotated[int, Field(ge=0)]


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class SettlementItem(_Body):
    """One contract's end: ``delivered`` pays the provider and the fee; ``failed`` (delivery
    failed) and ``cancelled`` (a required cross-border mechanism was refused: no data moved)
    refund the buyer. ``moved_at`` is when data began to move (after clearance)."""

    contract: str
    outcome: Literal["delivered", "failed", "cancelled"]
    moved_at: NonNegative = 0
    delivered_at: NonNegative
    to_provider_fen: NonNegative
    fee_fen: NonNegative
    refund_fen: NonNegative


class ComputeJob(_Body):
    """Operation: a buyer's job run at the exchange under a compute-in-place licence ("usable
    but not visible": only its results leave). Signed by the buyer, who submitted it, and the
    operator, who ran it and charged ``cost_fen`` for ``cpu_hours_x1000`` of compute. A job the
    licence or the buyer's funds do not allow is recorded with its ``refused`` reason and no
    cost."""

    contract: str
    job: str
    buyer: str
    cpu_hours_x1000: NonNegative
    cost_fen: NonNegative
    refused: Literal["licence-expired", "certificate-ended", "insufficient-funds"] | None = None


UsageRefusal = Literal["licence-expired", "certificate-ended", "insufficient-funds"]


class ApiUsage(_Body):
    """Operation: one billing period of an API subscription's metered calls. The exchange's
    gateway counted ``calls`` from ``period_from`` to ``period_until`` and bills them at the
    published ``fen_per_1000_calls``: the buyer pays ``cost_fen``, of which the provider gets
    ``to_provider_fen`` and the exchange its supplier fee ``fee_fen``. Signed by the buyer and
    the operator. A period the licence, the certificate or the buyer's funds no longer allow
    is recorded with its ``refused`` reason, nothing billed, and the subscription stops."""

    contract: str
    buyer: str
    provider: str
    period_from: NonNegative
    period_until: NonNegative
    calls: NonNegative
    fen_per_1000_calls: NonNegative
    cost_fen: NonNegative
    to_provider_fen: NonNegative
    fee_fen: NonNegative
    refused: UsageRefusal | None = None


class DeliveryDispute(_Body):
    """Operation: a buyer disputes a delivered contract (the data is not as described)."""

    contract: str
    buyer: str
    grounds: str


class DeliveryRuling(_Body):
    """Operation: the exchange rules on a delivery dispute; an upheld one refunds
    ``refund_fen`` of the price to the buyer at settlement (a partial refund)."""

    contract: str
    upheld: bool
    refund_fen: NonNegative
    days_x1000: NonNegative


class Settlement(_Body):
    """Operation: one settlement cycle — every delivery that finished since the last cycle."""

    cycle: NonNegative
    items: list[SettlementItem]


class Royalty(_Body):
    """Operation: revenue flowing upstream. Once a derived product's sale is settled, its
    seller (the licensee) pays each licensor ``royalty_bp`` of what the sale brought it
    (``to_provider_fen``), as the licence (``rights.licence``) agreed. Signed by the operator,
    who settles it with the cycle (``cycle``)."""

    cycle: NonNegative
    contract: str
    licence: str
    licensee: str
    licensor: str
    royalty_fen: NonNegative


class ActFee(_Body):
    """Operation: a fee the exchange's schedule charges for one act: ``listing`` (a dataset
    listed, ``ref`` its listing) or ``assessment`` (a rights application, ``ref`` its id),
    paid by ``account`` to the exchange. Signed by the operator. Like hosting, it is billed
    whether or not the account can pay now (it may go into debt)."""

    account: str
    fee: Literal["listing", "assessment"]
    ref: str
    fee_fen: Annotated[int, Field(gt=0)]
