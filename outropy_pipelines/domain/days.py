"""Calendar days in the workspace time zone, and their Slack `ts` windows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from zoneinfo import ZoneInfo


def parse_day(day: str | dt.date) -> dt.date:
    if isinstance(day, dt.datetime):
        return day.date()
    if isinstance(day, dt.date):
        return day
    return dt.date.fromisoformat(str(day)[:10])


def day_window(day: str | dt.date, timezone: str) -> tuple[float, float]:
    """[start, end) of a calendar day in `timezone`, as Unix seconds."""
    d = parse_day(day)
    tz = ZoneInfo(timezone)
    start = dt.datetime(d.year, d.month, d.day, tzinfo=tz)
    end = dt.datetime.combine(d + dt.timedelta(days=1), dt.time(), tzinfo=tz)
    return start.timestamp(), end.timestamp()


def day_of_ts(ts: str | float, timezone: str) -> str:
    """The calendar day (ISO) of a Slack ts in `timezone`."""
    return dt.datetime.fromtimestamp(float(ts), ZoneInfo(timezone)).date().isoformat()


def days_between(start: str | dt.date, end: str | dt.date) -> Iterator[str]:
    """Every ISO day from start to end inclusive."""
    d, last = parse_day(start), parse_day(end)
    while d <= last:
        yield d.isoformat()
        d += dt.timedelta(days=1)


def shift_day(day: str | dt.date, days: int) -> str:
    return (parse_day(day) + dt.timedelta(days=days)).isoformat()


def ts_key(ts: str) -> Decimal:
    """Exact ordering key for Slack ts strings (decimal, not float)."""
    return Decimal(ts)
