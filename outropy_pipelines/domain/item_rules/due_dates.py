"""Due dates: a sentence's first date that is not in the past, resolved against the thread's day.

ISO dates, "today"/"eod"/"tomorrow"/"end of the week|month", weekdays ("by Friday", "next
Tuesday"; a bare abbreviation such as "wed" is too ambiguous), "by 11/14" and "Nov 14"/"14th of
November" (rolled to next year when more than 60 days past). A date right after "last", "since",
"ago"... is skipped.
"""

from __future__ import annotations

import datetime as dt
import re

_I = re.IGNORECASE

_WEEKDAYS = {
    "monday": 0, "mon": 0, "tuesday": 1, "tue": 1, "tues": 1, "wednesday": 2, "wed": 2,
    "thursday": 3, "thu": 3, "thur": 3, "thurs": 3, "friday": 4, "fri": 4, "saturday": 5,
    "sunday": 6,
}  # fmt: skip
_MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip
_MONTH_ALT = r"jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec"
DUE_RE = re.compile(
    r"\b(?P<iso>20\d\d-\d\d-\d\d)\b"
    r"|\b(?P<rel>today|tonight|eod|end of (?:the )?day|cob|close of business|tomorrow|tmrw|tmr|eow|"
    r"end of (?:the )?week|end of (?:the )?month|eom)\b"
    r"|\b(?:(?P<prep>by|before|due|until|till|on|for|this|next|no later than)\s+)?(?:(?P<next>next)\s+)?"
    r"(?P<wd>monday|tuesday|wednesday|thursday|friday|saturday|sunday|mon|tue|tues|wed|thu|thur|thurs|fri)\b"
    r"|\b(?:by|before|due|until|on)\s+(?P<md_m>\d{1,2})/(?P<md_d>\d{1,2})(?:/(?P<md_y>\d{2,4}))?\b"
    rf"|\b(?P<mon>{_MONTH_ALT})[a-z]*\.?\s+(?P<mon_d>\d{{1,2}})(?:st|nd|rd|th)?\b"
    rf"|\b(?P<d_mon>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon2>{_MONTH_ALT})[a-z]*\b",
    _I,
)
_DUE_GATE = (
    "20", "today", "tonight", "eod", "end of", "cob", "close of", "tom", "tmr", "eow", "eom", "day", "mon",
    "tue", "wed", "thu", "fri", "/", "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
    "nov", "dec",
)  # fmt: skip
_PAST_BEFORE_RE = re.compile(r"\b(?:last|since|past|previous|yesterday|ago)\s*$", _I)
DUE_GATE_RE = re.compile("|".join(re.escape(g) for g in _DUE_GATE))


def _resolve_due(m: re.Match[str], day: dt.date) -> dt.date | None:
    g = m.groupdict()
    try:
        if g["iso"]:
            return dt.date.fromisoformat(g["iso"])
        if g["rel"]:
            rel = g["rel"].lower()
            if rel in ("tomorrow", "tmrw", "tmr"):
                return day + dt.timedelta(days=1)
            if rel == "eow" or rel.endswith("week"):
                return day + dt.timedelta(days=(4 - day.weekday()) % 7)
            if rel == "eom" or rel.endswith("month"):
                nxt = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
                return nxt - dt.timedelta(days=1)
            return day  # today, tonight, eod, end of day, cob
        if g["wd"]:
            word = g["wd"].lower()
            if not g["prep"] and word not in (
                "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
            ):  # fmt: skip
                return None  # a bare "wed", "thu" is too ambiguous
            target = _WEEKDAYS[word]
            delta = (target - day.weekday()) % 7
            if g["next"] or (g["prep"] or "").lower() == "next":
                delta = delta or 7
                if day.weekday() + delta <= 6:  # still this week: "next" means the following one
                    delta += 7
            return day + dt.timedelta(days=delta)
        if g["md_m"]:
            year = int(g["md_y"]) if g["md_y"] else day.year
            if year < 100:
                year += 2000
            return _roll_year(dt.date(year, int(g["md_m"]), int(g["md_d"])), day, bool(g["md_y"]))
        mon = g["mon"] or g["mon2"]
        if mon:
            dom = int(g["mon_d"] or g["d_mon"])
            return _roll_year(dt.date(day.year, _MONTHS[mon.lower()[:3]], dom), day, False)
    except (ValueError, KeyError):
        return None
    return None


def _roll_year(d: dt.date, day: dt.date, explicit_year: bool) -> dt.date:
    if not explicit_year and (day - d).days > 60:
        try:
            return d.replace(year=d.year + 1)
        except ValueError:
            return d
    return d


def find_due(sentence: str, day: dt.date) -> str | None:
    """The due date a sentence states (ISO), relative to `day`; None if it states none."""
    if DUE_GATE_RE.search(sentence.lower()) is None:
        return None
    for m in DUE_RE.finditer(sentence):
        if _PAST_BEFORE_RE.search(sentence, 0, m.start()):
            continue
        d = _resolve_due(m, day)
        if d is not None:
            return d.isoformat()
    return None
