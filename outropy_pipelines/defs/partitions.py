"""The partitions: calendar days in the workspace time zone, and subscribed users.

Declared once, here, from settings (OUTROPY_START_DATE, OUTROPY_TIMEZONE), never from the data:
loading the definitions reads no export and asks no Slack API, so an export, a live workspace
and an empty machine all get the same partitions. Days run from the start date to yesterday
(the last complete day) in the workspace time zone.
"""

from __future__ import annotations

from collections.abc import Sequence

from dagster import (
    DailyPartitionsDefinition,
    DynamicPartitionsDefinition,
    MultiPartitionKey,
    MultiPartitionsDefinition,
)

from outropy_pipelines.settings import get_settings

SUBSCRIBED_USERS = "subscribed_users"
DATE_DIM = "date"
USER_DIM = "user"

daily_partitions = DailyPartitionsDefinition(
    start_date=get_settings().start_date.isoformat(), timezone=get_settings().timezone
)
subscribed_user_partitions = DynamicPartitionsDefinition(name=SUBSCRIBED_USERS)
daily_user_partitions = MultiPartitionsDefinition(
    {DATE_DIM: daily_partitions, USER_DIM: subscribed_user_partitions}
)

#: the workspace time zone of the days (what "a day" of messages is)
TIMEZONE: str = daily_partitions.timezone


class DayOutOfRange(ValueError):
    """A day that is not a daily partition."""


def valid_days() -> tuple[str, str | None]:
    """The first and last daily partition (None: no complete day yet)."""
    first = daily_partitions.start.date().isoformat()
    last = daily_partitions.get_last_partition_key()
    return first, last


def check_days(days: Sequence[str]) -> None:
    """Raise `DayOutOfRange`, naming the valid range and the setting to change, unless every day
    is a daily partition."""
    if not days:
        return
    first, last = valid_days()
    span = f"{first} .. {last}" if last else f"from {first} on, once a day has ended"
    early = min(days)
    if early < first:
        raise DayOutOfRange(
            f"{early} is before the first daily partition {first}; valid days are {span} "
            "(set OUTROPY_START_DATE to start earlier)"
        )
    late = max(days)
    if last is None or late > last:
        raise DayOutOfRange(
            f"{late} has not ended yet in {TIMEZONE}: valid days are {span} (a day is processed once it is over)"
        )


def briefing_key(day: str, user_id: str) -> MultiPartitionKey:
    return MultiPartitionKey({DATE_DIM: day, USER_DIM: user_id})


def split_briefing_keys(partition_keys: Sequence[str]) -> dict[str, list[str]]:
    """{day: [user ids]} from the (date x user) partition keys of a run."""
    by_day: dict[str, list[str]] = {}
    for key in partition_keys:
        if not isinstance(key, MultiPartitionKey):
            key = daily_user_partitions.get_partition_key_from_str(key)
        dims = key.keys_by_dimension
        by_day.setdefault(dims[DATE_DIM], []).append(dims[USER_DIM])
    return {day: sorted(set(users)) for day, users in sorted(by_day.items())}


# Run tags that make one run cover a range of partitions (Dagster's documented way to launch a
# partition range from a sensor, a schedule or `execute_in_process`; the names are Dagster's).
PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"


def day_range_tags(first_day: str, last_day: str) -> dict[str, str]:
    """Run tags selecting the days [first_day..last_day]."""
    return {PARTITION_RANGE_START_TAG: first_day, PARTITION_RANGE_END_TAG: last_day}


def briefing_range_tags(first_day: str, last_day: str, users: Sequence[str]) -> dict[str, str]:
    """Run tags selecting the rectangle [first_day..last_day] x [users[0]..users[-1]] (a range over
    the user dimension follows the dynamic partitions' order)."""
    return {
        PARTITION_RANGE_START_TAG: str(briefing_key(first_day, users[0])),
        PARTITION_RANGE_END_TAG: str(briefing_key(last_day, users[-1])),
    }


def user_chunks(users: Sequence[str], per_run: int) -> list[list[str]]:
    """Contiguous runs of users in partition order (a range over a dynamic dimension is contiguous)."""
    per_run = max(1, per_run)
    return [list(users[i : i + per_run]) for i in range(0, len(users), per_run)]
