"""Partitions: calendar days in the workspace time zone, and subscribed users."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dagster import (
    DailyPartitionsDefinition,
    DynamicPartitionsDefinition,
    MultiPartitionKey,
    MultiPartitionsDefinition,
)

SUBSCRIBED_USERS = "subscribed_users"
DATE_DIM = "date"
USER_DIM = "user"


@dataclass(frozen=True)
class Partitions:
    daily: DailyPartitionsDefinition
    users: DynamicPartitionsDefinition
    daily_by_user: MultiPartitionsDefinition


def build_partitions(start_date: str, timezone: str) -> Partitions:
    daily = DailyPartitionsDefinition(start_date=start_date, timezone=timezone)
    users = DynamicPartitionsDefinition(name=SUBSCRIBED_USERS)
    return Partitions(
        daily=daily,
        users=users,
        daily_by_user=MultiPartitionsDefinition({DATE_DIM: daily, USER_DIM: users}),
    )


def briefing_key(day: str, user_id: str) -> MultiPartitionKey:
    return MultiPartitionKey({DATE_DIM: day, USER_DIM: user_id})


def split_briefing_keys(
    partitions_def: MultiPartitionsDefinition, partition_keys: Sequence[str]
) -> dict[str, list[str]]:
    """{day: [user ids]} from the (date x user) partition keys of a run."""
    by_day: dict[str, list[str]] = {}
    for key in partition_keys:
        if not isinstance(key, MultiPartitionKey):
            key = partitions_def.get_partition_key_from_str(key)
        dims = key.keys_by_dimension
        by_day.setdefault(dims[DATE_DIM], []).append(dims[USER_DIM])
    return {day: sorted(set(users)) for day, users in sorted(by_day.items())}
