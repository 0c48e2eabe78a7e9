"""Imports every capability's models so ``Base.metadata`` is complete (Alembic, tests)."""

from __future__ import annotations

from crowdcx.analytics import models as analytics_models
from crowdcx.community import models as community_models
from crowdcx.identity import models as identity_models
from crowdcx.kernel.models import Base
from crowdcx.knowledge import models as knowledge_models
from crowdcx.notifications import models as notifications_models
from crowdcx.payouts import models as payouts_models
from crowdcx.privacy import models as privacy_models
from crowdcx.quality import models as quality_models
from crowdcx.reputation import models as reputation_models
from crowdcx.tenancy import models as tenancy_models
from crowdcx.tickets import models as tickets_models

__all__ = [
    "Base",
    "analytics_models",
    "community_models",
    "identity_models",
    "knowledge_models",
    "metadata",
    "notifications_models",
    "payouts_models",
    "privacy_models",
    "quality_models",
    "reputation_models",
    "tenancy_models",
    "tickets_models",
]

metadata = Base.metadata
