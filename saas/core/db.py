"""The SQLAlchemy engine and the per-app-context session, without Flask-SQLAlchemy.

Plain SQLAlchemy 2 keeps the session and its transaction under our control, which the tenant guard
(``saas/core/tenancy.py``) and PostgreSQL row-level security need: the tenant is set on the session and on every
transaction the session begins.

Writes under contention (docs/architecture.md, "Writes under contention"):

* A session has a *write intent*: a request with an unsafe method (POST, …), and any session outside a request
  (CLI, report worker, scripts), writes. On SQLite its transactions begin with ``BEGIN IMMEDIATE``, so they take the
  write lock before their first read and wait for it (the busy timeout) instead of failing: a deferred ``BEGIN``
  that reads and then writes gets ``database is locked`` at once when another writer committed in between (WAL
  cannot upgrade a stale snapshot), and that lost autosave answers. Reads (GET) keep deferred transactions and run
  in parallel with the one writer. A read request that must write now and then takes :meth:`Database.writing`.
* Every view runs through one retry (:meth:`Database.init_app` wraps ``dispatch_request``): a conflict that a second
  try resolves (PostgreSQL serialisation failure or deadlock, a unique key taken by a concurrent request, SQLite
  busy) rolls back and runs the view again, up to :data:`RETRIES` times with a short random backoff, provided the
  view committed nothing yet. The retry re-validates, so a duplicate registration gets the form's "already
  registered" error and a concurrent first save of an answer becomes an update.
"""

from __future__ import annotations

import logging
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask, current_app, g, has_app_context, has_request_context, request
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker

log = logging.getLogger(__name__)

#: ``Session.info`` key: this session's transactions write (SQLite: ``BEGIN IMMEDIATE``).
WRITE_INTENT = "write_intent"
_COMMITS = "commits"
#: Methods whose requests only read; every other method's session has the write intent.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: How many times a view is run again after a conflict that a second try can resolve.
RETRIES = 3
#: SQLite waits this long for the write lock before it answers ``database is locked``.
SQLITE_BUSY_TIMEOUT_S = 30


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
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S}
        else:
            kwargs["pool_pre_ping"] = True
        self.engine = create_engine(url, **kwargs)
        if url.startswith("sqlite"):
            event.listen(self.engine, "connect", _sqlite_pragmas)
            event.listen(self.engine, "begin", _sqlite_begin)
        self._factory = sessionmaker(bind=self.engine, expire_on_commit=False)
        app.extensions["database"] = (self.engine, self._factory)
        app.teardown_appcontext(self._teardown)
        app.dispatch_request = self._retrying(app.dispatch_request)  # type: ignore[method-assign]

    @property
    def dialect(self) -> str:
        """Return the engine's dialect name: ``sqlite`` or ``postgresql``."""
        assert self.engine is not None
        return self.engine.dialect.name

    def new_session(self, *, write: bool | None = None) -> Session:
        """Open a session on the current app's engine (or the last one initialised, outside an app context).

        ``write`` is its write intent; by default a request's method decides (GET reads), and outside a request
        every session writes.
        """
        if self._test_connection is not None:
            session = Session(
                bind=self._test_connection, join_transaction_mode="create_savepoint", expire_on_commit=False
            )
        else:
            factory = current_app.extensions["database"][1] if has_app_context() else self._factory
            assert factory is not None, "Database.init_app was not called"
            session = factory()
        if write is None:
            write = not has_request_context() or request.method not in SAFE_METHODS
        session.info[WRITE_INTENT] = write
        return session

    @property
    def session(self) -> Session:
        """Return the session of the current application context, creating it on first use."""
        session = g.get("_db_session")
        if session is None:
            session = self.new_session()
            g._db_session = session
        return session

    def writer_session(self) -> Session:
        """Return the context's session with the write intent (a worker inside a request context, which reads)."""
        session = self.session
        if not session.info.get(WRITE_INTENT):
            if session.in_transaction():
                session.commit()
            session.info[WRITE_INTENT] = True
        return session

    @contextmanager
    def writing(self, session: Session) -> Iterator[Session]:
        """Write from a session that only reads (a GET): end its read transaction, write in one that takes the
        lock up front, commit, and read on as before. The caller's reads before and its writes inside are two
        transactions: use it for writes that do not depend on what was read (a session's last-seen time)."""
        if session.info.get(WRITE_INTENT):
            yield session
            session.commit()
            return
        session.commit()  # a read transaction: nothing to write, it only lets the snapshot go
        session.info[WRITE_INTENT] = True
        try:
            yield session
            session.commit()
        finally:
            session.info[WRITE_INTENT] = False

    def _retrying(self, dispatch: Callable[[], Any]) -> Callable[[], Any]:
        def dispatch_request() -> Any:
            attempt = 0
            while True:
                session = g.get("_db_session")
                commits = session.info.get(_COMMITS, 0) if session is not None else 0
                try:
                    return dispatch()
                except SQLAlchemyError as exc:
                    session = g.get("_db_session")
                    if session is None:
                        raise
                    session.rollback()  # also lets the error page read (a failed flush leaves nothing usable)
                    kind = conflict_kind(exc) if isinstance(exc, DBAPIError) else None
                    if kind == "busy" and session.info.get(WRITE_INTENT):
                        kind = None  # a writer that waited the whole busy timeout: trying again would wait again
                    if kind is None or attempt >= RETRIES or session.info.get(_COMMITS, 0) != commits:
                        raise
                    attempt += 1
                    log.info("retrying %s %s after %s (attempt %d)", request.method, request.path, kind, attempt)
                    if kind == "busy":
                        session.info[WRITE_INTENT] = True  # a read that had to write: the next try takes the lock
                    time.sleep(random.uniform(0.005, 0.02 * 2**attempt))

        return dispatch_request

    def bind_to_connection(self, connection: Connection | None) -> None:
        """Make every new session join ``connection`` (tests roll back one outer transaction per test)."""
        self._test_connection = connection

    def after_session_closed(self, key: str, callback: Callable[[], Any]) -> None:
        """Run ``callback`` once when the app context ends, after its session is closed (a write of its own that
        must not run inside the context's transaction, nor inside the tests' savepoint of it)."""
        g.setdefault("_db_after_close", {}).setdefault(key, callback)

    def _teardown(self, exc: BaseException | None) -> None:
        session = g.pop("_db_session", None)
        if session is not None:
            if exc is not None:
                session.rollback()
            session.close()
        for callback in g.pop("_db_after_close", {}).values():
            try:
                callback()
            except Exception:  # noqa: BLE001 - the response is already made; log and go on
                log.exception("after-session callback failed")


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
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE_INTENT) else "BEGIN")


@event.listens_for(Session, "after_transaction_create")
def _take_the_write_lock_up_front(session: Session, transaction: SessionTransaction) -> None:
    """SQLite: a writing session's transaction begins at once, with ``BEGIN IMMEDIATE`` (see the module doc).

    Sessions bound to the tests' one connection (savepoints) and PostgreSQL sessions begin lazily as usual.
    """
    if transaction.parent is not None or not session.info.get(WRITE_INTENT):
        return
    bind = session.bind
    if isinstance(bind, Engine) and bind.dialect.name == "sqlite":
        session.connection(execution_options={WRITE_INTENT: True})


@event.listens_for(Session, "after_commit")
def _count_commits(session: Session) -> None:
    session.info[_COMMITS] = session.info.get(_COMMITS, 0) + 1


_PG_RETRY = {"40001": "serialization failure", "40P01": "deadlock", "23505": "unique violation"}


def conflict_kind(exc: DBAPIError) -> str | None:
    """Name the conflict that running the transaction again can resolve, or None for any other error."""
    orig = exc.orig
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate in _PG_RETRY:
        return _PG_RETRY[sqlstate]
    if isinstance(orig, sqlite3.IntegrityError) and "UNIQUE constraint failed" in str(orig):
        return "unique violation"
    if isinstance(orig, sqlite3.OperationalError) and getattr(orig, "sqlite_errorcode", 0) & 0xFF in (5, 6):
        return "busy"  # SQLITE_BUSY (incl. BUSY_SNAPSHOT) or SQLITE_LOCKED
    return None
