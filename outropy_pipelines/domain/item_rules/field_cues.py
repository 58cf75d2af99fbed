"""Cues of everyday work talk in real workspaces, beyond the labelled cue tables of `event_cues`:
failure reports ("configure fails with ...", "I'm getting this error", "it hangs"), bug-tracker
feed posts (the generic "[Bug NNNN] subject" format with a Status/Resolution change, an attachment
or a new report), questions to the channel, newcomer introductions and broadcast posts (a call
starting now, slides, a job or funding post), short progress replies ("fixed", "works now", "PR
opened") and approvals or settled plans as decisions.

Only patterns, no state: the detectors that use them are in `field_detectors`.
"""

from __future__ import annotations

import re

from outropy_pipelines.domain.item_rules.cue_syntax import PositionPattern

_I = re.IGNORECASE

# --- failure reports (blockers) and broken shared services (incidents) -----------------------------
# gate specs (see `cue_gates`): a detector runs only on messages holding one of these words
FAILURE_GATE_SPEC = (
    "error errors error: fails fail failed failing failure crash crashes crashed crashing hangs hung freezes "
    "timing times timed erroring erroring denied refused exception traceback timeout memory code "
    "froze segfault segfaults segmentation stuck broken doesn't didn't isn't won't not longer stopped nothing "
    "wrong incorrect misleading unable can't cannot couldn't could trouble problem problems issue issues bug "
    "down offline outage stalled died struggling struggle struggles allow let reflected picked recognized "
    "recognised weird strange unexpected odd havoc"
)
PROGRESS_GATE_SPEC = (
    "works worked working passes passed made opened filed submitted sent created committed commited pushed "
    "posted put added updated fixed merged implemented written wrote drafted reviewed applied attached fixes "
    "solves solved resolves resolved managed successfully summary down done published pushed uploaded "
    "deployed released up live bumped restarted dropped started fetched finished completed cleaned left set"
)
SETTLE_GATE_SPEC = (
    "we'll will going plan plans decided don't won't i'll i've postpone postponed cancel cancelled canceled "
    "supported sense fixed added included released shipped available "
    "reschedule rescheduled moved fine good ok okay approved works go let's lets agreed sense hoping planning "
    "forward"
)
BROADCAST_GATE_SPEC = (
    "name introduce introducing myself i'm am joined connected welcome now slides recording video webinar "
    "talk call meetup workshop conference hackathon office hours news newsletter digest looking hiring job "
    "position vacancy role funding grant fellowship opportunity call applications application apply "
    "deadline register registration session speaking presenting talking join interesting drafted release "
    "version live online started starting gather here tables room out available release"
)
FAILURE_RE = PositionPattern(
    re.compile(
        r"\b(?:i|we|i'm|we're|i've|we've)\s+(?:am\s+|are\s+|have\s+|had\s+|keep\s+|still\s+|now\s+|just\s+|"
        r"also\s+|been\s+|always\s+)*(?:getting|get|got|gets|seeing|see|saw|hitting|hit|having|had|running into|"
        r"ran into|run into|encounter(?:ed|ing)?|facing|struggling)\b[^.?!\n]{0,60}?\b(?:error|errors|issue|"
        r"issues|problem|problems|trouble|failures?|crash(?:es)?|segfaults?|bug)\b"
        r"|\b(?:fails?|failed|failing)\s+(?:with|to|on|at|when|because|for|in|during|since|after|again|every|randomly|"
        r"intermittently|consistently)\b"
        # timeouts and errors by name: "keeps timing out", "every run errors out", "getting Permission denied"
        r"|\b(?:keeps?|kept|is|are|was|were|still)\s+(?:timing out|failing|crashing|erroring|hanging)\b"
        r"|\b(?:times|timed|timing) out\b|\berror(?:s|ed|ing)? out\b"
        r"|\b(?:getting|got|seeing|hitting|throws?|threw|raises?|raised)\b[^.?!\n]{0,60}?\b(?:permission denied|"
        r"access denied|connection refused|no such file|out of memory|exit code \d+|exception|traceback|timeout)\b"
        r"|\b(?:crash(?:es|ed|ing)?|hangs|hung|freezes|froze|segfaults?|segmentation fault)\b"
        r"|\b(?:is|am|'m|are|'re|got|get|still|been|gets|getting)\s+stuck\b|^stuck\b"
        r"|\b(?:doesn't|does not|didn't|did not|isn't|is not|won't|not|no longer|stopped)\s+(?:seem(?:s)? to\s+)?"
        r"(?:work|working|build|building|compile|start|load|run|respond|update|updating|posting|be picked up)\b"
        r"|\b(?:does|did) nothing\b"
        r"|\b(?:unable to|can't|cannot|can not|couldn't|could not|not able to)\s+(?:\w+\s+){0,2}?(?:get|find|"
        r"install|build|compile|load|push|save|open|run|access|log\s?in|connect|reproduce|figure out|make)\b"
        r"|\b(?:is|are|seems|looks|seem|look)\s+(?:to be\s+|maybe\s+|probably\s+|still\s+|now\s+|\w+ly\s+)?"
        r"(?:wrong|incorrect|broken|misleading)\b"
        r"|\b(?:error message|error:|(?:this|that|same|another|following) error\b)"
        r"|\bstruggl(?:e|es|ing) to\b|\b(?:doesn't|does not|won't|will not) (?:allow|let) (?:me|us)\b"
        r"|\bnot (?:reflected|picked up|recogni[sz]ed)\b|\b(?:weird|strange|unexpected|odd) (?:behaviou?r|results?|"
        r"output|errors?)\b|\berrors? (?:about|when|while)\b|\bwreak(?:s|ing)? havoc\b",
        _I,
    )
)
# a failure someone else might meet, advice or a report of one fixed: not a report
FAILURE_NOT_RE = re.compile(
    r"^\W*(?:if|in case|whenever|unless|otherwise)\b|\b(?:if you|you(?:'ll| will| would| might| may)|to avoid|"
    r"prevent|no (?:errors?|issues?|problems?)|without (?:any )?(?:errors?|issues?|problems?)|fixed|fixes|"
    r"solved|resolved|works now|working now|worked|make it|get back|join|attend|come)\b",
    _I,
)
INCIDENT_FIELD_RE = re.compile(
    r"\b(?:internal server error|server error|5\d\d error|(?:is|are|went|seems|looks) (?:down|offline)"
    r"(?=\s*(?:[.!,;]|$|again|for (?:me|us|everyone)|right now|since))|"
    r"outage|(?:feed|bot|server|site|service|page)s? (?:\w+\s+){0,3}?(?:has |have |seems to have )?"
    r"(?:stalled|stopped|died|is stuck|are stuck|not updating))\b",
    _I,
)

# --- bug-tracker feed posts ------------------------------------------------------------------------
BUG_POST_RE = re.compile(r"\[Bug\s+(\d+)\]\s*([^\n>*]*)")
BUG_RESOLUTION_RE = re.compile(
    r"Resolution\s*\|[^|\n]*\|\s*([A-Z]+)|Resolution\s*\n\s*([A-Z]+)", re.MULTILINE
)
BUG_DONE_RESOLUTIONS = frozenset({"FIXED", "WORKSFORME"})
BUG_REFUSED_RESOLUTIONS = frozenset({"WONTFIX", "INVALID", "NOTABUG"})
BUG_ATTACH_RE = re.compile(
    r"\bCreated attachment\b|\bcommitted\b|\bsvn rev\b|\bpatch (?:attached|added)\b", _I
)
BUG_NEW_RE = re.compile(r"\[Bug\s+\d+\]\s*New:|\bCreation date\s+(\S+)\s+Last changed date\s+(\S+)", _I)
BUG_REFUSE_COMMENT_RE = re.compile(
    r"\b(?:i|we)(?:'ll| will)? (?:won't|will not|am not going to|are not going to|do not plan to|don't plan to)\b",
    _I,
)
BUG_WISH_RE = re.compile(
    r"\b(?:enhancement|wishlist|wish|feature|request|improve[ds]?|could be improved|would be (?:nice|useful)|"
    r"add(?:ing)? (?:an? |support)|support for|allow)\b",
    _I,
)

# --- questions to the channel ----------------------------------------------------------------------
# a question asked without its question mark, in the forms that can only be questions
UNMARKED_QUESTION_RE = re.compile(
    r"(?:^|(?<=[.!;] )|(?<=\n))\W*(?:hi|hey|hello)?[\s,!]*(?:how (?:can|could|do|should|would) (?:i|we|one)\b|"
    r"(?:does|do|can|could)? ?(?:anyone|anybody|someone|somebody) (?:know|knows|have|has|help|tell|confirm|explain|"
    r"tried|seen|managed)\b|"
    r"any (?:ideas?|suggestions?|thoughts|pointers|hints|advice) (?:on|about|how|why|what)\b|"
    r"is there (?:a|any) way to\b|i(?:'m| am| was)? wonder(?:ing)? (?:if|whether)\b)",
    _I,
)
UNMARKED_QUESTION_GATE_SPEC = "how anyone anybody someone somebody any way wonder wondering"
# what such a question holds, checked before the pattern runs
UNMARKED_QUESTION_HINTS = (
    "how can", "how could", "how do", "how should", "how would", "one know", "body know", "any idea",
    "one tried", "body tried", "one seen", "body seen", "one managed", "body managed", "one has", "body has",
    "any suggestion", "any thought", "any pointer", "any hint", "any advice", "one have", "body have",
    "one help", "body help", "one tell", "one confirm", "one explain", "way to", "wonder",
)  # fmt: skip
INVITE_RE = re.compile(r"^(?:let me know|feel free|happy to|just|hope)\b", _I)
# small talk asked of the room is not work: food, drinks, leisure, the weather
SOCIAL_Q_RE = re.compile(
    r"\b(?:lunch|dinner|breakfast|coffee|tea|pizza|beer|drinks?|snacks?|cake|food|restaurant|place to eat|"
    r"weekend|vacation|holidays?|movie|film|show|game|match|party|weather)\b"
    # who is around or joins in: "who's in the office today?", "who wants to ...", "anyone up for ...?"
    r"|^\W*(?:who(?:'s| is) (?:in|around|at|coming|joining)\b|who wants to\b|(?:who's|anyone|anybody) up for\b)",
    _I,
)

# --- announcements ----------------------------------------------------------------------------------
INTRO_RE = re.compile(
    r"\b(?:my name is|let me introduce myself|introduc(?:e|ing) myself|i(?:'m| am) new here|"
    r"(?-i:I(?:'m| am) [A-Z][\w-]+(?: [A-Z][\w-]+)?,? (?:a|an|and|from))|i(?:'m| am) (?:a|an) (?:\w+[\s-]){0,6}?"
    r"(?:student|researcher|developer|engineer|scientist|statistician|professor|lecturer|maintainer|"
    r"undergraduate|postdoc|phd|consultant|translator|contributor|programmer|analyst|user)|"
    r"(?:just )?(?:joined|connected) (?:as|to join|this)|"
    r"welcome (?:to|aboard|everyone|all)|please welcome|a warm welcome)\b",
    _I,
)
# a top-level welcome of a named newcomer: "Welcome Diego Silva, who joins ...", "please welcome <@U..>"
WELCOME_RE = re.compile(
    r"^\W*(?:(?:<@\w+>|@\w+)[\s,:]*)*(?:(?:hi|hey|hello) (?:all|everyone|team|folks)[\s,!.]*)?(?:please\s+)?"
    r"(?:join me in welcoming|welcome|say (?:hi|hello) to)\s+(?:<@\w+>|(?-i:[A-Z])[\w-]+)",
    _I,
)
BROADCAST_RE = PositionPattern(
    re.compile(
        r"\b(?:starting now|on now|(?:is |are |we're |we are )?(?:back )?online now|now live|slides|recording|"
        r"video|webinar|talk|community call|meetup|workshop|conference|hackathon|office hours?|news|newsletter|"
        r"digest|(?:is |are )?(?:looking for|hiring)|job|position|vacancy|role|funding|grant|fellowship|"
        r"opportunity|call for|applications?|apply|deadline|register|registration|session \d+|"
        r"i(?:'ll| will) be (?:speaking|presenting|talking)|join us|interesting|drafted|new (?:release|version))\b",
        _I,
    )
)
EMOJI_HEAD_RE = re.compile(r"(?:^|\n)\s*:[a-z0-9_+-]+:\s*\S")
LINK_RE = re.compile(r"https?://")
# happening now, for whoever is around: no link needed
NOW_RE = PositionPattern(
    re.compile(
        r"\b(?:(?:release|version|v?\d+\.\d+(?:\.\d+)*)\b[^.?!\n]{0,40}?\b(?:is|are) (?:now )?(?:out|available|live)|"
        r"starting now|on now|(?:back )?online now|(?:has|have) (?:just )?started|is starting|gather (?:in|at|for)|"
        r"we(?:'re| are) (?:here )?(?:in|on|at) (?:the )?(?:room|side room|tables?|hall|lobby|foyer|corner))\b",
        _I,
    )
)
# a short label and a link: "Slides: <link>", "Call link: <link>"
# (a noun phrase as the label: "Here it is: <link>", "I just wrote this: <link>" are replies, not news)
LABEL_LINK_RE = re.compile(
    r"^(?![^:\n]*\b(?:i|i'm|i've|my|me|you|your|we|our|us|this|that|these|those|here|here's|is|are|was|were|"
    r"see|just|wrote|updated|about|may|might|add|use|try|check|look)\b)[A-Z][\w-]*(?: [\w&/-]+){0,4}:\s*<?https?://",
    _I,
)

# --- progress replies (status updates) ---------------------------------------------------------------
PROGRESS_RE = PositionPattern(
    re.compile(
        r"\b(?:it |that |this |everything |the build |build |check |tests? )?(?:works|worked|is working|"
        r"are working|(?:is |are )?working (?:now|correctly|fine)|passes|passed)\b(?:\s+now)?(?!\s+(?:on|with|for|if))"
        r"|\b(?:i|we)(?:'ve| have)?\s+(?:just\s+|now\s+|also\s+|finally\s+)*(?:made|opened|filed|submitted|"
        r"sent|created|committed|commited|pushed|posted|put|added|updated|fixed|merged|implemented|written|wrote|"
        r"drafted|reviewed|applied|attached)\b[^.?!\n]{0,60}?\b(?:pr|pull request|issue|patch|fix|bug|report|"
        r"invite|invitation|application|team|changes?|instructions|guide|commit|page|draft|version)\b"
        r"|\b(?:pr|pull request|patch|fix|issue|application)\s+(?:is |was |has been |have been )?(?:opened|"
        r"merged|submitted|filed|committed|sent|applied)\b"
        r"|\b(?:this|that|which) (?:fixes|fixed|solves|solved|resolves|resolved) (?:the |my |it|this)"
        r"|\bmanaged to\b|\bsuccessfully\b|\bdown to \d+\b"
        r"|^\W*(?:just |now |also |finally )?(?:fixed|done|merged|submitted|added|updated|published|committed|"
        r"pushed|sent|filed|opened|uploaded|deployed|released)\b(?! (?:by|if|when|once))"
        r"|\b(?:should be|is|are|is now|are now|now)\s+(?:fixed|done|up|live|back online|back up)\b"
        r"|\b(?:is|are|was|were|has been|have been)\s+(?:now\s+|also\s+)?(?:added|created|opened|filed|"
        r"submitted|sent|merged|fixed|updated|published|posted|uploaded)\b"
        r"|\b(?:i|we)(?:'ve| have)?\s+(?:just\s+|also\s+|now\s+)*(?:bumped|restarted|dropped|started|"
        r"fetched|uploaded|finished|completed|cleaned up|left|set up|published|released|deployed)\b"
        r"|^[^\n]{0,40}?\b(?:summary of (?:the )?(?:updates|activity|changes|progress)|(?:weekly|monthly) "
        r"(?:summary|report|update))\b",
        _I,
    )
)
PROGRESS_NOT_RE = re.compile(
    r"\b(?:no activity|not|n't|never|if|once|when|until|whether|try|trying|tried to|hope|hopefully|"
    r"(?:should|would|could) (?:i|we|you|it|this|that))\b",
    _I,
)

# --- decisions ---------------------------------------------------------------------------------------
SETTLE_RE = PositionPattern(
    re.compile(
        r"\bwe(?:'ll| will| are going to|'re going to| plan to| have decided to)\s+(?:now\s+|then\s+|also\s+)?"
        r"(?:run|hold|have|use|move|switch|keep|postpone|cancel|skip|add|drop|start|stop|adopt|merge|release|"
        r"meet|do)\b"
        r"|\bwe (?:don't|do not|won't|will not) (?:plan to|intend to|want to)\s+\w+"
        r"|\bi(?:'ll| will| have| 've)\s+(?:postpone|postponed|cancel|cancelled|canceled|reschedule|rescheduled|"
        r"move|moved)d?\b[^.?!\n]{0,40}\b(?:session|meeting|call|event|deadline|release|workshop)\b"
        r"|\b(?:session|meeting|call|event|workshop|release)\s+(?:\d+\s+)?(?:is|has been|will be)\s+"
        r"(?:cancelled|canceled|postponed|moved|rescheduled)\b"
        r"|\bwe(?:'ll| will) (?:add|include|ship) (?:a |the )?fix\b"
        r"|\bagreed on (?:a|the)\b|\bmakes the most sense\b|\bwe(?:'re| are) (?:hoping|planning) to [^.?!\n]{0,60}"
        r"\bgoing forward\b"
        # what will not be done: "X is not officially supported and we don't have any plan to support it"
        r"|\b(?:is|are|will be) (?:not|no longer|never) (?:\w+ly )?(?:supported|planned|accepted)\b"
        r"|\b(?:we|i) (?:don't|do not|currently don't|currently do not) have (?:any |a )?plans? to\b"
        r"|\b(?:there are|we have|we've got) no (?:current )?plans? to\b|\bwon't be (?:fixed|supported|added)\b"
        r"|\bwill be (?:fixed|added|included|released|shipped|supported|available) in (?:the )?(?:next|upcoming|coming|"
        r"v?\d+(?:\.\d+)+)\b",
        _I,
    )
)
APPROVE_RE = re.compile(
    r"^(?:(?:yes|yeah|yep|sure|ok|okay|great|perfect|thanks)[\s,!.]*)*(?:i think |i guess |imo,? )?"
    r"(?:(?:that|it|this)(?:'s| is)|they(?:'re| are)|"
    r"(?:(?:those|these|the|this|that|your|both)\s+)?[\w-]+(?:\s+[\w-]+)?\s+(?:is|are|looks?|seems?|sounds?))\s+"
    r"(?:(?:totally|perfectly|absolutely|all)\s+)?(?:fine|good|ok|okay|approved)\b(?!\s+now)"
    r"|^(?:(?:yes|yeah|yep|sure|ok|okay)[\s,!.]*)*(?:they|these|those|both) (?:make|makes) sense\b"
    r"|^[^.?!\n]{0,60}\bworks for (?:me|us)\b(?!\s+(?:now|again|too))"  # "works for me now": it runs again
    r"|^(?:(?:yes|yeah|yep|sure|ok|okay)[\s,!.]*)+(?:works for me|go ahead|let'?s do (?:it|that))"
    r"|^(?:(?:yes|yeah|yep|sure|ok|okay|cool)[\s,!.]*)*(?:seems|sounds|looks) (?:fine|good|great|ok|okay)"
    r"(?: to me)?\s*[.!]|^(?:(?:yes|yeah|cool)[\s,!.]*)*sounds like a good (?:way|plan|idea|approach)",
    _I,
)

# --- action items that are not tasks -------------------------------------------------------------
# attendance, vague or conditional intentions: not a commitment to a specific piece of work
COMMIT_NOT_RE = re.compile(
    r"\b(?:come|join|attend|be there|get there|make it|hang out|if (?:needed|you (?:want|like|need|prefer)|"
    r"necessary|urgent)|when i have (?:time|a chance)|hopefully|probably|might|like to|keep (?:looking|trying)|"
    r"continue|pick (?:it )?back up|take it as|check (?:them|it|those|these) out|start with)\b",
    _I,
)
# advice and pointers phrased as requests: "why don't you try X", "maybe try", "please see the docs"
ADVICE_RE = re.compile(
    r"^\W*(?:(?:maybe|perhaps) (?:try|check|look)|why don't you|you (?:could|might|may) (?:also )?(?:want to )?|"
    r"please see|see|try|have a look|feel free)\b",
    _I,
)

# --- requests and commitments in everyday phrasing ---------------------------------------------------
# a request to whoever picks it up (or to the person addressed): "it would be great if someone could
# update this", "would appreciate any review", "looking for volunteers", "good first issue"
ASK_FIELD_RE = PositionPattern(
    re.compile(
        r"\b(?:it would be (?:great|fantastic|good|nice|helpful|wonderful|welcome) if (?:you|someone|anyone|somebody|others|"
        r"other people|people|folks|everyone)"
        r"(?: else)? (?:could|can|would)|would (?:really )?(?:appreciate|love)(?: to get)? (?:any |your |some )?"
        r"(?:feedback|review|reviews|help|comments|input)|(?:looking for|need|could i have|we need) (?:a |some |more )?"
        r"volunteers?|(?:good|nice) (?:first|beginner|starter) issue|if anyone (?:else )?has (?:the )?time to|"
        r"maybe you (?:can|could)|"
        # a wish or feature request to whoever maintains the thing: "My wish is to have ...", "Feature request: ..."
        r"\b(?:my|a|one)\s+(?:\w+\s+){0,2}?(?:wish|wishlist|wish list|feature request)(?: item)?(?=\s*(?:is|would be|:|that)\b)|"
        r"^\W*(?:feature request|wishlist)(?=\s*:)|i (?:really )?wish (?:there (?:was|were)|we had|\w+ had|\w+ would)|"
        r"it would be (?:nice|great|useful|good|helpful) to have)\b",
        _I,
    )
)
ASK_GATE_SPEC = (
    "great fantastic good nice helpful wonderful welcome appreciate love volunteer volunteers maybe anyone "
    "wish wishlist request"
)
# the speaker taking on a specific piece of work in plain words
COMMIT_FIELD_RE = PositionPattern(
    re.compile(
        r"(?:^|[.!]\s+|\b(?:ok|okay|then|so|and),?\s+)(?:i(?:'ll| will)|will|i can|i'd|we(?:'ll| will))\s+"
        r"(?:try (?:to )?|also |then |definitely |now )?(?:write|file|open|send|revert|ping|prep|prepare|report back|"
        r"look into|create|update|fix|add|review|check|test|share|post|submit|draft|merge|start|ask|email|"
        r"contact|document|make)\b"
        r"|\bi(?:'m| am) (?:now )?looking into (?:this|it|that)\b|\bmy plan (?:at this point )?is to\b"
        r"|\bi can try\b|\bstart to work on\b",
        _I,
    )
)
COMMIT_GATE_SPEC = "i'll will can i'd we'll looking plan try start"
