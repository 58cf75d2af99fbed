"""Scaled workspaces for benchmarks: many people and channels and an exact number of messages a day,
streamed to disk one channel-day file at a time."""

from __future__ import annotations

import json
import random
from pathlib import Path

from outropy_pipelines.sample.item_templates import (
    ACTION_TEMPLATES,
    ANNOUNCEMENT_TEMPLATES,
    BLOCKER_TEMPLATES,
    DECISION_TEMPLATES,
    QUESTION_TEMPLATES,
    STATUS_TEMPLATES,
    template_slots,
)
from outropy_pipelines.sample.people_and_channels import BOTS
from outropy_pipelines.sample.slack_records import (
    CREATED_BASE,
    TEAM_ID,
    bot_user_record,
    conversation_record,
    epoch,
    slackbot_record,
    user_profile_record,
    user_record,
    utc_day,
    write_directory,
)
from outropy_pipelines.sample.vocabulary import (
    COMMON_REPLIES,
    EMOJI,
    LINKS,
    REPLIES,
    REPOS,
    SERVICES,
    TOP_LEVEL,
    WEEKDAYS,
)

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
    for templates in TOP_LEVEL.values():
        for template in templates:
            for _ in range(3):
                link, label = rng.choice(LINKS)
                repo = rng.choice(REPOS)
                num = rng.randrange(40, 1300)
                text = template.format(
                    m=mention,
                    ch=rng.choice(publics),
                    svc=rng.choice(SERVICES),
                    pr=f"<https://github.com/outropy/{repo}/pull/{num}|{repo}#{num}>",
                    proj=rng.choice(["Atlas", "Borealis"]),
                    n=rng.randrange(2, 40),
                    weekday=rng.choice(WEEKDAYS),
                    emoji=rng.choice(EMOJI),
                    link=link,
                    label=label,
                )
                top.append(_json_inner(text))
    replies = [
        _json_inner(t.format(m=mention, svc=rng.choice(SERVICES), n=rng.randrange(2, 40)))
        for t in COMMON_REPLIES + [r for pool in REPLIES.values() for r in pool]
    ]
    planted: list[str] = []
    slots_rng = random.Random(rng.randrange(1 << 30))  # the slots draw from a generator of their own
    for templates in (
        DECISION_TEMPLATES,
        ACTION_TEMPLATES,
        QUESTION_TEMPLATES,
        BLOCKER_TEMPLATES,
        ANNOUNCEMENT_TEMPLATES,
        STATUS_TEMPLATES,
    ):
        for template in templates:
            for _ in range(8):
                slots = template_slots(slots_rng, None, mention)
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
        user_records.append(user_record(uid, name, real, first, "UTC", "Engineer"))
        profiles[uid] = json.dumps(user_profile_record(uid, name, real, first), separators=(",", ":"))
    deploy_uid, deploy_bot, deploy_app, _ = BOTS[0][1:]
    user_records.append(bot_user_record(deploy_uid, "deploybot", deploy_bot, deploy_app, "deploybot"))
    user_records.append(slackbot_record())

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
        rec = conversation_record(cid, name, kind, members, members[0], CREATED_BASE + i * 3600, "", "")
        records.append((kind, rec))
    write_directory(out_dir, user_records, records)

    # messages -------------------------------------------------------------------------------------
    top_pool, reply_pool, planted_pool = _scaled_text_pools(rng)
    n_top, n_reply, n_planted = len(top_pool), len(reply_pool), len(planted_pool)
    weights = [1.0 / (rank + 1) ** 1.1 for rank in range(len(convs))]
    per_conv = _allocate(messages_per_day, weights)
    start = epoch(start_date)
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
        day = utc_day(day_start)
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
            body = "" if rnd() < 0.4 else f"Deployed `{SERVICES[int(rnd() * len(SERVICES))]}` to production"
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
