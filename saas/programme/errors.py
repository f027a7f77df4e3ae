"""Domain errors of the programme's web side: one base class with a code the blueprint maps to an HTTP status."""

from __future__ import annotations

from typing import Any


class ProgrammeError(Exception):
    """A refused programme step; ``code`` is a message key (``labels.ERRORS``) and ``status`` the HTTP status."""

    status = 409

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


class NotFound(ProgrammeError):
    """The object is outside the actor's scope or does not exist (indistinguishable: 404)."""

    status = 404


class InvalidInput(ProgrammeError):
    """The input is invalid; ``problems`` maps field names to localisable problems."""

    status = 400

    def __init__(self, code: str, problems: dict[str, str] | None = None, **params: Any) -> None:
        super().__init__(code, **params)
        self.problems = problems or {}
