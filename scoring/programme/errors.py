"""Define the programme engine's error: a list of problems, each a message key with its values (no translation)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from scoring.errors import ScoringError


@dataclass(frozen=True)
class Problem:
    """One validation problem: ``key`` names the message, ``path`` the field (``quotas.total``), ``params`` the values.

    The web side translates ``key`` with ``params``, e.g. ``out_of_range`` with ``{"value": 0, "min": 1}``.
    """

    key: str
    path: str = ""
    params: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        values = ", ".join(f"{k}={v!r}" for k, v in self.params.items())
        return f"{self.path or '$'}: {self.key}" + (f" ({values})" if values else "")


class ProgrammeError(ScoringError, ValueError):
    """Report invalid round parameters, reviews or candidates; ``problems`` holds every problem found."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("; ".join(str(p) for p in self.problems))

    @property
    def keys(self) -> tuple[str, ...]:
        """Return the message keys of the problems, in order."""
        return tuple(p.key for p in self.problems)


class CalendarNotCovered(ProgrammeError):
    """Report a date outside the years the working-day calendar knows (no silent guess)."""
