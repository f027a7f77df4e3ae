"""Localised error pages; a traceback is logged, never shown."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, make_response, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, default_exceptions

from saas.core.domain import DomainError
from saas.core.extensions import db

log = logging.getLogger(__name__)

HANDLED = (400, 403, 404, 405, 413, 429, 500)


def register_error_handlers(app: Flask) -> None:
    """Render ``templates/errors/<code>.html`` for client errors, 429 and 500."""

    @app.errorhandler(CSRFError)
    def _csrf(exc: CSRFError) -> Any:
        return render_template("errors/400.html", csrf=True), 400

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> Any:
        code = exc.code or 500
        if code not in HANDLED:
            return exc
        if request.path.startswith("/api/"):
            response = make_response({"error": exc.name, "status": code}, code)
        else:
            response = make_response(render_template(f"errors/{code}.html"), code)
        # keep what the exception says besides its body: Allow on 405 (RFC 9110 §15.5.6), Retry-After on 429 …
        for name, value in exc.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(DomainError)
    def _domain(exc: DomainError) -> Any:
        """A domain error no view answered: its HTTP status, rendered like an aborted request."""
        return _http(default_exceptions[exc.status]())

    @app.errorhandler(Exception)
    def _unhandled(exc: Exception) -> Any:
        if app.testing and app.config.get("PROPAGATE_TEST_ERRORS", True):
            raise exc
        log.exception("unhandled error on %s %s", request.method, request.path)
        try:
            db.session.rollback()
        except Exception:  # the session may be unusable; the page must still render
            log.exception("rollback after error failed")
        if request.path.startswith("/api/"):
            return {"error": "Internal Server Error", "status": 500}, 500
        return render_template("errors/500.html"), 500
