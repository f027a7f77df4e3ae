"""Domain errors: what a service raises when a request cannot be carried out (no Flask here).

A service raises one of these; a view catches the ones it answers with a message next to a field or a flash, and the
one error handler in ``saas/core/errors.py`` turns any other into its HTTP status (``status``), with the localised
error page. ``code`` is a short machine reason ("cancelled", "too_many_images") the view can map to a message.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of every domain error; ``status`` is the HTTP status when no view handles it."""

    status = 400

    def __init__(self, code: str = "", *args: object) -> None:
        super().__init__(code, *args)
        self.code = code


class Invalid(DomainError):
    """The input breaks a rule (400)."""


class Forbidden(DomainError):
    """The actor may not do this, or not in the object's current state (403)."""

    status = 403


class NotFound(DomainError):
    """The object does not exist for this actor; another tenant's row is not found either (404)."""

    status = 404


class Conflict(DomainError):
    """The object's state refuses the change (409)."""

    status = 409


class LimitReached(DomainError):
    """A count or daily allowance is used up (429)."""

    status = 429
