"""Everyday chatter around the planted items: top-level messages, threads and a few late replies,
shared files, and the bots' deploy, pull-request and alert posts."""

from __future__ import annotations

from outropy_pipelines.sample.people_and_channels import FILLER_UNITS, FLAVOR
from outropy_pipelines.sample.slack_records import utc_day
from outropy_pipelines.sample.vocabulary import (
    COMMON_REPLIES,
    FILE_SHARES,
    PULL_REQUESTS,
    REPLIES,
    SERVICES,
    TOP_LEVEL,
)
from outropy_pipelines.sample.workspace import SAMPLE_DAYS, Conversation, SampleWorkspace


def add_filler(ws: SampleWorkspace) -> None:
    """A day's chatter in every conversation (a tenth of it at the weekend), and the bots' posts."""
    for day in range(SAMPLE_DAYS):
        for key, units in FILLER_UNITS.items():
            n = units if day < 5 else int(units * 0.1 + ws.rng.random() * 1.5)
            for _ in range(n):
                _filler_unit(ws, ws.convs[key], day)
        if day < 5:
            _deploybot_posts(ws, day)
            _github_posts(ws, day)
            _alert_noise(ws, day)
        else:
            _deploybot_posts(ws, day, count=2)


def _filler_unit(ws: SampleWorkspace, conv: Conversation, day: int) -> None:
    """A top-level message or shared file, maybe with a thread and, rarely, a reply the next morning."""
    flavor = FLAVOR[conv.key]
    rng = ws.rng
    sec = ws.pick_sec(conv, day)
    author = rng.choice(conv.humans)
    if (conv.key == "design" and rng.random() < 0.3) or (conv.key == "engineering" and rng.random() < 0.04):
        fname, mime, ftype, text = rng.choice(FILE_SHARES)
        root = ws.file_share(conv, author, sec, fname, mime, ftype, text)
    else:
        root = ws.post(conv, author, ws.fill(rng.choice(TOP_LEVEL[flavor]), conv, author), sec)
    r = rng.random()
    n_replies = 0 if r < 0.55 else rng.choice([1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 6])
    t = sec
    last = root["user"]
    for _ in range(n_replies):
        t += rng.choice([20, 45, 90, 120, 300, 600, 900, 2400, 5400])
        if t >= ws.end - 60 or utc_day(t) != utc_day(sec):
            break
        candidates = [u for u in conv.humans if u != last]
        who = root["user"] if rng.random() < 0.35 and root["user"] != last else rng.choice(candidates)
        pool = COMMON_REPLIES + REPLIES.get(flavor, [])
        broadcast = rng.random() < 0.02 and ws.is_free(conv, t)
        ws.reply(conv, root, who, ws.fill(rng.choice(pool), conv, who), t, broadcast=broadcast)
        last = who
    if n_replies and day < SAMPLE_DAYS - 1 and rng.random() < 0.04:
        late = ws.at(day + 1, rng.choice([7, 8, 9]), rng.randrange(60), rng.randrange(60))
        who = rng.choice([u for u in conv.humans if u != root["user"]] or conv.humans)
        text = "sorry, missed this yesterday — " + rng.choice(
            ["makes sense", "sounds good", "thanks for sorting it"]
        )
        ws.reply(conv, root, who, text, late)


def _deploybot_posts(ws: SampleWorkspace, day: int, count: int | None = None) -> None:
    conv = ws.convs["deploys"]
    n = count if count is not None else ws.rng.randrange(10, 15)
    for _ in range(n):
        sec = ws.pick_sec(conv, day)
        svc = ws.rng.choice(SERVICES)
        version = f"v{ws.days[day].replace('-', '.')}-{ws.rng.randrange(1, 6)}"
        env = ws.rng.choice(["production", "production", "staging"])
        failed = ws.rng.random() < 0.07
        who = ws.rng.choice(conv.humans)
        sha = f"{ws.rng.getrandbits(28):07x}"
        text = ws.rng.choice(
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
        ws.bot_post(conv, "deploybot", text, [attachment], sec)


def _github_posts(ws: SampleWorkspace, day: int) -> None:
    conv = ws.convs["engineering"]
    for _ in range(ws.rng.randrange(4, 8)):
        sec = ws.pick_sec(conv, day)
        name, repo, _num = ws.rng.choice(PULL_REQUESTS)
        num = ws.rng.randrange(100, 1400)
        who = ws.profiles[ws.rng.choice(conv.humans)]["name"]
        action = ws.rng.choice(["opened", "merged", "opened", "ready for review"])
        attachment = {
            "fallback": f"[outropy/{repo}] Pull request {action}: #{num} {name}",
            "pretext": f"Pull request {action} by {who}",
            "title": f"#{num} {name.capitalize()}",
            "title_link": f"https://github.com/outropy/{repo}/pull/{num}",
            "text": f"{ws.rng.randrange(1, 30)} files changed",
            "color": "6f42c1" if action == "merged" else "36a64f",
        }
        ws.bot_post(conv, "github", "", [attachment], sec)


def _alert_noise(ws: SampleWorkspace, day: int) -> None:
    conv = ws.convs["incidents"]
    sec = ws.pick_sec(conv, day)
    runner = ws.rng.randrange(1, 9)
    for state, color, delta in (
        ("FIRING", "warning", 0),
        ("RESOLVED", "good", 600 + ws.rng.randrange(1200)),
    ):
        title = f"[{state}:1] DiskUsageHigh ci-runner-{runner}"
        att = {
            "fallback": title,
            "title": title,
            "text": "disk usage above 80% on /var/lib/docker",
            "color": color,
        }
        ws.bot_post(conv, "alertbot", "", [att], sec + delta)
