"""Community codes as a person reads them, in the request's language (pages list them,
refusals name them)."""

from __future__ import annotations

from crowdcx.kernel.i18n import _


def privilege_labels() -> dict[str, str]:
    """The privileges reputation opens (``reputation.rules`` codes)."""
    return {
        "upvote": _("Vote up"),
        "flag": _("Flag posts"),
        "comment": _("Comment everywhere"),
        "downvote": _("Vote down"),
        "review_queue": _("Review queue"),
        "trusted_flagger": _("Trusted flagger"),
        "edit_others": _("Edit others' posts"),
        "close": _("Close questions"),
    }
