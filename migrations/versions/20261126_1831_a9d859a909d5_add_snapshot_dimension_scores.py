"""Add headline dimension scores to score snapshots, backfilled from the stored results.

Revision ID: a9d859a909d5
Revises: 4ad31902e045
Create Date: 2026-11-26 18:31:10.485728+00:00
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

from saas.core import rls

revision = "a9d859a909d5"
down_revision = "4ad31902e045"
branch_labels = None
depends_on = None


def _headline_scores(result: dict, kind: str) -> dict:
    view = result.get("verified_view") if kind == "verified" and result.get("verified_view") else result["self_view"]
    return {d["dimension_id"]: d["score"] for d in view["dimensions"]}


def upgrade() -> None:
    with op.batch_alter_table("score_snapshots", schema=None) as batch_op:
        batch_op.add_column(sa.Column("dimension_scores", sa.JSON(), nullable=False, server_default="{}"))
    snapshots = sa.table(
        "score_snapshots",
        sa.column("firm_id", sa.Uuid()),
        sa.column("id", sa.Uuid()),
        sa.column("kind", sa.String()),
        sa.column("result", sa.JSON()),
        sa.column("dimension_scores", sa.JSON()),
    )
    bind = op.get_bind()
    with rls.rls_lifted("score_snapshots"):  # a data migration sees every firm's rows
        rows = bind.execute(sa.select(snapshots.c.firm_id, snapshots.c.id, snapshots.c.kind, snapshots.c.result)).all()
        for firm_id, snap_id, kind, result in rows:
            data = json.loads(result) if isinstance(result, str) else result
            bind.execute(
                snapshots.update()
                .where(snapshots.c.firm_id == firm_id, snapshots.c.id == snap_id)
                .values(dimension_scores=_headline_scores(data, kind))
            )


def downgrade() -> None:
    with op.batch_alter_table("score_snapshots", schema=None) as batch_op:
        batch_op.drop_column("dimension_scores")
