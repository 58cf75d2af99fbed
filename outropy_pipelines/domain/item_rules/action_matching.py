"""Asks and commitments in a text: the request and commitment matchers, with the filters that keep
a hit, and `detect_action_cue`, the text-only cue (scripts/eval_action_items.py).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from outropy_pipelines.domain.item_rules.action_cues import (
    BOILERPLATE_RE,
    CAN_COMMIT_VERBS,
    COMMIT_FIXED_RE,
    COMMIT_RE,
    COND_BEFORE_RE,
    INFO_PLEASE_RE,
    INFO_REQUEST_RE,
    INFO_VERBS,
    NON_COMMIT_VERBS,
    NON_REQUEST_VERBS,
    STRICT_FILTER,
    WH_BEFORE_RE,
    WH_REST_RE,
    WH_SENSITIVE,
    WORK_VERB_SET,
)
from outropy_pipelines.domain.item_rules.cue_gates import (
    COMMIT_FIXED_GATE,
    COMMIT_GATE,
    INFO_GATE,
    REQUEST_BY_GATE,
    REQUEST_GATES,
    active_gates,
)
from outropy_pipelines.domain.item_rules.message_text import TOKEN_RE, plain_quotes


@dataclass(slots=True)
class RequestMatch:
    name: str
    start: int
    end: int
    verb: str
    who: str | None
    rest: str
    conf: float


def match_request(text: str, active: set[int]) -> RequestMatch | None:
    """The ask in `text` (`active`: the gates it passes): for each request pattern, in table order,
    its first match that the filters keep; of these, the first in the text with a confidence of
    0.6 or more, else the first in the text."""
    hits = active & REQUEST_GATES
    if not hits:
        return None
    found: list[RequestMatch] = []
    for gid in sorted(hits):  # table order
        name, rx, conf = REQUEST_BY_GATE[gid]
        for m in rx.finditer(text):
            g = m.groupdict()
            verb = (g.get("verb") or g.get("verb2") or "").lower()
            who = g.get("who") or g.get("who2")
            rest = g.get("rest") if g.get("rest") is not None else (g.get("rest2") or "")
            if name in STRICT_FILTER and verb in NON_REQUEST_VERBS:
                continue
            if name == "modal" and m.group(0)[:3].lower() in ("can", "cou", "won") and "'t" in m.group(0)[:9]:
                continue  # "can't you ..." is usually rhetorical
            if name in ("please", "bare_imperative") and BOILERPLATE_RE.match(f"{verb}{rest}".strip()):
                continue  # mail boilerplate, not an ask
            if name == "we_need" and verb in ("be", "have", "talk", "discuss", "decide", "figure", "think"):
                continue
            if name in WH_SENSITIVE and WH_BEFORE_RE.search(text, max(0, m.start() - 40), m.start()):
                continue  # "what would you recommend?", "if you can't..." : a question or a condition
            if name in ("imperative", "bare_imperative", "you_to") and WH_REST_RE.match(rest):
                continue  # "<@U> delete what?"
            if name == "you_to" and text[m.end() :].lstrip().startswith("?"):
                continue
            found.append(RequestMatch(name, m.start(), m.end(), verb, who, rest, conf))
            break
    if not found:
        return None
    return min(found, key=lambda r: (r.conf < 0.6, r.start))


def is_info_request(req: RequestMatch) -> bool:
    """An ask for information ("can you tell me...", "please let me know..."), not for work."""
    if req.name in ("modal", "possible", "if_could", "appreciate", "mind") and req.verb in INFO_VERBS:
        return True
    return req.name in ("please", "bare_imperative", "imperative") and bool(
        INFO_PLEASE_RE.match(f"{req.verb}{req.rest}".strip())
    )


def match_commitment(text: str, active: set[int]) -> tuple[re.Match[str], float] | None:
    if COMMIT_GATE in active:
        for m in COMMIT_RE.finditer(text):
            verb = m.group("verb").lower()
            if verb in NON_COMMIT_VERBS:
                continue
            subj_end = m.end("subj") if m.group("subj") else m.end("we") if m.group("we") else m.start()
            aux = text[subj_end : m.start("verb")].strip().lower()
            if aux == "can" and verb not in CAN_COMMIT_VERBS:
                continue
            if COND_BEFORE_RE.search(text, max(0, m.start() - 30), m.start()):
                continue  # "if I can figure out ...": not a promise
            if ("going" in aux or "gonna" in aux) and verb not in WORK_VERB_SET:
                continue  # "I'm going to bed"
            return m, 0.75
    if COMMIT_FIXED_GATE in active:
        m = COMMIT_FIXED_RE.search(text)
        if m is not None:
            return m, 0.7
    return None


def detect_action_cue(text: str) -> tuple[str, float] | None:
    """Does this sentence ask someone to do something, commit to doing it, or ask for information?

    Returns ("request" | "commitment" | "info_request", confidence) or None. The addressee is not
    checked here (the classifier requires one for most request forms): this is the text-only cue."""
    text = plain_quotes(text)
    low = text.lower()
    active = active_gates(frozenset(TOKEN_RE.findall(low)), low)
    req = match_request(text, active)
    if req is not None:
        return ("info_request" if is_info_request(req) else "request", req.conf)
    com = match_commitment(text, active)
    if com is not None:
        return ("commitment", com[1])
    if INFO_GATE in active and INFO_REQUEST_RE.search(text):
        return ("info_request", 0.6)
    return None
