"""The seeded sample-workspace generator: determinism, counts, shapes and the answer key."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from outropy_pipelines.sample import (
    ANSWER_KEY_FILE,
    SAMPLE_DAYS,
    SAMPLE_START_DATE,
    generate_sample_workspace,
    generate_scaled_workspace,
)
from outropy_pipelines.sample.slack_records import utc_day

KINDS = {"decision", "action_item", "question", "blocker", "incident", "announcement", "status_update"}
CONVERSATION_FILES = ("channels.json", "groups.json", "dms.json", "mpims.json")


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _load(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))


class Export:
    """A generated export read back: conversations, and every record by channel id."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.users = _load(root / "users.json")
        self.kinds: dict[str, str] = {}
        self.folders: dict[str, str] = {}
        self.convs: dict[str, dict] = {}
        for filename, kind in zip(CONVERSATION_FILES, ("public", "private", "im", "mpim"), strict=True):
            for conv in _load(root / filename):
                self.kinds[conv["id"]] = kind
                self.folders[conv["id"]] = conv["id"] if kind == "im" else conv["name"]
                self.convs[conv["id"]] = conv
        # channel id -> day -> records, and channel id -> ts -> (day, record)
        self.days: dict[str, dict[str, list[dict]]] = {}
        self.by_ts: dict[str, dict[str, tuple[str, dict]]] = {}
        for cid, folder in self.folders.items():
            self.days[cid] = {}
            self.by_ts[cid] = {}
            for path in sorted((root / folder).glob("*.json")):
                records = _load(path)
                self.days[cid][path.stem] = records
                for rec in records:
                    self.by_ts[cid][rec["ts"]] = (path.stem, rec)

    def records(self):
        for cid, days in self.days.items():
            for day, records in days.items():
                for rec in records:
                    yield cid, day, rec


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("sample")
    key = generate_sample_workspace(out, seed=7)
    return out, key


@pytest.fixture(scope="module")
def export(sample) -> Export:
    return Export(sample[0])


def test_same_seed_gives_identical_bytes(sample, tmp_path):
    out, _ = sample
    generate_sample_workspace(tmp_path / "again", seed=7)
    first, second = _tree(out), _tree(tmp_path / "again")
    assert len(first) > 70
    assert first == second


def test_determinism_does_not_depend_on_hash_seed(sample, tmp_path):
    """Set iteration order changes with PYTHONHASHSEED; the output must not."""
    out, _ = sample
    code = (
        "import sys; from pathlib import Path; "
        "from outropy_pipelines.sample import generate_sample_workspace; "
        "generate_sample_workspace(Path(sys.argv[1]), seed=7)"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run([sys.executable, "-c", code, str(tmp_path / "other")], check=True, env=env)
    assert _tree(tmp_path / "other") == _tree(out)


def test_other_seed_gives_other_workspace(sample, tmp_path):
    out, _ = sample
    key = generate_sample_workspace(tmp_path / "seed8", seed=8)
    assert key["seed"] == 8
    assert (tmp_path / "seed8" / "users.json").read_bytes() == (out / "users.json").read_bytes()
    assert _tree(tmp_path / "seed8") != _tree(out)


def test_answer_key_is_written_and_returned(sample):
    out, key = sample
    assert _load(out / ANSWER_KEY_FILE) == key
    assert key["seed"] == 7
    assert key["start_date"] == SAMPLE_START_DATE
    assert key["days"] == [f"2026-11-0{d}" for d in range(2, 9)]
    assert len(key["days"]) == SAMPLE_DAYS


def test_users(export):
    humans = [u for u in export.users if not u["is_bot"] and u["id"] != "USLACKBOT"]
    active = [u for u in humans if not u["deleted"]]
    assert len(active) >= 28
    assert sum(u["deleted"] for u in humans) == 1
    bots = [u for u in export.users if u["is_bot"]]
    assert {u["name"] for u in bots} >= {"deploybot", "github"}
    assert any(u["id"] == "USLACKBOT" for u in export.users)
    ids = [u["id"] for u in export.users]
    assert len(ids) == len(set(ids))
    for u in active:
        assert u["id"].startswith("U0")
        assert u["team_id"] == "T0SAMPLE"
        assert u["profile"]["email"] == f"{u['name']}@example.com"
        assert u["profile"]["real_name"] == u["real_name"]
        assert u["tz"] and u["profile"]["title"]


def test_conversations(export, sample):
    _, key = sample
    kinds = Counter(export.kinds.values())
    assert kinds["public"] >= 7
    assert kinds["private"] >= 1 and kinds["im"] >= 1 and kinds["mpim"] >= 1
    assert len(export.convs) >= 8
    assert key["counts"]["conversations"] == len(export.convs)
    user_ids = {u["id"] for u in export.users}
    for cid, conv in export.convs.items():
        assert set(conv["members"]) <= user_ids
        assert (export.root / export.folders[cid]).is_dir(), cid
        kind = export.kinds[cid]
        if kind == "im":
            assert cid.startswith("D0") and len(conv["members"]) == 2
            continue
        for field in (
            "name",
            "created",
            "creator",
            "is_archived",
            "is_general",
            "members",
            "topic",
            "purpose",
        ):
            assert field in conv, (cid, field)
        assert set(conv["topic"]) == {"value", "creator", "last_set"}
        assert cid.startswith({"public": "C0", "private": "G0", "mpim": "G0"}[kind])
    private = [c for c in export.convs.values() if export.kinds[c["id"]] == "private"]
    assert all(4 <= len(c["members"]) <= 5 for c in private)
    mpim = next(c for c in export.convs.values() if export.kinds[c["id"]] == "mpim")
    assert mpim["name"].startswith("mpdm-") and mpim["name"].endswith("-1")


def test_message_counts_and_days(export, sample):
    _, key = sample
    per_day = Counter(day for _, day, _ in export.records())
    assert sorted(per_day) == key["days"]
    assert sum(per_day.values()) == key["counts"]["messages"] >= 2000
    weekday = min(per_day[d] for d in key["days"][:5])
    weekend = max(per_day[d] for d in key["days"][5:])
    assert weekend * 3 < weekday, "the weekend should be quieter"


def test_day_files_are_sorted_lists_grouped_by_utc_date(export):
    for cid, days in export.days.items():
        seen: set[str] = set()
        for day, records in days.items():
            assert isinstance(records, list) and records
            keys = [tuple(int(x) for x in r["ts"].split(".")) for r in records]
            assert keys == sorted(keys), (cid, day)
            for rec in records:
                sec, _, frac = rec["ts"].partition(".")
                assert len(sec) == 10 and len(frac) == 6, rec["ts"]
                assert utc_day(rec["ts"]) == day
                assert rec["type"] == "message"
                assert rec["ts"] not in seen, f"duplicate ts {rec['ts']} in {cid}"
                seen.add(rec["ts"])


def test_working_hours(export):
    hours = Counter(int(rec["ts"].split(".")[0]) % 86400 // 3600 for _, _, rec in export.records())
    daytime = sum(n for h, n in hours.items() if 7 <= h < 19)
    assert daytime > 0.7 * sum(hours.values())


def test_threads_are_consistent(export):
    replies = 0
    for cid, _day, rec in export.records():
        if rec.get("subtype") in ("message_changed", "message_deleted"):
            continue
        if "parent_user_id" in rec:  # a reply
            replies += 1
            assert rec["thread_ts"] != rec["ts"]
            _, parent = export.by_ts[cid][rec["thread_ts"]]
            assert {"user": rec["user"], "ts": rec["ts"]} in parent["replies"]
            assert rec["ts"] > parent["ts"]
        elif "reply_count" in rec:  # a parent
            assert rec["thread_ts"] == rec["ts"]
            assert rec["reply_count"] == len(rec["replies"])
            assert rec["latest_reply"] == rec["replies"][-1]["ts"]
            assert set(rec["reply_users"]) == {r["user"] for r in rec["replies"]}
            for r in rec["replies"]:
                day, reply = export.by_ts[cid][r["ts"]]
                assert reply["thread_ts"] == rec["ts"] and day == utc_day(r["ts"])
    assert replies > 300


def test_message_variety(export):
    subtypes = Counter(rec.get("subtype") for _, _, rec in export.records())
    for subtype in (
        "bot_message", "channel_join", "file_share", "thread_broadcast", "message_changed", "message_deleted",
        "tombstone",
    ):  # fmt: skip
        assert subtypes[subtype] >= 1, subtype
    recs = [rec for _, _, rec in export.records()]
    texts = [r.get("text", "") for r in recs]
    assert any(r.get("subtype") == "bot_message" and r["text"] == "" and r["attachments"] for r in recs)
    assert all(
        {"fallback", "text", "title", "color"} <= set(a) for r in recs if r.get("subtype") == "bot_message"
        for a in r["attachments"]
    )  # fmt: skip
    assert any("reactions" in r for r in recs)
    assert any("edited" in r for r in recs)
    assert any("<!here>" in t for t in texts) and any("<!channel>" in t for t in texts)
    assert any("<#C0" in t for t in texts)
    assert any("<https://" in t and "|" in t for t in texts)
    assert any(":tada:" in t for t in texts)
    assert sum("<@U0" in t for t in texts) > 50
    assert {"thanks!", "lol", ":+1:", "morning all"} <= set(texts)
    for r in recs:
        if r.get("subtype") == "file_share":
            assert {"id", "name", "title", "mimetype", "permalink"} <= set(r["files"][0])
        if "reactions" in r:
            assert all(x["count"] == len(x["users"]) for x in r["reactions"])
        if r.get("subtype") is None and "bot_id" not in r:
            assert r["user"].startswith("U0") and r["team"] == "T0SAMPLE" and "user_profile" in r


def test_edits_and_deletions(export, sample):
    _, key = sample
    changed = [(cid, r) for cid, _, r in export.records() if r.get("subtype") == "message_changed"]
    assert len(changed) >= 2
    for cid, r in changed:
        assert r["hidden"] is True
        assert r["message"]["ts"] == r["previous_message"]["ts"] != r["ts"]
        assert r["message"]["text"] != r["previous_message"]["text"]
        assert r["message"]["edited"]["ts"] == r["ts"]
        assert r["message"]["ts"] in export.by_ts[cid]
    for edit in key["edits"]:
        _, msg = export.by_ts[edit["channel_id"]][edit["ts"]]
        if edit["event_ts"] is None:
            assert msg["edited"]["ts"] == edit["edited_ts"] and msg["text"] == edit["text"]
        else:
            _, event = export.by_ts[edit["channel_id"]][edit["event_ts"]]
            assert event["message"]["text"] == edit["text"]
    kinds = Counter(d["kind"] for d in key["deletions"])
    assert kinds["message_deleted"] >= 2 and kinds["tombstone"] == 1
    for d in key["deletions"]:
        _, target = export.by_ts[d["channel_id"]][d["deleted_ts"]]
        if d["kind"] == "tombstone":
            assert target["subtype"] == "tombstone" and target["text"] == "This message was deleted."
            assert target["reply_count"] >= 1
        else:
            _, event = export.by_ts[d["channel_id"]][d["event_ts"]]
            assert event["subtype"] == "message_deleted" and event["deleted_ts"] == d["deleted_ts"]
            assert event["previous_message"]["text"] == target["text"]


def test_planted_items(export, sample):
    _, key = sample
    items = key["planted_items"]
    assert len(items) >= 60
    kinds = Counter(i["kind"] for i in items)
    assert set(kinds) == KINDS
    assert all(kinds[k] >= 4 for k in KINDS - {"incident"}) and kinds["incident"] >= 2
    assert len({i["id"] for i in items}) == len(items)
    texts = [i["text"] for i in items]
    assert len(set(texts)) == len(texts), "planted items must not repeat"
    assert len({i["title"] for i in items}) == len(items)
    user_ids = {u["id"] for u in export.users}
    in_thread = top_level = 0
    for item in items:
        assert item["sources"], item["id"]
        for src in item["sources"]:
            day, msg = export.by_ts[src["channel_id"]][src["ts"]]
            assert day == item["day"] and msg["text"] == item["text"]
        assert item["channel_id"] == item["sources"][0]["channel_id"]
        assert set(item["owners"]) <= user_ids
        if item["kind"] in ("action_item", "question"):
            assert len(item["owners"]) == 1
            owner = item["owners"][0]
            assert f"<@{owner}>" in item["text"] or msg["user"] == owner
        if item["thread_ts"] is not None:
            _, root = export.by_ts[item["channel_id"]][item["thread_ts"]]
            assert root["thread_ts"] == root["ts"]
            assert msg.get("thread_ts") == item["thread_ts"]
        if msg.get("parent_user_id"):
            in_thread += 1
        else:
            top_level += 1
        if item["closed_by"]:
            day, closing = export.by_ts[item["closed_by"]["channel_id"]][item["closed_by"]["ts"]]
            assert day == item["closed_by"]["day"] >= item["day"]
            assert closing["thread_ts"] == item["thread_ts"]
            assert closing["ts"] > item["sources"][0]["ts"]
    assert in_thread >= 10 and top_level >= 10
    closed = [i for i in items if i["closed_by"]]
    assert {i["kind"] for i in closed} >= {"action_item", "question", "blocker", "incident"}
    assert any(i["closed_by"]["day"] > i["day"] for i in closed)
    assert any(i["kind"] in ("action_item", "question", "blocker") and not i["closed_by"] for i in items)


def test_templates_are_varied(sample):
    _, key = sample
    by_kind: dict[str, set[str]] = {}
    for item in key["planted_items"]:
        opening = " ".join(item["text"].replace("<@", "").split()[1:3])  # the words after the mention
        by_kind.setdefault(item["kind"], set()).add(opening)
    for kind in KINDS:
        assert len(by_kind[kind]) >= 4, (kind, by_kind[kind])


def test_late_replies(export, sample):
    _, key = sample
    late = key["late_replies"]
    assert len(late) >= 5
    assert any(_day_gap(r["parent_day"], r["reply_day"]) >= 2 for r in late)
    for r in late:
        parent_day, _ = export.by_ts[r["channel_id"]][r["parent_ts"]]
        reply_day, reply = export.by_ts[r["channel_id"]][r["reply_ts"]]
        assert (parent_day, reply_day) == (r["parent_day"], r["reply_day"])
        assert reply_day > parent_day
        assert reply["thread_ts"] == r["parent_ts"]
    # and the key lists every one of them
    listed = {(r["channel_id"], r["reply_ts"]) for r in late}
    for cid, day, rec in export.records():
        if "parent_user_id" in rec and export.by_ts[cid][rec["thread_ts"]][0] != day:
            assert (cid, rec["ts"]) in listed


def _day_gap(a: str, b: str) -> int:
    return (dt.date.fromisoformat(b) - dt.date.fromisoformat(a)).days


def test_private_secret(export, sample):
    out, key = sample
    secret = key["private_secret"]
    assert export.kinds[secret["channel_id"]] == "private"
    assert secret["members"] == export.convs[secret["channel_id"]]["members"]
    _, msg = export.by_ts[secret["channel_id"]][secret["ts"]]
    assert secret["phrase"] in msg["text"]
    assert any(
        i["kind"] == "decision" and i["sources"][0]["ts"] == secret["ts"] for i in key["planted_items"]
    )
    folder = export.folders[secret["channel_id"]]
    for path in out.rglob("*.json"):
        if path.name == ANSWER_KEY_FILE or path.parent.name == folder:
            continue
        assert "Zephyr" not in path.read_text(encoding="utf-8"), path
    not_members = {u["id"] for u in export.users} - set(secret["members"])
    assert not_members


def test_interleaving(export, sample):
    _, key = sample
    inter = key["interleaving"]
    cid = inter["channel_id"]
    assert export.kinds[cid] == "public"
    a, b = inter["conversations"]
    assert len(a) >= 4 and len(b) >= 4
    merged = sorted(a + b)
    assert merged[0] == a[0]
    # strictly alternating at the top level, within about twenty minutes
    assert [("a" if ts in a else "b") for ts in merged] == ["a", "b"] * (len(merged) // 2)
    assert float(merged[-1]) - float(merged[0]) <= 25 * 60
    authors = []
    for conv in (a, b):
        msgs = [export.by_ts[cid][ts][1] for ts in conv]
        assert all("thread_ts" not in m and m.get("subtype") is None for m in msgs)
        authors.append({m["user"] for m in msgs})
    assert not authors[0] & authors[1]
    mentions = [sum("<@U0" in export.by_ts[cid][ts][1]["text"] for ts in conv) for conv in (a, b)]
    assert max(mentions) >= len(b) - 1
    # nothing else visible at the top level of the channel during the window
    lo, hi = float(merged[0]), float(merged[-1])
    others = [
        r
        for c, _, r in export.records()
        if c == cid
        and lo <= float(r["ts"]) <= hi
        and r["ts"] not in merged
        and not r.get("hidden")
        and "parent_user_id" not in r
    ]
    assert others == []


def test_scaled_workspace(tmp_path):
    summary = generate_scaled_workspace(
        tmp_path / "a", seed=3, users=12, channels=4, days=2, messages_per_day=600, start_date="2026-10-05"
    )
    again = generate_scaled_workspace(
        tmp_path / "b", seed=3, users=12, channels=4, days=2, messages_per_day=600, start_date="2026-10-05"
    )
    assert summary == again
    assert _tree(tmp_path / "a") == _tree(tmp_path / "b")
    assert summary["messages"] == 1200
    assert summary["days"] == ["2026-10-05", "2026-10-06"]
    export = Export(tmp_path / "a")
    assert len([u for u in export.users if not u["is_bot"] and u["id"] != "USLACKBOT"]) == 12
    assert Counter(export.kinds.values())["public"] == 4
    assert {"private", "im", "mpim"} <= set(export.kinds.values())
    per_day = Counter(day for _, day, _ in export.records())
    assert per_day == {"2026-10-05": 600, "2026-10-06": 600}
    top_level = 0
    subtypes = Counter()
    for cid, day, rec in export.records():
        assert rec["type"] == "message" and utc_day(rec["ts"]) == day
        subtypes[rec.get("subtype")] += 1
        if "parent_user_id" in rec:
            parent_day, parent = export.by_ts[cid][rec["thread_ts"]]
            assert parent_day == day and {"user": rec["user"], "ts": rec["ts"]} in parent["replies"]
        else:
            top_level += 1
        if "reply_count" in rec:
            assert rec["reply_count"] == len(rec["replies"])
    assert 0.45 < top_level / 1200 < 0.8
    assert subtypes["bot_message"] > 0
    for days in export.days.values():
        for records in days.values():
            keys = [tuple(int(x) for x in r["ts"].split(".")) for r in records]
            assert keys == sorted(keys) and len(set(keys)) == len(keys)


def test_scaled_workspace_rejects_nonsense(tmp_path):
    with pytest.raises(ValueError):
        generate_scaled_workspace(tmp_path, seed=1, users=1, channels=1, days=1, messages_per_day=10)


def test_cli_writes_sample(tmp_path):
    from outropy_pipelines.sample.__main__ import main

    out = tmp_path / "cli"
    assert (
        main(["--out", str(out), "--scaled", "--users", "5", "--channels", "2", "--messages-per-day", "50"])
        == 0
    )
    assert sum(len(_load(p)) for p in out.glob("*/*.json")) == 50
    (tmp_path / "not_export").mkdir()
    assert main(["--out", str(tmp_path / "not_export"), "--clean"]) == 2
    assert (tmp_path / "not_export").is_dir()
