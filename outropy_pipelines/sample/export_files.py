"""Writing the built sample: the directory files, one file per conversation and day, and the answer key."""

from __future__ import annotations

import copy
from pathlib import Path

from outropy_pipelines.sample.directory import conversation_records
from outropy_pipelines.sample.slack_records import SLACKBOT_ID, dump_json, ts_key, utc_day, write_directory
from outropy_pipelines.sample.workspace import SAMPLE_START_DATE, SampleWorkspace

ANSWER_KEY_FILE = "_answer_key.json"


def write_export(ws: SampleWorkspace, out_dir: Path) -> dict:
    """Write the export into `out_dir`, and the answer key beside it; return the answer key."""
    out_dir = Path(out_dir)
    write_directory(out_dir, ws.users, conversation_records(ws))
    total = 0
    for conv in ws.convs.values():
        folder = out_dir / conv.folder
        folder.mkdir(parents=True, exist_ok=True)
        by_day: dict[str, list[dict]] = {}
        for msg in sorted(conv.records, key=lambda m: ts_key(m["ts"])):
            by_day.setdefault(utc_day(msg["ts"]), []).append(msg)
        for day, msgs in by_day.items():
            if day not in ws.days:  # pragma: no cover - guarded by new_ts
                raise RuntimeError(f"message outside the sample window: {day}")
            (folder / f"{day}.json").write_text(dump_json(msgs), encoding="utf-8")
            total += len(msgs)
    humans = [u for u in ws.users if not u["is_bot"] and u["id"] != SLACKBOT_ID]
    items = copy.deepcopy(ws.items)
    key = {
        "seed": ws.seed,
        "start_date": SAMPLE_START_DATE,
        "days": ws.days,
        "counts": {
            "messages": total,
            "users": len(ws.users),
            "humans": len(humans),
            "conversations": len(ws.convs),
            "planted_items": len(items),
        },
        "planted_items": items,
        "late_replies": _late_replies(ws),
        "private_secret": ws.secret,
        "interleaving": ws.interleaving,
        "edits": ws.edit_log,
        "deletions": ws.deletion_log,
    }
    (out_dir / ANSWER_KEY_FILE).write_text(dump_json(key), encoding="utf-8")
    return key


def _late_replies(ws: SampleWorkspace) -> list[dict]:
    out = []
    for conv in ws.convs.values():
        for parent_ts, reps in conv.replies.items():
            for r in reps:
                if utc_day(r["ts"]) != utc_day(parent_ts):
                    out.append(
                        {
                            "channel_id": conv.id,
                            "parent_ts": parent_ts,
                            "parent_day": utc_day(parent_ts),
                            "reply_ts": r["ts"],
                            "reply_day": utc_day(r["ts"]),
                        }
                    )
    return out
