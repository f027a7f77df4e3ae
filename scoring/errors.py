"""Define the domain errors raised by the scoring engine."""

from __future__ import annotations


class ScoringError(Exception):
    """Base class for every error the scoring engine raises."""


class InstrumentError(ScoringError):
    """Report an instrument file or dict that fails schema or semantic validation.

    ``problems`` holds ``(source, json_path, reason)`` triples; ``str(error)`` prints one problem per line as
    ``source: $.path: reason``.
    """

    def __init__(self, problems: list[tuple[str, str, str]]) -> None:
        self.problems: tuple[tuple[str, str, str], ...] = tuple(problems)
        super().__init__("\n".join(f"{src}: {path}: {reason}" for src, path, reason in self.problems))


class InvalidAnswer(ScoringError):
    """Report an answer, override or profile that does not fit the instrument."""

    def __init__(self, reason: str, question_id: str | None = None) -> None:
        self.question_id = question_id
        self.reason = reason
        super().__init__(f"{question_id}: {reason}" if question_id else reason)


class RubricMismatch(ScoringError):
    """Report results or inputs that belong to a different instrument version."""
