"""Per-account daily limits (inquiries, RFQs): counted from the rows themselves, so they hold across processes and
need no Redis. The day is the calendar day in Jiaxing (Asia/Shanghai)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

LOCAL_TZ = ZoneInfo("Asia/Shanghai")


class DailyLimitReached(Exception):
    """The account has used today's allowance; ``limit`` is the allowance."""

    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


def local_day_start(now: datetime) -> datetime:
    """Return midnight (Asia/Shanghai) of the day containing ``now``, as an aware UTC datetime."""
    local = now.astimezone(LOCAL_TZ)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(UTC)


def check_daily(used_today: int, limit: int) -> None:
    """Raise ``DailyLimitReached`` when ``used_today`` has reached ``limit``."""
    if used_today >= limit:
        raise DailyLimitReached(limit)
