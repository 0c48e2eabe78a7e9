"""Community codes as a person reads them, in the request's language (pages list them,
refusals name them)."""

from __future__ import annotations

from crowdcx.kernel.i18n import _


def privilege_labels() -> dict[str, str]:
    """The privileges reputation opens (``reputation.rules`` codes). Named apart from the
    vote buttons ("Vote up" is «За» on a Russian button, which reads as no privilege)."""
    return {
        "upvote": _("Upvote"),
        "flag": _("Flag posts"),
        "comment": _("Comment everywhere"),
        "downvote": _("Downvote"),
        "review_queue": _("Review queue"),
        "trusted_flagger": _("Trusted flagger"),
        "edit_others": _("Edit others' posts"),
        "close": _("Close questions"),
    }
