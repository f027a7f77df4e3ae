"""Peer benchmarking: collect anonymous peer scores, refresh cohort statistics, and position one firm.

The only cross-tenant read is ``_peer_rows``: numbers and cohort attributes of the latest submitted or verified
assessment of each firm (no names leave this module). It runs with ``all_tenants`` for the ORM guard and, on
PostgreSQL, with the city-wide staff scope set for that statement's transaction only (``system_read``). Statistics
are stored as aggregate rows in ``cohort_stats``; a refresh after a submission or verification recomputes only the
cohorts the firm belongs to (its industry's cohorts and the city), which is what makes it incremental.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import Session

import scoring
from saas.assessments.instruments import engine_instrument
from saas.core.tenancy import STAFF_SCOPE_KEY, set_staff_scope
from saas.models import Assessment, CohortStatsRow, Firm, InstrumentVersion, ScoreSnapshot, utcnow
from saas.reference import COUNTIES, INDUSTRIES, SIZE_CLASSES


def params() -> scoring.BenchmarkParams:
    """Return the benchmark parameters from the app config (design choices, see docs/scoring.md §15)."""
    cfg = current_app.config["BENCHMARK"]
    return scoring.BenchmarkParams(**cfg)


@contextmanager
def system_read(dbs: Session) -> Iterator[None]:
    """Read every firm's scores for aggregation (RLS staff-read scope '*'), then restore the caller's scope."""
    before = dbs.info.get(STAFF_SCOPE_KEY)
    set_staff_scope(dbs, "*")
    try:
        yield
    finally:
        set_staff_scope(dbs, before)


def _peer_rows(dbs: Session, version: InstrumentVersion) -> list[Any]:
    """Return (firm id, industry, county, size, assessment id, submitted_at, composite, maturity, dims) rows."""
    latest = (
        select(ScoreSnapshot.assessment_id, func.max(ScoreSnapshot.created_at).label("at"))
        .where(ScoreSnapshot.instrument_version_id == version.id)
        .group_by(ScoreSnapshot.assessment_id)
        .subquery()
    )
    stmt = (
        select(
            Firm.id,
            Firm.industry,
            Firm.county,
            Firm.size_class,
            Assessment.id,
            Assessment.submitted_at,
            ScoreSnapshot.composite,
            ScoreSnapshot.maturity,
            ScoreSnapshot.dimension_scores,
        )
        .join(Assessment, Assessment.firm_id == Firm.id)
        .join(
            ScoreSnapshot,
            (ScoreSnapshot.firm_id == Assessment.firm_id) & (ScoreSnapshot.assessment_id == Assessment.id),
        )
        .join(
            latest, (latest.c.assessment_id == ScoreSnapshot.assessment_id) & (latest.c.at == ScoreSnapshot.created_at)
        )
        .where(Assessment.status.in_(("submitted", "verified")), Assessment.instrument_version_id == version.id)
        .execution_options(all_tenants=True)
    )
    with system_read(dbs):
        return list(dbs.execute(stmt).all())


def maturity_dimensions(version: InstrumentVersion) -> list[str]:
    """Return the ids of the instrument's maturity dimensions (the radar axes)."""
    return [d.id for d in engine_instrument(version).dimensions if d.role == "maturity"]


def collect_peers(dbs: Session, version: InstrumentVersion, as_of: date) -> list[scoring.Peer]:
    """Return one anonymous peer per firm: its latest submitted or verified assessment within the window."""
    dims = set(maturity_dimensions(version))
    records = [
        scoring.PeerRecord(
            scoring.Peer(
                peer_key=str(firm_id),
                industry=industry,
                county=county,
                size_class=size,
                composite=composite,
                maturity=maturity,
                dimensions={k: v for k, v in (dim_scores or {}).items() if k in dims},
            ),
            submitted_at=submitted_at.date(),
            instrument_version=version.version,
            sequence=int(assessment_id.int % 2**31),
        )
        for firm_id, industry, county, size, assessment_id, submitted_at, composite, maturity, dim_scores in _peer_rows(
            dbs, version
        )
        if submitted_at is not None
    ]
    window = params().window_months
    return [r.peer for r in scoring.latest_per_firm(records, as_of, version.version, window)]


def _next_version(dbs: Session) -> int:
    return (dbs.scalar(select(func.max(CohortStatsRow.version))) or 0) + 1


def refresh(dbs: Session, version: InstrumentVersion, *, industry: str | None = None, as_of: date | None = None) -> int:
    """Recompute and store cohort statistics; with ``industry``, only that industry's cohorts and the city.

    :returns: the new statistics version number.
    """
    as_of = as_of or utcnow().date()
    peers = collect_peers(dbs, version, as_of)
    dims = maturity_dimensions(version)
    p = params()
    if industry is None:
        stats = scoring.all_cohort_stats(peers, dims, p)
    else:
        city = scoring.all_cohort_stats(peers, dims, p)  # the city cohort needs everybody
        stats = {cid: cs for cid, cs in city.items() if cs.cohort.key == "city"}
        within = scoring.all_cohort_stats([x for x in peers if x.industry == industry], dims, p)
        stats.update({cid: cs for cid, cs in within.items() if cs.cohort.key != "city"})
    number = _next_version(dbs)
    scope = select(CohortStatsRow).where(CohortStatsRow.instrument_version_id == version.id)
    if industry is not None:
        scope = scope.where((CohortStatsRow.industry == industry) | (CohortStatsRow.level == "city"))
    existing = {row.cohort_id: row for row in dbs.scalars(scope)}
    for cid, cs in stats.items():
        row = existing.pop(cid, None)
        if row is None:
            row = CohortStatsRow(instrument_version_id=version.id, cohort_id=cid)
            dbs.add(row)
        cohort = cs.cohort
        row.level, row.industry, row.county, row.size_class = (
            cohort.key,
            cohort.industry,
            cohort.county,
            cohort.size_class,
        )
        row.n, row.sufficient, row.version, row.data, row.refreshed_at = (
            cohort.n,
            cohort.sufficient,
            number,
            cs.to_dict(),
            utcnow(),
        )
    for stale in existing.values():  # cohorts in scope that no longer have any member
        dbs.delete(stale)
    dbs.flush()
    return number


@dataclass(frozen=True)
class Benchmark:
    """A firm's position among its peers, with the cohort used and the statistics version read.

    No per-bin peer counts leave this module (docs/suppression.md §8): a firm sees its cohort's n, quantiles and
    its own percentile ranks. ``widened`` says a narrower cohort of the firm was sufficient but not printed, because
    a wider cohort that contains it differs from it by fewer than ``suppress_k`` firms.
    """

    position: scoring.Position
    cohort_label: str
    stats_version: int
    dimension_ids: list[str]
    widened: bool = False


def firm_peer(firm: Firm, snapshot: ScoreSnapshot, dims: list[str]) -> scoring.Peer:
    """Return the firm's own peer record from one of its snapshots."""
    return scoring.Peer(
        peer_key=str(firm.id),
        industry=firm.industry,
        county=firm.county,
        size_class=firm.size_class,
        composite=snapshot.composite,
        maturity=snapshot.maturity,
        dimensions={k: v for k, v in (snapshot.dimension_scores or {}).items() if k in dims},
    )


def printable_cohort(cohorts: list[scoring.Cohort], k: int) -> scoring.Cohort | None:
    """Return the first cohort of the fallback chain that may be printed to a firm, or None if none is sufficient.

    ``cohorts`` are the firm's cohorts along ``scoring.LEVELS`` (the ones that exist). A sufficient cohort is
    printable unless a sufficient cohort of the chain that contains it has 1 … k−1 more firms: both could then be
    printed (to this firm and to a firm of the wider cohort), and their difference would describe those few firms.
    The wider one is printed instead. The rule depends only on cohort sizes, so every member of a cohort gets the
    same answer, and the wider cohort is checked against its own wider cohorts in turn.
    """
    sufficient = [c for c in cohorts if c.sufficient]
    for cohort in sufficient:
        inner = set(cohort.key.split("+")) - {"city"}
        wider = [c for c in sufficient if set(c.key.split("+")) - {"city"} < inner]
        if not any(0 < c.n - cohort.n < k for c in wider):
            return cohort
    return None


def benchmark_for(dbs: Session, firm: Firm, snapshot: ScoreSnapshot, version: InstrumentVersion) -> Benchmark | None:
    """Position ``snapshot`` of ``firm`` in its printable cohort, reading only the five cohort rows it can fall into."""
    dims = maturity_dimensions(version)
    peer = firm_peer(firm, snapshot, dims)
    ids = [scoring.Cohort(level, *_filters(level, peer), 0, False).id for level in scoring.LEVELS]
    rows = dbs.scalars(
        select(CohortStatsRow).where(
            CohortStatsRow.instrument_version_id == version.id, CohortStatsRow.cohort_id.in_(ids)
        )
    ).all()
    if not rows:
        return None
    stats = {row.cohort_id: scoring.CohortStats.from_dict(row.data) for row in rows}
    chain = [stats[cid].cohort for cid in ids if cid in stats]
    chosen = printable_cohort(chain, params().suppress_k)
    first = next((c for c in chain if c.sufficient), None)
    pos = scoring.position(peer, {chosen.id: stats[chosen.id]} if chosen is not None else stats)
    widened = chosen is not None and first is not None and chosen.id != first.id
    return Benchmark(pos, cohort_label(pos.cohort), max(row.version for row in rows), dims, widened)


def _filters(level: str, peer: scoring.Peer) -> tuple[str | None, str | None, str | None]:
    parts = set(level.split("+"))
    return (
        peer.industry if "industry" in parts else None,
        peer.county if "county" in parts else None,
        peer.size_class if "size" in parts else None,
    )


def cohort_label(cohort: scoring.Cohort) -> str:
    """Return a readable, localised name of a cohort, e.g. "茧丝绸 · 桐乡市 · 小型"."""

    parts = []
    if cohort.industry:
        parts.append(str(INDUSTRIES.get(cohort.industry, cohort.industry)))
    if cohort.county:
        parts.append(str(COUNTIES.get(cohort.county, cohort.county)))
    if cohort.size_class:
        parts.append(str(SIZE_CLASSES.get(cohort.size_class, cohort.size_class)))
    return " · ".join(parts) if parts else _("All assessed firms in Jiaxing")
