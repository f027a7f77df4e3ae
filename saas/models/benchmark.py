"""Cohort statistics: aggregate-only rows (no firm ids, no names), one per cohort and instrument version."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from saas.models.base import Base, utcnow


class CohortStatsRow(Base):
    """The statistics of one cohort (e.g. silk × Tongxiang × small) on one instrument version.

    ``version`` is a global counter bumped on every refresh; a report's cache key uses the highest one it read.
    ``data`` holds quantiles, histograms and the anonymous sorted scores used to compute percentile ranks; it is
    never sent to a firm as such.
    """

    __tablename__ = "cohort_stats"
    __table_args__ = (
        UniqueConstraint("instrument_version_id", "cohort_id"),
        Index("ix_cohort_stats_instrument_version_id_level", "instrument_version_id", "level"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    instrument_version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("instrument_versions.id"))
    cohort_id: Mapped[str] = mapped_column(String(120))
    level: Mapped[str] = mapped_column(String(30))
    industry: Mapped[str | None] = mapped_column(String(20))
    county: Mapped[str | None] = mapped_column(String(10))
    size_class: Mapped[str | None] = mapped_column(String(10))
    n: Mapped[int]
    sufficient: Mapped[bool]
    version: Mapped[int]
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    refreshed_at: Mapped[datetime] = mapped_column(default=utcnow)
