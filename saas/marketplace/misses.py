"""The zero-result search log behind the bureau's sourcing-gap report: bounded, rate-limited, and never written in a
search's transaction (docs/search.md §7b).

A search that finds nothing is *noted* in this process's buffer (memory only, no database); the buffer is stored in
batches by a thread of its own, in a write transaction of its own, so a search never waits for the log nor fails
because of it. What is stored is bounded three times:

* one row per (Jiaxing day, normalised query, visitor): repeating a search adds nothing;
* a visitor (a keyed hash of the client's IPv4 address or IPv6 /64) adds at most ``SEARCH_MISS_PER_VISITOR_DAY``
  queries a day;
* at most ``SEARCH_MISS_NEW_QUERIES_DAY`` queries a day that nobody searched in the report's window are added
  (queries already known still collect visitors), and the buffer holds at most ``SEARCH_MISS_BUFFER`` entries.

The caps are checked again when storing (under the SQLite write lock or a PostgreSQL advisory lock), so several
processes together keep them. The report counts distinct visitors and days, so one visitor cannot poison it.
``SEARCH_MISS_FLUSH_SECONDS`` = 0 (the tests) stores the buffer when the request's app context ends, after its
session is closed (``Database.after_session_closed``); a positive value is the batching delay of the storing thread.
"""

from __future__ import annotations

import atexit
import hashlib
import hmac
import ipaddress
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask import Flask, current_app, request
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from saas.core.extensions import db
from saas.core.limits import LOCAL_TZ
from saas.models import SearchGapVisit, utcnow

log = logging.getLogger(__name__)
#: The sourcing-gap report's window; a query is "new" when nobody searched it in this many days.
WINDOW_DAYS = 90
#: Rows older than this are deleted when a batch is stored.
KEEP_DAYS = 120
DEFAULTS = {
    "SEARCH_MISS_PER_VISITOR_DAY": 20,
    "SEARCH_MISS_NEW_QUERIES_DAY": 500,
    "SEARCH_MISS_BUFFER": 2_000,
    "SEARCH_MISS_FLUSH_SECONDS": 2.0,
}
_VISITORS_PER_PROCESS_DAY = 100_000


@dataclass(frozen=True)
class Miss:
    day: date
    normalised: str
    visitor: str
    query: str
    industry: str | None
    at: datetime


def local_day(now: datetime) -> date:
    """The calendar day in Jiaxing of ``now``."""
    return now.astimezone(LOCAL_TZ).date()


def visitor_key(secret: str, address: str | None) -> str:
    """A keyed hash of the client's network: an IPv4 address, or the /64 of an IPv6 address (one household)."""
    try:
        ip = ipaddress.ip_address(address or "")
        net = str(ipaddress.ip_network(f"{ip}/64", strict=False)) if ip.version == 6 else str(ip)
    except ValueError:
        net = "unknown"
    return hmac.new(secret.encode(), b"search-gap:" + net.encode(), hashlib.sha256).hexdigest()[:16]


def _setting(app: Flask, name: str) -> Any:
    return app.config.get(name, DEFAULTS[name])


class MissLog:
    """One process's buffer of zero-result searches and the thread that stores it."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._pending: dict[tuple[date, str, str], Miss] = {}
        self._noted: dict[tuple[date, str], int] = {}  # per visitor and day, in this process
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.dropped = 0

    def note(self, *, query: str, normalised: str, industry: str | None, address: str | None) -> None:
        """Buffer one zero-result search (cheap, no database); drop it when a cap says so."""
        app = self.app
        now = utcnow()
        day = local_day(now)
        visitor = visitor_key(app.config["SECRET_KEY"], address)
        key = (day, normalised, visitor)
        with self._lock:
            if key in self._pending:
                return
            if self._noted and next(iter(self._noted))[0] != day:
                self._noted.clear()  # a new day
            used = self._noted.get((day, visitor), 0)
            if (
                used >= _setting(app, "SEARCH_MISS_PER_VISITOR_DAY")
                or len(self._pending) >= _setting(app, "SEARCH_MISS_BUFFER")
                or (used == 0 and len(self._noted) >= _VISITORS_PER_PROCESS_DAY)
            ):
                self.dropped += 1
                return
            self._noted[(day, visitor)] = used + 1
            self._pending[key] = Miss(day, normalised, visitor, query[:100], industry, now)
        if float(_setting(app, "SEARCH_MISS_FLUSH_SECONDS")) <= 0:
            db.after_session_closed("search_misses", self.flush)  # after the request's session is closed
        else:
            self._start()
            self._wake.set()

    def _start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return
            self._thread = threading.Thread(target=self._run, name="search-miss-log", daemon=True)
            self._thread.start()
            atexit.register(self.flush)

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            threading.Event().wait(float(_setting(self.app, "SEARCH_MISS_FLUSH_SECONDS")))  # gather a batch
            self.flush()

    def flush(self) -> int:
        """Store the buffer in one write transaction of its own; return how many rows were added. Never raises."""
        with self._lock:
            batch, self._pending = list(self._pending.values()), {}
        if not batch:
            return 0
        try:
            with self.app.app_context():
                session = db.new_session(write=True)
                try:
                    added = store(session, batch, self.app)
                    session.commit()
                    return added
                finally:
                    session.close()
        except Exception:  # a lost log row costs nothing; a search must never fail because of it
            log.exception("storing %d zero-result searches failed", len(batch))
            return 0


def log_for(app: Flask) -> MissLog:
    """This process's log for ``app``."""
    found = app.extensions.get("search_misses")
    if found is None:
        found = app.extensions.setdefault("search_misses", MissLog(app))
    return found


def note_if_empty(params: Any, result: Any) -> None:
    """In a search request: note a first-page search for something that found nothing (a later page of nothing is
    a stale link, redirected to page 1, which notes it)."""

    if result.total == 0 and params.page == 1 and params.q.strip() and result.normalised:
        log_for(current_app._get_current_object()).note(  # type: ignore[attr-defined]
            query=params.q.strip(), normalised=result.normalised, industry=params.industry, address=request.remote_addr
        )


def store(dbs: Session, batch: Iterable[Miss], app: Flask) -> int:
    """Insert the misses that pass the caps (checked against the stored rows, under a lock); return the count."""
    if dbs.get_bind().dialect.name == "postgresql":  # SQLite: the write transaction already holds the lock
        dbs.execute(text("SELECT pg_advisory_xact_lock(hashtextextended('search_gap_visits', 0))"))
    per_visitor = _setting(app, "SEARCH_MISS_PER_VISITOR_DAY")
    new_per_day = _setting(app, "SEARCH_MISS_NEW_QUERIES_DAY")
    added = 0
    by_day: dict[date, list[Miss]] = {}
    for miss in batch:
        by_day.setdefault(miss.day, []).append(miss)
    for day, misses in by_day.items():
        since = day - timedelta(days=WINDOW_DAYS)
        T = SearchGapVisit
        queries = {m.normalised for m in misses}
        visitors = {m.visitor for m in misses}
        known = set(dbs.scalars(select(T.normalised).where(T.day >= since, T.normalised.in_(queries)).distinct()))
        seen = set(
            dbs.execute(
                select(T.normalised, T.visitor).where(T.day == day, T.normalised.in_(queries), T.visitor.in_(visitors))
            ).all()
        )
        used = dict(
            dbs.execute(
                select(T.visitor, func.count()).where(T.day == day, T.visitor.in_(visitors)).group_by(T.visitor)
            ).all()
        )
        first_days = select(T.normalised).where(T.day >= since).group_by(T.normalised).having(func.min(T.day) == day)
        new_today = dbs.scalar(select(func.count()).select_from(first_days.subquery())) or 0
        for miss in sorted(misses, key=lambda m: m.at):
            if (miss.normalised, miss.visitor) in seen or used.get(miss.visitor, 0) >= per_visitor:
                continue
            if miss.normalised not in known:
                if new_today >= new_per_day:
                    continue
                new_today += 1
                known.add(miss.normalised)
            dbs.add(
                T(
                    day=day,
                    normalised=miss.normalised,
                    visitor=miss.visitor,
                    query=miss.query,
                    industry=miss.industry,
                    at=miss.at,
                )
            )
            seen.add((miss.normalised, miss.visitor))
            used[miss.visitor] = used.get(miss.visitor, 0) + 1
            added += 1
    oldest = local_day(utcnow()) - timedelta(days=KEEP_DAYS)
    dbs.execute(SearchGapVisit.__table__.delete().where(SearchGapVisit.day < oldest))
    dbs.flush()
    return added


def gaps(dbs: Session, now: datetime, limit: int = 200) -> list[Any]:
    """The report: per normalised query of the window, distinct visitors, distinct days, a spelling and the last
    time; most visitors first."""
    T = SearchGapVisit
    since = local_day(now) - timedelta(days=WINDOW_DAYS)
    return list(
        dbs.execute(
            select(
                T.normalised,
                func.count(func.distinct(T.visitor)).label("visitors"),
                func.count(func.distinct(T.day)).label("days"),
                func.max(T.at).label("last"),
            )
            .where(T.day >= since)
            .group_by(T.normalised)
            .order_by(
                func.count(func.distinct(T.visitor)).desc(), func.count(func.distinct(T.day)).desc(), T.normalised
            )
            .limit(limit)
        ).all()
    )
