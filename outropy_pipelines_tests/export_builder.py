"""Builds small Slack exports for tests, programmatically (real export layout, no fixtures on disk)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any


def ts_at(day: str, hour: int, minute: int = 0, second: int = 0, micro: int = 100) -> str:
    d = dt.datetime.fromisoformat(day).replace(hour=hour, minute=minute, second=second, tzinfo=dt.UTC)
    return f"{d.timestamp():.0f}.{micro:06d}"


class ExportBuilder:
    """Accumulates users, conversations and messages; `write()` lays them out as a Slack export."""

    def __init__(self) -> None:
        self.users: list[dict[str, Any]] = []
        self.lists: dict[str, list[dict[str, Any]]] = {
            "channels.json": [],
            "groups.json": [],
            "dms.json": [],
            "mpims.json": [],
        }
        self.folders: dict[str, str] = {}  # channel id -> folder name
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.raw_files: dict[str, str] = {}  # relative path -> text (for broken files)
        self.extra_records: dict[tuple[str, str], list[Any]] = {}  # (channel id, day) -> odd records

    def user(self, uid: str, name: str, *, is_bot: bool = False, deleted: bool = False) -> str:
        self.users.append(
            {
                "id": uid,
                "name": name,
                "real_name": name.title(),
                "deleted": deleted,
                "is_bot": is_bot,
                "profile": {"real_name": name.title(), "email": f"{name}@example.com"},
            }
        )
        return uid

    def channel(self, cid: str, name: str, members: list[str], kind: str = "public") -> str:
        rec = {
            "id": cid,
            "name": name,
            "created": 1700000000,
            "members": members,
            "topic": {"value": "", "creator": "", "last_set": 0},
            "purpose": {"value": "", "creator": "", "last_set": 0},
        }
        target = {"public": "channels.json", "private": "groups.json", "mpim": "mpims.json"}[kind]
        self.lists[target].append(rec)
        self.folders[cid] = name
        return cid

    def dm(self, did: str, members: list[str]) -> str:
        self.lists["dms.json"].append({"id": did, "created": 1700000000, "members": members})
        self.folders[did] = did
        return did

    def post(self, cid: str, ts: str, user: str | None, text: str, **extra: Any) -> dict[str, Any]:
        msg: dict[str, Any] = {"type": "message", "ts": ts, "text": text}
        if user:
            msg["user"] = user
        msg.update(extra)
        self.messages.setdefault(cid, []).append(msg)
        return msg

    def append_raw(self, cid: str, day: str, record: Any) -> None:
        """A record written as is into a day file (e.g. a message without ts)."""
        self.extra_records.setdefault((cid, day), []).append(record)

    def write(self, root: Path) -> Path:
        root.mkdir(parents=True, exist_ok=True)
        (root / "users.json").write_text(json.dumps(self.users, indent=1))
        for name, recs in self.lists.items():
            if recs:
                (root / name).write_text(json.dumps(recs, indent=1))
        for cid, msgs in self.messages.items():
            folder = root / self.folders[cid]
            folder.mkdir(exist_ok=True)
            by_day: dict[str, list[dict[str, Any]]] = {}
            for m in sorted(msgs, key=lambda m: float(m["ts"])):
                day = dt.datetime.fromtimestamp(float(m["ts"]), dt.UTC).date().isoformat()
                by_day.setdefault(day, []).append(m)
            for (extra_cid, day), recs in self.extra_records.items():
                if extra_cid == cid:
                    by_day.setdefault(day, []).extend(recs)
            for day, day_msgs in by_day.items():
                (folder / f"{day}.json").write_text(json.dumps(day_msgs, indent=1))
        for rel, text in self.raw_files.items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        return root
