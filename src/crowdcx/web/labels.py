"""Translated display names for role codes (the codes themselves are API contract)."""

from __future__ import annotations

from crowdcx.kernel.i18n import _


def role_labels() -> dict[str, str]:
    return {
        "customer": _("Customer"),
        "helper": _("Helper"),
        "expert": _("Expert"),
        "agent": _("Agent"),
        "brand_admin": _("Brand admin"),
    }
