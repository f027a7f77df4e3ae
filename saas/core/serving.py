"""What a production server process does around the app: warm it before it takes traffic, and drop the inherited
database connections after a fork. ``gunicorn.conf.py`` calls these; nothing here runs under ``flask run``.

Warming matters because each process keeps its own in-memory listing index (``saas.marketplace.listing_index``): the
first search of a cold process loads every listing (1–2.5 s at 100,000 listings). A gunicorn worker runs
``post_worker_init`` before it accepts its first connection, so warming there means that a new worker (at start, after
a crash, on ``HUP`` or after ``max_requests``) only ever takes traffic warm.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from flask import Flask
from flask_babel import force_locale, gettext

from saas.core.extensions import db
from saas.core.links import public_base
from saas.marketplace import listing_index
from saas.marketplace.text.pipeline import normalise, query_plan

log = logging.getLogger(__name__)

#: Pages requested once inside the process while warming: they compile the templates, load the catalogue and the
#: translations and fill the lazy caches behind the busiest public pages. No search text: a search that finds nothing
#: writes a log row, and warming writes nothing.
WARM_PATHS = ("/", "/market/", "/market/search", "/api/v1/products")


def is_saas_app(app: Any) -> bool:
    """Whether ``app`` is this project's Flask app (gunicorn.conf.py also serves the hello-world bench app)."""
    return isinstance(app, Flask) and "database" in app.extensions


def warm(app: Flask) -> float:
    """Load what a first request would otherwise load: the listing index, the Chinese text pipeline, and (through a
    few internal GETs) templates, catalogue and translations. Return the seconds it took. A failure (the database not
    answering yet) is logged, not raised: the worker then serves and loads lazily, as without warming."""

    start = time.perf_counter()
    query_plan(normalise("真絲面料"))  # OpenCC's tables and the term pipeline
    scheme, host, prefix = public_base(app)
    base_url = f"{scheme}://{host}{prefix}/"  # a trusted host, so production's host check lets the GETs through
    try:
        with app.test_request_context(base_url=base_url):
            snapshot = listing_index.current(db.session)
            db.session.rollback()
            for locale in app.config["LANGUAGES"]:  # each language's catalogue loads on its first use
                with force_locale(locale):
                    gettext("Search")
        log.info("listing index warm: %d listings", len(snapshot.live))
        client = app.test_client()
        for path in WARM_PATHS:
            status = client.get(path, base_url=base_url).status_code
            if status >= 500:
                log.warning("warming: %s answered %d", path, status)
    except Exception:  # noqa: BLE001 - a worker that cannot warm still serves (and loads on its first search)
        log.exception("warming failed; what it did not load loads on the first request instead")
    return time.perf_counter() - start


def dispose_after_fork(app: Any) -> None:
    """Forget the pooled connections a forked process inherited (they belong to the parent; SQLAlchemy's advice).

    ``close=False`` leaves the parent's connections open for the parent and only drops them from this process's pool.
    """
    if not is_saas_app(app):
        return
    engine = app.extensions["database"][0]
    engine.dispose(close=False)
    # The listing index's own engines (SQLite's stale-reader check) use NullPool: they keep no connection to inherit.
