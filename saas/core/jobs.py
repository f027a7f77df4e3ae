"""The job queue (RQ on Redis): the only module that imports it.

Jobs are enqueued only after the business transaction commits (``enqueue_after_commit``), so a rolled-back request
queues nothing. Without Redis (or with ``REPORTS_SYNC``) the caller renders in process instead.
"""

from __future__ import annotations

import logging
from typing import Any

import redis
from flask import current_app
from rq import Queue
from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
QUEUE_NAME = "reports"
PENDING_KEY = "jobs_to_enqueue"


def redis_url() -> str | None:
    """Return the queue's Redis URL when jobs should go to a worker, else None (render synchronously)."""
    cfg = current_app.config
    if cfg.get("REPORTS_SYNC"):
        return None
    url = cfg["REDIS_URL"]
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=0.3, socket_timeout=0.5).ping()
    except Exception as exc:  # no Redis: the caller renders in process
        log.warning("queue unavailable at %s (%s): rendering synchronously", url, exc)
        return None
    return url


def enqueue_after_commit(session: Session, url: str, func: str, *args: str, job_id: str) -> None:
    """Queue ``func(*args)`` on the reports queue once ``session`` commits (nothing on rollback)."""
    session.info.setdefault(PENDING_KEY, []).append((url, func, args, job_id))


@event.listens_for(Session, "after_commit")
def _enqueue(session: Session) -> None:
    pending = session.info.pop(PENDING_KEY, None)
    for url, func, args, job_id in pending or ():
        enqueue(url, func, *args, job_id=job_id)


@event.listens_for(Session, "after_rollback")
def _drop(session: Session) -> None:
    session.info.pop(PENDING_KEY, None)


def enqueue(url: str, func: str, *args: Any, job_id: str) -> None:
    """Put one job on the queue now."""

    connection = redis.Redis.from_url(url)
    try:
        Queue(QUEUE_NAME, connection=connection).enqueue_call(
            func, args=args, job_id=job_id, timeout=300, result_ttl=3600, failure_ttl=86400
        )
    finally:
        connection.close()
