"""Each reader's own morning: `delivery_plan.decide` with a `ReaderSchedule` (pure, explicit "now"
instants, readers in several zones across the 2026 EU and US DST ends), the subscriptions file
and settings that configure it, and the delivery sensor asking at a fixed instant."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from dagster import DagsterInstance, build_sensor_context

from outropy_pipelines.adapters.slack_export_reader import SlackExportReader
from outropy_pipelines.defs.definitions import build_definitions, build_resources
from outropy_pipelines.domain import delivery_plan as plan
from outropy_pipelines.domain.delivery_plan import DeliveryPolicy, LedgerRow, ReaderSchedule
from outropy_pipelines.domain.subscriptions import (
    SubscriptionsFileError,
    default_subscriptions,
    load_subscriptions_file,
)
from outropy_pipelines.settings import Settings
from outropy_pipelines.stages.delivery import due_deliveries
from outropy_pipelines.stages.directory import write_directory
from outropy_pipelines.store import DuckDBStore
from outropy_pipelines.store.directory import read_subscriptions
from outropy_pipelines_tests.conftest import SAMPLE_EXPORT, make_settings
from outropy_pipelines_tests.fake_slack_server import FakeSlackServer
from outropy_pipelines_tests.test_delivery import TOKEN, settings_for

LA, BERLIN, KOLKATA, SYDNEY = "America/Los_Angeles", "Europe/Berlin", "Asia/Kolkata", "Australia/Sydney"
POLICY = DeliveryPolicy()


def utc(*args: int) -> dt.datetime:
    """A naive UTC instant, as the ledger stores them."""
    return dt.datetime(*args)


def decide(schedule: ReaderSchedule, day: str, now: dt.datetime, row: LedgerRow | None = None) -> str:
    return plan.decide(row, "h1", now, POLICY, day=day, schedule=schedule)


# -- the rule (pure) ----------------------------------------------------------------------------


def test_one_instant_finds_readers_in_four_zones_at_different_points_of_their_morning():
    # the briefing of Monday 2026-11-02; at 03:00 UTC on Tuesday it is 08:30 in Kolkata, 14:00 in
    # Sydney (summer time), 04:00 in Berlin and 19:00 on Monday in Los Angeles
    now = utc(2026, 11, 3, 3, 0)
    day = "2026-11-02"
    assert decide(ReaderSchedule(KOLKATA), day, now) == "send"
    assert decide(ReaderSchedule(SYDNEY), day, now) == "send"
    assert decide(ReaderSchedule(BERLIN), day, now) == "wait"
    assert decide(ReaderSchedule(LA), day, now) == "wait"
    # each becomes due exactly at 08:00 local on Tuesday
    assert ReaderSchedule(KOLKATA).due_at(day) == utc(2026, 11, 3, 2, 30)
    assert ReaderSchedule(SYDNEY).due_at(day) == utc(2026, 11, 2, 21, 0)
    assert ReaderSchedule(BERLIN).due_at(day) == utc(2026, 11, 3, 7, 0)
    assert ReaderSchedule(LA).due_at(day) == utc(2026, 11, 3, 16, 0)
    assert decide(ReaderSchedule(BERLIN), day, utc(2026, 11, 3, 6, 59)) == "wait"
    assert decide(ReaderSchedule(BERLIN), day, utc(2026, 11, 3, 7, 0)) == "send"
    assert decide(ReaderSchedule(LA), day, utc(2026, 11, 3, 15, 59)) == "wait"
    assert decide(ReaderSchedule(LA), day, utc(2026, 11, 3, 16, 0)) == "send"


def test_the_eu_dst_end_moves_berlin_mornings_by_an_hour_in_utc():
    berlin = ReaderSchedule(BERLIN)
    # Saturday 24 Oct: still summer time (UTC+2) -> 06:00 UTC
    assert berlin.due_at("2026-10-23") == utc(2026, 10, 24, 6, 0)
    # the morning of Sunday 25 Oct is after the change at 03:00 (UTC+1) -> 07:00 UTC
    assert berlin.due_at("2026-10-24") == utc(2026, 10, 25, 7, 0)
    assert decide(berlin, "2026-10-24", utc(2026, 10, 25, 6, 30)) == "wait"  # 07:30 CET
    assert decide(berlin, "2026-10-24", utc(2026, 10, 25, 7, 0)) == "send"
    # Los Angeles is still on summer time that week: 08:00 PDT = 15:00 UTC
    assert ReaderSchedule(LA).due_at("2026-10-24") == utc(2026, 10, 25, 15, 0)


def test_the_us_dst_end_moves_los_angeles_mornings_by_an_hour_in_utc():
    la = ReaderSchedule(LA)
    assert la.due_at("2026-10-30") == utc(2026, 10, 31, 15, 0)  # PDT, UTC-7
    assert la.due_at("2026-10-31") == utc(2026, 11, 1, 16, 0)  # 1 Nov, after 02:00: PST, UTC-8
    assert decide(la, "2026-10-31", utc(2026, 11, 1, 15, 30)) == "wait"  # 07:30 PST
    assert decide(la, "2026-10-31", utc(2026, 11, 1, 16, 0)) == "send"
    # Kolkata has no DST: the same UTC instant every morning
    assert {ReaderSchedule(KOLKATA).due_at(d) for d in ("2026-10-24", "2026-10-31")} == {
        utc(2026, 10, 25, 2, 30),
        utc(2026, 11, 1, 2, 30),
    }


def test_a_custom_hour_and_quiet_hours_never_send_at_night():
    # delivery at 06:00 but quiet until 07:00: the quiet hours win
    early = ReaderSchedule(BERLIN, hour=6, quiet=plan.parse_quiet_hours("21-07"))
    day = "2026-11-02"
    assert decide(early, day, utc(2026, 11, 3, 5, 30)) == "wait"  # 06:30 CET
    assert decide(early, day, utc(2026, 11, 3, 6, 0)) == "send"  # 07:00 CET
    # a briefing stored late (catching up) is not sent at 23:00 local, but the next morning
    assert decide(early, day, utc(2026, 11, 4, 22, 0)) == "wait"
    assert decide(early, day, utc(2026, 11, 5, 2, 0)) == "wait"  # 03:00
    assert decide(early, day, utc(2026, 11, 5, 6, 0)) == "send"
    # a retry that comes due at night waits for the morning too
    retry = LedgerRow(day, "U1", "slack", plan.RETRY, attempts=1, next_attempt_at=utc(2026, 11, 3, 20, 30))
    assert decide(early, day, utc(2026, 11, 3, 21, 0), retry) == "wait"  # 22:00 CET
    assert decide(early, day, utc(2026, 11, 4, 6, 5), retry) == "send"
    # a crashed send is still reconciled at night (it finishes what began)
    crashed = LedgerRow(day, "U1", "slack", plan.SENDING, attempts=1, next_attempt_at=utc(2026, 11, 3, 20, 0))
    assert decide(early, day, utc(2026, 11, 3, 22, 0), crashed) == "reconcile"
    # quiet hours within one day (no wrap)
    lunch = ReaderSchedule(KOLKATA, quiet=(12, 14))
    assert lunch.is_quiet(utc(2026, 11, 3, 7, 0))  # 12:30 IST
    assert not lunch.is_quiet(utc(2026, 11, 3, 8, 30))  # 14:00 IST


def test_the_weekend_rule_delivers_holds_until_monday_or_skips():
    friday = "2026-11-06"  # its morning is Saturday 7 Nov
    saturday_0800_berlin = utc(2026, 11, 7, 7, 0)
    monday_0800_berlin = utc(2026, 11, 9, 7, 0)
    assert decide(ReaderSchedule(BERLIN, weekend="deliver"), friday, saturday_0800_berlin) == "send"
    monday = ReaderSchedule(BERLIN, weekend="monday")
    assert monday.due_at(friday) == monday.due_at("2026-11-07") == monday_0800_berlin
    assert decide(monday, friday, saturday_0800_berlin) == "wait"
    assert decide(monday, friday, utc(2026, 11, 9, 6, 59)) == "wait"
    assert decide(monday, friday, monday_0800_berlin) == "send"
    skip = ReaderSchedule(BERLIN, weekend="skip")
    assert decide(skip, friday, monday_0800_berlin) == "skipped"
    assert decide(skip, "2026-11-08", monday_0800_berlin) == "send"  # Sunday's: Monday morning
    # the weekend rule does not touch weekdays
    assert decide(skip, "2026-11-02", utc(2026, 11, 3, 7, 0)) == "send"


def test_without_a_schedule_and_for_sent_rows_nothing_changes():
    night = utc(2026, 11, 3, 1, 0)
    assert plan.decide(None, "h", night, POLICY) == "send"  # no schedule: due when stored
    sent = LedgerRow("2026-11-02", "U1", "slack", plan.SENT, attempts=1, content_hash="h1")
    assert decide(ReaderSchedule(BERLIN), "2026-11-02", utc(2026, 11, 3, 12, 0), sent) == "done"


def test_reader_values_override_the_defaults_and_bad_ones_are_refused():
    default = ReaderSchedule("Europe/London", hour=8, quiet=(21, 7), weekend="deliver")
    own = default.for_reader(SYDNEY, 7, "off", "monday")
    assert own == ReaderSchedule(SYDNEY, hour=7, quiet=None, weekend="monday")
    assert default.for_reader(None) == default
    assert default.for_reader("Mars/Olympus_Mons").tz == "Europe/London"  # unknown zone: default
    for bad in ("21", "25-07", "evening", "7-7"):
        with pytest.raises(ValueError):
            plan.parse_quiet_hours(bad)
    with pytest.raises(ValueError):
        ReaderSchedule(BERLIN, weekend="sometimes")  # type: ignore[arg-type]


# -- configuration ------------------------------------------------------------------------------


def test_subscriptions_file_sets_hours_per_reader_and_rejects_typos(tmp_path: Path):
    directory, _ = SlackExportReader(SAMPLE_EXPORT).read_directory()
    path = tmp_path / "subscriptions.yaml"
    path.write_text(
        "defaults: {delivery: slack, quiet_hours: '21-07'}\n"
        "users:\n"
        "  U016PRIYA: {delivery_hour: 7, weekend: monday}\n"
        "  U026ZOE: {quiet_hours: off, weekend: skip}\n",
        encoding="utf-8",
    )
    subs = {s.user_id: s for s in load_subscriptions_file(path, directory, default_subscriptions(directory))}
    priya, zoe, anna = subs["U016PRIYA"], subs["U026ZOE"], subs["U027ANNA"]
    assert (priya.delivery_hour, priya.quiet_hours, priya.weekend) == (7, "21-07", "monday")
    assert (zoe.delivery_hour, zoe.quiet_hours, zoe.weekend) == (None, "off", "skip")
    assert (anna.delivery_hour, anna.quiet_hours, anna.weekend) == (None, "21-07", None)
    for bad in ("{weekend: sometimes}", "{delivery_hour: 24}", "{quiet_hours: 'late'}", "{quiet: '21-07'}"):
        path.write_text(f"users:\n  U016PRIYA: {bad}\n", encoding="utf-8")
        with pytest.raises(SubscriptionsFileError):
            load_subscriptions_file(path, directory, default_subscriptions(directory))


def test_settings_read_the_defaults_from_the_environment(monkeypatch):
    default = Settings().delivery
    assert (default.local_hour, default.quiet_hours, default.weekend) == (8, None, "deliver")
    monkeypatch.setenv("OUTROPY_DELIVERY_LOCAL_HOUR", "7")
    monkeypatch.setenv("OUTROPY_QUIET_HOURS", "22-06")
    monkeypatch.setenv("OUTROPY_WEEKEND_DELIVERY", "Monday")
    delivery = Settings().delivery
    assert (delivery.local_hour, delivery.quiet_hours, delivery.weekend) == (7, "22-06", "monday")
    monkeypatch.setenv("OUTROPY_QUIET_HOURS", "night")
    with pytest.raises(ValueError):
        Settings()


# -- the store and the sensor -------------------------------------------------------------------

DAY = "2026-11-03"  # a Tuesday with briefings in the sample
PRIYA, ZOE, FARID, GRACE = "U016PRIYA", "U026ZOE", "U006FARID", "U007GRACE"  # Kolkata, Sydney, Berlin, LA


@pytest.fixture
def store(sample_run, tmp_path) -> DuckDBStore:
    """The sample run's DuckDB with DAY's briefings of four readers in four zones (the directory's
    tz from users.json), everyone subscribed by Slack; PRIYA's own delivery hour is 10."""
    path = make_settings(tmp_path).duckdb_path
    shutil.copy(sample_run.settings.duckdb_path, path)
    db = DuckDBStore(path)
    db.execute(
        "DELETE FROM briefings WHERE day <> CAST(? AS DATE) OR user_id NOT IN (SELECT unnest(?))",
        [DAY, [PRIYA, ZOE, FARID, GRACE]],
    )
    subs = tmp_path / "subscriptions.yaml"
    subs.write_text(f"users:\n  {PRIYA}: {{delivery_hour: 10}}\n", encoding="utf-8")
    directory, _ = SlackExportReader(SAMPLE_EXPORT).read_directory()
    write_directory(db, directory, [], subs)
    return db


def test_the_store_gives_each_reader_their_zone_and_subscription(store):
    assert {r["user_id"] for r in store.query("SELECT user_id FROM briefings")} == {PRIYA, ZOE, FARID, GRACE}
    assert {s.user_id: s.delivery_hour for s in read_subscriptions(store)}[PRIYA] == 10
    policy = DeliveryPolicy(schedule=ReaderSchedule("UTC"))

    def due(now: dt.datetime) -> set[str]:
        return {d.user_id for d in due_deliveries(store, ["slack"], policy, now)}

    # Wed 4 Nov 03:00 UTC: Sydney 14:00, Kolkata 08:30 (but PRIYA's hour is 10), Berlin 04:00, LA 19:00 (Tue)
    assert due(utc(2026, 11, 4, 3, 0)) == {ZOE}
    assert due(utc(2026, 11, 4, 4, 30)) == {ZOE, PRIYA}  # 10:00 IST
    assert due(utc(2026, 11, 4, 7, 0)) == {ZOE, PRIYA, FARID}
    assert due(utc(2026, 11, 4, 16, 0)) == {ZOE, PRIYA, FARID, GRACE}
    # a reader without a zone in the directory uses the default (here UTC: 08:00 UTC)
    store.execute("UPDATE users SET tz = NULL WHERE user_id = ?", [GRACE])
    assert GRACE in due(utc(2026, 11, 4, 8, 0)) and GRACE not in due(utc(2026, 11, 4, 7, 59))


def test_the_sensor_requests_a_run_for_the_readers_whose_morning_it_is(store, tmp_path, monkeypatch):
    import outropy_pipelines.defs.delivery as delivery_defs

    settings = make_settings(tmp_path)
    with FakeSlackServer(SAMPLE_EXPORT, TOKEN) as slack, DagsterInstance.ephemeral() as instance:
        resources = settings_for(slack)
        sensor = build_definitions(settings, resources=resources).resolve_sensor_def(
            "deliver_briefings_sensor"
        )
        context_resources = {**build_resources(settings), **resources}

        def tick_at(now: dt.datetime):
            monkeypatch.setattr(delivery_defs, "utcnow", lambda: now)
            return sensor.evaluate_tick(build_sensor_context(instance=instance, resources=context_resources))

        # Tue 3 Nov 20:00 UTC: nobody's Wednesday morning yet (Sydney is at 07:00)
        night = tick_at(utc(2026, 11, 3, 20, 0))
        assert not night.run_requests and "nothing due" in night.skip_message
        # 21:00 UTC: 08:00 in Sydney; Berlin, Kolkata and Los Angeles are not due
        [sydney] = tick_at(utc(2026, 11, 3, 21, 0)).run_requests
        assert sydney.tags["outropy/due"] == "1"
        assert [
            d.user_id
            for d in due_deliveries(
                store, ["slack"], resources["delivery_policy"].policy(None), utc(2026, 11, 3, 21, 0)
            )
        ] == [ZOE]
        # 07:00 UTC Wednesday: Berlin too (and Priya at her own 10:00 IST, 04:30 UTC); LA still asleep
        [later] = tick_at(utc(2026, 11, 4, 7, 0)).run_requests
        assert later.tags["outropy/due"] == "3" and later.run_key != sydney.run_key
        assert slack.posted == []  # the sensor only requests; the run sends


def test_a_deliver_run_follows_the_weekend_rule_unless_any_time(store, tmp_path):
    from outropy_pipelines.defs.delivery import DELIVER_JOB, DeliverConfig

    # DAY's briefings moved to Friday 6 Nov (its morning: Saturday); ZOE skips weekend briefings
    store.execute("UPDATE briefings SET day = DATE '2026-11-06'")
    store.execute("UPDATE subscriptions SET weekend = 'skip' WHERE user_id = ?", [ZOE])
    settings = make_settings(tmp_path)
    with FakeSlackServer(SAMPLE_EXPORT, TOKEN) as slack, DagsterInstance.ephemeral() as instance:
        defs = build_definitions(settings, resources=settings_for(slack))

        def run(**config) -> dict:
            result = defs.resolve_job_def(DELIVER_JOB).execute_in_process(
                instance=instance,
                run_config={
                    "ops": {"deliver_due_briefings": {"config": DeliverConfig(**config).model_dump()}}
                },
            )
            return result.output_for_node("deliver_due_briefings")

        assert run()["sent"] == 3  # everyone but ZOE (the real clock is weeks past those mornings)
        assert slack.opened and ZOE not in {u for users in slack.opened.values() for u in users}
        assert run()["sent"] == 0
        assert run(any_time=True)["sent"] == 1  # ZOE's, on request
