"""The ranking's records: a candidate as the engine sees it, and the result (entries, score terms, the whole ranking).

``rank`` (selection.py) builds 10,000 entries at a time. A frozen dataclass's generated ``__init__`` sets each
field through ``object.__setattr__``; the builders at the end fill the new instance's ``__dict__`` instead, which
gives an equal object with the same fields in the same order in a third of the time (test_programme_fast_path.py
checks both against the dataclass constructors).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from scoring.programme.eligibility import EligibilityFacts, RuleResult
from scoring.programme.errors import Problem
from scoring.programme.explain import GroupQuota, TieBreak
from scoring.programme.reviews import ProjectScore, Review

SELECTED, NOT_SELECTED, NOT_RANKED = "selected", "not_selected", "not_ranked"


@dataclass(frozen=True)
class Candidate:
    """One application as the engine sees it.

    ``facts`` come from the application's frozen snapshot (``facts_from_snapshot``); ``reviews`` are the submitted
    expert reviews; ``industry_percentile`` is used only with ``percentile_basis="supplied"``; ``excluded`` is a
    code the web sets for an application out of the running (``withdrawn``, ``pre_review_rejected``,
    ``objection_upheld``); ``submitted_at`` should be timezone-aware. ``expert`` may carry the verdict the web
    stored when the last review came in (``project_score``): it is used when it is current for these reviews and
    the round's review parameters (``is_current``), else the verdict is recomputed from ``reviews``.
    """

    application_id: str
    industry: str
    county: str
    facts: EligibilityFacts
    submitted_at: datetime | date | None = None
    reviews: tuple[Review, ...] = ()
    industry_percentile: float | None = None
    excluded: str | None = None
    expert: ProjectScore | None = None


@dataclass(frozen=True)
class ScoreComponent:
    """One term of R: its value (0–100), its weight and its contribution value × weight."""

    name: str  # "c_verified", "industry_percentile" or "expert"
    value: float
    weight: float
    contribution: float


@dataclass(frozen=True)
class RankEntry:
    """One application's place in the result and the reason for it (codes in docs/programme.md)."""

    application_id: str
    industry: str
    county: str
    status: str  # "selected", "not_selected" or "not_ranked"
    reason: str
    rank: int | None
    score: float | None
    components: tuple[ScoreComponent, ...]
    counts_toward: tuple[str, ...]  # minimum seats this entry fills: "industry", "county"
    eligible: bool
    failed_rules: tuple[RuleResult, ...]  # the full checklist is check_eligibility(facts, params, as_of)
    tie_broken_by: TieBreak | None
    expert: ProjectScore | None  # computed for eligible, not excluded candidates
    excluded: str | None


@dataclass(frozen=True)
class Ranking:
    """The whole result: entries in rank order (then the unranked by id), every minimum's outcome, notes."""

    kind: str
    as_of: date
    total: int
    seats_filled: int
    entries: tuple[RankEntry, ...]
    quotas: tuple[GroupQuota, ...]
    notes: tuple[Problem, ...]

    def entry(self, application_id: str) -> RankEntry:
        """Return the entry of ``application_id``."""
        return next(e for e in self.entries if e.application_id == application_id)

    @property
    def selected(self) -> tuple[str, ...]:
        """Return the selected application ids in rank order."""
        return tuple(e.application_id for e in self.entries if e.status == SELECTED)


_new = object.__new__


def score_component(name: str, value: float, weight: float, contribution: float) -> ScoreComponent:
    """Return ``ScoreComponent(name, value, weight, contribution)``, built fast (see the module docstring)."""
    c = _new(ScoreComponent)
    c.__dict__.update(name=name, value=value, weight=weight, contribution=contribution)
    return c


def rank_entry(
    cand: Candidate,
    status: str,
    reason: str,
    rank: int | None,
    score: float | None,
    components: tuple[ScoreComponent, ...],
    counts_toward: tuple[str, ...],
    eligible: bool,
    failed_rules: tuple[RuleResult, ...],
    tie_broken_by: TieBreak | None,
    expert: ProjectScore | None,
) -> RankEntry:
    """Return the ``RankEntry`` of ``cand`` with these values, built fast (see the module docstring)."""
    e = _new(RankEntry)
    e.__dict__.update(
        application_id=cand.application_id,
        industry=cand.industry,
        county=cand.county,
        status=status,
        reason=reason,
        rank=rank,
        score=score,
        components=components,
        counts_toward=counts_toward,
        eligible=eligible,
        failed_rules=failed_rules,
        tie_broken_by=tie_broken_by,
        expert=expert,
        excluded=cand.excluded,
    )
    return e
