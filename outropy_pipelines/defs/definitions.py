"""The Dagster `Definitions`: assets, jobs, schedule, sensors, and resources configured from `Settings`.

`build_definitions(settings)` is the one place resources are wired. Partitions and the sensor
interval are fixed when the definitions load (module level, from the environment), so a
`settings` that disagrees with them is refused instead of silently running other days.
Secrets are handed over as `EnvVar`s, only when they are set: the UI shows which variable a
resource reads, never its value.
"""

from __future__ import annotations

from collections.abc import Mapping

from dagster import Definitions, EnvVar

from outropy_pipelines.defs.assets import assets_for_provider
from outropy_pipelines.defs.delivery import deliver_briefings, deliver_briefings_sensor
from outropy_pipelines.defs.executors import build_executor
from outropy_pipelines.defs.jobs import daily_pipeline, user_briefings_job
from outropy_pipelines.defs.partitions import TIMEZONE, daily_partitions
from outropy_pipelines.defs.resources import (
    DeliveryPolicyResource,
    EmailDeliveryResource,
    FeedbackResource,
    LLMResource,
    PipelineResource,
    SlackDeliveryResource,
    SlackSourceResource,
    StoreResource,
)
from outropy_pipelines.defs.run_monitor import fail_runs_whose_process_died
from outropy_pipelines.defs.schedules import daily_briefing_schedule
from outropy_pipelines.defs.sensors import briefings_after_daily_pipeline, sync_subscribed_users
from outropy_pipelines.settings import Settings
from outropy_pipelines.store import DuckDBStore

SLACK_BOT_TOKEN = "SLACK_BOT_TOKEN"
OPENAI_API_KEY = "OPENAI_API_KEY"
SMTP_PASSWORD = "SMTP_PASSWORD"
DUCKLAKE_PASSWORD = "OUTROPY_DUCKLAKE_PASSWORD"
FEEDBACK_SECRET = "OUTROPY_FEEDBACK_SECRET"


def _secret(is_set: bool, variable: str) -> EnvVar | None:
    return EnvVar(variable) if is_set else None


def _store_resource(settings: Settings, password: str | None) -> StoreResource:
    return StoreResource(
        path=str(settings.duckdb_path),
        memory_limit=settings.duckdb_memory_limit,
        backend=settings.store_backend,
        lake_catalog=settings.ducklake_catalog,
        lake_data_path=settings.ducklake_data_path,
        lake_password=password,
    )


def build_store(settings: Settings) -> DuckDBStore:
    """The store of `settings` outside Dagster (`outropy run`'s summary, the CLI)."""
    password = settings.ducklake_password
    return _store_resource(settings, password.get_secret_value() if password else None).store()


def build_resources(settings: Settings) -> dict[str, object]:
    """Every resource, from `settings`."""
    llm, smtp, delivery, feedback = settings.llm, settings.smtp, settings.delivery, settings.feedback
    slack_token = _secret(settings.slack_bot_token is not None, SLACK_BOT_TOKEN)
    return {
        "store": _store_resource(
            settings, _secret(settings.ducklake_password is not None, DUCKLAKE_PASSWORD)
        ),
        "slack": SlackSourceResource(
            export_dir=str(settings.slack_export),
            mode=settings.slack_source,
            bot_token=slack_token,
            api_base_url=settings.slack_api_url,
            thread_lookback_days=settings.slack_thread_lookback_days,
            unlisted_folder_visibility=settings.unlisted_folder_visibility,
        ),
        "pipeline": PipelineResource(
            workspace_url=settings.slack_workspace_url.rstrip("/") if settings.slack_workspace_url else None,
            briefings_dir=str(settings.briefings_dir) if settings.briefings_dir else None,
            subscriptions_file=str(settings.subscriptions_file) if settings.subscriptions_file else None,
            workers=settings.workers,
            users_per_run=settings.briefing_users_per_run,
        ),
        "llm": LLMResource(
            provider=llm.provider,
            model=llm.model,
            base_url=llm.openai_base_url,
            api_key=_secret(llm.openai_api_key is not None, OPENAI_API_KEY),
            concurrency=llm.concurrency,
            max_tokens_per_run=llm.max_tokens_per_run,
            timeout_seconds=llm.timeout_seconds,
            max_retries=llm.max_retries,
            temperature=llm.temperature,
            prices_json=llm.prices,
        ),
        "slack_delivery": SlackDeliveryResource(
            bot_token=slack_token,
            api_base_url=settings.slack_api_url,
            timeout_seconds=delivery.slack_timeout_seconds,
            max_retry_after_seconds=delivery.slack_max_retry_after_seconds,
        ),
        "email_delivery": EmailDeliveryResource(
            host=smtp.host,
            port=smtp.port,
            user=smtp.user,
            password=_secret(smtp.password is not None, SMTP_PASSWORD),
            sender=smtp.sender,
            starttls=smtp.starttls,
            ssl=smtp.ssl,
            timeout_seconds=smtp.timeout_seconds,
            unsubscribe_url=delivery.unsubscribe_url,
            unsubscribe_mailto=delivery.unsubscribe_mailto,
        ),
        "feedback": FeedbackResource(
            slack_lines=feedback.slack_lines,
            useful_reactions=feedback.useful_reactions,
            not_useful_reactions=feedback.not_useful_reactions,
            read_days=feedback.read_days,
            window_days=feedback.window_days,
            url=feedback.url,
            secret=_secret(feedback.secret is not None, FEEDBACK_SECRET),
        ),
        "delivery_policy": DeliveryPolicyResource(
            max_attempts=delivery.max_attempts,
            backoff_seconds=delivery.backoff_seconds,
            backoff_max_seconds=delivery.backoff_max_seconds,
            lease_seconds=delivery.lease_seconds,
            resend_on_change=delivery.resend_on_change,
            batch_size=delivery.batch_size,
            max_age_days=delivery.max_age_days or None,
            local_hour=delivery.local_hour,
            quiet_hours=delivery.quiet_hours,
            weekend=delivery.weekend,
            timezone=settings.timezone,
        ),
    }


def build_definitions(settings: Settings, resources: Mapping[str, object] | None = None) -> Definitions:
    """Everything Dagster loads, with resources from `settings` (`resources` replaces some: the
    benchmarks measure the pipeline with a recording LLM resource)."""
    first_day = daily_partitions.start.date()
    if settings.timezone != TIMEZONE or settings.start_date != first_day:
        raise ValueError(
            f"the daily partitions were declared for {first_day} on in {TIMEZONE} when the "
            f"definitions loaded; these settings ask for {settings.start_date} in {settings.timezone}: "
            "set OUTROPY_START_DATE and OUTROPY_TIMEZONE in the environment instead"
        )
    return Definitions(
        assets=assets_for_provider(settings.llm.provider),
        jobs=[daily_pipeline, user_briefings_job, deliver_briefings],
        schedules=[daily_briefing_schedule],
        sensors=[
            sync_subscribed_users,
            briefings_after_daily_pipeline,
            deliver_briefings_sensor,
            fail_runs_whose_process_died,
        ],
        resources={**build_resources(settings), **(resources or {})},
        executor=build_executor(settings.executor),
    )
