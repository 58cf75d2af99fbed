"""The items of a thread being classified, as drafts: who a message asks, a draft made from a
sentence (title, confidence, due date, entities), an earlier ask taken on by a reply, repeats
merged, drafts resolved by later messages, and the `ExtractedItem`s they become.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from outropy_pipelines.domain.contracts import ClassifyThreadInput, ExtractedItem
from outropy_pipelines.domain.item_rules.action_cues import ADDRESS_NAME_RE
from outropy_pipelines.domain.item_rules.message_text import MENTION_TOKEN_RE, PreparedMessage, content_words
from outropy_pipelines.domain.item_rules.thread_context import ThreadContext
from outropy_pipelines.domain.item_rules.titles import (
    LEADING_FILLER_RE,
    cap,
    clean_title,
    strip_mentions_prefix,
)
from outropy_pipelines.domain.trusted import trusted

_OPEN_ENDED = frozenset({"action_item", "question", "blocker", "incident"})
_DUE_KINDS = frozenset({"action_item", "decision", "announcement", "question", "blocker"})


@dataclass(slots=True)
class Draft:
    kind: str
    title: str
    msg: PreparedMessage
    confidence: float
    source_ids: list[str]
    owners: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    status: str = "info"
    due: str | None = None
    entities: list[str] = field(default_factory=list)
    asker: str = ""
    sentence: str = ""  # the source sentence in the message it comes from
    cue: str = ""  # the rule that fired, recorded in the item's detail ("cue: failure_report")


class ThreadDrafts:
    """A thread under classification: its context, its prepared messages and the drafts of its items
    (in order). The detectors (`thread_classifier._Classifier`) add to the drafts through these
    helpers."""

    def __init__(self, inp: ClassifyThreadInput) -> None:
        self.ctx = ThreadContext(inp)
        self.msgs = [self.ctx.prep(m, i) for i, m in enumerate(inp.messages)]
        self.drafts: list[Draft] = []
        self.open_count = 0  # open drafts, to skip resolution checks when there are none
        self.incident: Draft | None = None
        self.incident_channel = self.ctx.incident_channel

    # --- helpers ---

    def _prev_other(self, msg: PreparedMessage) -> PreparedMessage | None:
        for j in range(msg.idx - 1, -1, -1):
            p = self.msgs[j]
            if p.author != msg.author and p.author and not p.noise:
                return p
        return None

    def _two_person_partner(self, msg: PreparedMessage) -> str | None:
        """The other author when, up to this message, exactly two people have spoken."""
        authors = {p.author for p in self.msgs[: msg.idx + 1] if p.author}
        if len(authors) == 2 and msg.author in authors:
            return next(a for a in authors if a != msg.author)
        return None

    def _addressees(self, msg: PreparedMessage, start: int, who: str | None) -> tuple[list[str], float]:
        """Who is being asked, and a confidence adjustment."""
        ctx = self.ctx
        text = msg.text
        if who and who.lower() in ("someone", "somebody", "anyone", "anybody"):
            return [], -0.3
        s_start, s_end = msg.sentence_at(start)
        if msg.mentions:
            in_sentence = [u for u in MENTION_TOKEN_RE.findall(text, s_start, s_end) if u not in msg.cc]
            before = [u for u in MENTION_TOKEN_RE.findall(text, 0, start) if u not in msg.cc]
            owners = list(dict.fromkeys(u for u in (in_sentence or before) if u != msg.author))
            if not owners:
                owners = [u for u in msg.mentions if u not in msg.cc]
            if owners:
                return owners, 0.0
        for head in (text[s_start:], text):
            nm = ADDRESS_NAME_RE.match(head)
            if nm:
                uid = ctx.first_names.get(nm.group(1).lower())
                if uid and uid != msg.author:
                    return [uid], -0.1
        if ctx.is_dm:
            others = [u for u in ctx.people if u != msg.author]
            if len(others) == 1:
                return others, -0.05
        if msg.idx > 0 and (who is None or who.lower() in ("you", "u", "ya")):
            partner = self._two_person_partner(msg)
            if partner:
                return [partner], -0.25
        return [], -0.3

    def _said(self, sentence: str) -> str:
        """The sentence as said, trimmed: mentions and links resolved to names, a leading mention
        and filler ("hey", "so") dropped. A title quotes it, never a paraphrase."""
        return clean_title(
            LEADING_FILLER_RE.sub("", self.ctx.render(strip_mentions_prefix(sentence.strip())))
        )

    def _quote(self, msg: PreparedMessage, said: str) -> str:
        """A title: what `msg`'s author said (`_said`), prefixed with their name."""
        return f"{self.ctx.name(msg.author)}: {said}"

    def _draft(
        self, kind: str, title: str, msg: PreparedMessage, conf: float, sentence: str, status: str = "info"
    ) -> Draft:
        d = Draft(
            kind=kind,
            title=cap(title),
            msg=msg,
            confidence=round(min(0.95, max(0.05, conf)), 2),
            source_ids=[msg.id],
            mentions=list(msg.mentions),
            status=status,
            due=self.ctx.due(sentence) if kind in _DUE_KINDS else None,
            entities=self.ctx.entities(sentence if len(msg.text) > 400 else msg.text),
            sentence=sentence.strip(),
        )
        if status == "open":
            self.open_count += 1
        return d

    def _resolve(self, d: Draft, msg: PreparedMessage) -> None:
        d.status = "resolved"
        self.open_count -= 1
        if msg.id not in d.source_ids:
            d.source_ids.append(msg.id)

    def _attach_commitment(self, msg: PreparedMessage, only_if_asked: bool = False) -> Draft | None:
        """A reply taking on an earlier ask: no new item; an ask without owner gets this owner."""
        for d in reversed(self.drafts):
            if d.status != "open" or d.kind == "question" or d.msg.idx >= msg.idx or msg.idx - d.msg.idx > 4:
                continue
            if msg.author in d.owners:
                return d
            if d.kind == "action_item" and not d.owners and d.asker != msg.author:
                d.owners = [msg.author]
                d.source_ids.append(msg.id)
                return d
            if only_if_asked:
                return None
            if d.kind == "incident":
                d.owners.append(msg.author)
                return d
        return None

    def _add(self, d: Draft) -> None:
        """Keep a draft unless it repeats an earlier one of the same kind (then merge sources)."""
        words = content_words(d.title)
        if words:
            for other in self.drafts:
                if other.kind != d.kind:
                    continue
                ow = content_words(other.title)
                if ow and len(words & ow) / len(words | ow) >= 0.75:
                    for sid in d.source_ids:
                        if sid not in other.source_ids:
                            other.source_ids.append(sid)
                    if d.status == "open":
                        self.open_count -= 1
                    return
        if d not in self.drafts:
            self.drafts.append(d)

    @staticmethod
    def _emit(d: Draft) -> ExtractedItem:
        # built without validation (`trusted`): every value is of its declared type by construction
        # (kinds and statuses from this package, confidence clamped to [0.05, 0.95], a source always)
        return trusted(
            ExtractedItem,
            {
                "kind": d.kind,
                "title": d.title,
                "detail": f"cue: {d.cue}" if d.cue else "",
                "owners": list(dict.fromkeys(d.owners)),
                "mentions": list(dict.fromkeys(d.mentions)),
                "due": d.due,
                "entities": list(d.entities),
                "confidence": d.confidence,
                "status": d.status if d.kind in _OPEN_ENDED else "info",
                "source_ids": list(dict.fromkeys(d.source_ids)),
            },
        )
