"""Add product_listings: the public search read model, kept in step with products and firms by triggers.

Search and facets on ``products`` itself were slow on PostgreSQL because row-level security hides the GIN and
category indexes from the planner (``@@`` and ``LIKE`` are not leakproof), and slow on SQLite because every facet was
its own pass over the table. The listing holds only published products and public fields, so it needs no RLS; the
app role may read it but only the triggers (SECURITY DEFINER on PostgreSQL) write it.

Revision ID: 5b1e0c7d9a21
Revises: 473d59e02b43
Create Date: 2026-11-26 21:20:00+00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from saas.core import rls
from saas.models.base import UTCDateTime

revision = "5b1e0c7d9a21"
down_revision = "473d59e02b43"
branch_labels = None
depends_on = None

COLUMNS = "product_id, firm_id, industry, category_slug, county, verified, moq, published_at, title_zh, attributes"
VALUES = (
    "new.id, new.firm_id, new.industry, new.category_slug, f.county, f.verified_at IS NOT NULL, new.moq, "
    "new.published_at, new.title_zh, new.attributes"
)


def upgrade() -> None:
    op.create_table(
        "product_listings",
        sa.Column("product_id", sa.Uuid(), nullable=False),
        sa.Column("firm_id", sa.Uuid(), nullable=False),
        sa.Column("industry", sa.String(length=20), nullable=False),
        sa.Column(
            "category_slug",
            sa.String(length=160).with_variant(sa.String(length=160, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("county", sa.String(length=10), nullable=False),
        sa.Column("verified", sa.Boolean(), nullable=False),
        sa.Column("moq", sa.Numeric(precision=14, scale=3), nullable=False),
        sa.Column("published_at", UTCDateTime(), nullable=True),
        sa.Column("title_zh", sa.String(length=120), nullable=False),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["firm_id"], ["firms.id"], name=op.f("fk_product_listings_firm_id_firms"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("product_id", name=op.f("pk_product_listings")),
    )
    op.create_index(
        "ix_product_listings_category_slug_published_at", "product_listings", ["category_slug", "published_at"]
    )
    op.create_index("ix_product_listings_industry_published_at", "product_listings", ["industry", "published_at"])
    op.create_index("ix_product_listings_published_at", "product_listings", ["published_at"])
    op.create_index("ix_product_listings_firm_id", "product_listings", ["firm_id"])
    op.create_index("ix_product_listings_moq", "product_listings", ["moq"])  # sort=moq walks it, stops at a page
    if rls.is_postgres():
        _postgres_up()
    else:
        _sqlite_up()


def _postgres_up() -> None:
    op.execute("ALTER TABLE product_listings ADD COLUMN search_tokens tsvector NOT NULL DEFAULT ''::tsvector")
    op.execute("CREATE INDEX ix_product_listings_search_tokens ON product_listings USING gin (search_tokens)")
    op.execute(
        "CREATE FUNCTION product_listing_sync() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER "
        "SET search_path = public AS $$ BEGIN "
        "IF TG_OP IN ('UPDATE', 'DELETE') THEN DELETE FROM product_listings WHERE product_id = OLD.id; END IF; "
        "IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.status = 'published' THEN "
        f"INSERT INTO product_listings ({COLUMNS}, search_tokens) SELECT {VALUES.replace('new.', 'NEW.')}, "
        "array_to_tsvector(string_to_array(NEW.search_text, ' ')) FROM firms f WHERE f.id = NEW.firm_id; "
        "END IF; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER products_listing_sync AFTER INSERT OR UPDATE OR DELETE ON products "
        "FOR EACH ROW EXECUTE FUNCTION product_listing_sync()"
    )
    op.execute(
        "CREATE FUNCTION product_listing_firm_sync() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER "
        "SET search_path = public AS $$ BEGIN "
        "UPDATE product_listings SET county = NEW.county, verified = NEW.verified_at IS NOT NULL "
        "WHERE firm_id = NEW.id; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER firms_listing_sync AFTER UPDATE OF county, verified_at ON firms "
        "FOR EACH ROW EXECUTE FUNCTION product_listing_firm_sync()"
    )
    for function in ("product_listing_sync()", "product_listing_firm_sync()"):
        op.execute(f"REVOKE ALL ON FUNCTION {function} FROM PUBLIC")
    # Backfill as the owner (products has FORCEd RLS: lift it for the copy).
    with rls.rls_lifted("products"):
        op.execute(
            f"INSERT INTO product_listings ({COLUMNS}, search_tokens) "
            f"SELECT {VALUES.replace('new.', 'p.')}, array_to_tsvector(string_to_array(p.search_text, ' ')) "
            "FROM products p JOIN firms f ON f.id = p.firm_id WHERE p.status = 'published'"
        )
    rls.grant_app_role()
    op.execute(f"REVOKE INSERT, UPDATE, DELETE ON product_listings FROM {rls.app_role()}")


def _sqlite_up() -> None:
    # The listing's rowid is the product's rowid: product_fts (on products) then finds listings directly.
    insert = (
        f"INSERT INTO product_listings (rowid, {COLUMNS}) SELECT new.rowid, {VALUES} "
        "FROM firms f WHERE f.id = new.firm_id"
    )
    op.execute(
        f"CREATE TRIGGER products_listing_ai AFTER INSERT ON products WHEN new.status = 'published' BEGIN {insert}; END"
    )
    op.execute(
        "CREATE TRIGGER products_listing_au AFTER UPDATE ON products BEGIN "
        f"DELETE FROM product_listings WHERE product_id = old.id; {insert} AND new.status = 'published'; END"
    )
    op.execute(
        "CREATE TRIGGER products_listing_ad AFTER DELETE ON products BEGIN "
        "DELETE FROM product_listings WHERE product_id = old.id; END"
    )
    op.execute(
        "CREATE TRIGGER firms_listing_au AFTER UPDATE OF county, verified_at ON firms BEGIN "
        "UPDATE product_listings SET county = new.county, verified = new.verified_at IS NOT NULL "
        "WHERE firm_id = new.id; END"
    )
    op.execute(
        f"INSERT INTO product_listings (rowid, {COLUMNS}) SELECT p.rowid, {VALUES.replace('new.', 'p.')} "
        "FROM products p JOIN firms f ON f.id = p.firm_id WHERE p.status = 'published'"
    )


def downgrade() -> None:
    if rls.is_postgres():
        op.execute("DROP TRIGGER IF EXISTS firms_listing_sync ON firms")
        op.execute("DROP TRIGGER IF EXISTS products_listing_sync ON products")
        op.execute("DROP FUNCTION IF EXISTS product_listing_firm_sync()")
        op.execute("DROP FUNCTION IF EXISTS product_listing_sync()")
    else:
        for trigger in ("products_listing_ai", "products_listing_au", "products_listing_ad", "firms_listing_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.drop_table("product_listings")
