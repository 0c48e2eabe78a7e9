"""Ticket states and actions as a person reads them, in the request's language (pages show
them; refusals name them)."""

from __future__ import annotations

from crowdcx.kernel.i18n import _


def status_labels() -> dict[str, str]:
    return {
        "created": _("New"),
        "queued": _("Waiting for an expert"),
        "offered": _("Offered to an expert"),
        "claimed": _("An expert is on it"),
        "resolved": _("Resolved"),
        "closed": _("Closed"),
        "escalated": _("With the brand's staff"),
        "reopened": _("Reopened"),
        "deflected": _("Solved by an article"),
    }


def action_labels() -> dict[str, str]:
    return {
        "claim": _("Claim"),
        "decline": _("Decline"),
        "resolve": _("Mark resolved"),
        "escalate": _("Hand to staff"),
        "reopen": _("Not solved — reopen"),
        "confirm": _("Confirm it is solved"),
        "deflect": _("A suggestion solved it"),
    }


def actor_labels() -> dict[str, str]:
    """Who moved a ticket, as its history names them (the codes are ``rules.Role``)."""
    return {
        "customer": _("Customer"),
        "expert": _("Expert"),
        "agent": _("Agent"),
        "system": _("Automatically"),
    }


def viewer_labels() -> dict[str, str]:
    """Who saw customer data unmasked, as the access log names them: a ticket's viewer
    (``rules.Role``) or, for an erasure, who erased it (``privacy.service``: the person
    themself, the brand's staff, a platform administrator)."""
    return {
        "customer": _("Customer"),
        "expert": _("Expert"),
        "agent": _("Agent"),
        "staff": _("Brand admin"),
        "platform": _("Platform administrator"),
    }
