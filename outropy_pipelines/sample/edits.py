"""Edits and deletions: which messages get them while the sample is built, and the records and
answer-key entries they leave once it is finished."""

from __future__ import annotations

import copy

from outropy_pipelines.sample.slack_records import SLACKBOT_ID
from outropy_pipelines.sample.workspace import Conversation, SampleWorkspace


def _edit_candidates(ws: SampleWorkspace, conv: Conversation) -> list[dict]:
    return [
        m
        for m in conv.records
        if m.get("subtype") is None
        and "bot_id" not in m
        and "thread_ts" not in m
        and m["ts"] not in conv.replies
        and (conv.key, m["ts"]) not in ws.protected
        and int(float(m["ts"])) < ws.end - 4 * 3600
    ]


def _event_sec(ws: SampleWorkspace, conv: Conversation, msg: dict, lo: int, hi: int) -> int:
    base = int(float(msg["ts"]))
    while True:
        sec = base + ws.rng.randrange(lo, hi)
        if ws.is_free(conv, sec):
            return sec


def choose_edits_and_deletions(ws: SampleWorkspace) -> None:
    """Choose the messages that are edited or deleted, never planted ones. Their records are made by
    `record_edits_and_deletions` at the end, as they copy the messages in their final form."""
    rng = ws.rng
    keys = ["engineering", "proj-atlas", "proj-borealis", "general", "design", "random"]
    chosen: set[tuple[str, str]] = set()

    def pick(conv: Conversation) -> dict:
        cands = [m for m in _edit_candidates(ws, conv) if (conv.key, m["ts"]) not in chosen]
        msg = rng.choice(cands)
        chosen.add((conv.key, msg["ts"]))
        return msg

    for i in range(12):  # edits baked into the message (`edited`, final text)
        conv = ws.convs[keys[i % len(keys)]]
        msg = pick(conv)
        sec = int(float(msg["ts"])) + rng.randrange(30, 900)
        ws.baked_edits.append((conv, msg, sec))
    for key in ("engineering", "proj-atlas", "proj-borealis"):  # raw `message_changed` events
        conv = ws.convs[key]
        msg = pick(conv)
        final = msg["text"]
        msg["text"] = _typo(final)
        event = ws.new_ts(conv, _event_sec(ws, conv, msg, 60, 1800))
        ws.raw_edits.append((conv, msg, final, event))
    for key in ("engineering", "random", "proj-atlas"):  # `message_deleted` events
        conv = ws.convs[key]
        msg = pick(conv)
        event = ws.new_ts(conv, _event_sec(ws, conv, msg, 30, 3600))
        ws.deletes.append((conv, msg, event))
    # a thread parent deleted after people replied: left behind as a tombstone
    conv = ws.convs["engineering"]
    parents = [
        conv.by_ts[ts]
        for ts in conv.replies
        if len(conv.replies[ts]) >= 2
        and (conv.key, ts) not in ws.protected
        and conv.by_ts[ts].get("subtype") is None
        and "bot_id" not in conv.by_ts[ts]
        # a broadcast reply carries a copy of its root, which would leak the deleted text
        and not any(r.get("subtype") == "thread_broadcast" for r in conv.replies[ts])
    ]
    ws.tombstones.append((conv, rng.choice(parents)))


def record_edits_and_deletions(ws: SampleWorkspace) -> None:
    """The `edited` marks, `message_changed` and `message_deleted` events and the tombstone, and
    their entries in the answer key."""
    for conv, msg, sec in ws.baked_edits:
        edit_ts = f"{sec}.000000"
        msg["edited"] = {"user": msg["user"], "ts": edit_ts}
        ws.edit_log.append(
            {
                "channel_id": conv.id,
                "ts": msg["ts"],
                "edited_ts": edit_ts,
                "text": msg["text"],
                "event_ts": None,
            }
        )
    for conv, msg, final, event in ws.raw_edits:
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
        ws.add_record(conv, record)
        ws.edit_log.append(
            {"channel_id": conv.id, "ts": msg["ts"], "edited_ts": event, "text": final, "event_ts": event}
        )
    for conv, msg, event in ws.deletes:
        record = {
            "type": "message",
            "subtype": "message_deleted",
            "hidden": True,
            "ts": event,
            "event_ts": event,
            "deleted_ts": msg["ts"],
            "previous_message": copy.deepcopy(msg),
        }
        ws.add_record(conv, record)
        ws.deletion_log.append(
            {"channel_id": conv.id, "deleted_ts": msg["ts"], "event_ts": event, "kind": "message_deleted"}
        )
    for conv, parent in ws.tombstones:
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
        ws.deletion_log.append(
            {"channel_id": conv.id, "deleted_ts": parent["ts"], "event_ts": None, "kind": "tombstone"}
        )


def _typo(text: str) -> str:
    """A plausible typo that the later edit fixes."""
    for good, bad in ((" the ", " teh "), (" and ", " adn "), ("ing ", "ign "), (" to ", " ot ")):
        if good in text:
            return text.replace(good, bad, 1)
    return text + " asdf"
