"""The 双百 programme: rounds (the bureau's), applications and reviews (the firm's), and the hash-chained audit log.

Rounds and the audit chain are global (the bureau's records). Applications, their timeline and the expert
assignments are firm-owned rows (``firm_id`` leads the key, RLS applies); staff and experts reach them only after a
scope check, with the session bound to the firm (as the bureau's assessment views do).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from saas.models.base import Base, TenantScoped, TimestampMixin, utcnow

ROUND_STATES = (
    "draft",
    "open",
    "pre_review",
    "expert_review",
    "ranked",
    "publicity",
    "final",
    "follow_up",
    "archived",
)
ROUND_KINDS = ("enterprise", "project")
APPLICATION_STATES = ("draft", "submitted", "returned", "passed", "rejected", "withdrawn")


class ProgrammeRound(TimestampMixin, Base):
    """A call (批次): its parameters are editable while a draft and frozen (``params_frozen_at``) when it opens."""

    __tablename__ = "programme_rounds"
    __table_args__ = (UniqueConstraint("year", "kind", "title"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    year: Mapped[int]
    kind: Mapped[str] = mapped_column(String(12))
    title: Mapped[str] = mapped_column(String(120))
    opens_on: Mapped[date]
    closes_on: Mapped[date]
    status: Mapped[str] = mapped_column(String(16), default="draft")
    # RoundParams.to_dict(): validated by the engine on every edit, never changed after params_frozen_at.
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    params_frozen_at: Mapped[datetime | None]
    required_attachments: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class ProgrammeApplication(TenantScoped, TimestampMixin, Base):
    """A firm's 申报 in one round (one per firm per round); the snapshot it stands on is frozen at submission."""

    __tablename__ = "programme_applications"
    __table_args__ = (
        UniqueConstraint("firm_id", "round_id"),
        Index("ix_programme_applications_round_id_status", "round_id", "status"),
    )

    round_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programme_rounds.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(12), default="draft")
    # Copied from the firm at submission, so the county's queue and the quotas use the declared values.
    county: Mapped[str] = mapped_column(String(10))
    industry: Mapped[str] = mapped_column(String(20))
    declaration: Mapped[str] = mapped_column(Text, default="")
    contact_name: Mapped[str] = mapped_column(String(50), default="")
    contact_phone: Mapped[str] = mapped_column(String(30), default="")
    # Project rounds: name, dimensions, investment_wan, schedule, kpis, suppliers.
    project: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    consent_share: Mapped[bool] = mapped_column(default=False)
    consent_publish: Mapped[bool] = mapped_column(default=False)
    # The verified snapshot frozen at submission: its id, kind, date, full result and a SHA-256 of the three.
    snapshot_id: Mapped[uuid.UUID | None]
    snapshot_kind: Mapped[str | None] = mapped_column(String(10))
    snapshot_created_at: Mapped[datetime | None]
    snapshot_result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    snapshot_sha256: Mapped[str | None] = mapped_column(String(64))
    submitted_at: Mapped[datetime | None]
    return_reason: Mapped[str | None] = mapped_column(String(500))
    return_deadline: Mapped[date | None]
    reject_reason: Mapped[str | None] = mapped_column(String(500))
    # Stored expert verdict (project_score as dict) once the last review arrived.
    expert_verdict: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Follow-up of a selected project (after 公布): the T1 snapshot copied like T0, the promised KPIs with what was
    # achieved ([{"kpi", "achieved", "met"}]), and the acceptance record (验收: passed | not_passed).
    t1_snapshot_id: Mapped[uuid.UUID | None]
    t1_snapshot_kind: Mapped[str | None] = mapped_column(String(10))
    t1_snapshot_created_at: Mapped[datetime | None]
    t1_snapshot_result: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    t1_snapshot_sha256: Mapped[str | None] = mapped_column(String(64))
    kpi_results: Mapped[list[Any] | None] = mapped_column(JSON)
    followup_at: Mapped[datetime | None]
    acceptance: Mapped[str | None] = mapped_column(String(12))
    acceptance_on: Mapped[date | None]
    acceptance_reason: Mapped[str | None] = mapped_column(String(500))
    acceptance_by_id: Mapped[uuid.UUID | None]

    def snapshot_row(self) -> dict[str, Any] | None:
        """Return the frozen snapshot as the row dict ``facts_from_snapshot`` reads."""
        if self.snapshot_result is None:
            return None
        return {
            "id": self.snapshot_id,
            "kind": self.snapshot_kind,
            "created_at": self.snapshot_created_at,
            "result": self.snapshot_result,
        }

    def t1_snapshot_row(self) -> dict[str, Any] | None:
        """Return the follow-up (T1) snapshot as the row dict ``facts_from_snapshot`` reads."""
        if self.t1_snapshot_result is None:
            return None
        return {
            "id": self.t1_snapshot_id,
            "kind": self.t1_snapshot_kind,
            "created_at": self.t1_snapshot_created_at,
            "result": self.t1_snapshot_result,
        }

    @property
    def consents(self) -> tuple[str, ...]:
        given = []
        if self.consent_share:
            given.append("share_with_bureau")
        if self.consent_publish:
            given.append("publish_results")
        return tuple(given)


def _application_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(
        ["firm_id", "application_id"],
        ["programme_applications.firm_id", "programme_applications.id"],
        ondelete="CASCADE",
    )


class ProgrammeEvent(TenantScoped, Base):
    """One line of the status timeline the firm sees (the audit chain holds the same step, tamper-evident)."""

    __tablename__ = "programme_events"
    __table_args__ = (
        Index("ix_programme_events_firm_id_application_id", "firm_id", "application_id"),
        _application_fk(),
    )

    application_id: Mapped[uuid.UUID]
    at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(12))
    action: Mapped[str] = mapped_column(String(40))
    note: Mapped[str | None] = mapped_column(String(500))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class ProgrammeAudit(Base):
    """The tamper-evident log: each entry stores the previous entry's hash and its own (``saas/programme/audit.py``).

    Global (the bureau's record); ``seq`` and ``prev_hash`` are unique, so two concurrent appends cannot both
    extend the same head: one fails and is retried.
    """

    __tablename__ = "programme_audit"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    at: Mapped[datetime]
    actor_id: Mapped[uuid.UUID | None]
    action: Mapped[str] = mapped_column(String(60))
    round_id: Mapped[uuid.UUID | None]
    subject_firm_id: Mapped[uuid.UUID | None]
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), unique=True)
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class ExpertProfile(Base):
    """A 评审专家's declared county and affiliations (firm ids), read by the conflict-of-interest rule."""

    __tablename__ = "programme_experts"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    county: Mapped[str | None] = mapped_column(String(10))
    affiliations: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


ASSIGNMENT_STATES = ("assigned", "conflict", "submitted")


class ProgrammeAssignment(TenantScoped, TimestampMixin, Base):
    """One expert's review of one application: scores and a comment per rubric criterion, hidden until submitted."""

    __tablename__ = "programme_assignments"
    __table_args__ = (
        UniqueConstraint("firm_id", "application_id", "expert_id"),
        Index("ix_programme_assignments_expert_id", "expert_id"),
        _application_fk(),
    )

    application_id: Mapped[uuid.UUID]
    round_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programme_rounds.id", ondelete="CASCADE"))
    expert_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), default="assigned")
    due_on: Mapped[date | None]
    scores: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    comments: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    conflict_reason: Mapped[str | None] = mapped_column(String(500))
    submitted_at: Mapped[datetime | None]
    third: Mapped[bool] = mapped_column(default=False)
    reminded_at: Mapped[datetime | None]


class ProgrammeDecision(Base):
    """A selection decision: the frozen inputs and the engine's ranking, recorded by one city staff member and
    confirmed by a second (two-person rule); the 公示 period and the audit head hash at confirmation."""

    __tablename__ = "programme_decisions"
    __table_args__ = (Index("ix_programme_decisions_round_id", "round_id"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    round_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programme_rounds.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(12), default="proposed")  # proposed | confirmed | superseded
    as_of: Mapped[date]
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    candidates: Mapped[list[Any]] = mapped_column(JSON)
    ranking: Mapped[dict[str, Any]] = mapped_column(JSON)
    # What the 公示 shows, fixed at confirmation: per selected entry only the fields the firm consented to publish.
    public_entries: Mapped[list[Any]] = mapped_column(JSON, default=list)
    recorded_by_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime]
    confirmed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None]
    head_hash: Mapped[str | None] = mapped_column(String(64))
    publicity_start: Mapped[date | None]
    publicity_end: Mapped[date | None]


class ProgrammeObjection(Base):
    """An objection (异议) lodged against a 公示 entry by anyone, answered by city staff."""

    __tablename__ = "programme_objections"
    __table_args__ = (Index("ix_programme_objections_round_id_status", "round_id", "status"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    round_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("programme_rounds.id", ondelete="CASCADE"))
    application_id: Mapped[uuid.UUID]
    subject_firm_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("firms.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(50))
    contact: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text)
    ip: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[str] = mapped_column(String(10), default="open")  # open | upheld | dismissed
    answer: Mapped[str | None] = mapped_column(Text)
    answered_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    answered_at: Mapped[datetime | None]
