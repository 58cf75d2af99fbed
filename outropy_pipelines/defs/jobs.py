"""The jobs: the day's pipeline, the readers' briefings, and delivery.

The stage order is the asset graph's (`defs/assets.py`); these jobs select parts of it, and
`outropy run`, the schedule, the sensors and the benchmarks all execute them.
"""

from __future__ import annotations

from dagster import AssetSelection, define_asset_job

from outropy_pipelines.defs.assets import (
    classified_items,
    entity_summaries,
    raw_slack_messages,
    slack_directory,
    slack_threads,
    user_briefings,
)
from outropy_pipelines.defs.partitions import daily_partitions, daily_user_partitions

#: run tag the production profile's run queue limits on (deploy/dagster.yaml): the day's pipeline
#: calls the LLM for every thread and entity, so those runs get their own, smaller limit; delivery
#: (`defs/delivery.py`, value "delivery") is held to one run at a time, the ledger's only writer
WORKLOAD_TAG = "outropy/workload"

daily_pipeline = define_asset_job(
    "daily_pipeline",
    selection=AssetSelection.assets(
        slack_directory, raw_slack_messages, slack_threads, classified_items, entity_summaries
    ),
    partitions_def=daily_partitions,
    description="Directory, messages, threads, items and entity memory for one day (or a range).",
    tags={WORKLOAD_TAG: "llm"},
)

user_briefings_job = define_asset_job(
    "user_briefings_job",
    selection=AssetSelection.assets(user_briefings),
    partitions_def=daily_user_partitions,
    description="Briefings for a rectangle of days x subscribed users, in one run.",
    tags={WORKLOAD_TAG: "briefings"},
)
