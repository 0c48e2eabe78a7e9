"""Names people read for an article's states, visibilities and workflow actions: the pages
show them, and a refusal names them instead of the codes ("… in state “approved” cannot be
given “publish”" read as code)."""

from __future__ import annotations

from crowdcx.kernel.i18n import _


def state_labels() -> dict[str, str]:
    return {
        "draft": _("Draft"),
        "in_review": _("In review"),
        "approved": _("Approved"),
        "published": _("Published"),
        "archived": _("Archived"),
    }


def visibility_labels() -> dict[str, str]:
    return {
        "public": _("Everyone"),
        "experts": _("Experts and staff"),
        "staff": _("Staff only"),
    }


def action_labels() -> dict[str, str]:
    return {
        "submit": _("Submit for review"),
        "approve": _("Approve"),
        "publish": _("Publish"),
        "confirm": _("Confirm it is still accurate"),
        "archive": _("Archive"),
    }
