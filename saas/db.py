"""The SQLAlchemy engine and the per-app-context session, without Flask-SQLAlchemy.

Plain SQLAlchemy 2 keeps the session and its transaction under our control, which the tenant guard
(``saas/tenancy.py``) and PostgreSQL row-level security need: the tenant is set on the session and on every
transaction the session begins.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, g, has_app_context
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker


class Database:
    """Own the engine and hand out one session per application context."""

    def __init__(self) -> None:
        self.engine: Engine | None = None
        self._factory: sessionmaker[Session] | None = None
        self._test_connection: Connection | None = None

    def init_app(self, app: Flask) -> None:
        """Create the engine from ``SQLALCHEMY_DATABASE_URI`` and register teardown."""
        url = app.config["SQLALCHEMY_DATABASE_URI"]
        kwargs: dict[str, Any] = {"echo": app.config.get("SQLALCHEMY_ECHO", False), "future": True}
        if url.startswith("sqlite"):
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        self._factory = sessionmaker(bind=self.engine, expire_on_commit=False)
        app.extensions["database"] = (self.engine, self._factory)
        app.teardown_appcontext(self._teardown)

    @property
    def dialect(self) -> str:
        """Return the engine's dialect name: ``sqlite`` or ``postgresql``."""
        assert self.engine is not None
        return self.engine.dialect.name

    def new_session(self) -> Session:
        """Open a session on the current app's engine (or the last one initialised, outside an app context)."""
        if self._test_connection is not None:
            return Session(bind=self._test_connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
        factory = current_app.extensions["database"][1] if has_app_context() else self._factory
        assert factory is not None, "Database.init_app was not called"
        return factory()

    @property
    def session(self) -> Session:
        """Return the session of the current application context, creating it on first use."""
        session = g.get("_db_session")
        if session is None:
            session = self.new_session()
            g._db_session = session
        return session

    def bind_to_connection(self, connection: Connection | None) -> None:
        """Make every new session join ``connection`` (tests roll back one outer transaction per test)."""
        self._test_connection = connection

    def _teardown(self, exc: BaseException | None) -> None:
        session = g.pop("_db_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not pysqlite, emit BEGIN: savepoints (used by tests and nested writes) then work as documented.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # WAL with NORMAL never corrupts; a power cut (not an app crash) may undo the last commits. FULL fsyncs the WAL on
    # every commit, which took 100+ ms while the disk was busy (SQLite is the local default; PostgreSQL is production).
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN")


def commit_log_row(session: Session) -> None:
    """Commit a write whose loss in a server crash costs nothing (a log row) without waiting for the disk.

    PostgreSQL: ``synchronous_commit`` off for this transaction only (a crash may lose it, never corrupts anything).
    SQLite already commits without an fsync in WAL mode (``synchronous=NORMAL``, see ``_sqlite_pragmas``).
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit TO OFF"))
    session.commit()
