"""Tenant isolation, layer 2: PostgreSQL row-level security, checked as the app's own non-owner role."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from saas.core.extensions import db
from saas.core.tenancy import set_tenant
from saas.models import tenant_models

pytestmark = pytest.mark.postgres_only

TENANT_TABLES = sorted(m.__tablename__ for m in tenant_models())


def test_every_tenant_table_has_forced_rls_and_a_policy(app):
    with app.test_request_context():
        rows = db.session.execute(
            text(
                "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
                "(SELECT count(*) FROM pg_policies p WHERE p.tablename = c.relname) "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = 'public' AND c.relname = ANY(:t)"
            ),
            {"t": TENANT_TABLES},
        ).all()
    found = {name: (rls, forced, policies) for name, rls, forced, policies in rows}
    assert sorted(found) == TENANT_TABLES
    for name, (rls, forced, policies) in found.items():
        assert rls and forced and policies >= 1, name


def test_app_role_is_not_owner_superuser_or_bypassrls(app):
    with app.test_request_context():
        role = db.session.scalar(text("SELECT current_user"))
        superuser, bypass = db.session.execute(
            text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user")
        ).one()
        owned = db.session.scalar(
            text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = current_user")
        )
    assert role == "jx_app" and not superuser and not bypass and owned == 0


@pytest.mark.parametrize("table", TENANT_TABLES)
def test_unset_tenant_sees_zero_rows(app, firm_a, firm_b, table):
    with app.test_request_context():
        set_tenant(db.session, None)
        assert db.session.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0
        set_tenant(db.session, firm_a.id)
        ids = set(db.session.execute(text(f"SELECT DISTINCT firm_id FROM {table}")).scalars())
        assert ids <= {firm_a.id}


def test_raw_cross_tenant_insert_and_update_are_rejected(app, firm_a, firm_b):
    with app.test_request_context():
        set_tenant(db.session, firm_a.id)
        with pytest.raises(DBAPIError, match="row-level security"):
            db.session.execute(
                text(
                    "INSERT INTO invitations (firm_id, id, email, role, token_hash, expires_at, created_at) "
                    "VALUES (:f, :i, 'x@example.com', 'member', 'h', now(), now())"
                ),
                {"f": firm_b.id, "i": uuid.uuid4()},
            )
        db.session.rollback()
        set_tenant(db.session, firm_a.id)
        # an UPDATE cannot move a row into another tenant either
        with pytest.raises(DBAPIError, match="row-level security"):
            db.session.execute(text("UPDATE memberships SET firm_id = :b"), {"b": firm_b.id})
        db.session.rollback()


def test_tenant_context_does_not_leak_across_pooled_connections(app, database_urls, firm_a):
    engine = create_engine(database_urls.app, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as conn:
            with conn.begin():
                conn.execute(text("SELECT set_config('app.current_firm', :f, true)"), {"f": str(firm_a.id)})
                assert conn.execute(text("SELECT current_setting('app.current_firm', true)")).scalar() == str(firm_a.id)
        with engine.connect() as conn:  # the same pooled connection, next transaction
            with conn.begin():
                assert conn.execute(text("SELECT current_setting('app.current_firm', true)")).scalar() in ("", None)
                assert conn.execute(text("SELECT count(*) FROM memberships")).scalar() == 0
    finally:
        engine.dispose()
