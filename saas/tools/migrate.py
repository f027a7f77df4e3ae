"""Run Alembic from Python: ``flask db upgrade``, the tests and the seed all come through here."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy.engine import Connection

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str | None = None, connection: Connection | None = None) -> AlembicConfig:
    """Return an Alembic config for our migrations, aimed at ``url`` or an open ``connection``."""
    cfg = AlembicConfig(str(MIGRATIONS_DIR / "alembic.ini"))
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if url:
        cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Upgrade the database at ``url`` to ``revision``."""
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    """Downgrade the database at ``url`` to ``revision``."""
    command.downgrade(alembic_config(url), revision)


#: Database objects that live outside the models on purpose (search indexes); autogenerate must leave them alone.
UNMANAGED_PREFIXES = (
    "product_fts",
    "ix_products_search_terms",
    "search_tokens",
    "ix_product_listings_search_tokens",
    "listing_changes",
    "ix_listing_changes",
    "ix_listing_key",
    "listing_key",
)


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Tell Alembic's comparison to skip the FTS5 tables and the expression index the models don't describe."""
    return not (name or "").startswith(UNMANAGED_PREFIXES)
