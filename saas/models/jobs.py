"""Background report jobs: the database is the source of truth for their state, the queue only carries ids."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from saas.models.base import Base, TenantScoped, utcnow

JOB_STATES = ("queued", "rendering", "ready", "failed")


class ReportJob(TenantScoped, Base):
    """One PDF report of a firm, identified by its content key (snapshot, statistics version, template version).

    The same key is never rendered twice: a ready job's file is served again (the cache), a lost job is re-queued by
    the sweeper and completes once.
    """

    __tablename__ = "report_jobs"
    __table_args__ = (
        UniqueConstraint("firm_id", "content_key"),
        Index("ix_report_jobs_status_updated_at", "status", "updated_at"),
    )

    kind: Mapped[str] = mapped_column(String(20))
    assessment_id: Mapped[uuid.UUID]
    content_key: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(default=0)
    result_path: Mapped[str | None] = mapped_column(String(300))
    error: Mapped[str | None] = mapped_column(Text)
    requested_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
