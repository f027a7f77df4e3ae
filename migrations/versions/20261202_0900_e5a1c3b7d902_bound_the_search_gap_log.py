"""Replace the search-miss log with search_gap_visits: one row per day, query and visitor, written in capped batches.

Every zero-result search inserted a ``search_misses`` row inside the search's read transaction: under concurrency on
SQLite a third of such searches failed with ``database is locked``, and any visitor could add rows without limit
(7,216 in 15 s) to the text of the bureau's sourcing-gap report. ``saas.marketplace.misses`` now buffers misses outside
the request's transaction and stores at most one row per (day, normalised query, visitor), with a per-visitor and a
per-day cap on new queries; the report counts distinct visitors and days. ``visitor`` is a keyed hash, never an
address. Old rows become one row per day and query, from an unknown visitor ('').

Revision ID: e5a1c3b7d902
Revises: 8c4f2a6d1e07
Create Date: 2026-12-02 09:00:00+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from saas.core import rls
from saas.models.base import UTCDateTime

revision = "e5a1c3b7d902"
down_revision = "8c4f2a6d1e07"
branch_labels = None
depends_on = None


def _day(column: str) -> str:
    # The calendar day in Jiaxing (UTC+8, no daylight saving time).
    if rls.is_postgres():
        return f"(({column}) AT TIME ZONE 'Asia/Shanghai')::date"
    return f"date({column}, '+8 hours')"


def upgrade() -> None:
    op.create_table(
        "search_gap_visits",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("normalised", sa.String(length=100), nullable=False),
        sa.Column("visitor", sa.String(length=16), nullable=False),
        sa.Column("query", sa.String(length=100), nullable=False),
        sa.Column("industry", sa.String(length=20), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("day", "normalised", "visitor", name=op.f("pk_search_gap_visits")),
    )
    with op.batch_alter_table("search_gap_visits", schema=None) as batch_op:
        batch_op.create_index("ix_search_gap_visits_day_visitor", ["day", "visitor"], unique=False)
        batch_op.create_index("ix_search_gap_visits_normalised_day", ["normalised", "day"], unique=False)
    op.execute(
        "INSERT INTO search_gap_visits (day, normalised, visitor, query, industry, at) "
        f"SELECT {_day('at')}, normalised, '', min(query), min(industry), min(at) FROM search_misses "
        f"GROUP BY {_day('at')}, normalised"
    )
    with op.batch_alter_table("search_misses", schema=None) as batch_op:
        batch_op.drop_index("ix_search_misses_normalised_at")
    op.drop_table("search_misses")
    if rls.is_postgres():  # this table only: grant_app_role() would also undo product_listings' SELECT-only grant
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON search_gap_visits TO {rls.app_role()}")


def downgrade() -> None:
    op.create_table(
        "search_misses",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("query", sa.String(length=100), nullable=False),
        sa.Column("normalised", sa.String(length=100), nullable=False),
        sa.Column("industry", sa.String(length=20), nullable=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_misses")),
    )
    with op.batch_alter_table("search_misses", schema=None) as batch_op:
        batch_op.create_index("ix_search_misses_normalised_at", ["normalised", "at"], unique=False)
    rows = op.get_bind().execute(sa.text("SELECT query, normalised, industry, at FROM search_gap_visits")).all()
    if rows:
        import uuid

        table = sa.table(
            "search_misses",
            sa.column("id", sa.Uuid()),
            sa.column("query", sa.String()),
            sa.column("normalised", sa.String()),
            sa.column("industry", sa.String()),
            sa.column("at", UTCDateTime()),
        )
        op.bulk_insert(
            table,
            [{"id": uuid.uuid4(), "query": q, "normalised": n, "industry": i, "at": at} for q, n, i, at in rows],
        )
    with op.batch_alter_table("search_gap_visits", schema=None) as batch_op:
        batch_op.drop_index("ix_search_gap_visits_normalised_day")
        batch_op.drop_index("ix_search_gap_visits_day_visitor")
    op.drop_table("search_gap_visits")
    if rls.is_postgres():
        op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON search_misses TO {rls.app_role()}")
