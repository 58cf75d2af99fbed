"""Stage: the workspace directory (users, conversations, membership, subscriptions) into DuckDB."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from outropy_pipelines.domain.models import Directory, QuarantineRecord
from outropy_pipelines.domain.subscriptions import default_subscriptions, load_subscriptions_file
from outropy_pipelines.store import DuckDBStore
from outropy_pipelines.store import directory as directory_store


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
    directory_store.replace_snapshot(store, directory, subs, quarantine)
    return DirectoryReport(
        users=len(directory.users),
        humans=sum(1 for u in directory.users if not u.is_bot and not u.deleted),
        channels=len(directory.channels),
        memberships=sum(len(c.members) for c in directory.channels),
        subscriptions=sum(1 for s in subs if s.active),
        quarantined=len(quarantine),
    )
