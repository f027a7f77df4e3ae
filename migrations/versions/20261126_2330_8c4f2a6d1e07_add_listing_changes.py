"""Add listing_changes: the change log of product_listings that keeps each process's in-memory listing index current.

Search facets and sorting moved from grouped SQL passes to an in-memory column store of the public listings
(``marketplace.listing_index``): a broad two-character query matches a third of the catalogue, and grouping or sorting
that many rows in SQL cost 50–100 ms. Every write to ``product_listings`` now appends the product's id here (by a
trigger, so nothing that writes the listing can forget it); each process reads the rows after the last one it applied.

* ``nonce`` is random: SQLite reuses a rolled-back row's ``seq``, so an index that remembers (seq, nonce) notices.
* On PostgreSQL, ``txid`` is the writing transaction: sequence values are not handed out in commit order, so a reader
  re-reads every row of a transaction that was still open at its last read (see the module for the protocol).
* The trigger trims the log to its last 100,000 rows; a process that fell further behind reloads the whole index.
* On PostgreSQL the listing gets ``listing_key``, a compact integer the text search returns (on SQLite the rowid).

Revision ID: 8c4f2a6d1e07
Revises: 5b1e0c7d9a21
Create Date: 2026-11-26 23:30:00+00:00
"""

from __future__ import annotations

from alembic import op

from saas.core import rls

revision = "8c4f2a6d1e07"
down_revision = "5b1e0c7d9a21"
branch_labels = None
depends_on = None

KEEP = 100_000


def upgrade() -> None:
    if rls.is_postgres():
        op.execute("ALTER TABLE product_listings ADD COLUMN listing_key bigint GENERATED ALWAYS AS IDENTITY")
        # a narrow search reads its candidates' attributes by key
        op.execute("CREATE UNIQUE INDEX ix_listing_key ON product_listings (listing_key)")
        op.execute(
            "CREATE TABLE listing_changes (seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
            "txid xid8 NOT NULL DEFAULT pg_current_xact_id(), product_id uuid NOT NULL, "
            "nonce bigint NOT NULL DEFAULT 0)"
        )
        op.execute("CREATE INDEX ix_listing_changes_txid ON listing_changes (txid)")
        op.execute(
            "CREATE FUNCTION listing_change_log() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER "
            "SET search_path = public AS $$ DECLARE s bigint; BEGIN "
            "INSERT INTO listing_changes (product_id) VALUES "
            "(CASE WHEN TG_OP = 'DELETE' THEN OLD.product_id ELSE NEW.product_id END) RETURNING seq INTO s; "
            f"DELETE FROM listing_changes WHERE seq <= s - {KEEP}; RETURN NULL; END $$"
        )
        op.execute("REVOKE ALL ON FUNCTION listing_change_log() FROM PUBLIC")
        op.execute(
            "CREATE TRIGGER product_listings_change_log AFTER INSERT OR UPDATE OR DELETE ON product_listings "
            "FOR EACH ROW EXECUTE FUNCTION listing_change_log()"
        )
        op.execute(f"GRANT SELECT ON listing_changes TO {rls.app_role()}")
        return
    op.execute(
        "CREATE TABLE listing_changes (seq INTEGER PRIMARY KEY, product_id CHAR(32) NOT NULL, nonce INTEGER NOT NULL)"
    )
    for event, row in (("INSERT", "new"), ("UPDATE", "new"), ("DELETE", "old")):
        op.execute(
            f"CREATE TRIGGER product_listings_change_log_{event.lower()} AFTER {event} ON product_listings BEGIN "
            f"INSERT INTO listing_changes (product_id, nonce) VALUES ({row}.product_id, random()); "
            f"DELETE FROM listing_changes WHERE seq <= (SELECT max(seq) FROM listing_changes) - {KEEP}; END"
        )


def downgrade() -> None:
    if rls.is_postgres():
        op.execute("DROP TRIGGER IF EXISTS product_listings_change_log ON product_listings")
        op.execute("DROP FUNCTION IF EXISTS listing_change_log()")
        op.execute("DROP TABLE listing_changes")
        op.execute("DROP INDEX ix_listing_key")
        op.execute("ALTER TABLE product_listings DROP COLUMN listing_key")
        return
    for event in ("insert", "update", "delete"):
        op.execute(f"DROP TRIGGER IF EXISTS product_listings_change_log_{event}")
    op.execute("DROP TABLE listing_changes")
