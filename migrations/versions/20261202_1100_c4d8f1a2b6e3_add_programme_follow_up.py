"""Add the programme follow-up (issue 12, docs/programme.md §3.8): the T1 snapshot, the KPIs achieved and the
acceptance record (验收) on the application (firm-owned: the table's RLS policies already apply).

Revision ID: c4d8f1a2b6e3
Revises: b1c7e9a3d5f2
Create Date: 2026-12-02 05:20:00+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from saas.models.base import UTCDateTime

revision = "c4d8f1a2b6e3"
down_revision = "b1c7e9a3d5f2"
branch_labels = None
depends_on = None

COLUMNS = (
    ("t1_snapshot_id", sa.Uuid()),
    ("t1_snapshot_kind", sa.String(length=10)),
    ("t1_snapshot_created_at", UTCDateTime()),
    ("t1_snapshot_result", sa.JSON()),
    ("t1_snapshot_sha256", sa.String(length=64)),
    ("kpi_results", sa.JSON()),
    ("followup_at", UTCDateTime()),
    ("acceptance", sa.String(length=12)),
    ("acceptance_on", sa.Date()),
    ("acceptance_reason", sa.String(length=500)),
    ("acceptance_by_id", sa.Uuid()),
)


def upgrade() -> None:
    with op.batch_alter_table("programme_applications", schema=None) as batch_op:
        for name, type_ in COLUMNS:
            batch_op.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("programme_applications", schema=None) as batch_op:
        for name, _type in reversed(COLUMNS):
            batch_op.drop_column(name)
