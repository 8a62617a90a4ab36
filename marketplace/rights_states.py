"""What each registration act may do to a certificate, by the state it is in.

A certificate is ``valid`` once issued; past its term it is ``expired``; it ends early when the
registry ``revoked`` it (an upheld dispute) or its holder ``cancelled`` it, and a change
registration (a renewal) or a transfer ``superseded`` it by the certificates it issued. Ended
certificates stay on record for good (nothing on the ledger is deleted) and never come back into
force.

=============  ==========  ==========  ======================  ====================  ==========
state          ``revoke``  ``cancel``  ``renew``               ``license``           ``transfer``
=============  ==========  ==========  ======================  ====================  ==========
valid          revoked     cancelled   (a change application)  (a licence, if        superseded
                                                               processing-use)
expired        refused     refused     (a change application)  refused               refused
revoked        refused     refused     refused                 refused               refused
cancelled      refused     refused     refused                 refused               refused
superseded     refused     refused     refused                 refused               refused
=============  ==========  ==========  ======================  ====================  ==========

A refused act is recorded (``rights.refusal``) with the reason this module gives.
"""

from __future__ import annotations

from typing import Literal

__all__ = ["ACTIONS", "STATES", "refusal"]

Action = Literal["revoke", "cancel", "renew", "license", "transfer"]
ACTIONS: tuple[Action, ...] = ("revoke", "cancel", "renew", "license", "transfer")
STATES = ("valid", "expired", "revoked", "cancelled", "superseded")

_ENDED = {
    "revoked": "it was revoked",
    "cancelled": "its holder cancelled it",
    "superseded": "a later registration superseded it",
}


def refusal(state: str, action: Action) -> str | None:
    """Why ``action`` may not be taken on a certificate in ``state``; None if it may."""
    if state not in STATES:
        raise ValueError(f"unknown certificate state {state!r}")
    if state == "valid":
        return None
    if state == "expired":
        if action == "renew":
            return None
        return f"cannot {action} a certificate whose term is over"
    if action == "renew":
        return f"cannot renew: {_ENDED[state]}; the data must be registered anew"
    return f"cannot {action}: {_ENDED[state]}"
