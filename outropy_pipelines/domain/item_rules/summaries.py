"""Texts without a model: the extractive summary of an entity's day (`summarize_entity`) and the
counting sentence that opens a briefing (`briefing_intro`).

A summary is two to four sentences built from the items' own titles: today's items (most important
kind first), what closed, what is still open, and on a quiet day the first sentence of the
previous summary.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from outropy_pipelines.domain.contracts import BriefingIntroInput, EntityItemInput, SummarizeEntityInput
from outropy_pipelines.domain.item_rules.titles import lc_first

_I = re.IGNORECASE

KIND_ORDER = ("incident", "decision", "blocker", "action_item", "question", "announcement", "status_update")

_KIND_PHRASE = {
    "decision": ("decision", "decisions"),
    "action_item": ("action item", "action items"),
    "question": ("question", "questions"),
    "blocker": ("blocker", "blockers"),
    "incident": ("incident", "incidents"),
    "announcement": ("announcement", "announcements"),
    "status_update": ("update", "updates"),
}


def _count_phrase(counts: dict[str, int], order: Iterable[str] = KIND_ORDER) -> str:
    parts = []
    for kind in order:
        n = counts.get(kind, 0)
        if n:
            one, many = _KIND_PHRASE.get(kind, (kind, kind + "s"))
            parts.append(f"{n} {one if n == 1 else many}")
    return ", ".join(parts)


def _short(text: str, limit: int = 90) -> str:
    text = text.strip().rstrip(".")
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip(" ,;:") + "…"


def _item_phrase(item: EntityItemInput) -> str:
    title = _short(item.title)
    if item.kind == "decision":
        if title.lower().startswith("decided: "):
            return "decided " + title[len("decided: ") :]
        return (
            title if ("decid" in title.lower() or "agreed" in title.lower()) else "decided " + lc_first(title)
        )
    if item.kind == "incident":
        t = title[len("Incident: ") :] if title.startswith("Incident: ") else title
        return f"incident: {t}" + (" (resolved)" if item.status == "resolved" else "")
    return f"{title} (resolved)" if item.status == "resolved" else title


def _first_sentence(text: str) -> str:
    m = re.match(r"(.+?[.!?])(?:\s|$)", text.strip(), re.DOTALL)
    return (m.group(1) if m else text).strip()


def summarize_entity(inp: SummarizeEntityInput) -> str:
    """Two to four sentences: today's items (most important first), what closed, what is still
    open, and, on a quiet day, what was said before."""
    name = inp.name
    if inp.entity_kind == "channel" and not name.startswith("#"):
        name = "#" + name
    where = {"channel": "in", "project": "on", "person": "for"}.get(inp.entity_kind, "in")
    today = sorted(
        inp.items_today,
        key=lambda i: (
            KIND_ORDER.index(i.kind) if i.kind in KIND_ORDER else 9,
            i.status == "resolved",
            i.item_id,
        ),
    )
    sentences: list[str] = []
    if today:
        shown = today[:3]
        more = len(today) - len(shown)
        sentences.append(
            f"Today {where} {name}: "
            + "; ".join(_item_phrase(i) for i in shown)
            + (f"; and {more} more" if more else "")
            + "."
        )
        if more:
            counts: dict[str, int] = {}
            for i in today:
                counts[i.kind] = counts.get(i.kind, 0) + 1
            sentences.append(f"In all: {_count_phrase(counts)}.")
        closed = [i for i in today[3:] if i.status == "resolved"]
        if closed:
            sentences.append("Closed today: " + "; ".join(_short(i.title, 60) for i in closed[:2]) + ".")
    else:
        sentences.append(f"No new activity {where} {name} on {inp.day}.")
    if inp.open_items:
        counts = {}
        for i in inp.open_items:
            counts[i.kind] = counts.get(i.kind, 0) + 1
        sentences.append(
            f"Still open: {_count_phrase(counts, ('incident', 'blocker', 'action_item', 'question'))}"
            f" (oldest: {_short(inp.open_items[0].title, 70)})."
        )
    else:
        sentences.append("Nothing is left open.")
    if len(sentences) < 4 and inp.previous_summary and len(today) < 2:
        prev = _first_sentence(inp.previous_summary)
        prev = re.sub(r"^(?:Earlier|Today (?:in|on|for) [^:]+):\s*", "", prev)
        if prev and not prev.startswith(("No new activity", "Still open", "Nothing is left")):
            sentences.append("Earlier: " + _short(prev, 160).rstrip(".") + ".")
    return " ".join(sentences[:4])


_INTRO_PATTERNS = (
    ("needs_you", re.compile(r"needs[_ ]you|assigned to you|asked (?:of )?you|mentions you|for you\b", _I)),
    ("decision", re.compile(r"\bdecisions?\b|\bdecided\b", _I)),
    ("incident", re.compile(r"\bincidents?\b|\boutage\b|\bsev\s?\d", _I)),
    ("blocker", re.compile(r"\bblock(?:er|ers|ed|ing)\b", _I)),
)


def briefing_intro(inp: BriefingIntroInput) -> str:
    if not inp.lines:
        return "Yesterday was quiet: nothing needs you."
    counts = dict.fromkeys(("needs_you", "decision", "incident", "blocker", "update"), 0)
    for line in inp.lines:
        key = next((k for k, rx in _INTRO_PATTERNS if rx.search(line)), "update")
        counts[key] += 1
    parts = []
    n = counts["needs_you"]
    if n:
        parts.append(f"{n} {'thing needs' if n == 1 else 'things need'} you")
    for key, one, many in (
        ("decision", "decision", "decisions"),
        ("incident", "incident", "incidents"),
        ("blocker", "blocker", "blockers"),
        ("update", "update", "updates"),
    ):
        if counts[key]:
            parts.append(f"{counts[key]} {one if counts[key] == 1 else many}")
    return "Yesterday: " + ", ".join(parts) + "."
