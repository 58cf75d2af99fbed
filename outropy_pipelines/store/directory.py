"""`users`, `channels`, `channel_members`, `subscriptions`: the directory snapshot of the workspace."""

from __future__ import annotations

from collections.abc import Sequence

from outropy_pipelines.domain.models import (
    Channel,
    Directory,
    QuarantineRecord,
    ReaderPreferences,
    Subscription,
    User,
)
from outropy_pipelines.store.duckdb_store import DuckDBStore, list_param, unnested


def replace_snapshot(
    store: DuckDBStore,
    directory: Directory,
    subscriptions: Sequence[Subscription],
    quarantine: Sequence[QuarantineRecord],
) -> None:
    """Replace the directory snapshot, the subscriptions and the directory's quarantine in one transaction."""
    members = [{"channel_id": c.channel_id, "user_id": u} for c in directory.channels for u in c.members]
    store.replace_partitions(
        [
            ("users", {}, [u.model_dump() for u in directory.users]),
            ("channels", {}, [c.model_dump(exclude={"members"}) for c in directory.channels]),
            ("channel_members", {}, members),
            ("subscriptions", {}, [_subscription_row(s) for s in subscriptions]),
            ("quarantine", {"source": "directory"}, [_q(q) for q in quarantine]),
        ]
    )


def _subscription_row(s: Subscription) -> dict:
    row = s.model_dump(exclude={"preferences"})
    row["preferences"] = s.preferences.model_dump_json() if s.preferences != ReaderPreferences() else None
    return row


def _q(q: QuarantineRecord) -> dict:
    row = q.model_dump()
    row["source"] = "directory"
    row["day"] = None
    return row


def read_directory(store: DuckDBStore) -> Directory:
    """The directory snapshot as last written by `replace_snapshot`."""
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
    rows = store.query(f"SELECT * FROM subscriptions {where} ORDER BY user_id")
    return [
        Subscription(**{**r, "preferences": ReaderPreferences.model_validate_json(r["preferences"] or "{}")})
        for r in rows
    ]


def subscribed_user_ids(store: DuckDBStore) -> list[str]:
    """Active subscribers in user-id order (none before the first directory snapshot)."""
    if not store.exists():
        return []
    return [
        r["user_id"] for r in store.query("SELECT user_id FROM subscriptions WHERE active ORDER BY user_id")
    ]


def keep_only_subscribers(store: DuckDBStore, user_ids: list[str]) -> None:
    """Leave exactly `user_ids` subscribed (the benchmarks' reader counts)."""
    store.execute(
        f"UPDATE subscriptions SET active = user_id IN (SELECT {unnested()})", [list_param(user_ids)]
    )
