"""The thread classifier: typed items from one thread's messages, by rules (`classify_thread`).

Per message, in order: a message aimed at a model ("ignore previous instructions") is skipped;
later messages first resolve earlier open items ("done", "fixed", an answer, "all clear"); noise
("ok", "thanks") can only agree to a proposal or take on an ask; otherwise each detector whose gates
the message passes looks for its kind: incident, decision, blocker, action item (an ask or a
commitment), question, then announcement or status update when nothing else was found. Owners come
from mentions, a leading name ("Bob, can you..."), the other person of a DM or of a two-person
exchange. Message text is only matched, never followed: instructions inside a message cannot
change the shape of the output, and items cite only ids of the input.
"""

from __future__ import annotations

import re

from outropy_pipelines.domain.contracts import ClassifyThreadInput, ClassifyThreadOutput, ExtractedItem
from outropy_pipelines.domain.item_rules.action_cues import (
    ACK_COMMIT_RE,
    ADDRESS_NAME_RE,
    ANSWER_WORDS,
    CHITCHAT_Q_RE,
    DEFER_RE,
    EVERYONE_RE,
    INFO_REQUEST_RE,
    NEEDS_OWNER,
    QUESTION_START_RE,
    RHETORICAL_RE,
    SOMEONE_RE,
)
from outropy_pipelines.domain.item_rules.action_matching import (
    is_info_request,
    match_commitment,
    match_request,
)
from outropy_pipelines.domain.item_rules.cue_gates import (
    ACTION_GATES,
    ANNOUNCE_GATES,
    ANNOUNCE_TABLE,
    BLOCKER_GATES,
    BLOCKER_TABLE,
    DECISION_GATES,
    DECISION_TABLE,
    INCIDENT_GATE,
    INFO_GATE,
    STATUS_GATES,
    STATUS_TABLE,
    active_gates,
    table_hits,
)
from outropy_pipelines.domain.item_rules.cue_syntax import negated
from outropy_pipelines.domain.item_rules.event_cues import (
    AGREE_ONLY_RE,
    ANNOUNCE_STRIP_RE,
    CLOSE_ACTION_RE,
    CLOSE_ANYONE_RE,
    CLOSE_BLOCKER_RE,
    CLOSE_INCIDENT_RE,
    DEC_AGREED,
    DEC_LABEL,
    DECISION_LEAD_RE,
    DECISION_NEG_RE,
    INCIDENT_CASE_RE,
    INCIDENT_MEDIUM_RE,
    INCIDENT_STRONG_RE,
    INJECTION_RE,
    PROPOSAL_RE,
    PROPOSAL_STRIP_RE,
    STATUS_COND_RE,
    STATUS_LABEL_STRIP_RE,
    UNBLOCKED_CUE_RE,
    UNBLOCKED_RE,
)
from outropy_pipelines.domain.item_rules.field_cues import ADVICE_RE, COMMIT_NOT_RE
from outropy_pipelines.domain.item_rules.field_detectors import FieldDetectors
from outropy_pipelines.domain.item_rules.message_text import (
    MENTION_TOKEN_RE,
    TOKEN_RE,
    WORD_RE,
    PreparedMessage,
    n_words,
    related,
    wordset,
)
from outropy_pipelines.domain.item_rules.thread_drafts import Draft
from outropy_pipelines.domain.item_rules.titles import (
    LEADING_FILLER_RE,
    clean_title,
    is_pronoun_object,
    lc_first,
    strip_mentions_prefix,
)
from outropy_pipelines.domain.trusted import trusted

_I = re.IGNORECASE
# the cue of an item found by the labelled cue tables (`event_cues`, `action_cues`)
_TABLE_CUES = {
    "incident": "incident_terms",
    "decision": "decision_terms",
    "blocker": "blocked_terms",
    "action_item": "request_or_commitment",
    "question": "question_to_person",
    "announcement": "announcement_terms",
    "status_update": "status_terms",
}
# what "please" asks of nobody: a welcome, comfort, attendance, a pointer
_NOT_A_TASK_VERBS = wordset(
    "be feel join attend gather come enjoy inform note see find let stay welcome bear excuse forgive ignore "
    "disregard"
)
# and of nobody in particular also: "please don't worry", "please do", "please take care"
_NO_TASK_ALONE = wordset("don't do have keep take")
_YOU_RE = re.compile(r"\byou(?:r|rs|rself)?\b", _I)
_ASKED_RE = re.compile(r"\?|\b(?:please|pls|can you|could you|would you|someone|anyone)\b", _I)


class _Classifier(FieldDetectors):
    # --- decisions ---

    def _decision(self, msg: PreparedMessage) -> Draft | None:
        text = msg.text
        for kind, conf, m, s, e in table_hits(msg, DECISION_TABLE):
            sentence = text[s:e]
            if sentence.rstrip().endswith("?"):
                continue
            if DECISION_NEG_RE.search(text, s, m.end() if kind in (DEC_LABEL, DEC_AGREED) else e):
                continue
            body = text[m.end() : e] if kind in (DEC_LABEL, DEC_AGREED) else sentence
            if n_words(DECISION_LEAD_RE.sub("", strip_mentions_prefix(body).strip())) < 2:
                continue
            return self._draft("decision", self._quote(msg, self._said(sentence)), msg, conf, sentence)
        return None

    def _agreement_decision(self, msg: PreparedMessage) -> Draft | None:
        """ "agreed" / "sounds good, let's do it" right after a proposal by someone else."""
        if not AGREE_ONLY_RE.match(msg.text):
            return None
        prev = self._prev_other(msg)
        if prev is None or prev.idx < msg.idx - 3:
            return None
        m = PROPOSAL_RE.search(prev.text)
        if m is None or any(d.kind == "decision" and d.msg is prev for d in self.drafts):
            return None
        sentence = prev.sentence(m.start())
        body = PROPOSAL_STRIP_RE.sub("", strip_mentions_prefix(sentence).strip())
        rendered = clean_title(self.ctx.render(body.rstrip("?"), prev.author))
        if n_words(rendered) < 2:
            return None
        d = self._draft("decision", "Decided: " + lc_first(rendered), prev, 0.6, sentence)
        d.source_ids.append(msg.id)
        return d

    # --- action items ---

    def _action(self, msg: PreparedMessage) -> tuple[Draft | None, bool]:
        """An ask or a commitment. Second value: the message asks for information (a question)."""
        text = msg.text
        ctx = self.ctx
        req = match_request(text, msg.active)
        if req is not None:
            if is_info_request(req):
                return None, True
            name = req.name
            s, e = msg.sentence_at(req.start)
            sentence = text[s:e]
            if ADVICE_RE.search(strip_mentions_prefix(sentence.strip())):
                return None, False  # advice or a pointer, not a task
            who = req.who
            if who is None and SOMEONE_RE.search(sentence):
                who = "someone"
            if name == "we_need":
                owners, adj = [], 0.0
            else:
                owners, adj = self._addressees(msg, req.start, who)
            owners = [o for o in owners if o != msg.author]
            answered = None  # "please also extend ... your ...": asked of the person it answers
            if not owners and name == "please" and msg.idx > 0 and _YOU_RE.search(text):
                answered = self._prev_other(msg)
                owners = [answered.author] if answered is not None and answered.author else []
            if name == "please" and req.verb in (
                _NOT_A_TASK_VERBS if owners else _NOT_A_TASK_VERBS | _NO_TASK_ALONE
            ):
                return None, False  # "please welcome Diego", "please feel free": no task for anyone
            if not owners and name in NEEDS_OWNER and name != "please":
                return None, False
            a = ctx.name(msg.author)
            body = self._said(sentence)
            title = f"{a} asked {ctx.names(owners)}: {body}" if owners else f"{a}: {body}"
            d = self._draft("action_item", title, msg, max(0.3, req.conf + adj), sentence, "open")
            if answered is not None and owners:
                d.source_ids = [answered.id, msg.id]  # the message answered, which names the owner
            d.owners = owners
            d.asker = msg.author
            return d, False
        com = match_commitment(text, msg.active)
        if com is None or not msg.author:
            return None, False
        m, conf = com
        s, e = msg.sentence_at(m.start())
        sentence = text[s:e]
        if sentence.rstrip().endswith("?") or COMMIT_NOT_RE.search(sentence):
            return None, False  # a question, attendance or a vague or conditional intention
        gd = m.groupdict()
        verb = (gd.get("verb") or "").lower()
        action = f"{verb} {(gd.get('rest') or gd.get('obj') or '').strip()}".strip()
        title = self._quote(msg, self._said(sentence))
        if not action or is_pronoun_object(action):
            # "I'll look into it", "on it": about what was said before
            if self._attach_commitment(msg) is not None:
                return None, False
            prev = self._prev_other(msg)
            if prev is None or not _ASKED_RE.search(prev.text):
                return None, False  # "I'll check it" after no request: thanks, not a new task
            ref = self._said(prev.sentence(0))
            d = self._draft(
                "action_item",
                f"{title} (re: {ctx.name(prev.author)}: {ref})",
                msg,
                conf - 0.1,
                sentence,
                "open",
            )
            d.source_ids = [prev.id, msg.id]
        else:
            if self._attach_commitment(msg, only_if_asked=True) is not None:
                return None, False
            d = self._draft("action_item", title, msg, conf, sentence, "open")
        d.owners = [msg.author]
        d.asker = msg.author
        return d, False

    # --- questions ---

    def _question(self, msg: PreparedMessage, info_request: bool) -> Draft | None:
        text, active = msg.text, msg.active
        has_info = INFO_GATE in active and INFO_REQUEST_RE.search(text) is not None
        if "?" not in text and not info_request and not has_info:
            return None
        ctx = self.ctx
        for s, e in msg.spans():
            sentence = text[s:e].strip()
            if not sentence:
                continue
            asks = sentence.endswith("?") or (
                (has_info or info_request) and ("know" in sentence or INFO_REQUEST_RE.search(sentence))
            )
            if not asks and info_request:
                sl = sentence.lower()
                req = match_request(sentence, active_gates(TOKEN_RE.findall(sl), sl))
                asks = req is not None and is_info_request(req)
            if not asks:
                continue
            bare = LEADING_FILLER_RE.sub("", strip_mentions_prefix(sentence)).strip()
            nm = ADDRESS_NAME_RE.match(bare)
            if nm and nm.group(1).lower() in ctx.first_names:
                bare = bare[nm.end() :].strip()
            if n_words(bare) < 3 or RHETORICAL_RE.match(bare) or CHITCHAT_Q_RE.search(bare):
                continue
            if "<@" not in sentence and EVERYONE_RE.search(bare):
                continue  # "does anyone have...?": not asked of a specific person
            if not (
                QUESTION_START_RE.match(bare)
                or INFO_REQUEST_RE.search(bare)
                or info_request
                or (sentence.endswith("?") and "<@" in sentence and n_words(bare) >= 4)
            ):
                continue
            owners, adj = self._addressees(msg, s + (len(text[s:e]) - len(text[s:e].lstrip())), "you")
            owners = [o for o in owners if o != msg.author]
            if not owners:
                return None
            body = clean_title(ctx.render(bare))  # quoted as asked: "how do I ...?"
            if sentence.endswith("?") and not body.endswith("?"):
                body += "?"
            title = f"{ctx.name(msg.author)} asked {ctx.names(owners)}: {lc_first(body)}"
            d = self._draft("question", title, msg, max(0.3, 0.8 + adj), sentence, "open")
            d.owners = owners
            d.asker = msg.author
            return d
        return None

    # --- blockers, incidents, announcements, status updates ---

    def _blocker(self, msg: PreparedMessage) -> Draft | None:
        text = msg.text
        for _, conf, _m, s, e in table_hits(msg, BLOCKER_TABLE):
            sentence = text[s:e]
            if sentence.rstrip().endswith("?") and "blocked" not in sentence.lower():
                continue
            if UNBLOCKED_RE.search(sentence):
                continue
            for d in self.drafts:  # the same person saying again that they are blocked
                if d.kind == "blocker" and d.status == "open" and d.msg.author == msg.author:
                    if msg.id not in d.source_ids:
                        d.source_ids.append(msg.id)
                    return None
            title = self._quote(msg, self._said(sentence))
            d = self._draft("blocker", title, msg, conf, sentence, "open")
            d.owners = [u for u in MENTION_TOKEN_RE.findall(text, s, e) if u != msg.author] or [
                u for u in msg.mentions if u not in msg.cc
            ]
            d.asker = msg.author
            return d
        return None

    def _incident(self, msg: PreparedMessage) -> Draft | None:
        text = msg.text
        if INCIDENT_GATE not in msg.active:
            return None
        m = INCIDENT_STRONG_RE.search(text)
        conf = 0.9
        if m is None:
            m = INCIDENT_MEDIUM_RE.search(text, msg.low)
            if m is None:
                return None
            if not self.incident_channel:
                hits = {x.group(0).lower() for x in INCIDENT_MEDIUM_RE.finditer(text, msg.low)}
                if len(hits) < 2:
                    return None
            conf = 0.65
        s, e = msg.sentence_at(m.start())
        sentence = text[s:e]
        if sentence.rstrip().endswith("?") and conf < 0.9:
            return None
        if CLOSE_INCIDENT_RE.search(text, msg.low) and not INCIDENT_CASE_RE.search(
            text.replace("RESOLVED", "")
        ):
            return None  # a resolution notice, not a new problem
        if self.incident is not None:  # one incident per thread: later reports add sources
            if len(self.incident.source_ids) < 6 and msg.id not in self.incident.source_ids:
                self.incident.source_ids.append(msg.id)
            return None
        title = self._quote(msg, self._said(sentence))
        d = self._draft("incident", title, msg, conf, sentence, "open")
        d.owners = [u for u in msg.mentions if u not in msg.cc]
        self.incident = d
        return d

    def _announcement(self, msg: PreparedMessage) -> Draft | None:
        text = msg.text
        for _, conf, _m, s, e in table_hits(msg, ANNOUNCE_TABLE):
            stripped = ANNOUNCE_STRIP_RE.sub("", strip_mentions_prefix(text[s:e]).strip()).strip()
            if n_words(stripped) < 2:  # "@here heads up!" and the content in the next sentence
                spans = msg.spans()
                idx = next((i for i, sp in enumerate(spans) if sp[0] == s), len(spans))
                if idx + 1 < len(spans):
                    s2, e2 = spans[idx + 1]
                    stripped, e = text[s2:e2].strip(), e2
            rendered = self._said(stripped)
            if n_words(rendered) < 2:
                continue
            title = self._quote(msg, rendered)
            return self._draft("announcement", title, msg, conf, text[s:e])
        return None

    def _status(self, msg: PreparedMessage) -> Draft | None:
        text = msg.text
        for kind, conf, m, s, e in table_hits(msg, STATUS_TABLE):
            sentence = text[s:e]
            if sentence.rstrip().endswith("?") or negated(text, s, m.end()):
                continue
            if kind == 4 and STATUS_COND_RE.search(text, s, m.end()):
                continue  # "once it's merged", "not deployed"
            bare = strip_mentions_prefix(sentence).strip()
            label = STATUS_LABEL_STRIP_RE.match(bare)
            body = self._said(bare[label.end() :] if label else bare)
            if n_words(body) < 2:
                continue
            return self._draft("status_update", self._quote(msg, body), msg, conf, sentence)
        return None

    # --- resolution by later messages ---

    def _close(self, msg: PreparedMessage) -> bool:
        text = msg.text
        closed = False
        is_q = text.rstrip().endswith("?")
        for d in self.drafts:  # questions: answered by the asked person, or by anyone but the asker
            if d.kind != "question" or d.status != "open" or d.msg.idx >= msg.idx:
                continue
            if msg.author == d.asker or is_q or DEFER_RE.search(text):
                continue
            if msg.noise and not (set(WORD_RE.findall(msg.low)) & ANSWER_WORDS):
                continue
            by_owner = msg.author in d.owners
            if not by_owner and msg.mentions and d.asker not in msg.mentions:
                continue  # someone else talking to a third person
            self._resolve(d, msg)
            closed = True
        if is_q or self.open_count <= 0:
            return closed
        m = CLOSE_ACTION_RE.search(text, msg.low)
        if m is not None and not negated(text, msg.sentence_at(m.start())[0], m.start()):
            # a closing word closes an earlier ask when the message is a short ack ("done ✅") or is
            # about the same thing ("updated the runbook"); "shipped the billing page" does not close
            # an unrelated "update the runbook"
            short = n_words(strip_mentions_prefix(text)) <= 4
            open_asks = [
                d for d in self.drafts
                if d.kind == "action_item" and d.status == "open" and d.msg.idx < msg.idx
                and (short or related(msg.text, d.sentence))
            ]  # fmt: skip
            owned = [d for d in open_asks if msg.author in d.owners]
            if owned:
                for d in owned:
                    self._resolve(d, msg)
                closed = True
            elif open_asks and CLOSE_ANYONE_RE.search(text, msg.low):
                self._resolve(open_asks[-1], msg)
                closed = True
        m = CLOSE_BLOCKER_RE.search(text, msg.low)
        if m is not None and not negated(text, msg.sentence_at(m.start())[0], m.start()):
            explicit = UNBLOCKED_CUE_RE.search(text) is not None
            short = n_words(strip_mentions_prefix(text)) <= 4
            for d in reversed(self.drafts):
                if d.kind == "blocker" and d.status == "open" and d.msg.idx < msg.idx:
                    if explicit or short or related(msg.text, d.sentence):
                        self._resolve(d, msg)
                        closed = True
                    break
        inc = self.incident
        if inc is not None and inc.status == "open" and inc.msg.idx < msg.idx:
            m = CLOSE_INCIDENT_RE.search(text, msg.low)
            if m is not None and not negated(text, msg.sentence_at(m.start())[0], m.start()):
                self._resolve(inc, msg)
                closed = True
        return closed

    def _closed_task(self, msg: PreparedMessage, closed: bool) -> bool:
        """The message only resolved an earlier ask ("done, updated it"): the task's resolution says
        it. A report of its own ("I made this PR: <link>, it fixes ...") is still a status update."""
        return (
            closed
            and n_words(strip_mentions_prefix(msg.text)) <= 8
            and any(
                d.kind == "action_item" and d.status == "resolved" and msg.id in d.source_ids
                for d in self.drafts
            )
        )

    # --- main loop ---

    def run(self) -> list[ExtractedItem]:
        for msg in self.msgs:
            if not msg.text:
                continue
            if ("instruction" in msg.low or "prompt" in msg.low) and INJECTION_RE.search(msg.text):
                continue  # text aimed at a model, not at colleagues: never an item, never a closure
            closed = self._close(msg) if self.open_count > 0 else False
            bug = self._bug_post(msg)
            if bug is not None:  # a bug tracker's post: its fields say what it is
                for d in bug:
                    self._add(d)
                continue
            if msg.noise:
                agreed = self._agreement_decision(msg)
                if agreed is not None:
                    self._add(agreed)
                elif ACK_COMMIT_RE.match(msg.text):
                    self._attach_commitment(msg)
                continue
            # a detector whose every pattern is gated off finds nothing: it is not called
            active = msg.active
            inc = self._incident(msg) if INCIDENT_GATE in active else None
            dec = (
                None if active.isdisjoint(DECISION_GATES) else self._decision(msg)
            ) or self._agreement_decision(msg)
            blk = None if active.isdisjoint(BLOCKER_GATES) else self._blocker(msg)
            act, info = (None, False) if active.isdisjoint(ACTION_GATES) else self._action(msg)
            if act is not None and blk is not None and act.msg is blk.msg and act.sentence == blk.sentence:
                act = None  # "can't merge until you approve it": one fact, the blocker
            q = (
                self._question(msg, info)
                if act is None and (info or "?" in msg.text or INFO_GATE in active)
                else None  # _question needs one of these
            )
            if act is None and not info:
                act = self._field_action(msg)
            if blk is None and inc is None:
                blk = self._failure(msg)
                if blk is not None and blk.kind == "incident":
                    inc, blk = blk, None
                    self.incident = inc
            if dec is None:
                dec = self._settled(msg)  # "we'll add a fix in the next release": settled, not a task
                if dec is not None and act is not None and dec.sentence == act.sentence:
                    act = None
            if q is None and not (act is not None and act.sentence.endswith("?")):
                q = self._channel_question(msg)  # a question beside a request is an item of its own
            ann = st = None
            if dec is None and inc is None:
                ann = None if active.isdisjoint(ANNOUNCE_GATES) else self._announcement(msg)
                if ann is None and not closed and blk is None and not active.isdisjoint(STATUS_GATES):
                    st = self._status(msg)  # "I updated them. ... we'll look into a fix": both
                    if st is not None and act is not None and st.sentence == act.sentence:
                        st = None
                if ann is not None and q is not None and ann.sentence.endswith("?"):
                    ann = None  # "@here does anyone know ...?": a question to everyone, not news
                if ann is None and blk is None:
                    ann = self._broadcast(msg)
                    if ann is not None and ann.cue == "introduction":
                        act = st = q = None  # a newcomer's introduction is news, not their task
                if st is None and blk is None and not self._closed_task(msg, closed):
                    st = self._progress(msg)  # "I've updated the teams. Could I have a volunteer ...?"
                    if st is not None and any(
                        d is not None and d.sentence == st.sentence for d in (act, ann, q)
                    ):
                        st = None  # one sentence, one item
            for d in (inc, dec, blk, act, q, ann, st):
                if d is not None:
                    if not d.cue:  # the cue tables' detectors: named by what they matched
                        d.cue = _TABLE_CUES[d.kind]
                    self._add(d)
        return [self._emit(d) for d in self.drafts]


def classify_thread(inp: ClassifyThreadInput) -> ClassifyThreadOutput:
    return trusted(ClassifyThreadOutput, {"items": _Classifier(inp).run()})
