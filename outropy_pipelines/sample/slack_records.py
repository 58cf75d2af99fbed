"""Slack export records, shared by the realistic sample and the scaled benchmark workspaces.

Both follow the layout of a real Slack export: `users.json`, `channels.json`, `groups.json`,
`dms.json`, `mpims.json` and one folder per conversation holding `YYYY-MM-DD.json` day files, each a
JSON list of message records sorted by `ts`. A record sits in the day file of the UTC date of its own
`ts` (so a late thread reply is in a later file than its parent).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

TEAM_ID = "T0SAMPLE"
WORKSPACE_URL = "https://outropy-sample.slack.com"
SLACKBOT_ID = "USLACKBOT"

#: when the conversations were created (2025-01-06, long before the sample week)
CREATED_BASE = 1736150400


def epoch(day: str) -> int:
    return int(dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC).timestamp())


def utc_day(ts: str | int | float) -> str:
    return dt.datetime.fromtimestamp(int(float(ts)), tz=dt.UTC).date().isoformat()


def dump_json(obj: Any) -> str:
    return json.dumps(obj, indent=1) + "\n"


def ts_key(ts: str) -> tuple[int, int]:
    sec, _, micro = ts.partition(".")
    return int(sec), int(micro or 0)


def user_profile_record(uid: str, name: str, real_name: str, display: str) -> dict:
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


def user_record(
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
        "updated": CREATED_BASE + 86400 * 300,
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


def bot_user_record(uid: str, name: str, bot_id: str, app_id: str, display: str) -> dict:
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
        "updated": CREATED_BASE,
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


def slackbot_record() -> dict:
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


def conversation_record(
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


def write_directory(out_dir: Path, users: list[dict], convs: list[tuple[str, dict]]) -> None:
    """Write users.json and the four conversation lists; `convs` is [(kind, record)]."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "users.json").write_text(dump_json(users), encoding="utf-8")
    files = {"public": "channels.json", "private": "groups.json", "im": "dms.json", "mpim": "mpims.json"}
    for kind, filename in files.items():
        records = [rec for k, rec in convs if k == kind]
        (out_dir / filename).write_text(dump_json(records), encoding="utf-8")
