"""The last pass once every message is placed: thread metadata on the parents, reactions, the
edit and deletion records, and the thread of each planted item."""

from __future__ import annotations

from outropy_pipelines.sample.edits import record_edits_and_deletions
from outropy_pipelines.sample.slack_records import ts_key
from outropy_pipelines.sample.workspace import SampleWorkspace


def finish(ws: SampleWorkspace) -> None:
    _add_thread_metadata(ws)
    _add_reactions(ws)
    # after the thread metadata and reactions: the events carry copies of the messages as they end up
    record_edits_and_deletions(ws)
    _record_item_threads(ws)


def _add_thread_metadata(ws: SampleWorkspace) -> None:
    for conv in ws.convs.values():
        for parent_ts, reps in conv.replies.items():
            parent = conv.by_ts[parent_ts]
            reps.sort(key=lambda m: ts_key(m["ts"]))
            users = list(dict.fromkeys(r["user"] for r in reps))
            parent["thread_ts"] = parent_ts
            parent["reply_count"] = len(reps)
            parent["reply_users_count"] = len(users)
            parent["latest_reply"] = reps[-1]["ts"]
            parent["reply_users"] = users
            parent["replies"] = [{"user": r["user"], "ts": r["ts"]} for r in reps]
            parent["is_locked"] = False
            parent["subscribed"] = False


def _add_reactions(ws: SampleWorkspace) -> None:
    rng = ws.rng
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
    for conv in ws.convs.values():
        for msg in conv.records:
            if msg.get("subtype") not in (None, "thread_broadcast", "file_share") or "bot_id" in msg:
                continue
            item_id = ws.planted.get((conv.key, msg["ts"]))
            if rng.random() >= (0.45 if item_id else 0.15):
                continue
            others = [u for u in conv.humans if u != msg["user"]]
            reactions = []
            for name in rng.sample(reaction_names, rng.choice([1, 1, 1, 2])):
                users = rng.sample(others, min(len(others), rng.randrange(1, 5)))
                reactions.append({"name": name, "users": users, "count": len(users)})
            msg["reactions"] = reactions


def _record_item_threads(ws: SampleWorkspace) -> None:
    for item in ws.items:
        conv = next(c for c in ws.convs.values() if c.id == item["channel_id"])
        src = conv.by_ts[item["sources"][0]["ts"]]
        item["thread_ts"] = src.get("thread_ts")
