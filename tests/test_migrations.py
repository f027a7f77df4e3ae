"""Migrations: one head, upgrade from empty and back to base, and a schema identical to the models."""

from __future__ import annotations

import warnings

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, inspect

from saas.models import Base
from saas.tools import migrate
from tests.conftest import fresh_database


def test_single_head():
    script = ScriptDirectory.from_config(migrate.alembic_config())
    assert len(script.get_heads()) == 1


def test_upgrade_from_empty_downgrade_to_base_and_up_again():
    urls = fresh_database("jx_test_migrations", migrate_to=None)
    migrate.upgrade(urls.owner)
    engine = create_engine(urls.owner)
    try:
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
        migrate.downgrade(urls.owner, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}, inspect(engine).get_table_names()
        migrate.upgrade(urls.owner)
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def test_migrated_schema_matches_the_models(database_urls):
    engine = create_engine(database_urls.owner)
    try:
        with engine.connect() as conn, warnings.catch_warnings():
            # PostgreSQL reflection notes the search expression index, which the models do not describe on purpose.
            warnings.filterwarnings("ignore", message=".*expression-based index.*")
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "include_name": migrate.include_name}
            )
            diff = compare_metadata(context, Base.metadata)
    finally:
        engine.dispose()
    assert diff == []
