"""The `deliver_briefings` sensor: sends materialized briefings by Slack DM and email.

Not an `@asset_sensor` (which sees only the latest materialization per tick): each tick pages
through the delivery ledger (`briefings` LEFT JOIN `deliveries`, see `stages/delivery.py`), a
bounded batch within a time budget, and keeps its place in a JSON cursor:

    {"after": "2026-11-03|U0123|slack", "ticks": 12, "sent": 240, "retry": 3, "failed": 0, "unknown": 0}

`after` is the key of the last delivery looked at (null: start over); the counters are totals
over the sensor's life. Every tick logs a summary, and each failure, to the tick's log; ticks
that did something also report the `user_briefings` checks `no_duplicate_deliveries` and
`no_failed_deliveries` so the ledger's health shows on the asset in the UI.
"""

from __future__ import annotations

import json
from typing import Any

from dagster import (
    AssetCheckEvaluation,
    AssetCheckSeverity,
    AssetKey,
    DefaultSensorStatus,
    MetadataValue,
    SensorEvaluationContext,
    SensorResult,
    SkipReason,
    sensor,
)

from outropy_pipelines.adapters.duckdb_store import DuckDBStore
from outropy_pipelines.config import DeliverySettings
from outropy_pipelines.domain import delivery_plan as plan
from outropy_pipelines.stages import checks
from outropy_pipelines.stages.delivery import (
    build_transports,
    deliver_page,
    ledger_counts,
    policy_from_settings,
)

DELIVERY_SENSOR = "deliver_briefings"
BRIEFINGS_ASSET = AssetKey("user_briefings")
NO_DUPLICATES_CHECK = "no_duplicate_deliveries"
NO_FAILURES_CHECK = "no_failed_deliveries"
_COUNTERS = (plan.SENT, plan.RETRY, plan.FAILED, plan.UNKNOWN)


def load_cursor(raw: str | None) -> dict[str, Any]:
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    out: dict[str, Any] = {"after": data.get("after") if isinstance(data.get("after"), str) else None}
    for name in ("ticks", *_COUNTERS):
        value = data.get(name)
        out[name] = value if isinstance(value, int) else 0
    return out


def ledger_table(store: DuckDBStore) -> str:
    counts = ledger_counts(store)
    lines = ["| channel | status | deliveries |", "|---|---|---|"]
    lines += [f"| {ch} | {st} | {n} |" for (ch, st), n in sorted(counts.items())]
    return "\n".join(lines)


def delivery_check_evaluations(store: DuckDBStore) -> list[AssetCheckEvaluation]:
    """The ledger's health as evaluations of the `user_briefings` delivery checks."""
    duplicates = checks.duplicate_deliveries(store)
    failed = checks.failed_deliveries(store)
    table = MetadataValue.md(ledger_table(store))
    return [
        AssetCheckEvaluation(
            asset_key=BRIEFINGS_ASSET,
            check_name=NO_DUPLICATES_CHECK,
            passed=duplicates == 0,
            metadata={"duplicate_keys": duplicates, "ledger": table},
        ),
        AssetCheckEvaluation(
            asset_key=BRIEFINGS_ASSET,
            check_name=NO_FAILURES_CHECK,
            passed=failed == 0,
            severity=AssetCheckSeverity.WARN,
            metadata={"failed_or_unknown": failed, "ledger": table},
        ),
    ]


def build_delivery_sensor(duckdb_path: str, settings: DeliverySettings):
    @sensor(
        name=DELIVERY_SENSOR,
        minimum_interval_seconds=settings.sensor_interval_seconds,
        default_status=DefaultSensorStatus.RUNNING,
        description="Delivers each materialized (day, user) briefing once per chosen channel (Slack DM, "
        "email), retrying failures with backoff; pages through the `deliveries` ledger.",
    )
    def deliver_briefings(context: SensorEvaluationContext):
        cursor = load_cursor(context.cursor)
        store = DuckDBStore(duckdb_path)
        if not store.path.exists():
            return SkipReason(f"no DuckDB file at {store.path} yet")
        transports = build_transports(settings)
        if not transports:
            return SkipReason("no delivery channel configured: set SLACK_BOT_TOKEN and/or SMTP_HOST")
        policy = policy_from_settings(settings, for_sensor=True)
        try:
            report = deliver_page(store, transports, policy, after=cursor["after"], log=context.log.warning)
        finally:
            for transport in transports.values():
                transport.close()
        cursor["after"] = report.cursor
        cursor["ticks"] += 1
        for name in _COUNTERS:
            cursor[name] += report.count(name)
        summary = report.summary()
        context.log.info(f"deliveries this tick: {summary}")
        return SensorResult(
            skip_reason=summary,
            cursor=json.dumps(cursor, sort_keys=True),
            asset_events=delivery_check_evaluations(store) if report.outcomes else [],
        )

    return deliver_briefings
