"""Explain a selection: each entry's reason, the tie that ordered it, every minimum's outcome, and what changed.

Reasons of a selected entry: ``score`` (it is within the first ``total`` by rank, so minimums did not matter),
``industry_minimum``, ``county_minimum`` or ``industry_and_county_minimum`` (outside that cut, it fills a minimum
seat of its group). Of a ranked, unselected one: ``displaced_by_minimum`` (within that cut, its seat went to a
minimum) or ``below_cut``. Unranked entries carry ``excluded``, ``ineligible``, ``review_incomplete``,
``below_pass_mark`` or ``score_missing``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from scoring.programme.errors import Problem
from scoring.programme.params import QuotaParams

if TYPE_CHECKING:
    from scoring.programme.selection import Ranking

FAMILIES = ("industry", "county")


@dataclass(frozen=True)
class TieBreak:
    """Why an entry is ranked just below the one before it although their R is equal (to 1e-9)."""

    key: str  # a tie key of the round, or "application_id"
    value: Any
    other_value: Any
    other_application: str


@dataclass(frozen=True)
class GroupQuota:
    """The outcome of one minimum: how many ranked candidates the group had and how many seats it got."""

    family: str  # "industry" or "county"
    group: str
    minimum: int
    candidates: int
    selected: int
    met: bool
    shortfall: int
    cause: str | None  # "not_enough_candidates" or "total_too_small" when not met


def reasons(
    groups: Sequence[tuple[str, str]],
    taken: Sequence[bool],
    row_min: Mapping[str, int],
    col_min: Mapping[str, int],
    total: int,
) -> list[tuple[str, tuple[str, ...]]]:
    """Return (reason, minimum seats filled) per ranked candidate, in rank order."""
    rows = Counter(g[0] for g, t in zip(groups, taken, strict=True) if t)
    cols = Counter(g[1] for g, t in zip(groups, taken, strict=True) if t)
    out = []
    for i, (g, t) in enumerate(zip(groups, taken, strict=True)):
        within = i < total
        if not t:
            out.append(("displaced_by_minimum" if within else "below_cut", ()))
            continue
        # Every selected member of a group at or under its minimum fills one of its seats.
        fills = tuple(
            fam
            for fam, name, count, minimum in (("industry", g[0], rows, row_min), ("county", g[1], cols, col_min))
            if minimum.get(name, 0) > 0 and count[name] <= minimum[name]
        )
        if within:
            out.append(("score", fills))
        else:
            out.append(("industry_and_county_minimum" if len(fills) == len(FAMILIES) else f"{fills[0]}_minimum", fills))
    return out


def tie_breaks(
    keys: Sequence[tuple[Any, ...]], shown: Callable[[int], tuple[Any, ...]], tie_order: Sequence[str]
) -> list[TieBreak | None]:
    """Return, per entry in rank order, the TieBreak against the entry just above it (None if R differs).

    ``keys`` are the sort keys (R first); ``shown(i)`` gives entry i's values as people read them.
    """
    names = (*tie_order, "application_id")
    out: list[TieBreak | None] = [None] * len(keys)
    for i in range(1, len(keys)):
        if keys[i][0] != keys[i - 1][0]:
            continue
        j = next(j for j in range(1, len(keys[i])) if keys[i][j] != keys[i - 1][j])
        mine, theirs = shown(i), shown(i - 1)
        out[i] = TieBreak(names[j - 1], mine[j], theirs[j], theirs[-1])
    return out


def quota_summary(
    groups: Sequence[tuple[str, str]], taken: Sequence[bool], quotas: QuotaParams
) -> tuple[tuple[GroupQuota, ...], tuple[Problem, ...]]:
    """Return every minimum's outcome (listed groups and overrides, ranked or not) and the round's notes."""
    out, notes = [], []
    for f, family in enumerate(FAMILIES):
        listed = quotas.industries if family == "industry" else quotas.counties
        overrides = quotas.industry_minimums if family == "industry" else quotas.county_minimums
        names = sorted(set(listed) | set(overrides) | {g[f] for g in groups})
        have = Counter(g[f] for g in groups)
        got = Counter(g[f] for g, t in zip(groups, taken, strict=True) if t)
        summed = 0
        for name in names:
            minimum = quotas.minimum(family, name)
            if minimum == 0:
                continue
            summed += minimum
            short = max(0, minimum - got[name])
            cause = None if not short else "not_enough_candidates" if got[name] == have[name] else "total_too_small"
            out.append(GroupQuota(family, name, minimum, have[name], got[name], short == 0, short, cause))
        if summed > quotas.total:
            notes.append(
                Problem(
                    f"{family}_minimums_exceed_total",
                    f"quotas.{family}_minimum",
                    {"sum": summed, "total": quotas.total},
                )
            )
    filled = sum(taken)
    if filled < quotas.total:
        notes.append(Problem("seats_unfilled", "quotas.total", {"filled": filled, "total": quotas.total}))
    if any(q.cause == "total_too_small" for q in out):
        notes.append(Problem("minimums_not_all_met", "quotas", {"shortfall": sum(q.shortfall for q in out)}))
    return tuple(out), tuple(notes)


@dataclass(frozen=True)
class EntryChange:
    """How one application differs between two rankings (None: absent from that ranking)."""

    application_id: str
    before_status: str | None
    after_status: str | None
    before_reason: str | None
    after_reason: str | None
    before_rank: int | None
    after_rank: int | None
    before_score: float | None
    after_score: float | None


@dataclass(frozen=True)
class RankingDiff:
    """Who enters and who leaves the selection from ``before`` to ``after``, and who else changes rank or reason."""

    entered: tuple[EntryChange, ...]
    left: tuple[EntryChange, ...]
    changed: tuple[EntryChange, ...]


def diff_rankings(before: Ranking, after: Ranking) -> RankingDiff:
    """Compare two rankings of the same applications (e.g. the decided one and a preview)."""
    a = {e.application_id: e for e in before.entries}
    b = {e.application_id: e for e in after.entries}
    entered, left, changed = [], [], []
    for app in sorted(a.keys() | b.keys()):
        x, y = a.get(app), b.get(app)
        ch = EntryChange(
            app,
            *(e.status if e else None for e in (x, y)),
            *(e.reason if e else None for e in (x, y)),
            *(e.rank if e else None for e in (x, y)),
            *(e.score if e else None for e in (x, y)),
        )
        was, now = ch.before_status == "selected", ch.after_status == "selected"
        if now and not was:
            entered.append(ch)
        elif was and not now:
            left.append(ch)
        elif (ch.before_status, ch.before_reason, ch.before_rank) != (ch.after_status, ch.after_reason, ch.after_rank):
            changed.append(ch)
    return RankingDiff(tuple(entered), tuple(left), tuple(changed))
