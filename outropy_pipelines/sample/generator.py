"""Seeded generators of Slack workspace exports.

`generate_sample_workspace` writes the small, realistic sample committed under `data/sample_export`
(one week, ~30 people, eleven conversations) together with an answer key of the items planted in it.
`generate_scaled_workspace` writes a large synthetic export for benchmarks, streaming one
channel-day file at a time.

Both follow the layout of a real Slack export: `users.json`, `channels.json`, `groups.json`,
`dms.json`, `mpims.json` and one folder per conversation holding `YYYY-MM-DD.json` day files, each a
JSON list of message records sorted by `ts`. A record sits in the day file of the UTC date of its own
`ts` (so a late thread reply is in a later file than its parent). Everything is derived from
`random.Random(seed)` and fixed base timestamps, so one seed always gives byte-identical files.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import random
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SAMPLE_START_DATE = "2026-11-02"
SAMPLE_DAYS = 7
TEAM_ID = "T0SAMPLE"
WORKSPACE_URL = "https://outropy-sample.slack.com"
ANSWER_KEY_FILE = "_answer_key.json"
SLACKBOT_ID = "USLACKBOT"

#: when the sample's conversations were created (2025-01-06, long before the sample week)
_CREATED_BASE = 1736150400

# ---------------------------------------------------------------------------------------------------
# people and conversations of the realistic sample
# ---------------------------------------------------------------------------------------------------

# name, real name, display name, time zone, title
_PEOPLE: list[tuple[str, str, str, str, str]] = [
    ("alice", "Alice Moreau", "Alice", "Europe/Paris", "Engineering Manager, Atlas"),
    ("bob", "Bob Okafor", "bob.o", "Europe/London", "Staff Engineer"),
    ("carol", "Carol Nguyen", "Carol", "America/New_York", "Product Manager, Atlas"),
    ("dan", "Dan Kowalski", "dan", "Europe/Warsaw", "Backend Engineer"),
    ("erin", "Erin Walsh", "Erin W", "Europe/Dublin", "Site Reliability Engineer"),
    ("farid", "Farid Haddad", "farid", "Europe/Berlin", "Data Engineer"),
    ("grace", "Grace Liu", "Grace", "America/Los_Angeles", "Product Designer"),
    ("hiro", "Hiro Tanaka", "hiro", "Asia/Tokyo", "Frontend Engineer"),
    ("ines", "Inês Carvalho", "Inês", "Europe/Lisbon", "QA Engineer"),
    ("jonas", "Jonas Berg", "jonas", "Europe/Stockholm", "Platform Engineer"),
    ("kemi", "Kemi Adeyemi", "Kemi", "Europe/London", "Engineering Manager, Borealis"),
    ("leo", "Leo Rossi", "leo", "Europe/Rome", "Backend Engineer"),
    ("maya", "Maya Patel", "Maya", "America/Chicago", "Product Designer"),
    ("nils", "Nils Andersen", "nils", "Europe/Copenhagen", "Site Reliability Engineer"),
    ("olivia", "Olivia Brown", "Olivia", "America/New_York", "VP Engineering"),
    ("priya", "Priya Raman", "priya", "Asia/Kolkata", "Data Scientist"),
    ("quentin", "Quentin Dubois", "quentin", "Europe/Paris", "Security Engineer"),
    ("rosa", "Rosa Martínez", "Rosa", "Europe/Madrid", "Support Lead"),
    ("sam", "Sam Fischer", "sam", "Europe/Berlin", "Frontend Engineer"),
    ("tara", "Tara O'Neill", "Tara", "Europe/Dublin", "Technical Writer"),
    ("umar", "Umar Siddiqui", "umar", "Asia/Dubai", "Backend Engineer"),
    ("vera", "Vera Novak", "Vera", "Europe/Prague", "Product Manager, Borealis"),
    ("wei", "Wei Zhang", "wei", "Asia/Singapore", "Machine Learning Engineer"),
    ("ximena", "Ximena Flores", "Ximena", "America/Mexico_City", "Product Designer"),
    ("yusuf", "Yusuf Demir", "yusuf", "Europe/Istanbul", "DevOps Engineer"),
    ("zoe", "Zoe Clarke", "Zoe", "Australia/Sydney", "Customer Success Manager"),
    ("anna", "Anna Schmidt", "Anna", "Europe/Berlin", "CFO"),
    ("ben", "Ben Carter", "Ben", "America/Denver", "CEO"),
    ("chloe", "Chloe Martin", "Chloe", "Europe/Paris", "People Operations"),
    ("diego", "Diego Silva", "diego", "America/Sao_Paulo", "Backend Engineer"),
]
_DELETED_PERSON = ("mark", "Mark Evans", "mark", "Europe/London", "Billing Engineer")

# key, user id, bot id, app id, display name
_BOTS: list[tuple[str, str, str, str, str]] = [
    ("deploybot", "U0B1DEPLOY", "B0DEPLOY01", "A0DEPLOY01", "deploybot"),
    ("github", "U0B2GITHUB", "B0GITHUB01", "A0GITHUB01", "GitHub"),
    ("alertbot", "U0B3ALERTS", "B0ALERTS01", "A0ALERTS01", "alertbot"),
]

_ENGINEERS = [
    "alice", "bob", "dan", "erin", "farid", "hiro", "ines", "jonas", "kemi", "leo", "nils", "olivia",
    "priya", "quentin", "sam", "tara", "umar", "wei", "yusuf", "diego",
]  # fmt: skip

# key, id, kind, members, topic, purpose
_CONVERSATIONS: list[tuple[str, str, str, list[str], str, str]] = [
    ("general", "C01GENERAL", "public", [p[0] for p in _PEOPLE],
     "Company-wide announcements and chatter", "This channel is for workspace-wide communication."),
    ("engineering", "C02ENGINRG", "public", [*_ENGINEERS, "carol", "vera", "grace"],
     "Engineering discussion · on-call: see #incidents", "Everything engineering."),
    ("incidents", "C03INCIDNT", "public",
     ["alice", "bob", "carol", "dan", "erin", "jonas", "kemi", "leo", "nils", "olivia", "quentin", "rosa",
      "umar", "vera", "yusuf", "zoe", "farid", "diego"],
     "Production incidents. Declare with SEV level.", "Incident response and alerts."),
    ("proj-atlas", "C04PATLAS0", "public",
     ["alice", "carol", "dan", "grace", "hiro", "ines", "leo", "sam", "maya", "rosa", "umar", "diego"],
     "Atlas: checkout v2 · beta Nov 16", "Project Atlas, the new checkout."),
    ("proj-borealis", "C05PBOREAL", "public",
     ["kemi", "vera", "farid", "priya", "wei", "jonas", "bob", "ximena", "tara", "nils"],
     "Borealis: search index rebuild", "Project Borealis, search relevance and the new index."),
    ("random", "C06RANDOM0", "public",
     [p[0] for p in _PEOPLE if p[0] not in ("anna", "ben")],
     "Non-work banter and water cooler conversation", "A place for non-work-related flimflam."),
    ("design", "C07DESIGN0", "public", ["grace", "maya", "ximena", "hiro", "sam", "carol", "vera"],
     "Design crits Tuesdays 15:00 UTC", "Design reviews, mockups and feedback."),
    ("deploys", "C08DEPLOYS", "public",
     ["bob", "dan", "erin", "jonas", "leo", "nils", "umar", "yusuf", "diego"],
     "Deploy notifications", "Automated deploy notifications."),
    ("leadership", "G01LEADERS", "private", ["ben", "olivia", "anna", "chloe", "alice"],
     "Leadership team", "Confidential: leadership discussions."),
    ("dm-alice-bob", "D01ALIBOB0", "im", ["alice", "bob"], "", ""),
    ("mpdm-alice--bob--carol-1", "G02MPDMABC", "mpim", ["alice", "bob", "carol"], "",
     "Group messaging with: @alice @bob @carol"),
]  # fmt: skip

# which bots are members (and post) where
_BOT_MEMBERS = {"deploys": ["deploybot"], "engineering": ["github"], "incidents": ["alertbot"]}

# people who join a channel during the sample week: (person, channel, day index, hour, minute)
_JOINS = [
    ("diego", "general", 0, 9, 2),
    ("diego", "engineering", 0, 9, 4),
    ("diego", "proj-atlas", 0, 9, 5),
    ("diego", "random", 0, 9, 7),
    ("erin", "proj-borealis", 2, 8, 41),
    ("wei", "design", 3, 10, 12),
]

# filler "conversation units" per weekday; the weekend gets about a tenth of that
_FILLER_UNITS = {
    "general": 14,
    "engineering": 48,
    "incidents": 4,
    "proj-atlas": 34,
    "proj-borealis": 28,
    "random": 20,
    "design": 16,
    "leadership": 5,
    "dm-alice-bob": 8,
    "mpdm-alice--bob--carol-1": 5,
}

_FLAVOR = {
    "general": "general",
    "engineering": "engineering",
    "incidents": "incidents",
    "proj-atlas": "atlas",
    "proj-borealis": "borealis",
    "random": "random",
    "design": "design",
    "deploys": "engineering",
    "leadership": "leadership",
    "dm-alice-bob": "dm",
    "mpdm-alice--bob--carol-1": "dm",
}

_PROJECT_OF = {"proj-atlas": "Atlas", "proj-borealis": "Borealis"}

# relative message volume per UTC hour on a weekday (Europe-heavy team with US and APAC members)
_WEEKDAY_HOURS = [1, 1, 1, 1, 2, 2, 4, 8, 12, 14, 14, 12, 9, 12, 14, 14, 12, 9, 6, 5, 4, 3, 2, 1]
_WEEKEND_HOURS = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0]

# ---------------------------------------------------------------------------------------------------
# text pools
# ---------------------------------------------------------------------------------------------------

_SERVICES = [
    "checkout-api", "ledger-svc", "search-indexer", "auth-gateway", "billing-web", "notifications",
    "payments-worker", "borealis-ingest", "webhooks", "atlas-web",
]  # fmt: skip
_REPOS = ["atlas-web", "atlas-api", "ledger", "borealis", "gateway", "infra", "webhooks", "billing"]
_WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]
_LINKS = [
    ("https://docs.example.com/atlas/standup", "Atlas standup notes"),
    ("https://grafana.example.com/d/checkout", "checkout dashboard"),
    ("https://notion.example.com/eng/runbooks", "runbooks"),
    ("https://example.com/blog/postgres-locks", "this post on Postgres locks"),
    ("https://status.example.com", "status page"),
    ("https://docs.example.com/borealis/relevance", "relevance notes"),
    ("https://figma.example.com/file/cart-drawer", "cart drawer in Figma"),
    ("https://example.com/talks/queues", "a talk on queueing theory"),
]  # fmt: skip
_EMOJI = [":tada:", ":rocket:", ":eyes:", ":sweat_smile:", ":coffee:", ":fire:", ":raised_hands:", ":+1:"]

_TOP: dict[str, list[str]] = {
    "general": [
        "morning all", "good morning :wave:", "morning!", "happy {weekday} everyone :sunny:",
        "gm :coffee:", "anyone up for lunch at the ramen place?", "the coffee machine on 3 is fixed :tada:",
        "the snack order has the good crisps this time", "who's in the office today?",
        "lovely sunset from the roof today {emoji}", "does anyone have a spare USB-C to HDMI adapter?",
        "congrats <@{m}> on the promotion! :tada:", "welcome back <@{m}>! how was the trip?",
        "I'm out this afternoon, ping me on my phone if it's urgent", "wfh today, the trains are on strike",
        "great read if you have 10 min: <{link}|{label}>", "thanks everyone for the birthday wishes :pray:",
        "the new standing desks arrived {emoji}", "photos from the team dinner are in the shared album",
        "filled in the engagement survey, took 5 min", "there's cake in the kitchen :cake:",
    ],
    "engineering": [
        "looking at the flame graph for {svc} now", "p99 on {svc} looks flat after the last deploy",
        "pushed a small fix for the retry loop in {svc}", "left a few comments on {pr}",
        "TIL Postgres `VACUUM FULL` takes an exclusive lock :grimacing:",
        "has anyone touched the {svc} helm chart recently?", "rebasing {pr} on main now",
        "the connection pool on {svc} maxes out around 200 rps, interesting",
        "tests pass locally for me, re-running CI", "that's a known flake in the {svc} suite",
        "nice writeup <@{m}>, very clear", "anyone have a good pattern for idempotency keys in {svc}?",
        "{pr} is ready for eyes when someone has a minute",
        "profiling {svc}: most of the time goes into JSON serialization", "bumped the Go version in {svc}",
        "the new linter config is in, expect some noise in PRs", "for context see the thread in {ch}",
        "cleaned up the old feature flags in {svc} :broom:", "heads down on {proj} today, slow to reply",
        "interesting bug: {svc} double-counts retries when the client times out",
        "the staging db was restored from last night's snapshot", "{svc} memory looks stable since the fix",
        "pairing with <@{m}> on the {svc} timeouts this afternoon", "reading through {pr}, nice cleanup",
        "is the {svc} dashboard missing data for anyone else or just me?",
        "build times are down to 6 minutes after the cache change {emoji}",
    ],
    "incidents": [
        "post-incident review from last week is published: <{link}|{label}>",
        "the incident drill on {weekday} went smoothly, notes coming",
        "the pager rotation export is updated in the wiki", "quiet night on call :crossed_fingers:",
        "the {svc} alert thresholds were tuned, should be less noisy",
    ],
    "atlas": [
        "Atlas standup notes are in <{link}|{label}>", "working on the address form validation today",
        "demo of the new checkout flow went well {emoji}", "mockups for the cart drawer are up in {ch}",
        "the payment-method picker is behind the `atlas_v2` flag in staging",
        "QA found a rounding issue in the tax display, looking", "merged the address autocomplete",
        "staging is a bit slow today", "the order summary component is ready for review: {pr}",
        "customer interviews for Atlas are booked for next week", "Atlas e2e suite is at 212 tests now",
        "playing with the Apple Pay button placement", "the promo code field now validates as you type",
        "<@{m}> nice work on the cart animations", "copy for the error states is in the doc",
    ],
    "borealis": [
        "reindex job on shard {n} finished", "looking at relevance for multi-word queries",
        "the new analyzer handles accents much better", "backfill throughput is ~{n}k docs/s",
        "Borealis sync notes: <{link}|{label}>", "offline eval: nDCG@10 up a couple of points",
        "the ingest lag graph looks healthy today", "trying a different shard count in staging",
        "query logs sample for the eval set is exported", "<@{m}> the synonym list you shared is great",
        "we're seeing fewer zero-result searches in the canary", "tuning the BM25 params a bit",
    ],
    "random": [
        "lol", "this is the best thing I've seen all week <{link}|{label}>",
        "anyone watching the match tonight?", "my cat just walked across my keyboard mid-standup",
        "friday playlist: <https://open.example.com/playlist/42|playlist>", ":taco: tuesday?",
        "what's everyone reading these days?", "first snow here {emoji}", "who wants to do a 5k in spring?",
        "sourdough attempt #4 :bread:", "the office plant is thriving", "that meme in #general lol",
        "new coffee place opened next door, highly recommend", ":dog: photo of the day",
    ],
    "design": [
        "new iteration of the checkout summary", "feedback welcome on the empty states",
        "the contrast on the secondary button is a bit low", "I like v2 better tbh",
        "updated the icon set in the library", "crit notes from today are in <{link}|{label}>",
        "exploring a denser layout for search results", "<@{m}> loved the motion study",
        "the spacing tokens are live in the kit", "user test recordings are uploaded",
    ],
    "leadership": [
        "board deck draft is in the shared drive", "Q4 hiring numbers look on track",
        "offsite venue shortlist is in the doc", "revenue dashboard is updated for October",
        "good call today, thanks all", "headcount plan v3 is uploaded",
    ],
    "dm": [
        "got a sec?", "saw your comments on the doc, thanks", "coffee later?", "lol yes",
        "running 5 min late to our 1:1", "that meeting could have been an email :sweat_smile:",
        "nice job in the demo", "ha, classic", "did you see the thread in {ch}?", "ok, talk after lunch",
    ],
}  # fmt: skip

_REPLIES_COMMON = [
    "thanks!", "lol", ":+1:", "nice", "ty!", "makes sense", "sounds good", "good catch", "haha", "+1",
    "same here", "nice one :tada:", "oh interesting", "hmm, let me check", "yeah I saw that too",
    "cool", "ok", "thank you :pray:", "yep", ":eyes:", ":100:", "fair point", "ah got it", "works for me now",
    "interesting, didn't know that", "can confirm", "nice!", "oh no :sweat_smile:", "love it",
]  # fmt: skip
_REPLIES: dict[str, list[str]] = {
    "engineering": [
        "I think it's the connection pool again", "could be the retry logic firing twice",
        "the dashboard shows it started around 10:40", "it's flaky on main too",
        "I saw the same stack trace yesterday", "we hit this last quarter, there's a note in the wiki",
        "try clearing the build cache", "the p95 looks fine now", "the planner picks the new index now",
        "I'd add a metric there before changing anything", "looks like a timeout in {svc}",
        "we should probably add a test for that", "agree with <@{m}> here",
    ],
    "atlas": [
        "looks great on mobile too", "the tax line still wraps on small screens",
        "QA passed on staging", "works in Safari now", "nice, that was a tricky one",
    ],
    "borealis": [
        "recall looks better on the long-tail queries", "shard {n} is the slow one again",
        "the eval set might be biased towards short queries", "nice, that's a big jump",
    ],
    "design": ["the second one reads better", "love the spacing", "maybe a bit more contrast?"],
    "general": [":wave:", "welcome!", "congrats!! :tada:", "enjoy!", "yum"],
    "random": ["lol", "hahaha", ":joy:", "so good", "same", "this is amazing"],
    "incidents": ["thanks for the update", ":+1:", "noted"],
    "leadership": ["agree, good progress", "thanks, will read tonight", "noted"],
    "dm": ["sure", "haha yes", "ok!", "sounds good", "np"],
}  # fmt: skip

_FILE_SHARES = [
    ("cart-drawer-v3.png", "image/png", "png", "new iteration of the cart drawer"),
    ("search-results-dense.png", "image/png", "png", "denser search results, thoughts?"),
    ("checkout-flow.pdf", "application/pdf", "pdf", "full checkout flow for the crit"),
    ("empty-states.png", "image/png", "png", "empty states, take 2"),
    ("icon-set.fig", "application/octet-stream", "binary", "updated icon set"),
    ("latency-p99.png", "image/png", "png", "p99 over the last 24h"),
    ("q4-plan.pdf", "application/pdf", "pdf", ""),
]

# --- planted item templates --------------------------------------------------------------------------
# Each template is (text, title[, closing text]). Slots are filled from `_slots`. `{o}` is the owner.

_DECISION_T = [
    ("Decision: we'll ship {feature} for {proj} behind a feature flag", "Ship {feature} for {proj} behind a feature flag"),
    ("ok let's go with {option} for the {component}", "Use {option} for the {component}"),
    ("agreed — we freeze the {freeze} API on {weekday}", "Freeze the {freeze} API on {weekday}"),
    ("Final call: {proj} {milestone} moves to {date}", "{proj} {milestone} moves to {date}"),
    ("We decided to drop {feature} from the {proj} MVP, it can come in v2", "Drop {feature} from the {proj} MVP"),
    ("after all the back and forth we're going with {option} for the {component}. closing this out",
     "Go with {option} for the {component}"),
]  # fmt: skip
_ACTION_T = [
    ("<@{o}> can you update the {doc} by {weekday}?", "Update the {doc} by {weekday}", "done ✅ the {doc} is updated"),
    ("<@{o}> please review the {prname} PR when you get a chance: {pr}", "Review the {prname} PR",
     "reviewed and approved :white_check_mark:"),
    ("I'll take the {task}", "Take care of the {task}", "{task} done ✅"),
    ("<@{o}> could you pick up the {task} for {proj}?", "Pick up the {task} for {proj}",
     "done — the {task} is finished :white_check_mark:"),
    ("<@{o}> mind writing up the {doc} before {weekday}? :pray:", "Write up the {doc} before {weekday}",
     "written up: <https://notion.example.com/eng/{slug}|{doc}> ✅"),
    ("I can own the {task}, will have it by {weekday}", "Own the {task} by {weekday}", "finished the {task} ✅"),
]  # fmt: skip
_QUESTION_T = [
    ("<@{o}> do you know if {vendor} renewed the {cert} cert?", "Did {vendor} renew the {cert} cert?",
     "answered: yes, {vendor} renewed it yesterday, valid for another year"),
    ("<@{o}> what's the ETA on the {subject}?", "ETA on the {subject}", "should be done by {weekday} EOD"),
    ("<@{o}> quick q: which region is {svc} deployed in these days?", "Which region is {svc} deployed in?",
     "it's eu-west-1, the us-east replica is read-only"),
    ("<@{o}> is the {subject} still on track for {weekday}?", "Is the {subject} on track for {weekday}?",
     "yes, still on track for {weekday} :+1:"),
    ("<@{o}> where do we keep the {doc} these days?", "Where is the {doc}?",
     "it's in Notion under Eng > Docs: <https://notion.example.com/eng/{slug}|{doc}>"),
    ("<@{o}> did {vendor} ever get back to us about the contract renewal?", "Did {vendor} reply about the contract renewal?",
     "they did — renewal signed this morning"),
]  # fmt: skip
_BLOCKER_T = [
    ("I'm blocked on the IAM permissions for the {bucket} bucket", "Blocked on IAM permissions for the {bucket} bucket",
     "unblocked, thanks — the IAM role works now"),
    ("can't merge until CI is green on main — the {suite} is failing", "Can't merge until CI on main is green ({suite} failing)",
     "CI is green again, merged :tada:"),
    ("Blocked: waiting on {team} to {action} before we can {next}", "Waiting on {team} to {action}",
     "{team} came through — unblocked :raised_hands:"),
    ("{proj} is stuck — the {dep} still hasn't landed, nothing else can move", "{proj} stuck on the {dep}",
     "the {dep} landed this morning, we're moving again"),
    ("I can't get staging access for {svc}, the VPN keeps rejecting my cert — blocked for now",
     "No staging access for {svc} (VPN cert rejected)", "VPN works now, unblocked"),
]  # fmt: skip
_ANNOUNCE_T = [
    ("<!channel> heads up: the office is closed {weekday} because of {reason}", "Office closed {weekday} ({reason})"),
    ("Announcement: the new on-call rotation starts next week, schedule is in <https://notion.example.com/eng/oncall|the wiki>",
     "New on-call rotation starts next week"),
    ("<!here> reminder: {event} is on {weekday} at {time} UTC", "{event} on {weekday} at {time} UTC"),
    ("PSA: {system} will be down for maintenance {weekday} {time} UTC", "{system} maintenance {weekday} {time} UTC"),
    ("<!channel> open enrolment for benefits closes on {date}, please submit your choices", "Benefits enrolment closes {date}"),
    ("Announcement: expense reports now go through the new finance tool, old forms stop working {date}",
     "Expense reports move to the new finance tool ({date})"),
]  # fmt: skip
_STATUS_T = [
    ("Update: the {subject} migration is {pct}% done", "{subject} migration {pct}% done"),
    ("shipped {feature} to prod :rocket:", "{feature} shipped to prod"),
    ("{proj} status: {milestone} prep is done, load testing next", "{proj} {milestone} prep done"),
    ("Quick update — {feature} is now rolled out to {pct}% of users", "{feature} rolled out to {pct}% of users"),
    ("FYI the {job} finished overnight, all green :white_check_mark:", "{job} finished overnight"),
]  # fmt: skip

_FEATURES = {
    "Atlas": ["v2 checkout", "saved carts", "guest checkout", "one-click reorder", "the cart drawer redesign",
              "multi-currency prices", "the promo code field"],
    "Borealis": ["the new analyzer", "typo tolerance", "synonym search", "faceted filters", "query suggestions",
                 "the relevance tuning"],
}  # fmt: skip
_OPTION_COMPONENT = [
    ("Postgres", "ledger"), ("Kafka", "event bus"), ("OpenSearch", "search cluster"), ("Stripe", "card vault"),
    ("gRPC", "internal API"), ("Redis", "rate limiter"), ("Terraform Cloud", "infra state"),
    ("Parquet on S3", "analytics export"),
]  # fmt: skip
_FREEZE = ["checkout", "search", "billing", "payments", "ledger", "webhooks"]
_MILESTONES = ["beta", "GA", "launch", "internal dogfood", "pilot"]
_DATES = ["Nov 16", "Nov 19", "Nov 23", "Nov 30", "Dec 1", "Dec 7"]
_DOCS = [
    "runbook for checkout-api", "on-call handbook", "launch checklist", "reindex playbook", "API changelog",
    "incident template", "billing FAQ", "SSO setup guide", "capacity plan",
]  # fmt: skip
_PRS = [
    ("ledger migration", "ledger", 482), ("search analyzer", "borealis", 131), ("cart drawer", "atlas-web", 907),
    ("rate limiter", "gateway", 256), ("webhook retry", "webhooks", 77), ("address autocomplete", "atlas-web", 915),
    ("tax rounding fix", "atlas-api", 343), ("IAM policy", "infra", 1204),
]  # fmt: skip
_TASKS = [
    "release notes", "checkout load test", "vendor security questionnaire", "Q4 roadmap slide",
    "dependency upgrade sweep", "staging data refresh", "demo script for Friday", "on-call handover doc",
    "SLO review",
]  # fmt: skip
_VENDOR_CERT = [
    ("DigiCert", "wildcard TLS"), ("Okta", "SAML signing"), ("Cloudflare", "origin"), ("Apple", "push notification"),
    ("Adyen", "API client"), ("Fastly", "edge TLS"),
]  # fmt: skip
_SUBJECTS = [
    "search index rebuild", "ledger backfill", "Atlas beta rollout", "billing export", "cost report",
    "SOC2 evidence pack", "staging refresh", "data warehouse sync",
]  # fmt: skip
_BUCKETS = ["atlas-exports", "borealis-snapshots", "billing-archive", "ml-features", "audit-logs"]
_SUITES = [
    "payments integration suite",
    "e2e checkout suite",
    "search relevance suite",
    "lint job",
    "migration check",
]
_TEAM_ACTION = [
    ("the platform team", "bump the Kafka quota", "start the backfill"),
    ("security", "approve the new vendor", "send them customer data"),
    ("legal", "sign off on the DPA", "enable EU customers"),
    ("the data team", "publish the new schema", "switch the dashboards"),
    ("finance", "approve the budget line", "order the new instances"),
]  # fmt: skip
_DEPS = [
    "payments SDK upgrade",
    "new auth token format",
    "schema migration",
    "feature flag service",
    "shared UI kit release",
]
_REASONS = ["the building maintenance", "the public holiday", "the fire drill", "the electrical work"]
_EVENTS = [("the all-hands", "16:00"), ("the security training", "14:00"), ("the Atlas demo", "15:30"),
           ("the quarterly planning kickoff", "10:00"), ("the team photo", "12:30")]  # fmt: skip
_SYSTEMS = ["the VPN", "Jira", "the staging cluster", "the CI runners", "the wiki"]
_PCTS = [20, 35, 40, 50, 60, 75, 80, 90]
_JOBS = ["reindex job", "ledger backfill", "nightly export", "cost report", "data warehouse sync"]

_ACKS = {
    "decision": [":+1:", "sounds good", "great, thanks for driving this", "works for me", "noted :+1:"],
    "action_item": ["sure, on it", "yep, will do", "on my list :+1:"],
    "blocker": ["ugh, sorry — looking", "pinging them now", ":eyes:"],
    "announcement": [":tada:", "thanks for the heads up", ":+1:"],
    "status_update": ["nice!", ":rocket:", "great progress", "awesome :tada:"],
    "question": [],
}
_THREAD_ROOTS = [
    "thread for today's {proj} sync :thread:", "picking up from standup:", "notes from the {proj} sync",
    "continuing yesterday's discussion here", "following up on this morning's call",
    "a few things from the {proj} planning session",
]  # fmt: skip


def _epoch(day: str) -> int:
    return int(dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC).timestamp())


def _utc_day(ts: str | int | float) -> str:
    return dt.datetime.fromtimestamp(int(float(ts)), tz=dt.UTC).date().isoformat()


def _dump(obj: Any) -> str:
    return json.dumps(obj, indent=1) + "\n"


def _ts_key(ts: str) -> tuple[int, int]:
    sec, _, micro = ts.partition(".")
    return int(sec), int(micro or 0)


def _profile(uid: str, name: str, real_name: str, display: str) -> dict:
    first = real_name.split(" ")[0]
    return {
        "avatar_hash": f"g{uid[-6:].lower()}",
        "image_72": f"https://avatars.example.com/{uid}_72.png",
        "first_name": first,
        "real_name": real_name,
        "display_name": display,
        "team": TEAM_ID,
        "name": name,
        "is_restricted": False,
        "is_ultra_restricted": False,
    }


def _user_record(
    uid: str, name: str, real_name: str, display: str, tz: str, title: str, *, deleted: bool = False
) -> dict:
    first, _, last = real_name.partition(" ")
    return {
        "id": uid,
        "team_id": TEAM_ID,
        "name": name,
        "deleted": deleted,
        "color": "9f69e7",
        "real_name": real_name,
        "tz": tz,
        "is_admin": name in ("ben", "olivia"),
        "is_owner": name == "ben",
        "is_primary_owner": name == "ben",
        "is_restricted": False,
        "is_ultra_restricted": False,
        "is_bot": False,
        "is_app_user": False,
        "updated": _CREATED_BASE + 86400 * 300,
        "profile": {
            "title": title,
            "phone": "",
            "real_name": real_name,
            "real_name_normalized": real_name,
            "display_name": display,
            "display_name_normalized": display,
            "first_name": first,
            "last_name": last,
            "email": f"{name}@example.com",
            "image_72": f"https://avatars.example.com/{uid}_72.png",
            "team": TEAM_ID,
        },
    }


def _bot_user_record(uid: str, name: str, bot_id: str, app_id: str, display: str) -> dict:
    return {
        "id": uid,
        "team_id": TEAM_ID,
        "name": name,
        "deleted": False,
        "color": "757575",
        "real_name": display,
        "tz": "America/Los_Angeles",
        "is_admin": False,
        "is_owner": False,
        "is_bot": True,
        "is_app_user": False,
        "updated": _CREATED_BASE,
        "profile": {
            "title": "",
            "real_name": display,
            "real_name_normalized": display,
            "display_name": "",
            "display_name_normalized": "",
            "bot_id": bot_id,
            "api_app_id": app_id,
            "always_active": True,
            "first_name": display,
            "last_name": "",
            "image_72": f"https://avatars.example.com/{uid}_72.png",
            "team": TEAM_ID,
        },
    }


def _slackbot_record() -> dict:
    return {
        "id": SLACKBOT_ID,
        "team_id": TEAM_ID,
        "name": "slackbot",
        "deleted": False,
        "color": "757575",
        "real_name": "Slackbot",
        "tz": "America/Los_Angeles",
        "is_admin": False,
        "is_owner": False,
        "is_bot": False,
        "is_app_user": False,
        "updated": 0,
        "profile": {
            "title": "",
            "real_name": "Slackbot",
            "real_name_normalized": "Slackbot",
            "display_name": "Slackbot",
            "display_name_normalized": "Slackbot",
            "first_name": "slackbot",
            "last_name": "",
            "image_72": "https://a.slack-edge.com/slackbot_72.png",
            "always_active": True,
            "team": TEAM_ID,
        },
    }


def _conversation_record(
    cid: str, name: str, kind: str, members: list[str], creator: str, created: int, topic: str, purpose: str
) -> dict:
    if kind == "im":
        return {"id": cid, "created": created, "members": members}
    rec: dict[str, Any] = {
        "id": cid,
        "name": name,
        "created": created,
        "creator": creator,
        "is_archived": False,
        "is_general": name == "general",
        "members": members,
        "topic": {"value": topic, "creator": creator if topic else "", "last_set": created if topic else 0},
        "purpose": {
            "value": purpose,
            "creator": creator if purpose else "",
            "last_set": created if purpose else 0,
        },
    }
    if kind == "private":
        rec["pins"] = []
    return rec


def _write_directory(out_dir: Path, users: list[dict], convs: list[tuple[str, dict]]) -> None:
    """Write users.json and the four conversation lists; `convs` is [(kind, record)]."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "users.json").write_text(_dump(users), encoding="utf-8")
    files = {"public": "channels.json", "private": "groups.json", "im": "dms.json", "mpim": "mpims.json"}
    for kind, filename in files.items():
        records = [rec for k, rec in convs if k == kind]
        (out_dir / filename).write_text(_dump(records), encoding="utf-8")


# ---------------------------------------------------------------------------------------------------
# the realistic sample
# ---------------------------------------------------------------------------------------------------


@dataclass
class _Conv:
    key: str
    id: str
    name: str
    kind: str
    folder: str
    members: list[str]  # user ids, people and bots
    humans: list[str]  # user ids of the people
    topic: str
    purpose: str
    records: list[dict] = field(default_factory=list)
    used_ts: set[str] = field(default_factory=set)
    by_ts: dict[str, dict] = field(default_factory=dict)
    replies: dict[str, list[dict]] = field(default_factory=dict)
    reserved: list[tuple[int, int]] = field(default_factory=list)


class _SampleBuilder:
    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.start = _epoch(SAMPLE_START_DATE)
        self.end = self.start + SAMPLE_DAYS * 86400  # exclusive
        self.days = [_utc_day(self.start + d * 86400) for d in range(SAMPLE_DAYS)]
        self.uid: dict[str, str] = {}
        self.users: list[dict] = []
        self.profiles: dict[str, dict] = {}
        self.bots: dict[str, tuple[str, str, str, str]] = {}
        self.convs: dict[str, _Conv] = {}
        self.items: list[dict] = []
        self.planted: dict[tuple[str, str], str] = {}  # (conv key, ts) -> item id
        self.protected: set[tuple[str, str]] = set()  # (conv key, ts) never edited or deleted
        self.baked_edits: list[tuple[_Conv, dict, int]] = []
        self.raw_edits: list[tuple[_Conv, dict, str, str]] = []  # conv, msg, new text, event ts
        self.deletes: list[tuple[_Conv, dict, str]] = []  # conv, msg, event ts
        self.tombstones: list[tuple[_Conv, dict]] = []
        self.interleaving: dict[str, Any] = {}
        self.secret: dict[str, Any] = {}
        self.file_counter = 0
        self.used_texts: set[str] = set()

    # --- directory -----------------------------------------------------------------------------------

    def build_directory(self) -> None:
        for i, (name, real, display, tz, title) in enumerate(_PEOPLE, start=1):
            uid = f"U0{i:02d}{name.upper()[:7]}"
            self.uid[name] = uid
            self.users.append(_user_record(uid, name, real, display, tz, title))
            self.profiles[uid] = _profile(uid, name, real, display)
        name, real, display, tz, title = _DELETED_PERSON
        uid = f"U0{len(_PEOPLE) + 1:02d}{name.upper()}"
        self.uid[name] = uid
        self.users.append(_user_record(uid, name, real, display, tz, title, deleted=True))
        self.profiles[uid] = _profile(uid, name, real, display)
        for key, uid, bot_id, app_id, display in _BOTS:
            self.uid[key] = uid
            self.bots[key] = (uid, bot_id, app_id, display)
            self.users.append(_bot_user_record(uid, key, bot_id, app_id, display))
        self.users.append(_slackbot_record())

        for key, cid, kind, member_names, topic, purpose in _CONVERSATIONS:
            humans = [self.uid[n] for n in member_names]
            members = humans + [self.uid[b] for b in _BOT_MEMBERS.get(key, [])]
            folder = cid if kind == "im" else key
            self.convs[key] = _Conv(key, cid, key, kind, folder, members, humans, topic, purpose)

    def directory_records(self) -> list[tuple[str, dict]]:
        out = []
        for i, c in enumerate(self.convs.values()):
            creator = c.humans[0]
            if c.key == "general":
                creator = self.uid["ben"]
            out.append(
                (
                    c.kind,
                    _conversation_record(
                        c.id,
                        c.name,
                        c.kind,
                        c.members,
                        creator,
                        _CREATED_BASE + i * 86400 * 17,
                        c.topic,
                        c.purpose,
                    ),
                )
            )
        return out

    # --- time -----------------------------------------------------------------------------------------

    def at(self, day: int, hh: int, mm: int, ss: int = 0) -> int:
        return self.start + day * 86400 + hh * 3600 + mm * 60 + ss

    def pick_sec(self, conv: _Conv, day: int, *, latest: tuple[int, int] | None = None) -> int:
        """A time on `day` following the working-hours profile, outside the conversation's reserved windows."""
        weights = _WEEKDAY_HOURS if day < 5 else _WEEKEND_HOURS
        if latest is not None:
            weights = [w if h < latest[0] else 0 for h, w in enumerate(weights)]
        for _ in range(100):
            hour = self.rng.choices(range(24), weights=weights)[0]
            sec = self.at(day, hour, self.rng.randrange(60), self.rng.randrange(60))
            if self.is_free(conv, sec):
                return sec
        raise RuntimeError("could not find a free time slot")  # pragma: no cover

    @staticmethod
    def is_free(conv: _Conv, sec: int) -> bool:
        return not any(lo <= sec < hi for lo, hi in conv.reserved)

    # --- message primitives -----------------------------------------------------------------------------

    def new_ts(self, conv: _Conv, sec: int) -> str:
        if not self.start <= sec < self.end:
            raise ValueError(f"timestamp {sec} outside the sample window")
        while True:
            ts = f"{sec}.{self.rng.randrange(1, 1_000_000):06d}"
            if ts not in conv.used_ts:
                conv.used_ts.add(ts)
                return ts

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def _add(self, conv: _Conv, msg: dict) -> dict:
        conv.records.append(msg)
        conv.by_ts[msg["ts"]] = msg
        return msg

    def post(
        self,
        conv: _Conv,
        user: str,
        text: str,
        sec: int,
        *,
        parent: dict | None = None,
        subtype: str | None = None,
        extra: dict | None = None,
    ) -> dict:
        """A message by a person (name or user id): top level, or a reply when `parent` is given."""
        uid = self.uid.get(user, user)
        if parent is not None and sec <= int(float(parent["ts"])):
            raise ValueError("a reply must come after its parent")
        msg: dict[str, Any] = {"type": "message"}
        if subtype:
            msg["subtype"] = subtype
        msg.update({"user": uid, "text": text, "ts": self.new_ts(conv, sec)})
        if subtype is None or subtype == "thread_broadcast":
            msg["client_msg_id"] = self._uuid()
        if parent is not None:
            msg["thread_ts"] = parent["ts"]
            msg["parent_user_id"] = parent["user"]
        msg["team"] = TEAM_ID
        msg["user_profile"] = self.profiles[uid]
        if subtype == "thread_broadcast" and parent is not None:
            msg["root"] = {
                "type": "message",
                "user": parent["user"],
                "text": parent["text"],
                "ts": parent["ts"],
                "thread_ts": parent["ts"],
            }
        if extra:
            msg.update(extra)
        self._add(conv, msg)
        if parent is not None:
            conv.replies.setdefault(parent["ts"], []).append(msg)
        return msg

    def reply(
        self, conv: _Conv, parent: dict, user: str, text: str, sec: int, *, broadcast: bool = False
    ) -> dict:
        return self.post(
            conv, user, text, sec, parent=parent, subtype="thread_broadcast" if broadcast else None
        )

    def bot_post(self, conv: _Conv, bot: str, text: str, attachments: list[dict], sec: int) -> dict:
        """A legacy `bot_message` (deploybot, alertbot) or an app message with a bot user (github)."""
        uid, bot_id, app_id, display = self.bots[bot]
        if bot == "github":
            msg = {
                "type": "message",
                "user": uid,
                "text": text,
                "ts": self.new_ts(conv, sec),
                "bot_id": bot_id,
                "app_id": app_id,
                "team": TEAM_ID,
                "bot_profile": {
                    "id": bot_id,
                    "name": display,
                    "app_id": app_id,
                    "deleted": False,
                    "team_id": TEAM_ID,
                },
                "attachments": attachments,
            }
        else:
            msg = {
                "type": "message",
                "subtype": "bot_message",
                "text": text,
                "ts": self.new_ts(conv, sec),
                "bot_id": bot_id,
                "username": display,
                "icons": {"emoji": ":robot_face:"},
                "attachments": attachments,
            }
        return self._add(conv, msg)

    def join(self, conv: _Conv, user: str, sec: int) -> dict:
        uid = self.uid.get(user, user)
        msg = {
            "type": "message",
            "subtype": "channel_join",
            "user": uid,
            "text": f"<@{uid}> has joined the channel",
            "ts": self.new_ts(conv, sec),
        }
        return self._add(conv, msg)

    def file_share(
        self, conv: _Conv, user: str, sec: int, filename: str, mimetype: str, ftype: str, text: str
    ) -> dict:
        uid = self.uid.get(user, user)
        self.file_counter += 1
        fid = f"F0{self.file_counter:03d}{self.rng.randrange(36**5):06X}"[:11]
        files = [
            {
                "id": fid,
                "created": sec,
                "timestamp": sec,
                "name": filename,
                "title": filename,
                "mimetype": mimetype,
                "filetype": ftype,
                "user": uid,
                "size": 20_000 + self.rng.randrange(2_000_000),
                "url_private": f"https://files.slack.com/files-pri/{TEAM_ID}-{fid}/{filename}",
                "permalink": f"{WORKSPACE_URL}/files/{uid}/{fid}/{filename}",
            }
        ]
        return self.post(conv, user, text, sec, subtype="file_share", extra={"files": files, "upload": True})

    # --- text filling -------------------------------------------------------------------------------------

    def fill(self, template: str, conv: _Conv, author: str | None = None) -> str:
        others = [u for u in conv.humans if u != self.uid.get(author or "", author)] or conv.humans
        publics = [c for c in self.convs.values() if c.kind == "public" and c.key != conv.key]
        ch = self.rng.choice(publics)
        repo = self.rng.choice(_REPOS)
        num = self.rng.randrange(40, 1300)
        link, label = self.rng.choice(_LINKS)
        values = {
            "m": self.rng.choice(others),
            "ch": f"<#{ch.id}|{ch.name}>",
            "svc": self.rng.choice(_SERVICES),
            "pr": f"<https://github.com/outropy/{repo}/pull/{num}|{repo}#{num}>",
            "proj": _PROJECT_OF.get(conv.key) or self.rng.choice(["Atlas", "Borealis"]),
            "n": self.rng.randrange(2, 40),
            "weekday": self.rng.choice(_WEEKDAYS),
            "emoji": self.rng.choice(_EMOJI),
            "link": link,
            "label": label,
        }
        return template.format(**values)

    # --- filler ---------------------------------------------------------------------------------------------

    def filler(self) -> None:
        for day in range(SAMPLE_DAYS):
            for key, units in _FILLER_UNITS.items():
                n = units if day < 5 else int(units * 0.1 + self.rng.random() * 1.5)
                for _ in range(n):
                    self.filler_unit(self.convs[key], day)
            if day < 5:
                self.deploys(day)
                self.github(day)
                self.alerts_noise(day)
            else:
                self.deploys(day, count=2)

    def filler_unit(self, conv: _Conv, day: int) -> None:
        flavor = _FLAVOR[conv.key]
        rng = self.rng
        sec = self.pick_sec(conv, day)
        author = rng.choice(conv.humans)
        if (conv.key == "design" and rng.random() < 0.3) or (
            conv.key == "engineering" and rng.random() < 0.04
        ):
            fname, mime, ftype, text = rng.choice(_FILE_SHARES)
            root = self.file_share(conv, author, sec, fname, mime, ftype, text)
        else:
            root = self.post(conv, author, self.fill(rng.choice(_TOP[flavor]), conv, author), sec)
        r = rng.random()
        n_replies = 0 if r < 0.55 else rng.choice([1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 6])
        t = sec
        last = root["user"]
        for _ in range(n_replies):
            t += rng.choice([20, 45, 90, 120, 300, 600, 900, 2400, 5400])
            if t >= self.end - 60 or _utc_day(t) != _utc_day(sec):
                break
            candidates = [u for u in conv.humans if u != last]
            who = root["user"] if rng.random() < 0.35 and root["user"] != last else rng.choice(candidates)
            pool = _REPLIES_COMMON + _REPLIES.get(flavor, [])
            broadcast = rng.random() < 0.02 and self.is_free(conv, t)
            self.reply(conv, root, who, self.fill(rng.choice(pool), conv, who), t, broadcast=broadcast)
            last = who
        if n_replies and day < SAMPLE_DAYS - 1 and rng.random() < 0.04:
            late = self.at(day + 1, rng.choice([7, 8, 9]), rng.randrange(60), rng.randrange(60))
            who = rng.choice([u for u in conv.humans if u != root["user"]] or conv.humans)
            text = "sorry, missed this yesterday — " + rng.choice(
                ["makes sense", "sounds good", "thanks for sorting it"]
            )
            self.reply(conv, root, who, text, late)

    def deploys(self, day: int, count: int | None = None) -> None:
        conv = self.convs["deploys"]
        n = count if count is not None else self.rng.randrange(10, 15)
        for _ in range(n):
            sec = self.pick_sec(conv, day)
            svc = self.rng.choice(_SERVICES)
            version = f"v{self.days[day].replace('-', '.')}-{self.rng.randrange(1, 6)}"
            env = self.rng.choice(["production", "production", "staging"])
            failed = self.rng.random() < 0.07
            who = self.rng.choice(conv.humans)
            sha = f"{self.rng.getrandbits(28):07x}"
            text = self.rng.choice(
                [f"Deployed `{svc}` {version} to {env}", "", f":rocket: {svc} {version} is live in {env}", ""]
            )
            if failed:
                text = f":x: Deploy of `{svc}` {version} to {env} failed"
            attachment = {
                "fallback": f"{svc} {version} {'failed' if failed else 'deployed'} to {env}",
                "title": f"{svc} {version} → {env}",
                "text": f"Deployed by <@{who}> · commit {sha}",
                "color": "danger" if failed else "good",
                "footer": "deploybot",
            }
            self.bot_post(conv, "deploybot", text, [attachment], sec)

    def github(self, day: int) -> None:
        conv = self.convs["engineering"]
        for _ in range(self.rng.randrange(4, 8)):
            sec = self.pick_sec(conv, day)
            name, repo, _num = self.rng.choice(_PRS)
            num = self.rng.randrange(100, 1400)
            who = self.profiles[self.rng.choice(conv.humans)]["name"]
            action = self.rng.choice(["opened", "merged", "opened", "ready for review"])
            attachment = {
                "fallback": f"[outropy/{repo}] Pull request {action}: #{num} {name}",
                "pretext": f"Pull request {action} by {who}",
                "title": f"#{num} {name.capitalize()}",
                "title_link": f"https://github.com/outropy/{repo}/pull/{num}",
                "text": f"{self.rng.randrange(1, 30)} files changed",
                "color": "6f42c1" if action == "merged" else "36a64f",
            }
            self.bot_post(conv, "github", "", [attachment], sec)

    def alerts_noise(self, day: int) -> None:
        conv = self.convs["incidents"]
        sec = self.pick_sec(conv, day)
        runner = self.rng.randrange(1, 9)
        for state, color, delta in (
            ("FIRING", "warning", 0),
            ("RESOLVED", "good", 600 + self.rng.randrange(1200)),
        ):
            title = f"[{state}:1] DiskUsageHigh ci-runner-{runner}"
            att = {
                "fallback": title,
                "title": title,
                "text": "disk usage above 80% on /var/lib/docker",
                "color": color,
            }
            self.bot_post(conv, "alertbot", "", [att], sec + delta)

    # --- planted items ---------------------------------------------------------------------------------------

    def item(
        self,
        kind: str,
        conv: _Conv,
        msg: dict,
        title: str,
        owners: list[str],
    ) -> dict:
        item_id = f"P{len(self.items) + 1:03d}"
        rec = {
            "id": item_id,
            "kind": kind,
            "day": _utc_day(msg["ts"]),
            "channel_id": conv.id,
            "thread_ts": None,
            "title": title,
            "owners": owners,
            "sources": [{"channel_id": conv.id, "ts": msg["ts"]}],
            "closed_by": None,
            "text": msg["text"],
        }
        self.items.append(rec)
        self.planted[(conv.key, msg["ts"])] = item_id
        self.protected.add((conv.key, msg["ts"]))
        return rec

    def close(self, item: dict, conv: _Conv, root: dict, user: str, text: str, sec: int) -> dict:
        msg = self.reply(conv, root, user, text, sec)
        item["closed_by"] = {"channel_id": conv.id, "ts": msg["ts"], "day": _utc_day(msg["ts"])}
        self.protected.add((conv.key, msg["ts"]))
        return msg

    def _slots(self, conv: _Conv, owner: str) -> dict[str, Any]:
        rng = self.rng
        proj = _PROJECT_OF.get(conv.key) or rng.choice(["Atlas", "Borealis"])
        option, component = rng.choice(_OPTION_COMPONENT)
        prname, repo, num = rng.choice(_PRS)
        vendor, cert = rng.choice(_VENDOR_CERT)
        team, action, nxt = rng.choice(_TEAM_ACTION)
        event, time = rng.choice(_EVENTS)
        doc = rng.choice(_DOCS)
        return {
            "o": owner,
            "proj": proj,
            "feature": rng.choice(_FEATURES[proj]),
            "option": option,
            "component": component,
            "freeze": rng.choice(_FREEZE),
            "weekday": rng.choice(_WEEKDAYS),
            "milestone": rng.choice(_MILESTONES),
            "date": rng.choice(_DATES),
            "doc": doc,
            "slug": doc.replace(" ", "-"),
            "prname": prname,
            "pr": f"<https://github.com/outropy/{repo}/pull/{num}|{repo}#{num}>",
            "task": rng.choice(_TASKS),
            "vendor": vendor,
            "cert": cert,
            "subject": rng.choice(_SUBJECTS),
            "svc": rng.choice(_SERVICES),
            "bucket": rng.choice(_BUCKETS),
            "suite": rng.choice(_SUITES),
            "team": team,
            "action": action,
            "next": nxt,
            "dep": rng.choice(_DEPS),
            "reason": rng.choice(_REASONS),
            "event": event,
            "time": time,
            "system": rng.choice(_SYSTEMS),
            "pct": rng.choice(_PCTS),
            "job": rng.choice(_JOBS),
        }

    def plant_templated(self) -> None:
        """Items from the template pools, spread over days, channels and thread/top-level positions."""
        plan: list[tuple[str, int, list[tuple], list[str]]] = [
            ("decision", 8, _DECISION_T,
             ["proj-atlas", "proj-borealis", "engineering", "design", "mpdm-alice--bob--carol-1", "proj-atlas",
              "engineering", "proj-borealis"]),
            ("action_item", 14, _ACTION_T,
             ["engineering", "proj-atlas", "proj-borealis", "dm-alice-bob", "design", "engineering", "proj-atlas",
              "proj-borealis", "mpdm-alice--bob--carol-1", "engineering", "proj-atlas", "proj-atlas", "engineering",
              "proj-borealis"]),
            ("question", 12, _QUESTION_T,
             ["engineering", "proj-atlas", "proj-borealis", "dm-alice-bob", "mpdm-alice--bob--carol-1", "design",
              "general", "engineering", "proj-atlas", "proj-borealis", "leadership", "engineering"]),
            ("blocker", 8, _BLOCKER_T,
             ["engineering", "proj-atlas", "proj-borealis", "engineering", "proj-atlas", "proj-borealis",
              "engineering", "deploys"]),
            ("announcement", 6, _ANNOUNCE_T,
             ["general", "engineering", "general", "engineering", "general", "general"]),
            ("status_update", 10, _STATUS_T,
             ["proj-atlas", "proj-borealis", "engineering", "proj-atlas", "proj-borealis", "general",
              "proj-atlas", "proj-borealis", "engineering", "proj-borealis"]),
        ]  # fmt: skip
        rng = self.rng
        for kind, count, templates, channels in plan:
            days = [i % 5 for i in range(count)]
            rng.shuffle(days)
            if kind == "status_update":
                days[-1] = 5  # something happens at the weekend too
            for i in range(count):
                conv = self.convs[channels[i]]
                day = days[i]
                template = templates[i % len(templates)]
                author = rng.choice(conv.humans)
                others = [u for u in conv.humans if u != author]
                owner = rng.choice(others)
                for _ in range(200):  # no two planted items say the same thing
                    slots = self._slots(conv, owner)
                    text = template[0].format(**slots)
                    title = template[1].format(**slots)
                    title = title[0].upper() + title[1:]
                    if text not in self.used_texts and title not in self.used_texts:
                        break
                else:  # pragma: no cover
                    raise RuntimeError(f"could not find a unique {kind} text")
                self.used_texts.update((text, title))
                self_commit = template[0].startswith(("I ", "I'"))  # "I'll take...", "I can own..."
                owners: list[str] = []
                if kind in ("action_item", "question"):
                    owners = [author] if self_commit else [owner]
                mode = ("top", "thread", "top_acks")[(i + len(kind)) % 3]
                sec = self.pick_sec(conv, day, latest=(21, 0))
                root_sec = sec - rng.randrange(300, 1800)
                while not self.is_free(conv, root_sec) or root_sec < self.at(day, 0, 0):
                    sec = self.pick_sec(conv, day, latest=(21, 0))
                    root_sec = sec - rng.randrange(300, 1800)
                root = None
                if mode == "thread":
                    root_author = rng.choice(others)
                    root_text = self.fill(rng.choice(_THREAD_ROOTS), conv, root_author)
                    root = self.post(conv, root_author, root_text, root_sec)
                    self.protected.add((conv.key, root["ts"]))
                    msg = self.post(conv, author, text, sec, parent=root)
                else:
                    msg = self.post(conv, author, text, sec)
                item = self.item(kind, conv, msg, title, owners)
                thread_root = root or msg
                t = sec
                if mode == "top_acks" and _ACKS[kind]:
                    for _ in range(rng.randrange(1, 3)):
                        t += rng.randrange(40, 600)
                        who = owner if kind == "action_item" and not self_commit else rng.choice(others)
                        ack = self.reply(conv, thread_root, who, rng.choice(_ACKS[kind]), t)
                        self.protected.add((conv.key, ack["ts"]))
                if kind in ("action_item", "question", "blocker") and len(template) > 2:
                    pattern = ("same_day", "later", "open")[i % 3]
                    closer = author if kind == "blocker" else owners[0]
                    closing = template[2].format(**slots)
                    if pattern == "same_day":
                        self.close(item, conv, thread_root, closer, closing, t + rng.randrange(900, 7200))
                    elif pattern == "later":
                        later = min(day + rng.choice([1, 1, 2, 3]), SAMPLE_DAYS - 1)
                        hour = rng.choice([8, 9, 10, 11, 14, 15, 16])
                        self.close(
                            item, conv, thread_root, closer, closing, self.at(later, hour, rng.randrange(60))
                        )

    def plant_incidents(self) -> None:
        """One real SEV2 with alerts, mitigation and a next-day resolution, plus three smaller ones."""
        inc = self.convs["incidents"]
        deploys = self.convs["deploys"]
        d = 1  # Tuesday
        self.bot_post(
            deploys,
            "deploybot",
            "Deployed `ledger-svc` v2026.11.03-2 to production",
            [
                {
                    "fallback": "ledger-svc v2026.11.03-2 deployed to production",
                    "title": "ledger-svc v2026.11.03-2 → production",
                    "text": f"Deployed by <@{self.uid['dan']}> · commit 9c1e4fa",
                    "color": "good",
                    "footer": "deploybot",
                }
            ],
            self.at(d, 13, 52, 4),
        )
        firing = "[FIRING:1] CheckoutApi5xxRate checkout-api production"
        self.bot_post(
            inc,
            "alertbot",
            "",
            [
                {
                    "fallback": firing,
                    "title": firing,
                    "text": "5xx rate 8.2% over 5m (threshold 5%)",
                    "color": "danger",
                }
            ],
            self.at(d, 13, 56, 10),
        )
        root = self.post(
            inc,
            "erin",
            "SEV2: checkout is returning 500s for ~8% of requests since 13:55 UTC. I'm IC. <!here> please keep "
            "this channel for incident traffic",
            self.at(d, 13, 58, 2),
        )
        incident = self.item("incident", inc, root, "SEV2: checkout returning 500s (~8% of requests)", [])
        self.reply(inc, root, "nils", "looking at checkout-api logs — lots of `connection refused` to ledger-svc",
                   self.at(d, 13, 59, 30))  # fmt: skip
        self.reply(inc, root, "dan", "ledger-svc deploy went out at 13:52 (v2026.11.03-2), suspicious timing",
                   self.at(d, 14, 1, 5))  # fmt: skip
        ask = self.reply(inc, root, "erin", f"<@{self.uid['dan']}> can you roll back ledger-svc to the previous release?",
                         self.at(d, 14, 2, 0))  # fmt: skip
        rollback = self.item(
            "action_item", inc, ask, "Roll back ledger-svc to the previous release", [self.uid["dan"]]
        )
        self.bot_post(
            deploys,
            "deploybot",
            "",
            [
                {
                    "fallback": "Rollback started: ledger-svc → v2026.11.03-1",
                    "title": "Rollback: ledger-svc v2026.11.03-1 → production",
                    "text": f"Started by <@{self.uid['dan']}>",
                    "color": "warning",
                    "footer": "deploybot",
                }
            ],
            self.at(d, 14, 4, 12),
        )
        self.reply(
            inc,
            root,
            "carol",
            "support is getting tickets about failed payments :grimacing:",
            self.at(d, 14, 7, 0),
        )
        status_ask = self.reply(
            inc, root, "erin",
            f"<@{self.uid['rosa']}> can you post a status page update saying checkout errors are being mitigated?",
            self.at(d, 14, 8, 0),
        )  # fmt: skip
        status_item = self.item(
            "action_item",
            inc,
            status_ask,
            "Post a status page update about checkout errors",
            [self.uid["rosa"]],
        )
        self.close(
            rollback,
            inc,
            root,
            "dan",
            "rollback done ✅ ledger-svc is on v2026.11.03-1",
            self.at(d, 14, 9, 40),
        )
        self.close(
            status_item, inc, root, "rosa",
            "status page updated: <https://status.example.com/incidents/8812|Elevated checkout errors>",
            self.at(d, 14, 12, 15),
        )  # fmt: skip
        self.reply(inc, root, "nils", "error rate dropping, 1.2% now", self.at(d, 14, 15, 3))
        resolved = "[RESOLVED] CheckoutApi5xxRate checkout-api production"
        self.bot_post(
            inc,
            "alertbot",
            "",
            [{"fallback": resolved, "title": resolved, "text": "5xx rate 0.1% over 5m", "color": "good"}],
            self.at(d, 14, 21, 40),
        )
        self.reply(
            inc, root, "erin",
            "Mitigated: error rate back to baseline after rolling back ledger-svc. Keeping the incident open while "
            "we find the root cause.",
            self.at(d, 14, 30, 0), broadcast=True,
        )  # fmt: skip
        self.close(
            incident, inc, root, "erin",
            "Resolved ✅ root cause: the connection pool limit was lowered in the ledger-svc config in "
            "v2026.11.03-2. Fix merged in <https://github.com/outropy/ledger/pull/488|ledger#488>.",
            self.at(d + 1, 10, 15, 0),
        )  # fmt: skip
        pm_ask = self.reply(
            inc,
            root,
            "olivia",
            f"<@{self.uid['erin']}> can you write the postmortem by Thursday?",
            self.at(d + 1, 10, 17, 30),
        )
        postmortem = self.item("action_item", inc, pm_ask, "Write the checkout 500s postmortem by Thursday",
                               [self.uid["erin"]])  # fmt: skip
        self.close(
            postmortem, inc, root, "erin",
            "postmortem is up: <https://notion.example.com/eng/postmortems/checkout-500s|Checkout 500s postmortem>",
            self.at(d + 2, 15, 40, 0),
        )  # fmt: skip

        # smaller incidents
        smaller = [
            (3, "incidents", "kemi", "SEV3: search latency p99 is at ~4s, Borealis ingest is lagging behind",
             "Search p99 latency ~4s, Borealis ingest lagging", "farid",
             "ingest consumer was stuck on a poison message, skipped it and it's catching up",
             "latency back to normal — resolved :white_check_mark:", "[FIRING:1] SearchLatencyP99 search-api"),
            (4, "incidents", "nils", "Incident: webhook deliveries to merchants are delayed ~20 min, opening a SEV3",
             "Webhook deliveries delayed ~20 min", "umar", "the webhooks queue has 40k messages backed up, scaling workers",
             "queue drained, deliveries are on time again. closing the incident", None),
            (0, "engineering", "jonas",
             "<!here> we have an outage: SSO logins are failing for Okta customers, declaring SEV2 — follow in "
             f"<#{inc.id}|incidents>",
             "SSO logins failing for Okta customers", "quentin", "the SAML signing cert rotated early, re-uploading it",
             "SSO is back, logins work for all Okta tenants. resolved", None),
        ]  # fmt: skip
        for day, key, who, text, title, helper, middle, closing, alert in smaller:
            conv = self.convs[key]
            t = self.at(day, 11 + day, 20)
            if alert:
                self.bot_post(
                    conv,
                    "alertbot",
                    "",
                    [{"fallback": alert, "title": alert, "text": "p99 4.1s", "color": "danger"}],
                    t - 90,
                )
            root = self.post(conv, who, text, t)
            item = self.item("incident", conv, root, title, [])
            self.reply(conv, root, helper, middle, t + 600)
            self.close(item, conv, root, who, closing, t + 2400)

    def plant_secret(self) -> None:
        conv = self.convs["leadership"]
        phrase = "PRIVATE-SECRET: acquisition of Zephyr Labs closes 2026-12-01"
        msg = self.post(
            conv,
            "ben",
            f"Decision: {phrase}. We go ahead at the agreed price; please keep this inside this channel until the "
            "all-hands announcement.",
            self.at(1, 16, 10, 5),
        )
        self.item("decision", conv, msg, "Go ahead with the Zephyr Labs acquisition (closes 2026-12-01)", [])
        self.reply(conv, msg, "olivia", "understood :+1:", self.at(1, 16, 14, 0))
        self.reply(conv, msg, "anna", "noted, finance is ready for the closing", self.at(1, 16, 31, 0))
        self.secret = {
            "channel_id": conv.id,
            "ts": msg["ts"],
            "phrase": phrase,
            "members": list(conv.members),
        }

    def plant_interleaving(self) -> None:
        conv = self.convs["engineering"]
        day = 2
        conv.reserved.append((self.at(day, 13, 45), self.at(day, 14, 35)))
        sam, hiro = self.uid["sam"], self.uid["hiro"]
        a = [
            ("dan", "the payments integration suite timed out again on main"),
            ("leo", "third time today, it's the sandbox webhook step every time"),
            ("dan", "looks like the sandbox is rate limiting us since this morning"),
            ("leo", "we could stub the webhook call in CI and keep one nightly run against the real sandbox"),
            ("dan", "good idea. I'll open a PR to stub the sandbox webhook this afternoon"),
            ("leo", "great, ping me when it's up"),
        ]
        b = [
            ("sam", f"<@{hiro}> the bundle size jumped 40kb after yesterday's icon change"),
            ("hiro", f"<@{sam}> ah, that's the full icon set being imported in the cart drawer"),
            ("sam", f"<@{hiro}> right, the named imports only pull in what we use elsewhere"),
            ("hiro", f"<@{sam}> switching to per-icon imports brings it back down to 212kb locally"),
            (
                "sam",
                f"<@{hiro}> nice. ok let's go with per-icon imports everywhere and add a bundle size budget to CI",
            ),
            ("hiro", f"<@{sam}> :+1: adding the lint rule now"),
        ]
        t = self.at(day, 14, 0, 12)
        conversations: list[list[str]] = [[], []]
        for step in range(len(a)):
            for which, lines in enumerate((a, b)):
                user, text = lines[step]
                msg = self.post(conv, user, text, t)
                self.protected.add((conv.key, msg["ts"]))
                conversations[which].append(msg["ts"])
                if step == 4 and which == 0:
                    self.item(
                        "action_item",
                        conv,
                        msg,
                        "Open a PR to stub the sandbox webhook in CI",
                        [self.uid["dan"]],
                    )
                if step == 4 and which == 1:
                    self.item(
                        "decision", conv, msg, "Use per-icon imports and add a bundle size budget to CI", []
                    )
                t += self.rng.randrange(45, 70)
        self.interleaving = {"channel_id": conv.id, "conversations": conversations}

    def plant_people_events(self) -> None:
        for person, key, day, hh, mm in _JOINS:
            self.join(self.convs[key], person, self.at(day, hh, mm, 11))
            uid = self.uid[person]
            conv = self.convs[key]
            if uid not in conv.members:
                conv.members.insert(len(conv.humans), uid)
                conv.humans.append(uid)
        general = self.convs["general"]
        welcome = self.post(
            general,
            "chloe",
            f"Please welcome <@{self.uid['diego']}> who joins the Atlas team today as a backend engineer! :tada:",
            self.at(0, 9, 15, 0),
        )
        self.item("announcement", general, welcome, "Diego Silva joins the Atlas team", [])
        for i, who in enumerate(["alice", "dan", "carol", "rosa"]):
            self.reply(general, welcome, who, ["welcome!", "welcome :wave:", "welcome Diego! :tada:", "bem-vindo!"][i],
                       self.at(0, 9, 17 + 3 * i))  # fmt: skip
        # the person who leaves (and is deactivated) this week
        mark = self.uid["mark"]
        self.post(self.convs["engineering"], mark,
                  f"last day today :wave: the billing cron notes are in the wiki, <@{self.uid['dan']}> has the context",
                  self.at(0, 15, 30, 0))  # fmt: skip
        self.post(
            self.convs["general"], mark, "it's been a blast, thanks everyone :wave:", self.at(0, 16, 2, 0)
        )

    # --- edits and deletions ---------------------------------------------------------------------------------

    def _candidates(self, conv: _Conv) -> list[dict]:
        return [
            m
            for m in conv.records
            if m.get("subtype") is None
            and "bot_id" not in m
            and "thread_ts" not in m
            and m["ts"] not in conv.replies
            and (conv.key, m["ts"]) not in self.protected
            and int(float(m["ts"])) < self.end - 4 * 3600
        ]

    def _event_sec(self, conv: _Conv, msg: dict, lo: int, hi: int) -> int:
        base = int(float(msg["ts"]))
        while True:
            sec = base + self.rng.randrange(lo, hi)
            if self.is_free(conv, sec):
                return sec

    def edits_and_deletions(self) -> None:
        rng = self.rng
        keys = ["engineering", "proj-atlas", "proj-borealis", "general", "design", "random"]
        chosen: set[tuple[str, str]] = set()

        def pick(conv: _Conv) -> dict:
            cands = [m for m in self._candidates(conv) if (conv.key, m["ts"]) not in chosen]
            msg = rng.choice(cands)
            chosen.add((conv.key, msg["ts"]))
            return msg

        for i in range(12):  # edits baked into the message (`edited`, final text)
            conv = self.convs[keys[i % len(keys)]]
            msg = pick(conv)
            sec = int(float(msg["ts"])) + rng.randrange(30, 900)
            self.baked_edits.append((conv, msg, sec))
        for key in ("engineering", "proj-atlas", "proj-borealis"):  # raw `message_changed` events
            conv = self.convs[key]
            msg = pick(conv)
            final = msg["text"]
            msg["text"] = _typo(final)
            event = self.new_ts(conv, self._event_sec(conv, msg, 60, 1800))
            self.raw_edits.append((conv, msg, final, event))
        for key in ("engineering", "random", "proj-atlas"):  # `message_deleted` events
            conv = self.convs[key]
            msg = pick(conv)
            event = self.new_ts(conv, self._event_sec(conv, msg, 30, 3600))
            self.deletes.append((conv, msg, event))
        # a thread parent deleted after people replied: left behind as a tombstone
        conv = self.convs["engineering"]
        parents = [
            conv.by_ts[ts]
            for ts in conv.replies
            if len(conv.replies[ts]) >= 2
            and (conv.key, ts) not in self.protected
            and conv.by_ts[ts].get("subtype") is None
            and "bot_id" not in conv.by_ts[ts]
            # a broadcast reply carries a copy of its root, which would leak the deleted text
            and not any(r.get("subtype") == "thread_broadcast" for r in conv.replies[ts])
        ]
        self.tombstones.append((conv, rng.choice(parents)))

    # --- finishing -----------------------------------------------------------------------------------------

    def finish(self) -> None:
        rng = self.rng
        for conv in self.convs.values():
            for parent_ts, reps in conv.replies.items():
                parent = conv.by_ts[parent_ts]
                reps.sort(key=lambda m: _ts_key(m["ts"]))
                users = list(dict.fromkeys(r["user"] for r in reps))
                parent["thread_ts"] = parent_ts
                parent["reply_count"] = len(reps)
                parent["reply_users_count"] = len(users)
                parent["latest_reply"] = reps[-1]["ts"]
                parent["reply_users"] = users
                parent["replies"] = [{"user": r["user"], "ts": r["ts"]} for r in reps]
                parent["is_locked"] = False
                parent["subscribed"] = False
        reaction_names = [
            "+1",
            "heart",
            "eyes",
            "joy",
            "tada",
            "white_check_mark",
            "pray",
            "raised_hands",
            "100",
            "rocket",
        ]
        for conv in self.convs.values():
            for msg in conv.records:
                if msg.get("subtype") not in (None, "thread_broadcast", "file_share") or "bot_id" in msg:
                    continue
                item_id = self.planted.get((conv.key, msg["ts"]))
                if rng.random() >= (0.45 if item_id else 0.15):
                    continue
                others = [u for u in conv.humans if u != msg["user"]]
                reactions = []
                for name in rng.sample(reaction_names, rng.choice([1, 1, 1, 2])):
                    users = rng.sample(others, min(len(others), rng.randrange(1, 5)))
                    reactions.append({"name": name, "users": users, "count": len(users)})
                msg["reactions"] = reactions
        self.edit_log: list[dict] = []
        for conv, msg, sec in self.baked_edits:
            edit_ts = f"{sec}.000000"
            msg["edited"] = {"user": msg["user"], "ts": edit_ts}
            self.edit_log.append(
                {
                    "channel_id": conv.id,
                    "ts": msg["ts"],
                    "edited_ts": edit_ts,
                    "text": msg["text"],
                    "event_ts": None,
                }
            )
        for conv, msg, final, event in self.raw_edits:
            previous = copy.deepcopy(msg)
            new = copy.deepcopy(msg)
            new["text"] = final
            new["edited"] = {"user": msg["user"], "ts": event}
            record = {
                "type": "message",
                "subtype": "message_changed",
                "hidden": True,
                "ts": event,
                "event_ts": event,
                "message": new,
                "previous_message": previous,
            }
            self._add(conv, record)
            self.edit_log.append(
                {"channel_id": conv.id, "ts": msg["ts"], "edited_ts": event, "text": final, "event_ts": event}
            )
        self.deletion_log: list[dict] = []
        for conv, msg, event in self.deletes:
            record = {
                "type": "message",
                "subtype": "message_deleted",
                "hidden": True,
                "ts": event,
                "event_ts": event,
                "deleted_ts": msg["ts"],
                "previous_message": copy.deepcopy(msg),
            }
            self._add(conv, record)
            self.deletion_log.append(
                {"channel_id": conv.id, "deleted_ts": msg["ts"], "event_ts": event, "kind": "message_deleted"}
            )
        for conv, parent in self.tombstones:
            tomb = {
                "type": "message",
                "subtype": "tombstone",
                "text": "This message was deleted.",
                "user": SLACKBOT_ID,
                "hidden": True,
                "ts": parent["ts"],
            }
            for key in (
                "thread_ts",
                "reply_count",
                "reply_users_count",
                "latest_reply",
                "reply_users",
                "replies",
            ):
                tomb[key] = parent[key]
            conv.records[conv.records.index(parent)] = tomb
            conv.by_ts[parent["ts"]] = tomb
            self.deletion_log.append(
                {"channel_id": conv.id, "deleted_ts": parent["ts"], "event_ts": None, "kind": "tombstone"}
            )
        for item in self.items:
            conv = next(c for c in self.convs.values() if c.id == item["channel_id"])
            src = conv.by_ts[item["sources"][0]["ts"]]
            item["thread_ts"] = src.get("thread_ts")

    def late_replies(self) -> list[dict]:
        out = []
        for conv in self.convs.values():
            for parent_ts, reps in conv.replies.items():
                for r in reps:
                    if _utc_day(r["ts"]) != _utc_day(parent_ts):
                        out.append(
                            {
                                "channel_id": conv.id,
                                "parent_ts": parent_ts,
                                "parent_day": _utc_day(parent_ts),
                                "reply_ts": r["ts"],
                                "reply_day": _utc_day(r["ts"]),
                            }
                        )
        return out

    def write(self, out_dir: Path) -> dict:
        out_dir = Path(out_dir)
        _write_directory(out_dir, self.users, self.directory_records())
        total = 0
        for conv in self.convs.values():
            folder = out_dir / conv.folder
            folder.mkdir(parents=True, exist_ok=True)
            by_day: dict[str, list[dict]] = {}
            for msg in sorted(conv.records, key=lambda m: _ts_key(m["ts"])):
                by_day.setdefault(_utc_day(msg["ts"]), []).append(msg)
            for day, msgs in by_day.items():
                if day not in self.days:  # pragma: no cover - guarded by new_ts
                    raise RuntimeError(f"message outside the sample window: {day}")
                (folder / f"{day}.json").write_text(_dump(msgs), encoding="utf-8")
                total += len(msgs)
        humans = [u for u in self.users if not u["is_bot"] and u["id"] != SLACKBOT_ID]
        items = copy.deepcopy(self.items)
        key = {
            "seed": self.seed,
            "start_date": SAMPLE_START_DATE,
            "days": self.days,
            "counts": {
                "messages": total,
                "users": len(self.users),
                "humans": len(humans),
                "conversations": len(self.convs),
                "planted_items": len(items),
            },
            "planted_items": items,
            "late_replies": self.late_replies(),
            "private_secret": self.secret,
            "interleaving": self.interleaving,
            "edits": self.edit_log,
            "deletions": self.deletion_log,
        }
        (out_dir / ANSWER_KEY_FILE).write_text(_dump(key), encoding="utf-8")
        return key


def _typo(text: str) -> str:
    """A plausible typo that the later edit fixes."""
    for good, bad in ((" the ", " teh "), (" and ", " adn "), ("ing ", "ign "), (" to ", " ot ")):
        if good in text:
            return text.replace(good, bad, 1)
    return text + " asdf"


def generate_sample_workspace(out_dir: Path, seed: int = 7) -> dict:
    """Write the realistic one-week sample export into `out_dir` and return its answer key."""
    builder = _SampleBuilder(seed)
    builder.build_directory()
    builder.plant_interleaving()  # first: reserves its window in #engineering
    builder.plant_people_events()
    builder.plant_incidents()
    builder.plant_secret()
    builder.plant_templated()
    builder.filler()
    builder.edits_and_deletions()
    builder.finish()
    return builder.write(Path(out_dir))


# ---------------------------------------------------------------------------------------------------
# scaled workspaces (benchmarks)
# ---------------------------------------------------------------------------------------------------

_FIRST = [
    "alex", "sam", "jordan", "taylor", "morgan", "casey", "riley", "jamie", "avery", "quinn", "drew", "robin",
    "kai", "noa", "lee", "max", "eli", "ari", "mia", "liam", "emma", "noah", "ava", "lucas", "zoe", "omar",
    "lena", "ivan", "sara", "yuki", "ana", "tom", "nina", "raj", "ola", "finn",
]  # fmt: skip
_LAST = [
    "smith", "garcia", "muller", "rossi", "dubois", "kim", "nguyen", "silva", "khan", "novak", "berg", "ito",
    "cohen", "walsh", "okafor", "haddad", "patel", "lopez", "schmidt", "martin", "costa", "sato", "evans",
]  # fmt: skip


def _json_inner(text: str) -> str:
    """`text` encoded as the inside of a JSON string literal."""
    return json.dumps(text)[1:-1]


def _scaled_text_pools(rng: random.Random) -> tuple[list[str], list[str], list[str]]:
    """Pre-encoded texts: top-level filler, replies, and planted-kind messages. `@@M@@` marks a mention."""
    mention = "@@M@@"
    publics = ["<#C000000000|general>"]
    top: list[str] = []
    for templates in _TOP.values():
        for template in templates:
            for _ in range(3):
                link, label = rng.choice(_LINKS)
                repo = rng.choice(_REPOS)
                num = rng.randrange(40, 1300)
                text = template.format(
                    m=mention,
                    ch=rng.choice(publics),
                    svc=rng.choice(_SERVICES),
                    pr=f"<https://github.com/outropy/{repo}/pull/{num}|{repo}#{num}>",
                    proj=rng.choice(["Atlas", "Borealis"]),
                    n=rng.randrange(2, 40),
                    weekday=rng.choice(_WEEKDAYS),
                    emoji=rng.choice(_EMOJI),
                    link=link,
                    label=label,
                )
                top.append(_json_inner(text))
    replies = [
        _json_inner(t.format(m=mention, svc=rng.choice(_SERVICES), n=rng.randrange(2, 40)))
        for t in _REPLIES_COMMON + [r for pool in _REPLIES.values() for r in pool]
    ]
    planted: list[str] = []
    builder = _SampleBuilder(rng.randrange(1 << 30))
    fake = _Conv("engineering", "C0", "engineering", "public", "engineering", [], [], "", "")
    for templates in (_DECISION_T, _ACTION_T, _QUESTION_T, _BLOCKER_T, _ANNOUNCE_T, _STATUS_T):
        for template in templates:
            for _ in range(8):
                slots = builder._slots(fake, mention)
                planted.append(_json_inner(template[0].format(**slots)))
    return top, replies, planted


def _allocate(total: int, weights: list[float]) -> list[int]:
    """Split `total` into integer parts proportional to `weights` (largest remainder, exact sum)."""
    s = sum(weights)
    raw = [total * w / s for w in weights]
    parts = [int(x) for x in raw]
    rest = total - sum(parts)
    order = sorted(range(len(weights)), key=lambda i: (parts[i] - raw[i], i))
    for i in order[:rest]:
        parts[i] += 1
    return parts


def generate_scaled_workspace(
    out_dir: Path,
    *,
    seed: int,
    users: int,
    channels: int,
    days: int,
    messages_per_day: int,
    start_date: str = "2026-10-05",
) -> dict:
    """Write a synthetic export of `users` people, `channels` public channels (plus a few private ones,
    a DM and a group DM) and exactly `messages_per_day` records per day for `days` days.

    Streams: each channel-day file is generated and written on its own, so memory stays bounded by
    the busiest channel-day. Day files hold one compact JSON record per line. Threads stay within one
    channel-day. Returns a summary of what was written.
    """
    if users < 2 or channels < 1 or days < 1 or messages_per_day < 0:
        raise ValueError("need at least 2 users, 1 channel, 1 day and a non-negative message count")
    out_dir = Path(out_dir)
    rng = random.Random(seed)
    rnd = rng.random

    # people ---------------------------------------------------------------------------------------
    user_ids: list[str] = []
    user_records: list[dict] = []
    profiles: dict[str, str] = {}
    for i in range(users):
        first = _FIRST[i % len(_FIRST)]
        last = _LAST[(i // len(_FIRST)) % len(_LAST)]
        name = f"{first}.{last}" + (
            str(i // (len(_FIRST) * len(_LAST))) if i >= len(_FIRST) * len(_LAST) else ""
        )
        real = f"{first.capitalize()} {last.capitalize()}"
        uid = f"U0{i:08X}"
        user_ids.append(uid)
        user_records.append(_user_record(uid, name, real, first, "UTC", "Engineer"))
        profiles[uid] = json.dumps(_profile(uid, name, real, first), separators=(",", ":"))
    deploy_uid, deploy_bot, deploy_app, _ = _BOTS[0][1:]
    user_records.append(_bot_user_record(deploy_uid, "deploybot", deploy_bot, deploy_app, "deploybot"))
    user_records.append(_slackbot_record())

    # conversations -------------------------------------------------------------------------------
    n_private = max(1, min(5, channels // 10))
    convs: list[tuple[str, str, str, list[str]]] = []  # kind, id, folder/name, members
    for c in range(channels):
        name = "general" if c == 0 else f"channel-{c:04d}"
        if c == 0:
            members = list(user_ids)
        else:
            size = max(2, min(users, int(users * (0.05 + 0.5 * rnd()))))
            members = sorted(rng.sample(user_ids, size))
        convs.append(("public", f"C0{c:08X}", name, members))
    for p in range(n_private):
        members = sorted(rng.sample(user_ids, max(2, min(users, 3 + int(rnd() * 6)))))
        convs.append(("private", f"G0{p:08X}", f"private-{p:02d}", members))
    convs.append(("im", "D000000001", "D000000001", [user_ids[0], user_ids[1]]))
    if users >= 3:
        trio = user_ids[:3]
        names = [user_records[i]["name"] for i in range(3)]
        convs.append(("mpim", "G0MPIM0001", "mpdm-" + "--".join(names) + "-1", trio))
    records = []
    for i, (kind, cid, name, members) in enumerate(convs):
        rec = _conversation_record(cid, name, kind, members, members[0], _CREATED_BASE + i * 3600, "", "")
        records.append((kind, rec))
    _write_directory(out_dir, user_records, records)

    # messages -------------------------------------------------------------------------------------
    top_pool, reply_pool, planted_pool = _scaled_text_pools(rng)
    n_top, n_reply, n_planted = len(top_pool), len(reply_pool), len(planted_pool)
    weights = [1.0 / (rank + 1) ** 1.1 for rank in range(len(convs))]
    per_conv = _allocate(messages_per_day, weights)
    start = _epoch(start_date)
    reaction_names = ["+1", "eyes", "tada", "joy", "white_check_mark"]
    for (_kind, _cid, folder, _members), n in zip(convs, per_conv, strict=True):
        if n:
            (out_dir / folder).mkdir(parents=True, exist_ok=True)
    day_names: list[str] = []
    files = 0
    total = 0
    nbytes = 0
    for d in range(days):
        day_start = start + d * 86400
        day = _utc_day(day_start)
        day_names.append(day)
        lo = day_start + 6 * 3600
        span = 14 * 3600
        for (_kind, _cid, folder, members), n in zip(convs, per_conv, strict=True):
            if n == 0:
                continue
            text = _scaled_channel_day(
                rng, n, members, profiles, lo, span, top_pool, reply_pool, planted_pool,
                n_top, n_reply, n_planted, reaction_names, deploy_bot,
            )  # fmt: skip
            data = text.encode("utf-8")
            (out_dir / folder / f"{day}.json").write_bytes(data)
            files += 1
            total += n
            nbytes += len(data)
    return {
        "seed": seed,
        "start_date": start_date,
        "days": day_names,
        "users": users,
        "conversations": len(convs),
        "public_channels": channels,
        "private_channels": n_private,
        "messages": total,
        "messages_per_day": messages_per_day,
        "files": files,
        "bytes": nbytes,
    }


def _scaled_channel_day(
    rng: random.Random,
    n: int,
    members: list[str],
    profiles: dict[str, str],
    lo: int,
    span: int,
    top_pool: list[str],
    reply_pool: list[str],
    planted_pool: list[str],
    n_top: int,
    n_reply: int,
    n_planted: int,
    reaction_names: list[str],
    deploy_bot: str,
) -> str:
    """One channel-day of `n` records as a JSON list, one record per line."""
    rnd = rng.random
    m = len(members)
    secs = sorted([lo + int(rnd() * span) for _ in range(n)])
    ts: list[str] = []
    prev, same = -1, 0
    for s in secs:  # the fraction counts messages within the same second: unique and in order
        same = same + 1 if s == prev else 0
        prev = s
        ts.append(f"{s}.{same:06d}")
    author = [members[int(rnd() * m)] for _ in range(n)]
    root = [-1] * n
    kind = [0] * n  # 0 filler top, 1 reply, 2 bot, 3 join, 4 planted top
    replies: dict[int, list[int]] = {}
    recent: list[int] = []
    for i in range(n):
        r = rnd()
        if r < 0.4 and recent:
            k = len(recent)
            parent = recent[k - 1 - int(rnd() * (8 if k > 8 else k))]
            root[i] = parent
            kind[i] = 1
            lst = replies.get(parent)
            if lst is None:
                replies[parent] = [i]
            else:
                lst.append(i)
            if author[i] == author[parent] and m > 1:
                author[i] = members[int(rnd() * m)]
        elif r < 0.43:
            kind[i] = 2
        elif r < 0.435:
            kind[i] = 3
        else:
            kind[i] = 4 if r > 0.94 else 0
            recent.append(i)
            if len(recent) > 64:
                del recent[:32]
    parts: list[str] = []
    append = parts.append
    for i in range(n):
        k = kind[i]
        t = ts[i]
        u = author[i]
        if k == 2:
            body = "" if rnd() < 0.4 else f"Deployed `{_SERVICES[int(rnd() * len(_SERVICES))]}` to production"
            append(
                f'{{"type":"message","subtype":"bot_message","text":"{body}","ts":"{t}","bot_id":"{deploy_bot}",'
                f'"username":"deploybot","attachments":[{{"fallback":"deploy {t}","title":"deploy finished",'
                f'"text":"Deployed by <@{u}>","color":"good"}}]}}'
            )
            continue
        if k == 3:
            append(
                f'{{"type":"message","subtype":"channel_join","user":"{u}","text":"<@{u}> has joined the channel",'
                f'"ts":"{t}"}}'
            )
            continue
        if k == 1:
            text = reply_pool[int(rnd() * n_reply)]
        elif k == 4:
            text = planted_pool[int(rnd() * n_planted)]
        else:
            text = top_pool[int(rnd() * n_top)]
        if "@@M@@" in text:
            text = text.replace("@@M@@", members[int(rnd() * m)])
        extra = ""
        if k == 1:
            p = root[i]
            extra = f',"thread_ts":"{ts[p]}","parent_user_id":"{author[p]}"'
        else:
            reps = replies.get(i)
            if reps:
                users = list(dict.fromkeys([author[j] for j in reps]))
                reply_users = '","'.join(users)
                reps_json = ",".join([f'{{"user":"{author[j]}","ts":"{ts[j]}"}}' for j in reps])
                extra = (
                    f',"thread_ts":"{t}","reply_count":{len(reps)},"reply_users_count":{len(users)},'
                    f'"latest_reply":"{ts[reps[-1]]}","reply_users":["{reply_users}"],"replies":[{reps_json}]'
                )
        x = rnd()
        if x < 0.02:
            extra += f',"edited":{{"user":"{u}","ts":"{secs[i] + 60}.000000"}}'
        elif x < 0.12:
            extra += f',"reactions":[{{"name":"{reaction_names[int(x * 50) % 5]}","users":["{author[i - 1]}"],"count":1}}]'
        append(
            f'{{"type":"message","user":"{u}","text":"{text}","ts":"{t}"{extra},"team":"{TEAM_ID}",'
            f'"user_profile":{profiles[u]}}}'
        )
    return "[\n" + ",\n".join(parts) + "\n]\n"
