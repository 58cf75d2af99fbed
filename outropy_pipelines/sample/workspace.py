"""The realistic sample while it is built: its conversations and records so far, the parts of the
answer key, and the primitives that place messages in it."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from typing import Any

from outropy_pipelines.sample.people_and_channels import PROJECT_OF, WEEKDAY_HOURS, WEEKEND_HOURS
from outropy_pipelines.sample.slack_records import TEAM_ID, WORKSPACE_URL, epoch, utc_day
from outropy_pipelines.sample.vocabulary import EMOJI, LINKS, REPOS, SERVICES, WEEKDAYS

SAMPLE_START_DATE = "2026-11-02"
SAMPLE_DAYS = 7


@dataclass
class Conversation:
    """A conversation of the sample and the records placed in it so far."""

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


class SampleWorkspace:
    """The state every step of the sample shares. The steps (directory, planted items, filler, edits,
    finishing) are functions over it in the sibling modules; they all draw from the one `rng`, so the
    order `generate_sample_workspace` runs them in is part of the output."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.rng = random.Random(seed)
        self.start = epoch(SAMPLE_START_DATE)
        self.end = self.start + SAMPLE_DAYS * 86400  # exclusive
        self.days = [utc_day(self.start + d * 86400) for d in range(SAMPLE_DAYS)]
        self.uid: dict[str, str] = {}
        self.users: list[dict] = []
        self.profiles: dict[str, dict] = {}
        self.bots: dict[str, tuple[str, str, str, str]] = {}
        self.convs: dict[str, Conversation] = {}
        self.items: list[dict] = []
        self.planted: dict[tuple[str, str], str] = {}  # (conv key, ts) -> item id
        self.protected: set[tuple[str, str]] = set()  # (conv key, ts) never edited or deleted
        self.baked_edits: list[tuple[Conversation, dict, int]] = []
        self.raw_edits: list[tuple[Conversation, dict, str, str]] = []  # conv, msg, new text, event ts
        self.deletes: list[tuple[Conversation, dict, str]] = []  # conv, msg, event ts
        self.tombstones: list[tuple[Conversation, dict]] = []
        self.interleaving: dict[str, Any] = {}
        self.secret: dict[str, Any] = {}
        self.file_counter = 0
        self.used_texts: set[str] = set()
        # the answer key's edits and deletions, written down by `finish`
        self.edit_log: list[dict] = []
        self.deletion_log: list[dict] = []

    # --- time -----------------------------------------------------------------------------------------

    def at(self, day: int, hh: int, mm: int, ss: int = 0) -> int:
        return self.start + day * 86400 + hh * 3600 + mm * 60 + ss

    def pick_sec(self, conv: Conversation, day: int, *, latest: tuple[int, int] | None = None) -> int:
        """A time on `day` following the working-hours profile, outside the conversation's reserved windows."""
        weights = WEEKDAY_HOURS if day < 5 else WEEKEND_HOURS
        if latest is not None:
            weights = [w if h < latest[0] else 0 for h, w in enumerate(weights)]
        for _ in range(100):
            hour = self.rng.choices(range(24), weights=weights)[0]
            sec = self.at(day, hour, self.rng.randrange(60), self.rng.randrange(60))
            if self.is_free(conv, sec):
                return sec
        raise RuntimeError("could not find a free time slot")  # pragma: no cover

    @staticmethod
    def is_free(conv: Conversation, sec: int) -> bool:
        return not any(lo <= sec < hi for lo, hi in conv.reserved)

    # --- message primitives -----------------------------------------------------------------------------

    def new_ts(self, conv: Conversation, sec: int) -> str:
        if not self.start <= sec < self.end:
            raise ValueError(f"timestamp {sec} outside the sample window")
        while True:
            ts = f"{sec}.{self.rng.randrange(1, 1_000_000):06d}"
            if ts not in conv.used_ts:
                conv.used_ts.add(ts)
                return ts

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def add_record(self, conv: Conversation, msg: dict) -> dict:
        """Place a finished record (a message, a bot post, a join, an edit or deletion event)."""
        conv.records.append(msg)
        conv.by_ts[msg["ts"]] = msg
        return msg

    def post(
        self,
        conv: Conversation,
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
        self.add_record(conv, msg)
        if parent is not None:
            conv.replies.setdefault(parent["ts"], []).append(msg)
        return msg

    def reply(
        self, conv: Conversation, parent: dict, user: str, text: str, sec: int, *, broadcast: bool = False
    ) -> dict:
        return self.post(
            conv, user, text, sec, parent=parent, subtype="thread_broadcast" if broadcast else None
        )

    def bot_post(self, conv: Conversation, bot: str, text: str, attachments: list[dict], sec: int) -> dict:
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
        return self.add_record(conv, msg)

    def join(self, conv: Conversation, user: str, sec: int) -> dict:
        uid = self.uid.get(user, user)
        msg = {
            "type": "message",
            "subtype": "channel_join",
            "user": uid,
            "text": f"<@{uid}> has joined the channel",
            "ts": self.new_ts(conv, sec),
        }
        return self.add_record(conv, msg)

    def file_share(
        self, conv: Conversation, user: str, sec: int, filename: str, mimetype: str, ftype: str, text: str
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

    def fill(self, template: str, conv: Conversation, author: str | None = None) -> str:
        others = [u for u in conv.humans if u != self.uid.get(author or "", author)] or conv.humans
        publics = [c for c in self.convs.values() if c.kind == "public" and c.key != conv.key]
        ch = self.rng.choice(publics)
        repo = self.rng.choice(REPOS)
        num = self.rng.randrange(40, 1300)
        link, label = self.rng.choice(LINKS)
        values = {
            "m": self.rng.choice(others),
            "ch": f"<#{ch.id}|{ch.name}>",
            "svc": self.rng.choice(SERVICES),
            "pr": f"<https://github.com/outropy/{repo}/pull/{num}|{repo}#{num}>",
            "proj": PROJECT_OF.get(conv.key) or self.rng.choice(["Atlas", "Borealis"]),
            "n": self.rng.randrange(2, 40),
            "weekday": self.rng.choice(WEEKDAYS),
            "emoji": self.rng.choice(EMOJI),
            "link": link,
            "label": label,
        }
        return template.format(**values)

    # --- items of the answer key ------------------------------------------------------------------------

    def plant_item(
        self,
        kind: str,
        conv: Conversation,
        msg: dict,
        title: str,
        owners: list[str],
    ) -> dict:
        """Enter `msg` in the answer key as a planted item; it is never edited or deleted."""
        item_id = f"P{len(self.items) + 1:03d}"
        rec = {
            "id": item_id,
            "kind": kind,
            "day": utc_day(msg["ts"]),
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

    def close_item(self, item: dict, conv: Conversation, root: dict, user: str, text: str, sec: int) -> dict:
        msg = self.reply(conv, root, user, text, sec)
        item["closed_by"] = {"channel_id": conv.id, "ts": msg["ts"], "day": utc_day(msg["ts"])}
        self.protected.add((conv.key, msg["ts"]))
        return msg
