"""PostgreSQL row-level security DDL, used by the migrations (PostgreSQL only; SQLite relies on the ORM guard).

Keep these functions stable: migrations call them, so changing their output changes history.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager

from alembic import op

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")


def app_role() -> str:
    """Return the name of the non-owner role the app connects as."""
    role = os.environ.get("APP_DB_ROLE", "jx_app")
    if not _IDENT.match(role):
        raise ValueError(f"bad APP_DB_ROLE {role!r}")
    return role


def is_postgres() -> bool:
    """Return whether the migration runs on PostgreSQL."""
    return op.get_bind().dialect.name == "postgresql"


def create_context_functions() -> None:
    """Create ``app_current_firm()`` and ``app_current_user()``, read by every policy ('' means unset → NULL)."""
    for name, setting in (("app_current_firm", "app.current_firm"), ("app_current_user", "app.current_user")):
        op.execute(
            f"CREATE OR REPLACE FUNCTION {name}() RETURNS uuid LANGUAGE sql STABLE AS "
            f"$$ SELECT NULLIF(current_setting('{setting}', true), '')::uuid $$"
        )


def drop_context_functions() -> None:
    """Drop the context functions."""
    op.execute("DROP FUNCTION IF EXISTS app_current_firm()")
    op.execute("DROP FUNCTION IF EXISTS app_current_user()")


def create_app_role() -> None:
    """Create the app role (LOGIN, no superuser, no BYPASSRLS) if missing and grant it table access only."""
    role = app_role()
    op.execute(
        f"DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN "
        f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE; END IF; END $$"
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
    grant_app_role()


def grant_app_role() -> None:
    """Grant DML on every current table and sequence to the app role (run again after creating tables)."""
    role = app_role()
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
    op.execute(f"REVOKE ALL ON alembic_version FROM {role}")
    op.execute(f"GRANT SELECT ON alembic_version TO {role}")
    revoke_append_only()


#: Tables the app may only read and append to: the grant above would otherwise hand UPDATE and DELETE back.
APPEND_ONLY_TABLES = ("programme_audit",)


#: Tables only triggers write (as their owner): the app reads them. Without this, any later migration's
#: grant_app_role() handed INSERT/UPDATE/DELETE on the listing read model back to the app.
READ_ONLY_TABLES = ("product_listings",)


def revoke_append_only() -> None:
    """Take back what the app role must not have: UPDATE/DELETE on the append-only tables, every write on the
    read-only ones (a no-op before a table exists)."""
    role = app_role()
    revokes = [(t, "UPDATE, DELETE") for t in APPEND_ONLY_TABLES] + [
        (t, "INSERT, UPDATE, DELETE") for t in READ_ONLY_TABLES
    ]
    for table, privileges in revokes:
        op.execute(
            f"DO $$ BEGIN IF to_regclass('public.{table}') IS NOT NULL THEN "
            f"REVOKE {privileges} ON {table} FROM {role}; END IF; END $$"
        )


def revoke_app_role() -> None:
    """Revoke what ``create_app_role`` granted (the role itself is cluster-wide and stays)."""
    role = app_role()
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}")
    op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}")
    op.execute(f"REVOKE USAGE ON SCHEMA public FROM {role}")


def enable_tenant_rls(table: str, extra_read: str | None = None) -> None:
    """ENABLE and FORCE RLS on ``table`` with the tenant policy; ``extra_read`` widens reads only."""
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(
        f"CREATE POLICY tenant_isolation ON {table} USING (firm_id = app_current_firm()) "
        "WITH CHECK (firm_id = app_current_firm())"
    )
    if extra_read:
        op.execute(f"CREATE POLICY {table}_extra_read ON {table} FOR SELECT USING ({extra_read})")


def disable_tenant_rls(table: str, extra_read: bool = False) -> None:
    """Undo ``enable_tenant_rls``."""
    if extra_read:
        op.execute(f"DROP POLICY IF EXISTS {table}_extra_read ON {table}")
    op.execute(f"DROP POLICY IF EXISTS tenant_isolation ON {table}")
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


def create_staff_scope_function() -> None:
    """Create ``app_staff_sees(firm_id)``: true when the transaction's staff scope (``app.staff_scope``) covers it.

    The scope is '' for non-staff (nothing), '*' for city-wide staff and admins, or a county code.
    """
    op.execute(
        "CREATE OR REPLACE FUNCTION app_staff_sees(fid uuid) RETURNS boolean LANGUAGE sql STABLE AS $$ "
        "SELECT CASE COALESCE(current_setting('app.staff_scope', true), '') "
        "WHEN '' THEN false WHEN '*' THEN true "
        "ELSE EXISTS (SELECT 1 FROM firms f WHERE f.id = fid "
        "AND f.county = current_setting('app.staff_scope', true)) END $$"
    )


def drop_staff_scope_function() -> None:
    """Drop ``app_staff_sees``."""
    op.execute("DROP FUNCTION IF EXISTS app_staff_sees(uuid)")


def enable_staff_read(table: str, condition: str = "true") -> None:
    """Let bureau staff read the rows of firms in their scope (and matching ``condition``); never write."""
    op.execute(
        f"CREATE POLICY {table}_staff_read ON {table} FOR SELECT USING (app_staff_sees(firm_id) AND ({condition}))"
    )


def disable_staff_read(table: str) -> None:
    """Drop the staff read policy of ``table``."""
    op.execute(f"DROP POLICY IF EXISTS {table}_staff_read ON {table}")


@contextmanager
def rls_lifted(table: str) -> Iterator[None]:
    """Let a data migration (run as the table owner) see every tenant's rows, then FORCE RLS again.

    The owner bypasses RLS only while it is not FORCEd; both statements run in the migration's transaction.
    """
    if not is_postgres():
        yield
        return
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    try:
        yield
    finally:
        op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
