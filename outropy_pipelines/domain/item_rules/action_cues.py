"""Cue patterns of action items (requests and commitments) and of questions.

A request table entry is (name, pattern, confidence, gate): the pattern only runs on a message
that passes its gate (`cue_syntax.Gate`, indexed in `cue_gates`). The sets and patterns after the
tables are the filters the matchers (`action_matching`) and the classifier apply to a hit: verbs
that are not work, wh-words and conditions before a cue, boilerplate, who may stand without an
addressee. Patterns are matched against normalised text only (never followed).
"""

from __future__ import annotations

import re

from outropy_pipelines.domain.item_rules.cue_syntax import LEAD, REST, SENT_START, VERB, Gate, M
from outropy_pipelines.domain.item_rules.message_text import wordset

_I = re.IGNORECASE
_IM = re.IGNORECASE | re.MULTILINE

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
INFO_VERBS = wordset(
    "tell confirm clarify explain remind recall advise let answer know say recommend suggest"
)
NON_REQUEST_VERBS = wordset(
    "believe imagine see hear feel be not also even still really possibly please pls plz kindly just "
    "guys all two both you u prefer like want rather agree think know understand realize realise care "
    "expect guess bet"
)
WORK_VERB_SET = frozenset(_WORK_VERBS.split("|"))
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
        re.compile(
            r"\b(?:please|pls|plz|pleeease|kindly)\s*,?\s+(?:do\s+|also\s+|just\s+|now\s+|then\s+|first\s+)*"
            + VERB,
            _I,
        ),
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
NEEDS_OWNER = frozenset(
    {"imperative", "bare_imperative", "you_to", "remember", "please", "can_i_get", "why_dont", "if_could",
     "appreciate", "possible", "mind", "label"}
)  # fmt: skip
STRICT_FILTER = frozenset(
    {"modal", "please", "need", "remember", "you_to", "if_could", "appreciate", "why_dont"}
)
BOILERPLATE_RE = re.compile(
    r"^(?:click|visit|unsubscribe|go (?:here|to)|sign in|follow (?:the|this|these) (?:link|instructions)|"
    r"add \S+ to your|remove yourself|note|ignore|disregard|see|find|do not hesitate|don't hesitate|feel free)",
    _I,
)
WH_SENSITIVE = frozenset({"modal", "you_to", "possible", "mind", "need"})
# a wh-word or a condition shortly before the cue, with no sentence boundary in between
WH_BEFORE_RE = re.compile(
    r"\b(?:what|which|how|where|when|why|who|whom|if|whether|unless)\b[^.!?\n]{0,25}$", _I
)
WH_REST_RE = re.compile(r"^\s*(?:what|which|how|where|when|why|who)\b", _I)
COND_BEFORE_RE = re.compile(
    r"\b(?:if|when|unless|whether|once|maybe|perhaps|hopefully)\s+(?:\w+\s+){0,2}$", _I
)
SOMEONE_RE = re.compile(r"\b(?:someone|somebody|anyone|anybody)\b", _I)
INFO_PLEASE_RE = re.compile(r"^(?:let (?:me|us) know|tell|confirm|advise|clarify|explain|answer)\b", _I)

# --- action items: commitments ---------------------------------------------------------------
NON_COMMIT_VERBS = wordset(
    "be have need miss probably never not see think guess bet assume hope say admit wait believe "
    "likely just also still only ever want wish mention note remember understand agree disagree "
    "leave lose fail forget die cry sleep go refrain"
)
CAN_COMMIT_VERBS = wordset(
    "take handle help look review pick own grab cover write fix send update check draft prepare run"
)
COMMIT_RE = re.compile(
    r"(?:\b(?P<subj>i)(?:'ll| will| shall|'m going to| am going to|'m gonna| am gonna|'d be happy to|"
    r" would be happy to|'m happy to| am happy to| can take care of|'ll have to| will have to|"
    r" plan to|'m planning to| am planning to|'m hoping to| am hoping to| can)"
    # the subject left out at the start of a sentence: "Will revert before posting", "Going to start ..."
    r"|(?:^|(?<=[.!?] )|(?<=[.!?]\n)|(?<=\bthen )|(?<=\bso )|(?<=[-–—] ))(?P<bare>will|going to|plan to)"
    # the speaker's team taking on a piece of work: "we'll look into a fix", "we'll report back"
    r"|\b(?P<we>we)(?:'ll| will)(?=\s+(?:also\s+|then\s+|definitely\s+)*(?:look into|report back|follow up|fix|"
    r"send|share|post|update|review|investigate|write up|document)\b))\s+"
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
INFO_GATE_SPEC = "know lmk update updates news eta progress word status heard seen checked idea remember"
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
EVERYONE_RE = re.compile(
    r"\b(?:anyone|anybody|everyone|everybody|someone|somebody|folks|y'all|you all|you guys|people|team)\b", _I
)
DEFER_RE = re.compile(
    r"\b(?:let me (?:check|look|ask|see|find out)|i'll (?:check|look|ask|find out)|not sure|no idea|"
    r"don't know|dunno|checking|good question|will check|looking into it)\b",
    _I,
)
ANSWER_WORDS = wordset(
    "yes yep yeah yup ya no nope nah correct right exactly confirmed affirmative negative true false done sure"
)
ADDRESS_NAME_RE = re.compile(r"^\s*(?:hey\s+|hi\s+|ok\s+|so\s+|@)?([A-Za-z][a-z]+)\b\s*[,:]")
