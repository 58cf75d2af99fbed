"""Detectors for the cues of `field_cues`: the everyday shapes of items in real workspaces.

Each returns a draft whose title quotes the sentence that carries the item (people resolved to
names, prefixed with who said it) and whose `cue` names the rule that fired (it becomes the item's
`detail`, so every item can be explained).
"""

from __future__ import annotations

import re

from outropy_pipelines.domain.item_rules.action_cues import CHITCHAT_Q_RE, RHETORICAL_RE
from outropy_pipelines.domain.item_rules.cue_gates import (
    ASK_FIELD_GATE,
    BROADCAST_GATE,
    COMMIT_FIELD_GATE,
    FAILURE_GATE,
    PROGRESS_GATE,
    SETTLE_GATE,
    UNMARKED_QUESTION_GATE,
)
from outropy_pipelines.domain.item_rules.event_cues import PROPOSAL_RE
from outropy_pipelines.domain.item_rules.field_cues import (
    APPROVE_RE,
    ASK_FIELD_RE,
    BROADCAST_RE,
    BUG_ATTACH_RE,
    BUG_DONE_RESOLUTIONS,
    BUG_NEW_RE,
    BUG_POST_RE,
    BUG_REFUSE_COMMENT_RE,
    BUG_REFUSED_RESOLUTIONS,
    BUG_RESOLUTION_RE,
    BUG_WISH_RE,
    COMMIT_FIELD_RE,
    COMMIT_NOT_RE,
    EMOJI_HEAD_RE,
    FAILURE_NOT_RE,
    FAILURE_RE,
    INCIDENT_FIELD_RE,
    INTRO_RE,
    INVITE_RE,
    LABEL_LINK_RE,
    LINK_RE,
    NOW_RE,
    PROGRESS_NOT_RE,
    PROGRESS_RE,
    SETTLE_RE,
    SOCIAL_Q_RE,
    UNMARKED_QUESTION_HINTS,
    UNMARKED_QUESTION_RE,
    WELCOME_RE,
)
from outropy_pipelines.domain.item_rules.message_text import PreparedMessage, n_words
from outropy_pipelines.domain.item_rules.thread_drafts import Draft, ThreadDrafts
from outropy_pipelines.domain.item_rules.titles import LEADING_FILLER_RE, clean_title, strip_mentions_prefix

# a failure the speaker meets themselves, said in the first person, not asked about or consoled
_OWN_FAILURE_RE = re.compile(
    r"^(?!.*\?\s*$)(?!\W*(?:sorry|what|does|did|is|was|have you|has)\b).*\b(?:i|i'm|i've|we|we're|we've|my|our)\b"
    r"(?!.*\b(?:previously|before|used to|last time|again)\b)",
    re.IGNORECASE,
)


# an ask with one of these words is to nobody in particular
_NOBODY_IN_PARTICULAR = (
    "someone", "anyone", "somebody", "volunteer", "issue", "wish", "request", "to have", "others", "people",
    "folks", "everyone",
)  # fmt: skip


def _question_marks(text: str) -> list[int]:
    marks: list[int] = []
    at = text.find("?")
    while at >= 0:
        marks.append(at)
        at = text.find("?", at + 1)
    return marks


class FieldDetectors(ThreadDrafts):
    """Detectors of failure reports, bug-tracker posts, channel questions, broadcasts, progress
    replies and settled plans; mixed into the thread classifier."""

    def _cued(
        self, kind: str, msg: PreparedMessage, sentence: str, conf: float, cue: str, **kw: str
    ) -> Draft | None:
        said = self._said(sentence)
        if not said:
            return None
        title = self._quote(msg, said)
        if n_words(title) < 3:
            return None
        d = self._draft(kind, title, msg, conf, sentence, kw.get("status", "info"))
        d.cue = cue
        return d

    # --- bug-tracker feed posts ---

    def _bug_post(self, msg: PreparedMessage) -> list[Draft] | None:
        """A bug tracker's post ("[Bug NNNN] subject" + changed fields or a comment); None when the
        message is not one. Status changes without content yield no item."""
        if "[Bug" not in msg.text:
            return None
        m = BUG_POST_RE.search(msg.text)
        if m is None:
            return None
        subject = clean_title(f"Bug {m.group(1)}: {m.group(2).strip(' *')}")
        text = msg.text
        res = next(
            (g for x in BUG_RESOLUTION_RE.finditer(text) for g in x.groups() if g and g != "---"), None
        )
        kind, cue, note = "", "", ""
        new = BUG_NEW_RE.search(text)
        if new is not None and (new.group(1) is None or new.group(1) == new.group(2)):
            wish = BUG_WISH_RE.search(m.group(2)) or "enhancement" in text.lower()
            kind, cue, note = ("action_item", "bug_wish", "new") if wish else ("blocker", "bug_new", "new")
        elif res in BUG_DONE_RESOLUTIONS:
            kind, cue, note = "status_update", "bug_closed", res
        elif res in BUG_REFUSED_RESOLUTIONS:
            kind, cue, note = "decision", "bug_refused", res
        elif BUG_ATTACH_RE.search(text):
            kind, cue, note = "status_update", "bug_patch", "patch or commit"
        refusal = BUG_REFUSE_COMMENT_RE.search(text) if kind != "decision" else None
        drafts: list[Draft] = []
        if refusal is not None:  # a maintainer saying what will not be done
            s, e = msg.sentence_at(refusal.start())
            d = self._draft("decision", f"{subject}: {clean_title(text[s:e])}", msg, 0.6, text[s:e])
            d.cue = "bug_refused"
            drafts.append(d)
        if not kind and "Comment #" in text:  # a maintainer asking the reporter something
            q = self._channel_question(msg)
            if q is not None:
                q.title = f"{subject}: {q.title.split(': ', 1)[-1]}"
                q.cue = "bug_question"
                drafts.append(q)
        if not kind:
            return drafts
        d = self._draft(
            kind, f"{subject} ({note})", msg, 0.75, m.group(0), "open" if kind == "blocker" else "info"
        )
        d.cue = cue
        return [d, *drafts]

    # --- failure reports ---

    def _failure(self, msg: PreparedMessage) -> Draft | None:
        if FAILURE_GATE not in msg.active:
            return None
        # in a thread the reporter is the one who asked and the others answer, unless they say that
        # they themselves meet a failure ("I'm having one issue ...: make fails with ...")
        starter = msg.idx == 0 or msg.author == self.msgs[0].author
        text = msg.text
        for m in FAILURE_RE.finditer(text, msg.low):
            s, e = msg.sentence_at(m.start())
            sentence = text[s:e]
            if FAILURE_NOT_RE.search(sentence):
                continue
            if not starter and not _OWN_FAILURE_RE.search(sentence):
                continue
            for d in self.drafts:
                if d.kind in ("blocker", "incident") and d.msg.author == msg.author:
                    if msg.id not in d.source_ids and len(d.source_ids) < 6:
                        d.source_ids.append(msg.id)  # the same person's follow-up on their failure
                    return None
            inc = INCIDENT_FIELD_RE.search(sentence) is not None
            d = self._cued(
                "incident" if inc else "blocker", msg, sentence, 0.6, "failure_report", status="open"
            )
            if d is not None:
                d.asker = msg.author
            return d
        m = INCIDENT_FIELD_RE.search(text)
        if m is not None and self.incident is None:
            s, e = msg.sentence_at(m.start())
            return self._cued("incident", msg, text[s:e], 0.6, "service_down", status="open")
        return None

    # --- questions to the channel ---

    def _channel_question(self, msg: PreparedMessage) -> Draft | None:
        """A question with nobody named: open for the channel's readers."""
        text = msg.text
        hinted = UNMARKED_QUESTION_GATE in msg.active and any(h in msg.low for h in UNMARKED_QUESTION_HINTS)
        if not hinted and "?" not in text:
            return None
        spans = [msg.sentence_at(p) for p in _question_marks(text)]
        if hinted:  # asked without a question mark: "how can I fix it."
            spans += [msg.sentence_at(m.start()) for m in UNMARKED_QUESTION_RE.finditer(text)]
        for s, e in sorted(set(spans)):
            sentence = text[s:e].strip()
            if not sentence.endswith("?") and not UNMARKED_QUESTION_RE.search(sentence):
                continue
            bare = LEADING_FILLER_RE.sub("", strip_mentions_prefix(sentence)).strip()
            if n_words(bare) < 3 or RHETORICAL_RE.match(bare) or CHITCHAT_Q_RE.search(bare):
                continue
            if (
                INVITE_RE.match(bare)
                or bare.lower().startswith(("maybe ", "perhaps "))
                or SOCIAL_Q_RE.search(bare)
            ):
                continue
            d = self._cued("question", msg, sentence, 0.55, "channel_question", status="open")
            if d is not None:
                d.asker = msg.author
                return d
        return None

    # --- announcements ---

    def _broadcast(self, msg: PreparedMessage) -> Draft | None:
        """A top-level post to everyone: an introduction or welcome, a call starting now, materials,
        an event, a job or funding post."""
        text = msg.text
        labelled = LABEL_LINK_RE.match(text) if "://" in text else None  # "Zoom: <link>"
        if labelled is not None:
            return self._cued("announcement", msg, msg.sentence(0), 0.55, "broadcast")
        if BROADCAST_GATE not in msg.active:
            return None
        m = INTRO_RE.search(text)
        cue = "introduction"
        if m is None and msg.idx > 0:
            return None  # a reply ("starting now" answering "where is the call?"): an introduction is news
        if m is None:
            m = WELCOME_RE.match(text)  # news of a newcomer, not their task
        if m is None:
            m = NOW_RE.search(text, msg.low)
            cue = "broadcast"
        if m is None:  # an event, materials, a job: with a link or under an emoji heading
            if not ("://" in text or ":" in text) or not (LINK_RE.search(text) or EMOJI_HEAD_RE.search(text)):
                return None
            m = BROADCAST_RE.search(text, msg.low)
            if m is None:
                return None
        s, e = msg.sentence_at(m.start())
        return self._cued("announcement", msg, text[s:e], 0.55, cue)

    # --- progress replies ---

    def _progress(self, msg: PreparedMessage) -> Draft | None:
        if PROGRESS_GATE not in msg.active:
            return None
        text = msg.text
        for m in PROGRESS_RE.finditer(text, msg.low):
            s, e = msg.sentence_at(m.start())
            sentence = text[s:e]
            if sentence.rstrip().endswith("?") or PROGRESS_NOT_RE.search(text, s, m.end()):
                continue
            if "no activity" in sentence.lower():
                continue
            return self._cued("status_update", msg, sentence, 0.55, "progress")
        return None

    # --- decisions ---

    def _settled(self, msg: PreparedMessage) -> Draft | None:
        if SETTLE_GATE not in msg.active:
            return None
        text = msg.text
        m = SETTLE_RE.search(text, msg.low)
        cue = "settled_plan"
        if m is None:
            if msg.idx == 0:
                return None  # an approval answers something
            m = None
            for s0, e0 in msg.spans()[:2]:  # the reply opens with it: "Seems fine to me. ..."
                bare = strip_mentions_prefix(text[s0:e0]).strip()
                m = APPROVE_RE.match(bare)
                if m is not None:
                    break
            if m is None:
                return None
            prev = self._prev_other(msg)
            if prev is None or not ("?" in prev.text or PROPOSAL_RE.search(prev.text)):
                return None  # nothing was proposed: an opinion, not an approval
            cue = "approval"
            s, e = s0, e0
        else:
            s, e = msg.sentence_at(m.start())
        sentence = text[s:e]
        if sentence.rstrip().endswith("?"):
            return None
        return self._cued("decision", msg, sentence, 0.55, cue)

    # --- requests and commitments in everyday phrasing ---

    def _field_action(self, msg: PreparedMessage) -> Draft | None:
        text = msg.text
        if ASK_FIELD_GATE in msg.active:
            m = ASK_FIELD_RE.search(text, msg.low)
            if m is not None:
                s, e = msg.sentence_at(m.start())
                d = self._cued("action_item", msg, text[s:e], 0.5, "request", status="open")
                if d is not None:
                    low = m.group(0).lower()
                    ownerless = any(w in low for w in _NOBODY_IN_PARTICULAR)
                    owners = [] if ownerless else self._addressees(msg, m.start(), "you")[0]
                    d.owners = [o for o in owners if o != msg.author]
                    d.asker = msg.author
                    return d
        if COMMIT_FIELD_GATE in msg.active and msg.author:
            m = COMMIT_FIELD_RE.search(text, msg.low)
            if m is not None:
                s, e = msg.sentence_at(m.start())
                sentence = text[s:e]
                if sentence.rstrip().endswith("?") or COMMIT_NOT_RE.search(sentence):
                    return None
                if self._attach_commitment(msg, only_if_asked=True) is not None:
                    return None  # taking on an earlier ask: one task
                d = self._cued("action_item", msg, sentence, 0.5, "commitment", status="open")
                if d is not None:
                    d.owners = [msg.author]
                    d.asker = msg.author
                return d
        return None
