"""Stage: the workspace directory (users, conversations, membership, subscriptions) into DuckDB."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from outropy_pipelines.adapters.duckdb_store import DuckDBStore
from outropy_pipelines.domain.models import Channel, Directory, QuarantineRecord, Subscription, User
from outropy_pipelines.domain.subscriptions import default_subscriptions, load_subscriptions_file


@dataclass
class DirectoryReport:
    users: int
    humans: int
    channels: int
    memberships: int
    subscriptions: int
    quarantined: int


def write_directory(
    store: DuckDBStore,
    directory: Directory,
    quarantine: list[QuarantineRecord],
    subscriptions_file: Path | None = None,
) -> DirectoryReport:
    """Replace the directory snapshot and the subscriptions in one transaction."""
    subs = default_subscriptions(directory)
    if subscriptions_file is not None:
        subs = load_subscriptions_file(subscriptions_file, directory, subs)
    members = [{"channel_id": c.channel_id, "user_id": u} for c in directory.channels for u in c.members]
    store.replace_partitions(
        [
            ("users", {}, [u.model_dump() for u in directory.users]),
            ("channels", {}, [c.model_dump(exclude={"members"}) for c in directory.channels]),
            ("channel_members", {}, members),
            ("subscriptions", {}, [s.model_dump() for s in subs]),
            ("quarantine", {"source": "directory"}, [_q(q) for q in quarantine]),
        ]
    )
    return DirectoryReport(
        users=len(directory.users),
        humans=sum(1 for u in directory.users if not u.is_bot and not u.deleted),
        channels=len(directory.channels),
        memberships=len(members),
        subscriptions=sum(1 for s in subs if s.active),
        quarantined=len(quarantine),
    )


def _q(q: QuarantineRecord) -> dict:
    row = q.model_dump()
    row["source"] = "directory"
    row["day"] = None
    return row


def read_directory(store: DuckDBStore) -> Directory:
    """The directory snapshot as last written by `write_directory`."""
    users = [User(**r) for r in store.query("SELECT * FROM users ORDER BY user_id")]
    members: dict[str, list[str]] = {}
    for r in store.query("SELECT channel_id, user_id FROM channel_members ORDER BY channel_id, user_id"):
        members.setdefault(r["channel_id"], []).append(r["user_id"])
    channels = [
        Channel(**r, members=members.get(r["channel_id"], []))
        for r in store.query("SELECT * FROM channels ORDER BY channel_id")
    ]
    return Directory(users=users, channels=channels)


def read_subscriptions(store: DuckDBStore, active_only: bool = True) -> list[Subscription]:
    where = "WHERE active" if active_only else ""
    return [Subscription(**r) for r in store.query(f"SELECT * FROM subscriptions {where} ORDER BY user_id")]
