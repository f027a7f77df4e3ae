"""The programme's tamper-evident audit chain (``programme_audit``).

Each entry's hash is SHA-256 over the previous entry's hash and the entry's own canonical content (sequence number,
time, actor, action, round, firm, detail). Changing, deleting or reordering any stored entry breaks the link at that
entry: ``verify_chain`` recomputes every hash in sequence order and names the first entry that does not match.
``seq`` and ``prev_hash`` are unique, so two concurrent appends on the same head cannot both commit (the database
layer retries the loser, which then appends after the winner).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from saas.models.programme import ProgrammeAudit, ProgrammeDecision

GENESIS = "0" * 64


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def digest(value: Any) -> str:
    """SHA-256 of ``value``'s canonical JSON (sorted keys, no spaces): what a confirmed decision's entry records."""
    text = json.dumps(_canonical(value), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def entry_hash(
    prev_hash: str, seq: int, at: datetime, actor_id: Any, action: str, round_id: Any, firm_id: Any, detail: dict
) -> str:
    """Return the hash of one entry given the previous entry's hash."""
    body = {
        "seq": seq,
        # microseconds dropped: every backend stores at least whole seconds identically
        "at": at.astimezone(UTC).replace(microsecond=0).isoformat(),
        "actor": _canonical(actor_id),
        "action": action,
        "round": _canonical(round_id),
        "firm": _canonical(firm_id),
        "detail": _canonical(detail),
    }
    text = prev_hash + json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def head(dbs: Session) -> ProgrammeAudit | None:
    """Return the latest entry, or None for an empty chain."""
    return dbs.scalar(select(ProgrammeAudit).order_by(ProgrammeAudit.seq.desc()).limit(1))


def append(
    dbs: Session,
    actor_id: uuid.UUID | None,
    action: str,
    *,
    now: datetime,
    round_id: uuid.UUID | None = None,
    firm_id: uuid.UUID | None = None,
    **detail: Any,
) -> ProgrammeAudit:
    """Append one entry after the current head and flush it."""
    last = head(dbs)
    seq = 1 if last is None else last.seq + 1
    prev = GENESIS if last is None else last.hash
    at = now.astimezone(UTC).replace(microsecond=0)
    clean = _canonical(detail)
    entry = ProgrammeAudit(
        seq=seq,
        at=at,
        actor_id=actor_id,
        action=action,
        round_id=round_id,
        subject_firm_id=firm_id,
        detail=clean,
        prev_hash=prev,
        hash=entry_hash(prev, seq, at, actor_id, action, round_id, firm_id, clean),
    )
    dbs.add(entry)
    dbs.flush()
    return entry


@dataclass(frozen=True)
class ChainReport:
    entries: int
    head_hash: str
    broken_seq: int | None = None
    problem: str | None = None
    decision_id: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


def verify_chain(dbs: Session, batch: int = 1000) -> ChainReport:
    """Recompute the chain in sequence order; report the first entry whose link or hash does not match.

    Then check every confirmed decision against its ``decision.confirmed`` entry: the decision's ``head_hash`` is
    that entry's hash, and its stored ranking and public entries still hash to the digests the entry recorded.
    """
    prev, expected_seq, count = GENESIS, 1, 0
    last_seq = 0
    confirmed: dict[str, ProgrammeAudit] = {}
    while True:
        rows = dbs.scalars(
            select(ProgrammeAudit).where(ProgrammeAudit.seq > last_seq).order_by(ProgrammeAudit.seq).limit(batch)
        ).all()
        if not rows:
            break
        for row in rows:
            if row.seq != expected_seq:
                return ChainReport(count, prev, expected_seq, "missing_entry")
            if row.prev_hash != prev:
                return ChainReport(count, prev, row.seq, "prev_hash_mismatch")
            recomputed = entry_hash(
                prev, row.seq, row.at, row.actor_id, row.action, row.round_id, row.subject_firm_id, row.detail
            )
            if recomputed != row.hash:
                return ChainReport(count, prev, row.seq, "hash_mismatch")
            if row.action == "decision.confirmed":
                confirmed[str(row.detail.get("decision_id"))] = row
            prev, expected_seq, count, last_seq = row.hash, row.seq + 1, count + 1, row.seq
    return _verify_decisions(dbs, confirmed, ChainReport(count, prev))


def _verify_decisions(dbs: Session, confirmed: dict[str, ProgrammeAudit], intact: ChainReport) -> ChainReport:
    decisions = dbs.scalars(
        select(ProgrammeDecision).where(ProgrammeDecision.status == "confirmed").order_by(ProgrammeDecision.id)
    )
    for decision in decisions:
        entry = confirmed.get(str(decision.id))

        def broken(problem: str, seq: int | None, decision: ProgrammeDecision = decision) -> ChainReport:
            return ChainReport(intact.entries, intact.head_hash, seq, problem, str(decision.id))

        if entry is None:
            return broken("decision_not_in_chain", None)
        if decision.head_hash != entry.hash:
            return broken("decision_head_hash_mismatch", entry.seq)
        recorded = entry.detail
        if "ranking_sha256" in recorded and digest(decision.ranking) != recorded["ranking_sha256"]:
            return broken("decision_ranking_changed", entry.seq)
        if "public_entries_sha256" in recorded and digest(decision.public_entries) != recorded["public_entries_sha256"]:
            return broken("decision_public_entries_changed", entry.seq)
    return intact
