"""Cue patterns of decisions, blockers, incidents, announcements and status updates, the cues that
close earlier items, and the prompt-injection guard.

A table entry is (kind, pattern, confidence, gate): the pattern only runs on a message that passes
its gate (`cue_syntax.Gate`, indexed in `cue_gates`). Patterns are matched against normalised text
only (never followed).
"""

from __future__ import annotations

import re

from outropy_pipelines.domain.item_rules.cue_syntax import LEAD, SENT_START, Gate, PositionPattern

_I = re.IGNORECASE
_IM = re.IGNORECASE | re.MULTILINE

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
            r"(?:decided|agreed|settled|concluded|chose|opted|committed|aligned)\b(?!\s+(?:yet|anything))"
            # a choice made, in the past tense: "we went with X", "we pinned _id as the only key"
            r"|\b(?:we|we've|we have|the team|team|team has)\s+(?:have\s+|has\s+|just\s+|finally\s+|now\s+)*"
            r"(?:went with|gone with|picked(?!\s+up)|chosen|standardi[sz]ed on|ruled out|dropped support for|"
            r"deprecated|pinned\s+[^.?!\n]{1,60}?\s+(?:as|to|at)\b)",
            _I,
        ),
        0.85,
        "decided agreed settled concluded chose opted committed aligned went gone picked chosen standardized "
        "standardised ruled dropped deprecated pinned",
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
DECISION_LEAD_RE = re.compile(r"^(?:(?:ok|okay|so|alright|right|great|cool)[\s,]+)*(?:let'?s|lets)\s+", _I)
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
UNBLOCKED_CUE_RE = re.compile(
    r"\b(?:unblocked|no longer blocked|good to go|you're clear|you can (?:go ahead|proceed|merge|deploy))\b",
    _I,
)
UNBLOCKED_RE = re.compile(r"\b(?:no longer|not|isn't|aren't|un)\s*blocked\b|\bunblocked\b", _I)

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
INCIDENT_MEDIUM_RE = PositionPattern(
    re.compile(
        r"\b(?:is down|are down|went down|error rates?|spik(?:e|ed|ing)|elevated|latency|timeouts?|"
        r"timing out|degraded|crash(?:ing|ed|es|looping)?|"
        r"(?:customers|users) (?:are |were )?(?:reporting|seeing|hitting|getting|complaining)|"
        r"not loading|failing|failed|broken)\b",
        _I,
    )
)
INCIDENT_GATE_SPEC = (
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
DONE_FIRST_RE = re.compile(rf"^(?:just|finally|also|successfully|{_DONE_VERBS})$", _I)
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
STATUS_COND_RE = re.compile(r"\b(?:if|once|when|until|after|before|unless|whether|whenever|not|n't)\b", _I)
STATUS_LABEL_STRIP_RE = re.compile(rf"^(?:{_STATUS_LABELS})\s*[:\-–—]\s*", _I)

# --- closing cues ----------------------------------------------------------------------------
_CHECK_MARKS = r"✅|✔|☑|:white_check_mark:|:heavy_check_mark:|:ballot_box_with_check:|:done:"
CLOSE_ACTION_RE = PositionPattern(
    re.compile(
        r"\b(?:done|did it|all done|merged|shipped|fixed|sent|updated|submitted|deployed|completed|finished|"
        r"took care of|taken care of|all set|handled|posted|reviewed|approved|lgtm|booked|scheduled|filed|"
        r"created|added|published|renewed|rotated|resolved|closed|uploaded|signed|delivered|"
        r"(?:is|are) (?:up|live|out|ready|published|posted|in))\b|" + _CHECK_MARKS,
        _I,
    )
)
CLOSE_ANYONE_RE = PositionPattern(
    re.compile(
        r"\b(?:done|all done|took care of|taken care of|all set|fixed|merged|shipped|completed)\b|"
        + _CHECK_MARKS,
        _I,
    )
)
CLOSE_BLOCKER_RE = PositionPattern(
    re.compile(
        r"\b(?:unblocked|fixed|resolved|merged|landed|done|deployed|good to go|no longer blocked|"
        r"you're clear|all clear|should work now|works now|you can (?:go ahead|proceed|merge|deploy))\b|"
        + _CHECK_MARKS,
        _I,
    )
)
CLOSE_INCIDENT_RE = PositionPattern(
    re.compile(
        r"\b(?:resolved|mitigated|all clear|recovered|back (?:up|online|to normal)|(?:is|are) (?:back )?up again|"
        r"closing (?:the |this )?incident|incident (?:is )?(?:closed|over)|stable now|fixed|"
        r"(?:errors?|error rate|latency) (?:is |are )?back to normal)\b",
        _I,
    )
)

# --- prompt injection: a message talking to a model is data, and not a work item ---------------
INJECTION_RE = re.compile(
    r"\b(?:ignore|disregard|forget|override)\s+(?:all\s+|any\s+|the\s+|your\s+)*(?:previous|prior|above|"
    r"earlier|system|preceding)\s+(?:instructions|prompts?|rules|messages)|\bnew instructions\s*:|"
    r"\bsystem prompt\b",
    _I,
)
