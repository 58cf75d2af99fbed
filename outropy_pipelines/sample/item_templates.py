"""Templates of the planted work items (decisions, action items, questions, blockers, announcements,
status updates), the values for their slots, and the replies they get."""

from __future__ import annotations

import random
from typing import Any

from outropy_pipelines.sample.vocabulary import PULL_REQUESTS, SERVICES, WEEKDAYS

# Each template is (text, title[, closing text]). Slots are filled by `template_slots`. `{o}` is the owner.

DECISION_TEMPLATES = [
    ("Decision: we'll ship {feature} for {proj} behind a feature flag", "Ship {feature} for {proj} behind a feature flag"),
    ("ok let's go with {option} for the {component}", "Use {option} for the {component}"),
    ("agreed — we freeze the {freeze} API on {weekday}", "Freeze the {freeze} API on {weekday}"),
    ("Final call: {proj} {milestone} moves to {date}", "{proj} {milestone} moves to {date}"),
    ("We decided to drop {feature} from the {proj} MVP, it can come in v2", "Drop {feature} from the {proj} MVP"),
    ("after all the back and forth we're going with {option} for the {component}. closing this out",
     "Go with {option} for the {component}"),
]  # fmt: skip
ACTION_TEMPLATES = [
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
QUESTION_TEMPLATES = [
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
BLOCKER_TEMPLATES = [
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
ANNOUNCEMENT_TEMPLATES = [
    ("<!channel> heads up: the office is closed {weekday} because of {reason}", "Office closed {weekday} ({reason})"),
    ("Announcement: the new on-call rotation starts next week, schedule is in <https://notion.example.com/eng/oncall|the wiki>",
     "New on-call rotation starts next week"),
    ("<!here> reminder: {event} is on {weekday} at {time} UTC", "{event} on {weekday} at {time} UTC"),
    ("PSA: {system} will be down for maintenance {weekday} {time} UTC", "{system} maintenance {weekday} {time} UTC"),
    ("<!channel> open enrolment for benefits closes on {date}, please submit your choices", "Benefits enrolment closes {date}"),
    ("Announcement: expense reports now go through the new finance tool, old forms stop working {date}",
     "Expense reports move to the new finance tool ({date})"),
]  # fmt: skip
STATUS_TEMPLATES = [
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

ACKS = {
    "decision": [":+1:", "sounds good", "great, thanks for driving this", "works for me", "noted :+1:"],
    "action_item": ["sure, on it", "yep, will do", "on my list :+1:"],
    "blocker": ["ugh, sorry — looking", "pinging them now", ":eyes:"],
    "announcement": [":tada:", "thanks for the heads up", ":+1:"],
    "status_update": ["nice!", ":rocket:", "great progress", "awesome :tada:"],
    "question": [],
}
THREAD_ROOTS = [
    "thread for today's {proj} sync :thread:", "picking up from standup:", "notes from the {proj} sync",
    "continuing yesterday's discussion here", "following up on this morning's call",
    "a few things from the {proj} planning session",
]  # fmt: skip


def template_slots(rng: random.Random, project: str | None, owner: str) -> dict[str, Any]:
    """Values for every template slot; `project` is the conversation's own, or None for either one."""
    proj = project or rng.choice(["Atlas", "Borealis"])
    option, component = rng.choice(_OPTION_COMPONENT)
    prname, repo, num = rng.choice(PULL_REQUESTS)
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
        "weekday": rng.choice(WEEKDAYS),
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
        "svc": rng.choice(SERVICES),
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
