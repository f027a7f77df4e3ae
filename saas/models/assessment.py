"""Instrument versions (global) and the firm-owned assessment rows: answers, evidence, overrides, snapshots."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, ForeignKeyConstraint, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from saas.models.base import Base, TenantScoped, utcnow
from saas.models.firm import Firm

ASSESSMENT_STATUSES = ("draft", "submitted", "verified")


class InstrumentVersion(Base):
    """A published instrument version: its merged content is frozen here with its checksum (never edited)."""

    __tablename__ = "instrument_versions"
    __table_args__ = (UniqueConstraint("instrument_key", "version"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    instrument_key: Mapped[str] = mapped_column(String(60))
    version: Mapped[str] = mapped_column(String(20))
    checksum: Mapped[str] = mapped_column(String(64))
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    # Deferred: the content is parsed once per process (by checksum), never with every assessment row.
    content: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The active version is the one new assessments use; older ones stay for their assessments.
    is_active: Mapped[bool] = mapped_column(default=True)


def _assessment_fk() -> ForeignKeyConstraint:
    """Composite foreign key (firm_id, assessment_id) → assessments: a row can never point into another firm."""
    return ForeignKeyConstraint(
        ["firm_id", "assessment_id"], ["assessments.firm_id", "assessments.id"], ondelete="CASCADE"
    )


class Assessment(TenantScoped, Base):
    """One self-assessment of a firm on one instrument version (T0, T1, …)."""

    __tablename__ = "assessments"
    __table_args__ = (Index("ix_assessments_firm_id_status", "firm_id", "status"),)

    instrument_version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("instrument_versions.id"))
    industry: Mapped[str] = mapped_column(String(20))
    round: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(10), default="draft")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    submitted_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    verified_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Inputs to prioritisation: the firm's top-3 KPIs and its cost structure (shares of cost by area).
    profile: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    instrument_version: Mapped[InstrumentVersion] = relationship(lazy="select")
    firm: Mapped[Firm] = relationship(lazy="joined")


class AssessmentAnswer(TenantScoped, Base):
    """The firm's answer to one question; saved on every change (autosave)."""

    __tablename__ = "assessment_answers"
    __table_args__ = (UniqueConstraint("firm_id", "assessment_id", "question_id"), _assessment_fk())

    assessment_id: Mapped[uuid.UUID]
    question_id: Mapped[str] = mapped_column(String(60))
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    na: Mapped[bool] = mapped_column(default=False)
    confidence: Mapped[int | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The wizard page that saved it last and its change number there: a retried older save of the same page is
    # ignored, so a later click never loses to an earlier retry (saas/static/js/assessment.js).
    client_page: Mapped[str | None] = mapped_column(String(32))
    client_seq: Mapped[int | None] = mapped_column(BigInteger)


class Evidence(TenantScoped, Base):
    """An uploaded evidence file for one question, stored outside the web root under a random name."""

    __tablename__ = "evidence_files"
    __table_args__ = (Index("ix_evidence_files_firm_id_assessment_id", "firm_id", "assessment_id"), _assessment_fk())

    assessment_id: Mapped[uuid.UUID]
    question_id: Mapped[str] = mapped_column(String(60))
    original_name: Mapped[str] = mapped_column(String(200))
    stored_name: Mapped[str] = mapped_column(String(80))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_at: Mapped[datetime] = mapped_column(default=utcnow)
    uploaded_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class AssessorOverride(TenantScoped, Base):
    """An on-site assessor's correction of one answer; it feeds the verified view only."""

    __tablename__ = "assessor_overrides"
    __table_args__ = (UniqueConstraint("firm_id", "assessment_id", "question_id"), _assessment_fk())

    assessment_id: Mapped[uuid.UUID]
    question_id: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(12))  # approved | overridden (the engine's statuses)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    na: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str | None] = mapped_column(Text)
    assessor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ScoreSnapshot(TenantScoped, Base):
    """An immutable score: the engine's full result with the engine and instrument versions that produced it."""

    __tablename__ = "score_snapshots"
    __table_args__ = (Index("ix_score_snapshots_firm_id_assessment_id", "firm_id", "assessment_id"), _assessment_fk())

    assessment_id: Mapped[uuid.UUID]
    kind: Mapped[str] = mapped_column(String(10))  # submitted | verified
    engine_version: Mapped[str] = mapped_column(String(20))
    instrument_version_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("instrument_versions.id"))
    instrument_checksum: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    composite: Mapped[float | None]
    maturity: Mapped[float | None]
    level: Mapped[int | None]
    band: Mapped[int | None]
    # Headline dimension scores of the same view, so aggregates never parse the full result.
    dimension_scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
