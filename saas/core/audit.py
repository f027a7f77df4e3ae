"""The audit trail: one append-only row per security event or staff decision."""

from __future__ import annotations

import uuid
from typing import Any

from flask import has_request_context, request
from sqlalchemy.orm import Session

from saas.models import AuditEvent, User


def record_event(
    dbs: Session, actor: User | None, action: str, *, subject_firm_id: uuid.UUID | None = None, **detail: Any
) -> AuditEvent:
    """Append an audit event for ``action`` by ``actor`` (None for the system)."""
    event = AuditEvent(
        actor_id=actor.id if actor is not None else None,
        action=action,
        subject_firm_id=subject_firm_id,
        detail={k: str(v) for k, v in detail.items()},
        ip=request.remote_addr if has_request_context() else None,
    )
    dbs.add(event)
    return event
