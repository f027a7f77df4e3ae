"""Per-account daily limits (inquiries, RFQs): counted from the rows themselves, so they hold across processes and
need no Redis. The day is the calendar day in Jiaxing (Asia/Shanghai)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.orm import Session

from saas.core.domain import LimitReached

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


class DailyLimitReached(LimitReached):
    """The account has used today's allowance; ``limit`` is the allowance."""

    def __init__(self, limit: int) -> None:
        super().__init__("daily_limit", limit)
        self.limit = limit


def local_day_start(now: datetime) -> datetime:
    """Return midnight (Asia/Shanghai) of the day containing ``now``, as an aware UTC datetime."""
    local = now.astimezone(LOCAL_TZ)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def check_daily(used_today: int, limit: int) -> None:
    """Raise ``DailyLimitReached`` when ``used_today`` has reached ``limit``."""
    if used_today >= limit:
        raise DailyLimitReached(limit)


def hold_allowance(dbs: Session, kind: str, account_id: uuid.UUID) -> None:
    """Serialise one account's count-then-write of ``kind`` until the transaction ends, so two requests at once cannot
    both pass a count of ``limit - 1``.

    PostgreSQL: a transaction-level advisory lock on the account and kind (no table lock, nothing to clean up).
    SQLite has one writer at a time: a second request whose count is stale cannot commit its write (it fails instead
    of overshooting), so nothing is needed there.
    """
    if dbs.get_bind().dialect.name == "postgresql":
        key = f"daily:{kind}:{account_id}"
        dbs.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"), {"key": key})
