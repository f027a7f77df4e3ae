"""Add the wizard page and change number of the last save to assessment_answers, so stale retries are ignored.

The wizard's script now queues failed autosaves and retries them; a retry of an older change must never overwrite a
later one from the same page. Each save carries the page's random id and a change number that grows on that page;
the server ignores a save whose page already stored a higher number (and repeats an equal one idempotently).

Revision ID: f3b9d2e4a6c1
Revises: e5a1c3b7d902
Create Date: 2026-12-02 09:10:00+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "f3b9d2e4a6c1"
down_revision = "e5a1c3b7d902"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("assessment_answers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_page", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("client_seq", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("assessment_answers", schema=None) as batch_op:
        batch_op.drop_column("client_seq")
        batch_op.drop_column("client_page")
