"""Calendar days in the workspace time zone, and their Slack `ts` windows."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from zoneinfo import ZoneInfo


def parse_day(day: str | dt.date) -> dt.date:
    if isinstance(day, dt.datetime):
        return day.date()
    if isinstance(day, dt.date):
        return day
    return dt.date.fromisoformat(str(day)[:10])


#: how a person may name a day on the command line (every option that takes a day)
DAY_FORMS = "YYYY-MM-DD, today or yesterday"
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_RELATIVE_DAYS = {"today": 0, "yesterday": 1}


def today_in(timezone: str) -> dt.date:
    """Today's date in `timezone`."""
    return dt.datetime.now(ZoneInfo(timezone)).date()


def is_relative_day(text: str) -> bool:
    """Whether `text` names a day relative to today (`today`, `yesterday`)."""
    return text.strip().lower() in _RELATIVE_DAYS


def parse_day_text(text: str, today: dt.date | None = None) -> str:
    """A day as a person types it: YYYY-MM-DD, `today` or `yesterday` (relative to `today`, the
    date in the workspace time zone), as an ISO date. Raises ValueError naming the accepted forms."""
    value = text.strip().lower()
    if value in _RELATIVE_DAYS:
        if today is None:
            raise ValueError(f"{text!r} needs today's date")
        return (today - dt.timedelta(days=_RELATIVE_DAYS[value])).isoformat()
    if _ISO_DAY.fullmatch(value):
        try:
            return dt.date.fromisoformat(value).isoformat()
        except ValueError:
            raise ValueError(f"{text!r} is not a calendar day: use {DAY_FORMS}") from None
    raise ValueError(f"{text!r} is not a day: use {DAY_FORMS}")


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


def utc_dates_of_day(day: str | dt.date, timezone: str) -> tuple[str, ...]:
    """The UTC dates (ISO) that the calendar day `day` in `timezone` overlaps: the names of the
    Slack export day files that can hold its messages."""
    start, end = day_window(day, timezone)
    first = dt.datetime.fromtimestamp(start, dt.UTC).date()
    last = dt.datetime.fromtimestamp(end - 1e-6, dt.UTC).date()
    return tuple((first + dt.timedelta(days=k)).isoformat() for k in range((last - first).days + 1))


def days_of_utc_dates(utc_dates: Iterable[str], timezone: str) -> list[str]:
    """The calendar days in `timezone` that overlap any of `utc_dates` (e.g. the days an export's
    day files can hold messages of), sorted."""
    dates = set(utc_dates)
    candidates = {shift_day(d, k) for d in dates for k in (-1, 0, 1)}
    return sorted(d for d in candidates if dates.intersection(utc_dates_of_day(d, timezone)))


def format_days(days: Sequence[str], limit: int = 6) -> str:
    """Sorted ISO days as runs of consecutive days, e.g. `2026-11-02 .. 2026-11-05, 2026-11-08`;
    past `limit` runs, the first and last few and how many runs are left out."""
    runs: list[tuple[str, str]] = []
    for day in days:
        if runs and shift_day(runs[-1][1], 1) == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    shown = [first if first == last else f"{first} .. {last}" for first, last in runs]
    if len(shown) > limit:
        head, tail = limit // 2, limit - limit // 2
        shown = [*shown[:head], f"... ({len(shown) - limit} more runs) ...", *shown[-tail:]]
    return ", ".join(shown)


def shift_day(day: str | dt.date, days: int) -> str:
    return (parse_day(day) + dt.timedelta(days=days)).isoformat()


def ts_key(ts: str) -> Decimal:
    """Exact ordering key for Slack ts strings (decimal, not float)."""
    return Decimal(ts)
