"""`local`: a deterministic, offline provider (no network, no key).

- `classify_thread`: rule-based extraction of typed items. Cue patterns per kind run over each
  message; owners come from mentions, a leading name ("Bob, can you..."), the other person of a DM or
  of a two-person exchange; later messages resolve earlier items ("done", "fixed", an answer);
  titles are built from the source sentence with markup resolved to names.
- `summarize_entity`: an extractive summary of today's items and what is still open.
- `briefing_intro`: one counting sentence.

Everything is compiled at import time and every pattern sits behind a cheap word/substring gate, so
a call costs a few regex scans per message (scripts/bench_classification.py).
Message text is only matched, never followed: instructions inside a message cannot change the shape
of the output, and items cite only ids of the input.

Titles depend only on the source message(s) and the messages before them, never on later ones, so a
thread re-classified on a later day yields the same titles (and item ids); later messages only add
sources and change status.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel

from outropy_pipelines.domain.classification import is_noise_text
from outropy_pipelines.domain.contracts import (
    BriefingIntroInput,
    BriefingIntroOutput,
    ClassifyThreadInput,
    ClassifyThreadOutput,
    EntityItemInput,
    ExtractedItem,
    SummarizeEntityInput,
    SummarizeEntityOutput,
    ThreadMessageInput,
)
from outropy_pipelines.domain.trusted import trusted
from outropy_pipelines.llm.base import LLMError, LLMProvider, LLMUsage, OutT
from outropy_pipelines.llm.prompts import Prompt

_I = re.IGNORECASE
_IM = re.IGNORECASE | re.MULTILINE


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


# =============================================================================================
# Normalisation of message text
# =============================================================================================

_QUOTE_PAIRS = (("’", "'"), ("‘", "'"), ("“", '"'), ("”", '"'), ("\u00a0", " "))
_QUOTES = str.maketrans(dict(_QUOTE_PAIRS))


def _plain_quotes(text: str) -> str:
    """`text.translate(_QUOTES)`, faster: no replacement is itself replaced, so the replacements can
    run one after the other, each only when its character is there (str.translate looks every
    character up in a dict)."""
    for old, new in _QUOTE_PAIRS:
        if old in text:
            text = text.replace(old, new)
    return text


_CODE_BLOCK_RE = re.compile(r"```.*?(?:```|$)", re.DOTALL)
_QUOTE_LINE_RE = re.compile(r"^[ \t]*>.*$", re.MULTILINE)
_LINK_LABEL_RE = re.compile(r"<(?:https?|mailto|tel):[^|>]*\|([^>]*)>")
_LINK_BARE_RE = re.compile(r"<((?:https?|mailto|tel):[^>]*)>")
_CHANNEL_REF_RE = re.compile(r"<#(C\w+)(?:\|([^>]*))?>")
_SPECIAL_RE = re.compile(r"<!(here|channel|everyone)(?:\|[^>]*)?>|<!subteam\^\w+(?:\|@?([^>]*))?>")
_USER_MARKUP_RE = re.compile(r"<@([UWB]\w+)(?:\|[^>]*)?>")
_AT_WORD_RE = re.compile(r"(?<![<\w])@([\w.\-]+)")
_SPACES_RE = re.compile(r"[ \t\r\f\v]+")
_BLANK_LINES_RE = re.compile(r"\n\s*\n+")
_MENTION_TOKEN_RE = re.compile(r"<@(\w+)>")
_CC_RE = re.compile(r"\b/?cc\b:?", _I)


def _unescape(text: str) -> str:
    return text.replace("&gt;", ">").replace("&lt;", "<").replace("&amp;", "&")


def _special(m: re.Match[str]) -> str:
    if m.group(1):
        return "@" + m.group(1).lower()
    return "@" + (m.group(2) or "team")


# =============================================================================================
# Cue patterns. Each entry: (name, pattern, confidence, gate). The pattern only runs when one of
# the gate's substrings occurs in the lowercased message (None: always).
# =============================================================================================

M = r"<@\w+>"  # a mention token after normalisation
SENT_START = r"(?:^|(?<=[.!?;] )|(?<=[.!?;]\n))"
LEAD = rf"(?:(?:{M}|@\w+)[\s,:]*)*(?:(?:hey|hi|ok|okay|so|also|and|btw|fyi|quick one|quick q)[\s,:!-]+)?"
# the rest of the clause: up to the end of the sentence (a "." inside "2.4" or "v2.3" does not end it)
REST = r"(?P<rest>(?:[^.!?\n]|[.!?](?=[^\s.!?]))*)"
VERB = r"(?P<verb>[a-z][a-z'-]*)" + REST
NEG_RE = re.compile(r"\bnot\b|n't\b|\bnever\b|\bno\b(?! longer| worries| problem)|\bnobody\b", _I)

# A gate is a space-separated spec: plain words must occur as tokens of the message, anything with
# other characters (":", "<@", "@here", emoji) as a substring. None: the pattern always runs.
Gate = str | None

# --- action items: requests ------------------------------------------------------------------
_WORK_VERBS = (
    "review|update|fix|send|check|look|take|handle|write|prepare|schedule|share|add|remove|merge|"
    "deploy|file|create|draft|ping|follow|set|investigate|run|test|book|sign|approve|reach|sync|"
    "own|pick|grab|finish|complete|submit|upload|post|publish|document|rerun|restart|rollback|"
    "roll|revert|bump|rotate|renew|order|organize|organise|coordinate|chase|escalate|triage|"
    "close|open|move|migrate|upgrade|patch|clean|delete|archive|edit|proofread|polish|double-check|"
    "verify|validate|sort|figure|dig|help|cover|join|attend|present|demo|call|email|loop|invite|"
    "assign|estimate|plan|spec|design|build|implement|ship|release|tag|cut|push|pull|fill|"
    "forward|reply|respond|comment|ask|confirm|give|get|make|put|start|try|keep|hold"
)
_BARE_VERBS = (
    "call|give|send|forward|review|update|fix|schedule|book|share|add|remove|sign|fill|submit|watch|"
    "read|email|ping|merge|deploy|approve|prepare|draft|write|grab|post|upload|file|reply|respond|"
    "reach out|loop|double-check|verify|rerun|restart|revert|rotate|renew|"
    "don't (?:forget|merge|deploy|push|make|change|touch|ship|close|delete)"
)
_INFO_VERBS = _wordset(
    "tell confirm clarify explain remind recall advise let answer know say recommend suggest"
)
_NON_REQUEST_VERBS = _wordset(
    "believe imagine see hear feel be not also even still really possibly please pls plz kindly just "
    "guys all two both you u prefer like want rather agree think know understand realize realise care "
    "expect guess bet"
)
_WORK_VERB_SET = frozenset(_WORK_VERBS.split("|"))
REQUEST_RES: tuple[tuple[str, re.Pattern[str], float, Gate], ...] = (
    (
        "modal",
        re.compile(
            r"\b(?:can|could|would|will|cn|can't|couldn't|won't)\s+(?P<who>you two|you both|both of you|you|u|ya|"
            r"y'all|you guys|you all|"
            r"someone|somebody|anyone|anybody|one of you|either of you)\s+(?:please\s+|pls\s+|plz\s+|kindly\s+|"
            r"also\s+|just\s+|quickly\s+|maybe\s+|possibly\s+|try\s+(?:and|to)\s+)*" + VERB,
            _I,
        ),
        0.85,
        "you u ya y'all you're someone somebody anyone anybody",
    ),
    (
        "please",
        re.compile(r"\b(?:please|pls|plz|pleeease|kindly)\s*,?\s+(?:do\s+)?" + VERB, _I),
        0.8,
        "please pls plz pleeease kindly",
    ),
    (
        "need",
        re.compile(
            r"\b(?:i\s+)?(?:need|needs|want|wanted|would like|'d like|would love|'d love)\s+"
            r"(?P<who>you|u|y'all|you guys|you all|someone|somebody|one of you)\s+to\s+" + VERB,
            _I,
        ),
        0.85,
        "need needs want wanted like love",
    ),
    (
        "mind",
        re.compile(
            r"(?:\b(?:would|do|will)\s+(?P<who>you|u)\s+|(?<!never )(?<!in )\b)mind\s+(?P<verb>[a-z]+ing)\b"
            r"(?P<rest>(?:[^.!?\n]|[.!?](?=[^\s.!?]))*)",
            _I,
        ),
        0.8,
        "mind",
    ),
    (
        "remember",
        re.compile(
            r"\b(?:make sure|ensure|remember|don't forget|do not forget|be sure|you(?:'ll| will) need)\s+"
            r"(?:to|that)\s+" + VERB,
            _I,
        ),
        0.7,
        "sure ensure remember forget need",
    ),
    (
        "label",
        re.compile(
            r"(?:^|(?<=\n))\s*(?:action items?|action|ai|todo|to-do|to do|task|next steps?|owner)\s*[:\-–—]\s*"
            r"(?P<verb>[^\s.!?]+)" + REST,
            _I,
        ),
        0.8,
        ": - – —",
    ),
    (
        "imperative",
        re.compile(
            rf"{SENT_START}\s*(?:{M}[\s,:]*)+(?:(?:please|pls|also|can|maybe|perhaps|just|so|and|then|now|"
            rf"first|quickly)[\s,]+)*(?P<verb>(?:{_WORK_VERBS}))\b"
            r"(?!\s+(?:you|u)\b)" + REST,
            _IM,
        ),
        0.8,
        "<@",
    ),
    (
        "you_to",
        re.compile(
            r"\b(?P<who>you|u)(?:'re| are)?\s+(?:going to need to|gonna need to|will need to|need to|should|"
            r"must|have to|'ll need to|ought to|might want to|may want to|'ll want to)\s+(?:also\s+|probably\s+|"
            r"definitely\s+|really\s+)?" + VERB,
            _I,
        ),
        0.6,
        "you u you're",
    ),
    (
        "possible",
        re.compile(
            r"\b(?:would|will|is)\s+it\s+(?:be\s+)?possible\s+(?:for\s+(?P<who>you|u|someone)\s+)?to\s+"
            + VERB
            + r"|\b(?:are|will|would)\s+(?P<who2>you|u)\s+(?:be\s+)?able\s+to\s+(?P<verb2>[a-z][a-z'-]*)"
            r"(?P<rest2>(?:[^.!?\n]|[.!?](?=[^\s.!?]))*)",
            _I,
        ),
        0.7,
        "possible able",
    ),
    (
        "appreciate",
        re.compile(
            r"\b(?:(?:would|'d)\s+(?:really\s+|greatly\s+|much\s+)?appreciate(?:\s+it)?\s+if|(?:be\s+)?grateful\s+if|"
            r"it(?:'d| would) be (?:great|nice|helpful|awesome|good|ideal|amazing) if)\s+"
            r"(?P<who>you|u|someone|somebody)\s+(?:could|can|would|might)?\s*(?:please\s+|also\s+|just\s+)?"
            + VERB,
            _I,
        ),
        0.7,
        "appreciate grateful if",
    ),
    (
        "if_could",
        re.compile(
            r"\b(?:if|any chance)\s+(?P<who>you|u|someone|somebody)\s+(?:could|can|would)\s+(?:please\s+|also\s+|"
            r"just\s+)?" + VERB,
            _I,
        ),
        0.65,
        "if chance",
    ),
    (
        "why_dont",
        re.compile(r"\bwhy\s+don'?t\s+(?P<who>you|u)\s+(?:just\s+|also\s+)?" + VERB, _I),
        0.65,
        "why",
    ),
    (
        "can_i_get",
        re.compile(
            r"\b(?:can|could|may)\s+(?:i|we)\s+(?:please\s+)?(?P<verb>get|have|grab|borrow)\b" + REST,
            _I,
        ),
        0.65,
        "get have grab borrow",
    ),
    (
        "bare_imperative",
        re.compile(
            rf"{SENT_START}\s*(?:{M}[\s,:]+|[A-Z][a-z]+\s*[,:]\s*)?(?i:(?:so|also|and|pls|please|just|then)[\s,]+)?"
            rf"(?P<verb>(?i:{_BARE_VERBS}))\b(?![:\-])" + REST,
            re.MULTILINE,
        ),
        0.6,
        "call give send forward review update fix schedule book share add remove sign fill submit watch read email ping merge deploy approve prepare draft write grab post upload file reply respond reach loop double verify rerun restart revert rotate renew don't",
    ),
    (
        "assign",
        re.compile(r"\b(?:assigning|assigned|assign)\s+(?:this|it|that)?\s*to\s+(?P<verb>)" + REST, _I),
        0.8,
        "assign assigned assigning",
    ),
    (
        "we_need",
        re.compile(
            r"\bwe\s+(?:still\s+|really\s+|also\s+|definitely\s+)?(?:need|have|'ll need|will need|must|'ve got|"
            r"got)\s+to\s+" + VERB,
            _I,
        ),
        0.45,
        "we",
    ),
)
# request kinds that need an addressee (a mention, a leading name, the DM partner or the other
# person of a two-person exchange); "can you..." and "we need to..." may stand without one
_NEEDS_OWNER = frozenset(
    {"imperative", "bare_imperative", "you_to", "remember", "please", "can_i_get", "why_dont", "if_could",
     "appreciate", "possible", "mind", "label"}
)  # fmt: skip
_STRICT_FILTER = frozenset(
    {"modal", "please", "need", "remember", "you_to", "if_could", "appreciate", "why_dont"}
)
_BOILERPLATE_RE = re.compile(
    r"^(?:click|visit|unsubscribe|go (?:here|to)|sign in|follow (?:the|this|these) (?:link|instructions)|"
    r"add \S+ to your|remove yourself|note|ignore|disregard|see|find|do not hesitate|don't hesitate|feel free)",
    _I,
)
_WH_SENSITIVE = frozenset({"modal", "you_to", "possible", "mind", "need"})
# a wh-word or a condition shortly before the cue, with no sentence boundary in between
_WH_BEFORE_RE = re.compile(
    r"\b(?:what|which|how|where|when|why|who|whom|if|whether|unless)\b[^.!?\n]{0,25}$", _I
)
_WH_REST_RE = re.compile(r"^\s*(?:what|which|how|where|when|why|who)\b", _I)
_COND_BEFORE_RE = re.compile(
    r"\b(?:if|when|unless|whether|once|maybe|perhaps|hopefully)\s+(?:\w+\s+){0,2}$", _I
)
_SOMEONE_RE = re.compile(r"\b(?:someone|somebody|anyone|anybody)\b", _I)
_INFO_PLEASE_RE = re.compile(r"^(?:let (?:me|us) know|tell|confirm|advise|clarify|explain|answer)\b", _I)

# --- action items: commitments ---------------------------------------------------------------
_NON_COMMIT_VERBS = _wordset(
    "be have need miss probably never not see think guess bet assume hope say admit wait believe "
    "likely just also still only ever want wish mention note remember understand agree disagree "
    "leave lose fail forget die cry sleep go refrain"
)
_CAN_COMMIT_VERBS = _wordset(
    "take handle help look review pick own grab cover write fix send update check draft prepare run"
)
COMMIT_RE = re.compile(
    r"\b(?P<subj>i)(?:'ll| will| shall|'m going to| am going to|'m gonna| am gonna|'d be happy to|"
    r" would be happy to|'m happy to| am happy to| can take care of| can)\s+"
    r"(?:go ahead and\s+|also\s+|just\s+|quickly\s+|happily\s+|definitely\s+|try to\s+|then\s+|now\s+|"
    r"first\s+|still\s+)*" + VERB,
    _I,
)
COMMIT_FIXED_RE = re.compile(
    rf"{SENT_START}\s*{LEAD}(?P<phrase>(?:i'm |i am )?on it|i(?:'ve| have)? got (?:it|this|that)|"
    r"leave it (?:to|with) me|will do|consider it done|taking (?:it|this|that)|"
    r"i(?:'ll| will| can) (?:take|grab|own|handle|do) (?:it|this|that|this one|that one)|"
    r"(?:i'm |i am )?(?:looking into|looking at|investigating|digging into|checking) (?:it|this|that|now)|"
    r"let me (?P<verb>take|look|check|handle|fix|dig|investigate|find|ask|follow|try|loop|get|"
    r"draft|write|update|review|send|grab|sort|figure|confirm)" + REST + r"|"
    r"(?:i'm|i am) (?P<ing>taking|handling|picking up|grabbing|owning) (?P<obj>(?:[^.!?\n]|[.!?](?=[^\s.!?]))*))",
    _IM,
)
ACK_COMMIT_RE = re.compile(
    r"^\s*(?:(?:sure|yes|yep|yeah|ok|okay|absolutely|of course|np|no problem|can do|happy to)[\s,!.]*)*"
    r"(?:(?:i'm |i am )?on it|will do|i(?:'ve| have)? got (?:it|this|that)|i(?:'ll| will| can) (?:take|grab|"
    r"handle|do|own) (?:it|this|that)(?: one)?|mine|leave it (?:to|with) me|consider it done|can do|"
    r"happy to|sure thing|taking (?:it|this|that)|i'll look into it|i'll check|i'll do it)\b",
    _I,
)

# --- questions -------------------------------------------------------------------------------
QUESTION_START_RE = re.compile(
    r"^(?:what|what's|whats|when|when's|where|where's|who|who's|whom|why|how|how's|which|whose|is|isn't|are|"
    r"aren't|do|does|did|didn't|doesn't|don't|can|could|would|will|won't|should|shall|has|hasn't|have|"
    r"haven't|was|were|any|anything|eta|is there|are there|had|got|ever|anyone|anybody|someone|you)\b",
    _I,
)
INFO_REQUEST_RE = re.compile(
    r"\b(?:let me know|lmk|any (?:update|updates|news|eta|progress|word)|what's the (?:eta|status)|"
    r"status on|eta on|do you (?:know|remember|have)|have you (?:heard|seen|checked)|any idea|do we know)\b",
    _I,
)
_INFO_GATE = "know lmk update updates news eta progress word status heard seen checked idea remember"
RHETORICAL_RE = re.compile(
    r"^(?:right|really|why not|anyone|anybody|make sense|makes sense|ok|okay|yes|no|huh|what|"
    r"you there|thoughts|sound good|sounds good|ready|cool|how are you|how's it going|"
    r"how was your (?:weekend|day|trip)|you know|is that right|isn't it|no\?)\W*$",
    _I,
)
CHITCHAT_Q_RE = re.compile(
    r"^(?:got a (?:sec|second|minute|min|moment)|you around|are you around|free for a (?:call|chat)|"
    r"how (?:was|were|is|are) (?:the|your) (?:trip|weekend|vacation|holiday|holidays|day|week|flight|talk)|"
    r"how are you|how's it going|how are things|anyone up for|who's up for|want to grab|wanna grab)\b",
    _I,
)
_EVERYONE_RE = re.compile(
    r"\b(?:anyone|anybody|everyone|everybody|someone|somebody|folks|y'all|you all|you guys|people|team)\b", _I
)
DEFER_RE = re.compile(
    r"\b(?:let me (?:check|look|ask|see|find out)|i'll (?:check|look|ask|find out)|not sure|no idea|"
    r"don't know|dunno|checking|good question|will check|looking into it)\b",
    _I,
)
ANSWER_WORDS = _wordset(
    "yes yep yeah yup ya no nope nah correct right exactly confirmed affirmative negative true false done sure"
)
_ADDRESS_NAME_RE = re.compile(r"^\s*(?:hey\s+|hi\s+|ok\s+|so\s+|@)?([A-Za-z][a-z]+)\b\s*[,:]")

# --- decisions -------------------------------------------------------------------------------
DEC_LABEL, DEC_VERB, DEC_PHRASE, DEC_AGREED, DEC_WILL = range(5)
DECISION_RES: tuple[tuple[int, re.Pattern[str], float, Gate], ...] = (
    (
        DEC_LABEL,
        re.compile(
            rf"{SENT_START}\s*{LEAD}(?:decision|decided|final (?:call|decision|answer|verdict)|resolution|"
            r"conclusion|verdict|outcome|consensus|agreement|ruling)\s*[:\-–—]\s*",
            _IM,
        ),
        0.9,
        "decision decided final resolution conclusion verdict outcome consensus agreement ruling",
    ),
    (
        DEC_VERB,
        re.compile(
            r"\b(?:we|we've|we have|team|team has|the team|they|i|i've|leadership|everyone|all of us|"
            r"we all)\s+(?:have\s+|has\s+|just\s+|finally\s+|all\s+|now\s+|collectively\s+)*"
            r"(?:decided|agreed|settled|concluded|chose|opted|committed|aligned)\b(?!\s+(?:yet|anything))",
            _I,
        ),
        0.85,
        "decided agreed settled concluded chose opted committed aligned",
    ),
    (
        DEC_PHRASE,
        re.compile(
            r"\b(?:consensus is|it's decided|it is decided|decision (?:is|was) (?:to|that|made)|"
            r"we(?:'re| are) going (?:with|ahead with|to go with)|going forward,? we(?:'ll| will)|"
            r"let'?s (?:go with|stick with|go ahead with|move forward with|proceed with|lock in|"
            r"go for|commit to)|the plan is (?:to|that)|we(?:'ll| will) (?:go with|stick with|go ahead with)|"
            r"approved\s*[:\-–—]|signed off on|green ?light(?:ed)?)\b",
            _I,
        ),
        0.75,
        "go stick proceed move lock commit going plan decision decided consensus approved signed green greenlight greenlighted",
    ),
    (
        DEC_AGREED,
        re.compile(rf"{SENT_START}\s*{LEAD}agreed\s*[—–\-:,.!]+\s*(?=\w)", _IM),
        0.8,
        "agreed",
    ),
    (
        DEC_WILL,
        re.compile(
            r"\bwe(?:'ll| will| are going to|'re going to|'re gonna)\s+(?:ship|freeze|launch|use|move to|"
            r"switch to|deprecate|sunset|drop|adopt|postpone|delay|cut|pause|cancel|keep|migrate to)\b",
            _I,
        ),
        0.65,
        "we'll we're will going gonna",
    ),
)
DECISION_NEG_RE = re.compile(
    r"\b(?:not|haven't|hasn't|didn't|never|yet to|undecided|tbd|no decision|if we|unless|whether|"
    r"before we|once we|should we|did we|have we|do we)\b",
    _I,
)
_DECISION_LEAD_RE = re.compile(r"^(?:(?:ok|okay|so|alright|right|great|cool)[\s,]+)*(?:let'?s|lets)\s+", _I)
PROPOSAL_RE = re.compile(
    r"\b(?:i propose|proposal\s*[:\-]|propose (?:we|that|to)|i suggest|suggestion\s*[:\-]|suggest (?:we|that)|"
    r"how about|what if we|should we|shall we|what about|i'd recommend|i recommend|my vote is|"
    r"let's|lets|we could|option [a-z0-9]\b)",
    _I,
)
AGREE_ONLY_RE = re.compile(
    r"^\s*(?:(?:ok|okay|yes|yeah|yep|great|perfect|cool)[\s,!.]*)?(?:agreed|agree|i agree|sounds good|sgtm|"
    r"works for me|deal|yes,? let'?s do (?:it|that)|let'?s do (?:it|that)|let'?s go with (?:it|that)|"
    r"ship it|approved|makes sense,? let'?s do it|\+1,? let'?s do it|go for it|do it)\b[\s!.👍:+1a-z_]*$",
    _I,
)
PROPOSAL_STRIP_RE = re.compile(
    r"^(?:(?:ok|okay|so|hmm|well)[\s,]+)*(?:i propose (?:that |we )?|proposal\s*[:\-]\s*|i suggest (?:that |we )?|"
    r"suggestion\s*[:\-]\s*|how about (?:we )?|what if we |should we |shall we |what about |"
    r"i'd recommend |i recommend |my vote is (?:for |to )?|let'?s |lets |we could )",
    _I,
)

# --- blockers --------------------------------------------------------------------------------
BLOCKER_RES: tuple[tuple[int, re.Pattern[str], float, Gate], ...] = (
    (
        0,
        re.compile(
            r"\b(?:blocked\s+(?:on|by|until|waiting|pending|for now|atm|right now|again)|(?:is|are|am|'m|'re|"
            r"currently|still|totally|completely)\s+blocked|blocker\s*[:\-–—]|blocking\s+(?:me|us|the|our|my|"
            r"this|deploy|release)|is a blocker|hard blocker|a blocker for)\b|(?:^|[—–-]\s*)blocked\b",
            _I,
        ),
        0.85,
        "blocked blocker blocking blockers",
    ),
    (
        1,
        re.compile(
            r"\b(?:can't|cannot|can not|couldn't|unable to|won't be able to|not able to)\s+"
            r"(?:\w+\s+){0,4}?(?:until|till|unless|without)\b",
            _I,
        ),
        0.8,
        "until till unless without",
    ),
    (
        2,
        re.compile(
            r"\bwaiting\s+(?:on|for)\b[^.?!\n]{1,80}?\b(?:before|so|until)\s+(?:i|we)\s+(?:can|could)\b|"
            r"\b(?:is|are|am|'m|'re|still|currently|totally|completely)\s+(?:stuck|held up|on hold)\b|"
            r"(?<!was )(?<!were )\b(?:stuck|held up|on hold)\s+(?:on|by|until|waiting|because)\b|"
            r"\b(?:still|been)\s+waiting\s+(?:on|for)\b",
            _I,
        ),
        0.7,
        "waiting stuck held hold",
    ),
)
_UNBLOCKED_CUE_RE = re.compile(
    r"\b(?:unblocked|no longer blocked|good to go|you're clear|you can (?:go ahead|proceed|merge|deploy))\b",
    _I,
)
_UNBLOCKED_RE = re.compile(r"\b(?:no longer|not|isn't|aren't|un)\s*blocked\b|\bunblocked\b", _I)

# --- incidents -------------------------------------------------------------------------------
INCIDENT_STRONG_RE = re.compile(
    r"\b(?:sev[\s-]?[0-4]|outage|(?<!post-)incident(?!\s+(?:drill|review|retro|retrospective|postmortem|"
    r"report|process|training|management|handbook|playbook|runbook|rotation|template|response plan))|"
    r"p[01](?= incident| issue|:| alert| page)|pagerduty|paged|"
    r"(?:prod|production|site|api|app|website|service|checkout|login|db|database|payments?|search|"
    r"cluster|server|servers|everything)\s+(?:is\s+|are\s+|went\s+|seems\s+|looks\s+|just\s+)*"
    r"(?:down|unavailable|unreachable|on fire|hard down)|returning\s+5\d\ds|5\d\ds\b|5xx\b|"
    r"error rates?\s+(?:spiked|spiking|up|elevated|through the roof|jumped)|data loss)\b|"
    r"\[(?:firing|alert|critical)\b|(?-i:\bFIRING\b|\bCRITICAL\b)",
    _I,
)
INCIDENT_CASE_RE = re.compile(r"\b(?:FIRING|CRITICAL|ALERT)\b")
INCIDENT_MEDIUM_RE = re.compile(
    r"\b(?:is down|are down|went down|error rates?|spik(?:e|ed|ing)|elevated|latency|timeouts?|"
    r"timing out|degraded|crash(?:ing|ed|es|looping)?|"
    r"(?:customers|users) (?:are |were )?(?:reporting|seeing|hitting|getting|complaining)|"
    r"not loading|failing|failed|broken)\b",
    _I,
)
_INCIDENT_GATE = (
    "sev sev0 sev1 sev2 sev3 sev4 sev-1 outage outages incident incidents p0 p1 pagerduty paged pager down "
    "unavailable unreachable fire 5xx error errors firing critical alert alerts alarm spike spiked spiking "
    "elevated latency timeout timeouts timing degraded crash crashing crashed crashes crashlooping rollback "
    "rolled roll oncall call reporting seeing hitting getting complaining loading failing failed broken loss "
    "50 sev- on-call"
)
INCIDENT_CHANNEL_RE = re.compile(
    r"incident|ops|alert|oncall|on-call|sre|prod|outage|status|page|war-?room", _I
)

# --- announcements ---------------------------------------------------------------------------
ANNOUNCE_RES: tuple[tuple[int, re.Pattern[str], float, Gate], ...] = (
    (0, re.compile(r"@(?:here|channel|everyone)\b", _I), 0.9, "@here @channel @everyone"),
    (
        1,
        re.compile(
            rf"{SENT_START}\s*{LEAD}(?:heads[\s-]?up|announcement|announcing|psa|reminder|friendly reminder|"
            r"quick reminder|fyi all|fyi everyone|fyi team|attention|important|note to all)\b\s*[:!,\-–—]?"
            r"|[📣🚨]|:mega:|:loudspeaker:|:rotating_light:",
            _IM,
        ),
        0.8,
        "heads announcement announcing psa reminder fyi attention important note 📣 🚨 :mega: :loudspeaker: "
        ":rotating_light:",
    ),
    (
        2,
        re.compile(
            r"(?<!the )\b(?:heads[\s-]?up|just a reminder|reminder that|psa|we're excited to announce|"
            r"please welcome|welcome (?:our|to the team))\b",
            _I,
        ),
        0.7,
        "heads reminder psa announce welcome",
    ),
)
ANNOUNCE_STRIP_RE = re.compile(
    r"^(?:(?:@(?:here|channel|everyone)|:[a-z_]+:|📣|🚨)[\s,:!\-–—]*)*"
    r"(?:(?:friendly |quick |just a )?(?:heads[\s-]?up|announcement|announcing|psa|reminder|fyi all|"
    r"fyi everyone|fyi team|fyi|attention|important|note to all)\b[\s,:!\-–—]*)?"
    r"(?:(?:@(?:here|channel|everyone))[\s,:!\-–—]*)*",
    _I,
)

# --- status updates --------------------------------------------------------------------------
_DONE_VERBS = (
    r"shipped|deployed|released|merged|finished|completed|launched|rolled out|landed|wrapped up|"
    r"published|migrated|upgraded|fixed|closed|delivered|pushed out|tagged|set up|implemented|"
    r"rolled back|reverted|added|updated|built|removed|cleaned up|onboarded|sent out|kicked off"
)
_DONE_FIRST_RE = re.compile(rf"^(?:just|finally|also|successfully|{_DONE_VERBS})$", _I)
_STATUS_LABELS = (
    r"update|status|status update|progress|progress update|weekly update|daily update|eod update|eod|"
    r"standup|stand-up|quick update|small update"
)
STATUS_RES: tuple[tuple[int, re.Pattern[str], float, Gate], ...] = (
    (
        0,
        re.compile(
            rf"{SENT_START}\s*{LEAD}(?:{_STATUS_LABELS}|done|release notes|changelog|shipped|deployed|yesterday|"
            r"today)\s*[:\-–—]\s*(?=\S)",
            _IM,
        ),
        0.8,
        ": - – —",
    ),
    (
        1,
        re.compile(
            r"\b\d{1,3}\s?%\s+(?:done|complete|completed|finished|there|through|migrated|rolled out)\b", _I
        ),
        0.8,
        "%",
    ),
    (
        2,
        re.compile(
            rf"(?:{SENT_START}\s*{LEAD}|\b(?:i|we|i've|we've|i have|we have|team|the team|i just|we just)\s+)"
            rf"(?:just\s+|finally\s+|also\s+|successfully\s+|now\s+)*(?:{_DONE_VERBS})\b",
            _IM,
        ),
        0.7,
        "shipped deployed released merged finished completed launched rolled landed wrapped published migrated "
        "upgraded fixed closed delivered pushed tagged set implemented reverted added updated built removed "
        "cleaned onboarded sent kicked",
    ),
    (
        3,
        re.compile(
            r"\b(?:is|are|went|is now|are now|now)\s+live\b|\b(?:has|have)\s+(?:now\s+)?been\s+"
            r"(?:deployed|released|merged|shipped|rolled out|launched|completed|fixed|migrated|upgraded)\b|"
            r"\bmade (?:good |some |great )?progress\b|\bon track\b|\bis (?:almost |nearly |mostly )?done\b",
            _I,
        ),
        0.7,
        "live been progress track done",
    ),
    (
        4,
        re.compile(
            r"\b[\w-]+\s+(?:is\s+|are\s+|was\s+|were\s+|has\s+|have\s+|just\s+|finally\s+)*(?:finished|completed|"
            r"shipped|deployed|landed|merged|released|went out|rolled out|launched|succeeded|passed|wrapped up)\b"
            r"(?!\s+(?:yet|\?))",
            _I,
        ),
        0.6,
        "finished completed shipped deployed landed merged released went rolled launched succeeded passed wrapped",
    ),
)
_STATUS_COND_RE = re.compile(r"\b(?:if|once|when|until|after|before|unless|whether|whenever|not|n't)\b", _I)
STATUS_LABEL_STRIP_RE = re.compile(rf"^(?:{_STATUS_LABELS})\s*[:\-–—]\s*", _I)

# --- closing cues ----------------------------------------------------------------------------
_CHECK_MARKS = r"✅|✔|☑|:white_check_mark:|:heavy_check_mark:|:ballot_box_with_check:|:done:"
CLOSE_ACTION_RE = re.compile(
    r"\b(?:done|did it|all done|merged|shipped|fixed|sent|updated|submitted|deployed|completed|finished|"
    r"took care of|taken care of|all set|handled|posted|reviewed|approved|lgtm|booked|scheduled|filed|"
    r"created|added|published|renewed|rotated|resolved|closed|uploaded|signed|delivered|"
    r"(?:is|are) (?:up|live|out|ready|published|posted|in))\b|" + _CHECK_MARKS,
    _I,
)
CLOSE_ANYONE_RE = re.compile(
    r"\b(?:done|all done|took care of|taken care of|all set|fixed|merged|shipped|completed)\b|"
    + _CHECK_MARKS,
    _I,
)
CLOSE_BLOCKER_RE = re.compile(
    r"\b(?:unblocked|fixed|resolved|merged|landed|done|deployed|good to go|no longer blocked|"
    r"you're clear|all clear|should work now|works now|you can (?:go ahead|proceed|merge|deploy))\b|"
    + _CHECK_MARKS,
    _I,
)
CLOSE_INCIDENT_RE = re.compile(
    r"\b(?:resolved|mitigated|all clear|recovered|back (?:up|online|to normal)|(?:is|are) (?:back )?up again|"
    r"closing (?:the |this )?incident|incident (?:is )?(?:closed|over)|stable now|fixed|"
    r"(?:errors?|error rate|latency) (?:is |are )?back to normal)\b",
    _I,
)

# --- prompt injection: a message talking to a model is data, and not a work item ---------------
INJECTION_RE = re.compile(
    r"\b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+|the\s+|your\s+)*(?:previous|prior|above|"
    r"earlier|system|preceding)\s+(?:instructions|prompts?|rules|messages)|\bnew instructions\s*:|"
    r"\bsystem prompt\b",
    _I,
)

# --- due dates -------------------------------------------------------------------------------
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

# --- entities (project names) ----------------------------------------------------------------
PROJECT_CHANNEL_RE = re.compile(
    r"^(?:proj|project|prj|initiative|epic|feat|feature|program|programme|launch|p)[-_](?P<name>[a-z0-9][\w-]*)$",
    _I,
)
PROJECT_TEXT_RES: tuple[tuple[re.Pattern[str], bool, str], ...] = (
    (re.compile(r"\b[Pp]roject\s+(?P<name>[A-Z][\w-]*(?:\s+[A-Z][\w-]*)?)"), False, "roject"),
    (re.compile(r"\b(?P<name>[A-Z][a-zA-Z0-9]{2,})\s+[vV]\d+(?:\.\d+)*\b"), False, " v"),
    (
        re.compile(
            r"\bthe\s+(?P<name>[A-Z][a-zA-Z0-9]{2,})\s+(?:project|launch|migration|rollout|initiative|epic|"
            r"program|programme|release|beta|pilot|workstream|redesign|rewrite)\b"
        ),
        False,
        "the ",
    ),
    (
        re.compile(r"#(?:proj|project|prj|initiative|epic|feat|program)[-_](?P<name>[a-z0-9][\w-]*)", _I),
        True,
        "#",
    ),
)
_NOT_PROJECTS = _wordset(
    "The This That These Those Our Your Their My We It Its Q1 Q2 Q3 Q4 Version Release Sprint Phase "
    "Step Part Chapter Python Node Java Go Rust Ubuntu Windows Debian Android Chrome Firefox Safari "
    "Slack Zoom Google Monday Tuesday Wednesday Thursday Friday Saturday Sunday Jira GitHub Project New "
    "Old Next Last First Final"
)
_VERSION_SUFFIX_RE = re.compile(r"[-_ ](?:v?\d+(?:\.\d+)*|alpha|beta|dev|eng|team|prod|staging)$", _I)

# --- titles ----------------------------------------------------------------------------------
_URL_RE = re.compile(r"<?(?:https?|mailto|tel):[^\s>|]+(?:\|([^>]*))?>?")
# "label (https://...)" as the cleaner writes a labelled link: the label is enough in a title
_LABELLED_URL_RE = re.compile(r"\s*\((?:https?|mailto|tel):[^\s)]+\)")
_EMOJI_RE = re.compile(r":[a-z0-9_+\-']+:", _I)
_FIRST_PERSON = (
    (re.compile(r"\bI'm\b|\bI am\b", _I), "{a} is"),
    (re.compile(r"\bI've\b|\bI have\b", _I), "{a} has"),
    (re.compile(r"\bI'll\b|\bI will\b", _I), "{a} will"),
    (re.compile(r"\bI'd\b", _I), "{a} would"),
    (re.compile(r"\bI\b"), "{a}"),
    (re.compile(r"\bmy\b", _I), "{a}'s"),
    (re.compile(r"\bme\b", _I), "{a}"),
)
_FIRST_PERSON_GATE_RE = re.compile(r"\b(?:i|me|my)\b|\bi'", _I)
_SECOND_PERSON = (
    (re.compile(r"\byourself\b", _I), "themselves"),
    (re.compile(r"\byours\b", _I), "theirs"),
    (re.compile(r"\byour\b", _I), "their"),
)
_TRAILING_FILLER_RE = re.compile(
    r"(?:[\s,]+(?:please|pls|plz|thanks|thx|ty|thank you|asap|when you get a chance|when you have a (?:sec|"
    r"minute|moment)|if you can|if possible|for me|real quick|quickly|too|as well|then|\?+|!+|:\)|🙏))+\s*$",
    _I,
)
_LEADING_FILLER_RE = re.compile(
    r"^(?:[\s,:;\-–—]+|(?:hey|hi|hello|ok|okay|so|also|and|but|btw|fyi|oh|ah|well|alright|great|cool|"
    r"thanks|quick one|quick q|one more thing|one thing)\b[\s,:!\-–—]*)+",
    _I,
)
_MENTIONS_PREFIX_RE = re.compile(rf"^\s*(?:(?:{M}|@\w+)[\s,:]*)+")
# a sentence ends at . ! ? followed by a space or the end ("v2026.11.02-2" and "e.g" do not split)
_SENT_SPLIT_RE = re.compile(r"(?:[^.!?\n]|[.!?]+(?=[^\s.!?]))+[.!?]*|[.!?]+")
_WORD_RE = re.compile(r"\w+")
MAX_TITLE = 160

KIND_ORDER = ("incident", "decision", "blocker", "action_item", "question", "announcement", "status_update")
_OPEN_ENDED = frozenset({"action_item", "question", "blocker", "incident"})
_DUE_KINDS = frozenset({"action_item", "decision", "announcement", "question", "blocker"})
_LOWER_FIRST = _wordset(
    "the a an we our this that these those it its to for on in of at by with from and or but so "
    "update fix send check look take handle write prepare schedule share add remove merge deploy file "
    "create draft ping follow set investigate run test book sign approve reach sync own pick grab "
    "finish complete submit upload post publish document rerun restart roll revert bump rotate renew "
    "review do get make put start try keep hold move go use ship freeze launch switch drop cut "
    "what when where who why how which is are does did can could would will should has have was "
    "were any there let tell confirm clarify explain remind just also please what's when's where's "
    "who's how's we'll we're we've let's there's it's that's delete call give forward email read watch "
    "going after ok final had got"
)


_TOKEN_RE = re.compile(r"[\w']+")
_PLAIN_WORD_RE = re.compile(r"^[\w']+$")


# Gates are indexed once: word -> gate ids, literal -> gate ids. Per message, the gates that pass
# are found with one set intersection and a few substring tests (`_active_gates`).
_WORD_TRIGGERS: dict[str, list[int]] = {}
_LITERAL_TRIGGERS: dict[str, list[int]] = {}
_N_GATES = 0


def _gate(spec: Gate) -> int | None:
    """Register a gate spec; returns its id (None: always run)."""
    global _N_GATES
    if spec is None:
        return None
    gid = _N_GATES
    _N_GATES += 1
    for item in spec.split():
        target = _WORD_TRIGGERS if _PLAIN_WORD_RE.match(item) else _LITERAL_TRIGGERS
        target.setdefault(item, []).append(gid)
    return gid


def _gated(table: Sequence[tuple]) -> tuple:
    """Replace each entry's gate spec (last element) by its gate id: (..., gate id)."""
    return tuple((*entry[:-1], _gate(entry[-1])) for entry in table)


REQUEST_TABLE = _gated(REQUEST_RES)
DECISION_TABLE = _gated(DECISION_RES)
BLOCKER_TABLE = _gated(BLOCKER_RES)
ANNOUNCE_TABLE = _gated(ANNOUNCE_RES)
STATUS_TABLE = _gated(STATUS_RES)
INFO_GATE = _gate(_INFO_GATE)
INCIDENT_GATE = _gate(_INCIDENT_GATE)
COMMIT_GATE = _gate("i i'll i'm i'd i've")
COMMIT_FIXED_GATE = _gate(
    "on got leave will consider taking let looking investigating digging checking handling picking grabbing "
    "owning take grab own handle mine"
)
_REQUEST_BY_GATE = {entry[3]: entry[:3] for entry in REQUEST_TABLE}
_REQUEST_GATES = frozenset(_REQUEST_BY_GATE)
assert None not in _REQUEST_GATES, "every request pattern needs a gate"
_TRIGGER_WORDS = frozenset(_WORD_TRIGGERS)
# the gates of each detector (every pattern of these tables has one)
_DECISION_GATES = frozenset(entry[3] for entry in DECISION_TABLE)
_BLOCKER_GATES = frozenset(entry[3] for entry in BLOCKER_TABLE)
_ANNOUNCE_GATES = frozenset(entry[3] for entry in ANNOUNCE_TABLE)
_STATUS_GATES = frozenset(entry[3] for entry in STATUS_TABLE)
_ACTION_GATES = _REQUEST_GATES | {COMMIT_GATE, COMMIT_FIXED_GATE}
assert None not in _DECISION_GATES | _BLOCKER_GATES | _ANNOUNCE_GATES | _STATUS_GATES | _ACTION_GATES
_LITERALS = tuple(_LITERAL_TRIGGERS.items())


def _literal_groups(
    literals: Sequence[tuple[str, list[int]]],
) -> tuple[tuple[str | None, tuple[tuple[str, list[int]], ...]], ...]:
    """Literals grouped under a character each of them contains (None: the non-ASCII ones), so a
    message is searched for the few group characters and only then for the literals of a group."""
    groups: dict[str | None, list[tuple[str, list[int]]]] = {}
    for lit, ids in literals:
        if not lit.isascii():
            key: str | None = None
        else:
            key = next((c for c in ":-@%" if c in lit), lit)
        groups.setdefault(key, []).append((lit, ids))
    return tuple((key, tuple(members)) for key, members in groups.items())


_LITERAL_GROUPS = _literal_groups(_LITERALS)
_NO_CC: frozenset[str] = frozenset()
_NO_GATES: frozenset[int] = frozenset()


def _active_gates(words: Iterable[str], low: str) -> set[int]:
    """The gates a message passes: `words` are its tokens (any iterable), `low` its lowercase text."""
    active: set[int] = set()
    for w in _TRIGGER_WORDS.intersection(words):
        active.update(_WORD_TRIGGERS[w])
    ascii_only = low.isascii()
    for key, members in _LITERAL_GROUPS:
        if key is None:
            if ascii_only:
                continue
        elif key not in low:
            continue
        for lit, ids in members:
            if lit in low:
                active.update(ids)
    return active


DUE_GATE_RE = re.compile("|".join(re.escape(g) for g in _DUE_GATE))


# =============================================================================================
# Working records
# =============================================================================================


@dataclass(slots=True)
class _Msg:
    idx: int
    id: str
    author: str
    text: str  # normalised: mentions as <@U..>, links unwrapped, code blocks and quotes removed
    low: str
    active: set[int] | frozenset[int]  # ids of the gates it passes (none for noise: no detector runs)
    mentions: list[str]  # user ids mentioned (not the author), in order
    cc: frozenset[str] | set[str]  # mentioned after "cc" (read only)
    noise: bool
    _spans: list[tuple[int, int]] | None = None

    def spans(self) -> list[tuple[int, int]]:
        if self._spans is None:
            self._spans = [(m.start(), m.end()) for m in _SENT_SPLIT_RE.finditer(self.text)]
        return self._spans

    def sentence_at(self, pos: int) -> tuple[int, int]:
        for start, end in self.spans():
            if start <= pos < end:
                return start, end
        return 0, len(self.text)

    def sentence(self, pos: int) -> str:
        s, e = self.sentence_at(pos)
        return self.text[s:e]


def _table_hits(msg: _Msg, table: Sequence[tuple]) -> Iterator[tuple[str, float, re.Match[str], int, int]]:
    """(kind, confidence, match, sentence start, sentence end) for each row of a detector table
    whose gate is active and whose pattern matches the message."""
    text, active = msg.text, msg.active
    for kind, rx, conf, gate in table:
        if gate is not None and gate not in active:
            continue
        m = rx.search(text)
        if m is None:
            continue
        s, e = msg.sentence_at(m.start())
        yield kind, conf, m, s, e


@dataclass(slots=True)
class _Draft:
    kind: str
    title: str
    msg: _Msg
    confidence: float
    source_ids: list[str]
    owners: list[str] = field(default_factory=list)
    mentions: list[str] = field(default_factory=list)
    status: str = "info"
    due: str | None = None
    entities: list[str] = field(default_factory=list)
    asker: str = ""
    sentence: str = ""  # the source sentence in the message it comes from


@dataclass(slots=True)
class _Req:
    name: str
    start: int
    end: int
    verb: str
    who: str | None
    rest: str
    conf: float


# Pure functions of a string, memoised: a day's threads share a handful of days and channels.
_MEMO_LIMIT = 4096
_CHANNEL_FACTS: dict[str, tuple[str | None, bool]] = {}
_DAYS: dict[str, dt.date | None] = {}


def _parse_day(day: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(day)
    except ValueError:
        return None


def _channel_project(channel_name: str) -> str | None:
    cm = PROJECT_CHANNEL_RE.match(channel_name.lstrip("#"))
    return _project_display(cm.group("name")) if cm else None


def _channel_facts(channel_name: str) -> tuple[str | None, bool]:
    """(project named by the channel, incident-like channel), per channel name (memoised)."""
    facts = _CHANNEL_FACTS.get(channel_name)
    if facts is None:
        facts = (_channel_project(channel_name), bool(INCIDENT_CHANNEL_RE.search(channel_name)))
        if len(_CHANNEL_FACTS) >= _MEMO_LIMIT:
            _CHANNEL_FACTS.clear()
        _CHANNEL_FACTS[channel_name] = facts
    return facts


def _day_of(day: str) -> dt.date | None:
    if day in _DAYS:
        return _DAYS[day]
    d = _parse_day(day)
    if len(_DAYS) >= _MEMO_LIMIT:
        _DAYS.clear()
    _DAYS[day] = d
    return d


class _Context:
    """Per-thread lookups: people, names, day, channel.

    The name tables (`name_to_id`, `first_names`) are built on first use: most messages never need
    them (they serve "@Name" mentions, "Bob, ..." addresses and project names)."""

    __slots__ = (
        "_first_names",
        "_name_to_id",
        "_names_longest_first",
        "channel_project",
        "day",
        "incident_channel",
        "is_dm",
        "people",
    )

    def __init__(self, inp: ClassifyThreadInput) -> None:
        people: dict[str, str] = dict(inp.people)
        for m in inp.messages:
            if m.author_id and m.author_id not in people:
                people[m.author_id] = m.author_name
        for name in people.values():
            if name and name[0].isspace() and name.isspace():
                name.split()[0]  # raises IndexError, as building the name tables always did
        self.people = people
        self._name_to_id: dict[str, str] | None = None
        self._first_names: dict[str, str] | None = None
        self._names_longest_first: list[tuple[str, str]] | None = None
        self.is_dm = inp.channel_kind in ("im", "mpim")
        self.day: dt.date | None = _day_of(inp.day)
        self.channel_project, self.incident_channel = _channel_facts(inp.channel_name)

    def _build_names(self) -> None:
        name_to_id: dict[str, str] = {}
        first_names: dict[str, str] = {}
        for uid, name in self.people.items():
            if not name:
                continue
            name_to_id.setdefault(name, uid)
            first = name.split()[0].lower()
            if len(first) >= 2:
                first_names.setdefault(first, uid)
        self._name_to_id = name_to_id
        self._first_names = first_names

    @property
    def name_to_id(self) -> dict[str, str]:
        if self._name_to_id is None:
            self._build_names()
        return self._name_to_id  # type: ignore[return-value]

    @property
    def first_names(self) -> dict[str, str]:
        if self._first_names is None:
            self._build_names()
        return self._first_names  # type: ignore[return-value]

    def name(self, uid: str) -> str:
        return self.people.get(uid) or "someone"

    def names(self, uids: Sequence[str]) -> str:
        names = [self.name(u) for u in uids]
        if not names:
            return "someone"
        if len(names) == 1:
            return names[0]
        return ", ".join(names[:-1]) + " and " + names[-1]

    def prep(self, m: ThreadMessageInput, idx: int) -> _Msg:
        text = m.text or ""
        if text:
            if not text.isascii():
                text = _plain_quotes(text)
            if "&" in text:
                text = _unescape(text)
            if "```" in text:
                text = _CODE_BLOCK_RE.sub(" ", text)
            if ">" in text:
                text = _QUOTE_LINE_RE.sub("", text)
            if "<" in text:
                text = _LINK_LABEL_RE.sub(r"\1", text)
                text = _LINK_BARE_RE.sub(r"\1", text)
                text = _CHANNEL_REF_RE.sub(lambda x: "#" + (x.group(2) or x.group(1)), text)
                text = _SPECIAL_RE.sub(_special, text)
                text = _USER_MARKUP_RE.sub(r"<@\1>", text)
            if "@" in text:
                text = self._mentions_from_names(text)
            if "  " in text or "\t" in text or "\r" in text or "\f" in text or "\v" in text:
                text = _SPACES_RE.sub(" ", text)
            if "\n" in text:
                text = _BLANK_LINES_RE.sub("\n", text)
            text = text.strip()
        mentions = list(dict.fromkeys(m.mentions)) if m.mentions else []
        if "<@" in text:
            for uid in _MENTION_TOKEN_RE.findall(text):
                if uid not in mentions:
                    mentions.append(uid)
        if mentions:
            mentions = [u for u in mentions if u and u != m.author_id]
        low = text.lower()
        cc: frozenset[str] | set[str] = _NO_CC
        if mentions and "cc" in low:
            cut = _CC_RE.search(text)
            if cut:
                cc = set(_MENTION_TOKEN_RE.findall(text, cut.end()))
        tokens = _TOKEN_RE.findall(low)
        # more than 12 distinct words and no mention or emoji markup: is_noise_text would say no
        noise = (
            False
            if len(tokens) > 12 and len(set(tokens)) > 12 and "@" not in text and ":" not in text
            else is_noise_text(text)
        )
        active = _NO_GATES if noise else _active_gates(tokens, low)
        return _Msg(idx, m.id, m.author_id, text, low, active, mentions, cc, noise)

    def _mentions_from_names(self, text: str) -> str:
        """'@Bob Smith' / '@bob' (mentions the cleaner already resolved) -> <@U..>."""
        if self._names_longest_first is None:  # "@Bob Diaz" before "@Bob"
            self._names_longest_first = sorted(self.name_to_id.items(), key=lambda kv: -len(kv[0]))
        for name, uid in self._names_longest_first:
            token = "@" + name
            if token in text:
                text = text.replace(token, f"<@{uid}>")
        if "@" in text:
            first = self.first_names
            text = _AT_WORD_RE.sub(
                lambda x: f"<@{first[x.group(1).lower()]}>" if x.group(1).lower() in first else x.group(0),
                text,
            )
        return text

    def render(self, text: str, author: str | None = None) -> str:
        """Markup -> readable text; first person -> the author's name."""
        if "<@" in text:
            text = _MENTION_TOKEN_RE.sub(lambda x: self.name(x.group(1)), text)
        if "http" in text or "mailto:" in text:
            text = _LABELLED_URL_RE.sub("", text)
            text = _URL_RE.sub(lambda x: x.group(1) or "(link)", text)
        if ":" in text:
            text = _EMOJI_RE.sub("", text)
        if author is not None and _FIRST_PERSON_GATE_RE.search(text):
            a = self.name(author)
            for rx, repl in _FIRST_PERSON:
                text = rx.sub(repl.replace("{a}", a), text)
        return text

    def due(self, sentence: str) -> str | None:
        if self.day is None:
            return None
        if DUE_GATE_RE.search(sentence.lower()) is None:
            return None
        for m in DUE_RE.finditer(sentence):
            if _PAST_BEFORE_RE.search(sentence, 0, m.start()):
                continue
            d = _resolve_due(m, self.day)
            if d is not None:
                return d.isoformat()
        return None

    def entities(self, text: str) -> list[str]:
        found: list[str] = []
        if self.channel_project:
            found.append(self.channel_project)
        for rx, from_slug, gate in PROJECT_TEXT_RES:
            if gate not in text:
                continue
            for m in rx.finditer(text):
                name = m.group("name").strip()
                if from_slug:
                    name = _project_display(name)
                if (
                    not name
                    or name in _NOT_PROJECTS
                    or name in self.name_to_id
                    or name.lower() in self.first_names
                ):
                    continue
                found.append(name)
        return list(dict.fromkeys(found))


def _project_display(slug: str) -> str:
    slug = slug.strip("-_ #")
    while True:
        cut = _VERSION_SUFFIX_RE.sub("", slug)
        if cut == slug or not cut:
            break
        slug = cut
    words = [w for w in re.split(r"[-_\s]+", slug) if w]
    return " ".join(w[:1].upper() + w[1:] for w in words)


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


def _clean_title(text: str) -> str:
    text = _SPACES_RE.sub(" ", text.replace("\n", " ")).strip()
    text = _LEADING_FILLER_RE.sub("", text)
    text = _TRAILING_FILLER_RE.sub("", text).strip(" ,;:-–—")
    if len(text) > MAX_TITLE:
        cut = text[: MAX_TITLE - 1]
        space = cut.rfind(" ")
        text = (cut[:space] if space > MAX_TITLE // 2 else cut).rstrip(" ,;:-") + "…"
    return text.rstrip(" .")


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:] if text and text[0].islower() else text


def _lc_first(text: str) -> str:
    """Lowercase a sentence's first word when it is an ordinary word (not a name or acronym)."""
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        first = text.split(" ", 1)[0]
        if first.lower() in _LOWER_FIRST:
            return text[0].lower() + text[1:]
    return text


def _strip_mentions_prefix(text: str) -> str:
    return _MENTIONS_PREFIX_RE.sub("", text)


def _n_words(text: str) -> int:
    return len(_WORD_RE.findall(text))


def _words(text: str) -> set[str]:
    # words of one or two characters count when they hold a digit ("v2", "q3", "7")
    return {w for w in _WORD_RE.findall(text.lower()) if len(w) > 2 or w[0].isdigit() or w[-1].isdigit()}


def _is_pronoun_object(action: str) -> bool:
    words = action.lower().rstrip(".!").split()
    return (
        bool(words)
        and len(words) <= 4
        and words[-1] in ("it", "this", "that", "them", "one", "these", "those")
    )


def _render_second_person(text: str) -> str:
    if "you" in text.lower():
        for rx, repl in _SECOND_PERSON:
            text = rx.sub(repl, text)
    return text


_STEM_STOP = _wordset(
    "that this with from have will would could should there their they them then than what when where "
    "which about into your yours just also done merged shipped fixed sent updated deployed finished "
    "completed closed resolved please thanks"
)


def _stems(text: str) -> set[str]:
    return {w[:5] for w in _WORD_RE.findall(text.lower()) if len(w) > 3 and w not in _STEM_STOP}


def _related(text: str, other: str) -> bool:
    """Do two texts share a content word (compared by their first five letters)?"""
    return not _stems(text).isdisjoint(_stems(other))


def _negated(text: str, start: int, end: int) -> bool:
    return NEG_RE.search(text, start, end) is not None


# =============================================================================================
# Cue detectors on text (public: used by scripts/eval_action_items.py)
# =============================================================================================


def _match_request(text: str, active: set[int]) -> _Req | None:
    """The ask in `text` (`active`: the gates it passes): for each request pattern, in table order,
    its first match that the filters keep; of these, the first in the text with a confidence of
    0.6 or more, else the first in the text."""
    hits = active & _REQUEST_GATES
    if not hits:
        return None
    found: list[_Req] = []
    for gid in sorted(hits):  # table order
        name, rx, conf = _REQUEST_BY_GATE[gid]
        for m in rx.finditer(text):
            g = m.groupdict()
            verb = (g.get("verb") or g.get("verb2") or "").lower()
            who = g.get("who") or g.get("who2")
            rest = g.get("rest") if g.get("rest") is not None else (g.get("rest2") or "")
            if name in _STRICT_FILTER and verb in _NON_REQUEST_VERBS:
                continue
            if name == "modal" and m.group(0)[:3].lower() in ("can", "cou", "won") and "'t" in m.group(0)[:9]:
                continue  # "can't you ..." is usually rhetorical
            if name in ("please", "bare_imperative") and _BOILERPLATE_RE.match(f"{verb}{rest}".strip()):
                continue  # mail boilerplate, not an ask
            if name == "we_need" and verb in ("be", "have", "talk", "discuss", "decide", "figure", "think"):
                continue
            if name in _WH_SENSITIVE and _WH_BEFORE_RE.search(text, max(0, m.start() - 40), m.start()):
                continue  # "what would you recommend?", "if you can't..." : a question or a condition
            if name in ("imperative", "bare_imperative", "you_to") and _WH_REST_RE.match(rest):
                continue  # "<@U> delete what?"
            if name == "you_to" and text[m.end() :].lstrip().startswith("?"):
                continue
            found.append(_Req(name, m.start(), m.end(), verb, who, rest, conf))
            break
    if not found:
        return None
    return min(found, key=lambda r: (r.conf < 0.6, r.start))


def _is_info_request(req: _Req) -> bool:
    """An ask for information ("can you tell me...", "please let me know..."), not for work."""
    if req.name in ("modal", "possible", "if_could", "appreciate", "mind") and req.verb in _INFO_VERBS:
        return True
    return req.name in ("please", "bare_imperative", "imperative") and bool(
        _INFO_PLEASE_RE.match(f"{req.verb}{req.rest}".strip())
    )


def _match_commitment(text: str, active: set[int]) -> tuple[re.Match[str], float] | None:
    if COMMIT_GATE in active:
        for m in COMMIT_RE.finditer(text):
            verb = m.group("verb").lower()
            if verb in _NON_COMMIT_VERBS:
                continue
            aux = text[m.end("subj") : m.start("verb")].strip().lower()
            if aux == "can" and verb not in _CAN_COMMIT_VERBS:
                continue
            if _COND_BEFORE_RE.search(text, max(0, m.start() - 30), m.start()):
                continue  # "if I can figure out ...": not a promise
            if ("going" in aux or "gonna" in aux) and verb not in _WORK_VERB_SET:
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
    text = _plain_quotes(text)
    low = text.lower()
    active = _active_gates(frozenset(_TOKEN_RE.findall(low)), low)
    req = _match_request(text, active)
    if req is not None:
        return ("info_request" if _is_info_request(req) else "request", req.conf)
    com = _match_commitment(text, active)
    if com is not None:
        return ("commitment", com[1])
    if INFO_GATE in active and INFO_REQUEST_RE.search(text):
        return ("info_request", 0.6)
    return None


# =============================================================================================
# The classifier
# =============================================================================================


class _Classifier:
    def __init__(self, inp: ClassifyThreadInput) -> None:
        self.ctx = _Context(inp)
        self.msgs = [self.ctx.prep(m, i) for i, m in enumerate(inp.messages)]
        self.drafts: list[_Draft] = []
        self.open_count = 0  # open drafts, to skip resolution checks when there are none
        self.incident: _Draft | None = None
        self.incident_channel = self.ctx.incident_channel

    # --- helpers ---

    def _prev_other(self, msg: _Msg) -> _Msg | None:
        for j in range(msg.idx - 1, -1, -1):
            p = self.msgs[j]
            if p.author != msg.author and p.author and not p.noise:
                return p
        return None

    def _two_person_partner(self, msg: _Msg) -> str | None:
        """The other author when, up to this message, exactly two people have spoken."""
        authors = {p.author for p in self.msgs[: msg.idx + 1] if p.author}
        if len(authors) == 2 and msg.author in authors:
            return next(a for a in authors if a != msg.author)
        return None

    def _addressees(self, msg: _Msg, start: int, who: str | None) -> tuple[list[str], float]:
        """Who is being asked, and a confidence adjustment."""
        ctx = self.ctx
        text = msg.text
        if who and who.lower() in ("someone", "somebody", "anyone", "anybody"):
            return [], -0.3
        s_start, s_end = msg.sentence_at(start)
        if msg.mentions:
            in_sentence = [u for u in _MENTION_TOKEN_RE.findall(text, s_start, s_end) if u not in msg.cc]
            before = [u for u in _MENTION_TOKEN_RE.findall(text, 0, start) if u not in msg.cc]
            owners = list(dict.fromkeys(u for u in (in_sentence or before) if u != msg.author))
            if not owners:
                owners = [u for u in msg.mentions if u not in msg.cc]
            if owners:
                return owners, 0.0
        for head in (text[s_start:], text):
            nm = _ADDRESS_NAME_RE.match(head)
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

    def _draft(
        self, kind: str, title: str, msg: _Msg, conf: float, sentence: str, status: str = "info"
    ) -> _Draft:
        d = _Draft(
            kind=kind,
            title=_cap(title),
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

    def _resolve(self, d: _Draft, msg: _Msg) -> None:
        d.status = "resolved"
        self.open_count -= 1
        if msg.id not in d.source_ids:
            d.source_ids.append(msg.id)

    # --- decisions ---

    def _decision(self, msg: _Msg) -> _Draft | None:
        text = msg.text
        for kind, conf, m, s, e in _table_hits(msg, DECISION_TABLE):
            sentence = text[s:e]
            if sentence.rstrip().endswith("?"):
                continue
            if DECISION_NEG_RE.search(text, s, m.end() if kind in (DEC_LABEL, DEC_AGREED) else e):
                continue
            body = text[m.end() : e] if kind in (DEC_LABEL, DEC_AGREED) else sentence
            body = _DECISION_LEAD_RE.sub("", _strip_mentions_prefix(body).strip())
            rendered = _clean_title(self.ctx.render(body, msg.author))
            if _n_words(rendered) < 2:
                continue
            low_r = rendered.lower()
            title = rendered if ("decid" in low_r or "agreed" in low_r) else "Decided: " + _lc_first(rendered)
            return self._draft("decision", title, msg, conf, sentence)
        return None

    def _agreement_decision(self, msg: _Msg) -> _Draft | None:
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
        body = PROPOSAL_STRIP_RE.sub("", _strip_mentions_prefix(sentence).strip())
        rendered = _clean_title(self.ctx.render(body.rstrip("?"), prev.author))
        if _n_words(rendered) < 2:
            return None
        d = self._draft("decision", "Decided: " + _lc_first(rendered), prev, 0.6, sentence)
        d.source_ids.append(msg.id)
        return d

    # --- action items ---

    def _action(self, msg: _Msg) -> tuple[_Draft | None, bool]:
        """An ask or a commitment. Second value: the message asks for information (a question)."""
        text = msg.text
        ctx = self.ctx
        req = _match_request(text, msg.active)
        if req is not None:
            if _is_info_request(req):
                return None, True
            name = req.name
            s, e = msg.sentence_at(req.start)
            sentence = text[s:e]
            who = req.who
            if who is None and _SOMEONE_RE.search(sentence):
                who = "someone"
            if name == "we_need":
                owners, adj = [], 0.0
            else:
                owners, adj = self._addressees(msg, req.start, who)
            owners = [o for o in owners if o != msg.author]
            if (
                not owners
                and name in _NEEDS_OWNER
                and not (name == "please" and _SOMEONE_RE.search(sentence))
            ):
                return None, False
            a = ctx.name(msg.author)
            action = (
                ""
                if name in ("assign", "can_i_get")
                else _strip_mentions_prefix(f"{req.verb} {req.rest}".strip())
            )
            if name == "label" and owners:
                action = re.sub(r"^(?:to|should|will|must|needs? to)\s+", "", action.strip(), flags=_I)
            if name in ("mind", "can_i_get", "assign") or not action or (name == "label" and not owners):
                body = _lc_first(_clean_title(ctx.render(_strip_mentions_prefix(sentence), msg.author)))
                title = f"{a} asked {ctx.names(owners)}: {body}" if owners else f"{a}: {body}"
            else:
                action = _lc_first(_clean_title(_render_second_person(ctx.render(action, msg.author))))
                if name == "we_need":
                    title = f"{a}: we need to {action}"
                elif owners:
                    title = f"{ctx.names(owners)} to {action}"
                else:
                    title = f"{a} asked for someone to {action}"
            d = self._draft("action_item", title, msg, max(0.3, req.conf + adj), sentence, "open")
            d.owners = owners
            d.asker = msg.author
            return d, False
        com = _match_commitment(text, msg.active)
        if com is None or not msg.author:
            return None, False
        m, conf = com
        s, e = msg.sentence_at(m.start())
        sentence = text[s:e]
        if sentence.rstrip().endswith("?"):
            return None, False
        gd = m.groupdict()
        verb = (gd.get("verb") or "").lower()
        rest = (gd.get("rest") or gd.get("obj") or "").strip()
        a = ctx.name(msg.author)
        action = _lc_first(_clean_title(ctx.render(f"{verb} {rest}".strip(), msg.author)))
        if action and gd.get("ing"):
            action = f"{gd['ing'].lower().replace('ing', '', 1).replace('tak', 'take').replace('handl', 'handle')} {action}"
        if not action or _is_pronoun_object(action):
            # "I'll look into it", "on it": about what was said before
            if self._attach_commitment(msg) is not None:
                return None, False
            prev = self._prev_other(msg)
            if prev is None:
                return None, False
            ref = _clean_title(ctx.render(_strip_mentions_prefix(prev.sentence(0)), prev.author))
            title = _clean_title(f"{a} will {action or 'handle'} (re: {_lc_first(ref)})")
            d = self._draft("action_item", title, msg, conf - 0.1, sentence, "open")
            d.source_ids = [prev.id, msg.id]
        else:
            if self._attach_commitment(msg, only_if_asked=True) is not None:
                return None, False
            d = self._draft("action_item", _clean_title(f"{a} will {action}"), msg, conf, sentence, "open")
        d.owners = [msg.author]
        d.asker = msg.author
        return d, False

    def _attach_commitment(self, msg: _Msg, only_if_asked: bool = False) -> _Draft | None:
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

    # --- questions ---

    def _question(self, msg: _Msg, info_request: bool) -> _Draft | None:
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
                req = _match_request(sentence, _active_gates(_TOKEN_RE.findall(sl), sl))
                asks = req is not None and _is_info_request(req)
            if not asks:
                continue
            bare = _LEADING_FILLER_RE.sub("", _strip_mentions_prefix(sentence)).strip()
            nm = _ADDRESS_NAME_RE.match(bare)
            if nm and nm.group(1).lower() in ctx.first_names:
                bare = bare[nm.end() :].strip()
            if _n_words(bare) < 3 or RHETORICAL_RE.match(bare) or CHITCHAT_Q_RE.search(bare):
                continue
            if "<@" not in sentence and _EVERYONE_RE.search(bare):
                continue  # "does anyone have...?": not asked of a specific person
            if not (
                QUESTION_START_RE.match(bare)
                or INFO_REQUEST_RE.search(bare)
                or info_request
                or (sentence.endswith("?") and "<@" in sentence and _n_words(bare) >= 4)
            ):
                continue
            owners, adj = self._addressees(msg, s + (len(text[s:e]) - len(text[s:e].lstrip())), "you")
            owners = [o for o in owners if o != msg.author]
            if not owners:
                return None
            body = _clean_title(ctx.render(bare))  # quoted as asked: "how do I ...?"
            if sentence.endswith("?") and not body.endswith("?"):
                body += "?"
            title = f"{ctx.name(msg.author)} asked {ctx.names(owners)}: {_lc_first(body)}"
            d = self._draft("question", title, msg, max(0.3, 0.8 + adj), sentence, "open")
            d.owners = owners
            d.asker = msg.author
            return d
        return None

    # --- blockers, incidents, announcements, status updates ---

    def _blocker(self, msg: _Msg) -> _Draft | None:
        text = msg.text
        for _, conf, _m, s, e in _table_hits(msg, BLOCKER_TABLE):
            sentence = text[s:e]
            if sentence.rstrip().endswith("?") and "blocked" not in sentence.lower():
                continue
            if _UNBLOCKED_RE.search(sentence):
                continue
            for d in self.drafts:  # the same person saying again that they are blocked
                if d.kind == "blocker" and d.status == "open" and d.msg.author == msg.author:
                    if msg.id not in d.source_ids:
                        d.source_ids.append(msg.id)
                    return None
            body = _clean_title(self.ctx.render(_strip_mentions_prefix(sentence), msg.author))
            a = self.ctx.name(msg.author)
            title = body if (a in body or "block" in body.lower()) else f"{a} is blocked: {_lc_first(body)}"
            d = self._draft("blocker", title, msg, conf, sentence, "open")
            d.owners = [u for u in _MENTION_TOKEN_RE.findall(text, s, e) if u != msg.author] or [
                u for u in msg.mentions if u not in msg.cc
            ]
            d.asker = msg.author
            return d
        return None

    def _incident(self, msg: _Msg) -> _Draft | None:
        text = msg.text
        if INCIDENT_GATE not in msg.active:
            return None
        m = INCIDENT_STRONG_RE.search(text)
        conf = 0.9
        if m is None:
            m = INCIDENT_MEDIUM_RE.search(text)
            if m is None:
                return None
            if not self.incident_channel:
                hits = {x.group(0).lower() for x in INCIDENT_MEDIUM_RE.finditer(text)}
                if len(hits) < 2:
                    return None
            conf = 0.65
        s, e = msg.sentence_at(m.start())
        sentence = text[s:e]
        if sentence.rstrip().endswith("?") and conf < 0.9:
            return None
        if CLOSE_INCIDENT_RE.search(text) and not INCIDENT_CASE_RE.search(text.replace("RESOLVED", "")):
            return None  # a resolution notice, not a new problem
        if self.incident is not None:  # one incident per thread: later reports add sources
            if len(self.incident.source_ids) < 6 and msg.id not in self.incident.source_ids:
                self.incident.source_ids.append(msg.id)
            return None
        body = _clean_title(self.ctx.render(_strip_mentions_prefix(sentence), msg.author))
        low = body.lower()
        title = body if any(w in low for w in ("incident", "outage", "sev")) else "Incident: " + body
        d = self._draft("incident", title, msg, conf, sentence, "open")
        d.owners = [u for u in msg.mentions if u not in msg.cc]
        self.incident = d
        return d

    def _announcement(self, msg: _Msg) -> _Draft | None:
        text = msg.text
        for _, conf, _m, s, e in _table_hits(msg, ANNOUNCE_TABLE):
            stripped = ANNOUNCE_STRIP_RE.sub("", _strip_mentions_prefix(text[s:e]).strip()).strip()
            if _n_words(stripped) < 2:  # "@here heads up!" and the content in the next sentence
                spans = msg.spans()
                idx = next((i for i, sp in enumerate(spans) if sp[0] == s), len(spans))
                if idx + 1 < len(spans):
                    s2, e2 = spans[idx + 1]
                    stripped, e = text[s2:e2].strip(), e2
            rendered = _clean_title(self.ctx.render(stripped, msg.author))
            if _n_words(rendered) < 2:
                continue
            title = f"{self.ctx.name(msg.author)} announced: {_lc_first(rendered)}"
            return self._draft("announcement", title, msg, conf, text[s:e])
        return None

    def _status(self, msg: _Msg) -> _Draft | None:
        text = msg.text
        for kind, conf, m, s, e in _table_hits(msg, STATUS_TABLE):
            sentence = text[s:e]
            if sentence.rstrip().endswith("?") or _negated(text, s, m.end()):
                continue
            if kind == 4 and _STATUS_COND_RE.search(text, s, m.end()):
                continue  # "once it's merged", "not deployed"
            bare = _strip_mentions_prefix(sentence).strip()
            a = self.ctx.name(msg.author)
            label = STATUS_LABEL_STRIP_RE.match(bare)
            if label:
                body = _clean_title(self.ctx.render(bare[label.end() :], msg.author))
                title = f"{a} update: {_lc_first(body)}" if body else ""
            else:
                body = _clean_title(self.ctx.render(_LEADING_FILLER_RE.sub("", bare), msg.author))
                first = body.split(" ", 1)[0] if body else ""
                title = f"{a} {first.lower()}{body[len(first) :]}" if _DONE_FIRST_RE.match(first) else body
            if _n_words(title) < 3:
                continue
            return self._draft("status_update", _clean_title(title), msg, conf, sentence)
        return None

    # --- resolution by later messages ---

    def _close(self, msg: _Msg) -> bool:
        text = msg.text
        closed = False
        is_q = text.rstrip().endswith("?")
        for d in self.drafts:  # questions: answered by the asked person, or by anyone but the asker
            if d.kind != "question" or d.status != "open" or d.msg.idx >= msg.idx:
                continue
            if msg.author == d.asker or is_q or DEFER_RE.search(text):
                continue
            if msg.noise and not (set(_WORD_RE.findall(msg.low)) & ANSWER_WORDS):
                continue
            by_owner = msg.author in d.owners
            if not by_owner and msg.mentions and d.asker not in msg.mentions:
                continue  # someone else talking to a third person
            self._resolve(d, msg)
            closed = True
        if is_q or self.open_count <= 0:
            return closed
        m = CLOSE_ACTION_RE.search(text)
        if m is not None and not _negated(text, msg.sentence_at(m.start())[0], m.start()):
            # a closing word closes an earlier ask when the message is a short ack ("done ✅") or is
            # about the same thing ("updated the runbook"); "shipped the billing page" does not close
            # an unrelated "update the runbook"
            short = _n_words(_strip_mentions_prefix(text)) <= 4
            open_asks = [
                d for d in self.drafts
                if d.kind == "action_item" and d.status == "open" and d.msg.idx < msg.idx
                and (short or _related(msg.text, d.sentence))
            ]  # fmt: skip
            owned = [d for d in open_asks if msg.author in d.owners]
            if owned:
                for d in owned:
                    self._resolve(d, msg)
                closed = True
            elif open_asks and CLOSE_ANYONE_RE.search(text):
                self._resolve(open_asks[-1], msg)
                closed = True
        m = CLOSE_BLOCKER_RE.search(text)
        if m is not None and not _negated(text, msg.sentence_at(m.start())[0], m.start()):
            explicit = _UNBLOCKED_CUE_RE.search(text) is not None
            short = _n_words(_strip_mentions_prefix(text)) <= 4
            for d in reversed(self.drafts):
                if d.kind == "blocker" and d.status == "open" and d.msg.idx < msg.idx:
                    if explicit or short or _related(msg.text, d.sentence):
                        self._resolve(d, msg)
                        closed = True
                    break
        inc = self.incident
        if inc is not None and inc.status == "open" and inc.msg.idx < msg.idx:
            m = CLOSE_INCIDENT_RE.search(text)
            if m is not None and not _negated(text, msg.sentence_at(m.start())[0], m.start()):
                self._resolve(inc, msg)
                closed = True
        return closed

    # --- main loop ---

    def run(self) -> list[ExtractedItem]:
        for msg in self.msgs:
            if not msg.text:
                continue
            if ("instruction" in msg.low or "prompt" in msg.low) and INJECTION_RE.search(msg.text):
                continue  # text aimed at a model, not at colleagues: never an item, never a closure
            closed = self._close(msg) if self.open_count > 0 else False
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
                None if active.isdisjoint(_DECISION_GATES) else self._decision(msg)
            ) or self._agreement_decision(msg)
            blk = None if active.isdisjoint(_BLOCKER_GATES) else self._blocker(msg)
            act, info = (None, False) if active.isdisjoint(_ACTION_GATES) else self._action(msg)
            if act is not None and blk is not None and act.msg is blk.msg and act.sentence == blk.sentence:
                act = None  # "can't merge until you approve it": one fact, the blocker
            q = (
                self._question(msg, info)
                if act is None and (info or "?" in msg.text or INFO_GATE in active)
                else None  # _question needs one of these
            )
            ann = st = None
            if dec is None and inc is None:
                ann = None if active.isdisjoint(_ANNOUNCE_GATES) else self._announcement(msg)
                if (
                    ann is None
                    and not closed
                    and act is None
                    and blk is None
                    and not active.isdisjoint(_STATUS_GATES)
                ):
                    st = self._status(msg)
            for d in (inc, dec, blk, act, q, ann, st):
                if d is not None:
                    self._add(d)
        return [self._emit(d) for d in self.drafts]

    def _add(self, d: _Draft) -> None:
        """Keep a draft unless it repeats an earlier one of the same kind (then merge sources)."""
        words = _words(d.title)
        if words:
            for other in self.drafts:
                if other.kind != d.kind:
                    continue
                ow = _words(other.title)
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
    def _emit(d: _Draft) -> ExtractedItem:
        # built without validation (`trusted`): every value is of its declared type by construction
        # (kinds and statuses from this module, confidence clamped to [0.05, 0.95], a source always)
        return trusted(
            ExtractedItem,
            {
                "kind": d.kind,
                "title": d.title,
                "detail": "",
                "owners": list(dict.fromkeys(d.owners)),
                "mentions": list(dict.fromkeys(d.mentions)),
                "due": d.due,
                "entities": list(d.entities),
                "confidence": d.confidence,
                "status": d.status if d.kind in _OPEN_ENDED else "info",
                "source_ids": list(dict.fromkeys(d.source_ids)),
            },
        )


def classify_thread(inp: ClassifyThreadInput) -> ClassifyThreadOutput:
    return trusted(ClassifyThreadOutput, {"items": _Classifier(inp).run()})


# =============================================================================================
# Summaries and intros
# =============================================================================================

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
            title
            if ("decid" in title.lower() or "agreed" in title.lower())
            else "decided " + _lc_first(title)
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


# =============================================================================================
# The provider
# =============================================================================================


def _as(model: type[BaseModel], payload: BaseModel) -> BaseModel:
    if isinstance(payload, model):
        return payload
    try:
        return model.model_validate(payload.model_dump() if isinstance(payload, BaseModel) else payload)
    except ValueError as exc:
        raise LLMError(f"local provider: payload is not a {model.__name__}: {exc}") from exc


class LocalProvider(LLMProvider):
    """Deterministic, offline and free: rules for classification, extractive summaries."""

    name = "local"
    model = "rules-v1"
    cacheable = False
    sends_data_off_machine = False
    billable = False
    parallel = False  # CPU-bound rules: threads would only contend for the GIL

    def complete(self, prompt: Prompt, payload: BaseModel, output_model: type[OutT]) -> tuple[OutT, LLMUsage]:
        task = prompt.name
        out: BaseModel
        if task == "classify_thread":
            cinp = _as(ClassifyThreadInput, payload)
            assert isinstance(cinp, ClassifyThreadInput)
            out = classify_thread(cinp)
            in_chars = (
                len(prompt.system) + sum(len(m.text) + 48 for m in cinp.messages) + 32 * len(cinp.people)
            )
            out_chars = 14 + sum(len(i.title) + 120 for i in out.items)  # type: ignore[attr-defined]
        elif task == "summarize_entity":
            sinp = _as(SummarizeEntityInput, payload)
            assert isinstance(sinp, SummarizeEntityInput)
            summary = summarize_entity(sinp)
            out = trusted(SummarizeEntityOutput, {"summary": summary})
            in_chars = (
                len(prompt.system)
                + len(sinp.previous_summary)
                + sum(len(i.title) + 80 for i in (*sinp.items_today, *sinp.open_items))
            )
            out_chars = len(summary) + 16
        elif task == "briefing_intro":
            binp = _as(BriefingIntroInput, payload)
            assert isinstance(binp, BriefingIntroInput)
            intro = briefing_intro(binp)
            out = BriefingIntroOutput(intro=intro)
            in_chars = len(prompt.system) + sum(len(x) + 4 for x in binp.lines)
            out_chars = len(intro) + 12
        else:
            raise LLMError(f"local provider has no rules for prompt {task!r}")
        if not isinstance(out, output_model):
            try:
                out = output_model.model_validate(out.model_dump())
            except ValueError as exc:
                raise LLMError(f"local provider: {task} cannot produce {output_model.__name__}") from exc
        return out, LLMUsage(input_tokens=in_chars // 4, output_tokens=out_chars // 4)  # type: ignore[return-value]
