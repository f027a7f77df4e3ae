"""Worker entry points (run by ``rq worker reports``): build the app once per process, then render by id."""

from __future__ import annotations

import uuid

from flask import Flask

from saas.app import create_app
from saas.core.extensions import db
from saas.core.links import public_request_context
from saas.reports.services import render_job

_APP: Flask | None = None


def _app() -> Flask:
    global _APP
    if _APP is None:
        _APP = create_app()
    return _APP


def render_report_job(firm_id: str, job_id: str) -> str:
    """Render one report job; safe to run twice (the second run sees it ready and returns)."""

    app = _app()
    with public_request_context(app):
        # the job writes its state: SQLite takes the lock up front (a GET request context would only read)
        return render_job(db.writer_session(), uuid.UUID(firm_id), uuid.UUID(job_id))
