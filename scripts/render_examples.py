"""Render the README's examples (docs/examples/) from a real run of the pipeline on the sample.

    .venv/bin/python scripts/render_examples.py [--out docs/examples] [--no-screenshot]

Runs the whole pipeline (the Dagster jobs `outropy run` runs, on a temporary DuckDB file and an
ephemeral Dagster instance) on a copy of `data/sample_export` with one real defect, then writes,
for READER on DAY:

- `briefing-slack.json`: the Slack DM as `chat.postMessage` payloads (`text`, `blocks`), built by
  the Slack messenger's own `slack_payloads` from the stored briefing;
- `briefing-email.html` (the HTML part of the email `EmailComposer.compose` builds),
  `briefing-email-headers.txt` (its headers) and `briefing-email.png` (that HTML in headless
  Chromium: Debian's `chromium` package; `--no-screenshot` skips it);
- `briefing.md`: the stored Markdown briefing (what `outropy briefing` prints);
- `briefing.json`: the briefing as the pipeline built it (`stages.briefings.brief_day`), before
  rendering; `outropy_pipelines_tests/test_docs_examples.py` renders it again and compares;
- `mcp-session.json`: `outropy mcp --user READER` driven by the official `mcp` SDK's stdio client;
- `delivery-schedule.txt`: when each of a few readers in different time zones gets their briefing
  (`ReaderSchedule` as `outropy deliver` applies it) and what `outropy deliver --dry-run` prints at
  fixed instants;
- `subscriptions.yaml`: the subscriptions file of the run (the readers and their delivery settings);
- the preferences and feedback examples of `U030DIEGO` (`preferences-briefing.*`, `feedback-*`):
  see `render_examples_readers.py`, which writes them on the same run.

The defect: one message record of `2026-11-05` in #random lost its `ts` (as a damaged export can
have it), so ingest quarantines it and that day's briefings open with a real "Partial:" line. The
rest of the export is the sample, byte for byte.

Everything is deterministic (fixed reader, days, instants; no wall clock), so running it again
writes the same files, except the PNG (font rendering).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import warnings
from email.message import EmailMessage
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SAMPLE_EXPORT = REPO / "data" / "sample_export"
OUT = REPO / "docs" / "examples"

READER = "U001ALICE"
DAY = "2026-11-05"  # a Thursday: Alice has asks waiting on her and asks she waits on
DAYS = ["2026-11-02", "2026-11-03", "2026-11-04", "2026-11-05", "2026-11-06", "2026-11-07"]
WORKSPACE_URL = "https://acme.slack.com"
# the defect that makes DAY partial: this record of this file loses its "ts"
DEFECT_FILE = f"random/{DAY}.json"
DEFECT_RECORD = -1  # the day file's last record

# the email's sender and unsubscribe link (SMTP_FROM, OUTROPY_UNSUBSCRIBE_URL)
EMAIL_FROM = "Outropy briefings <briefings@acme.example>"
UNSUBSCRIBE_URL = "https://intranet.acme.example/briefings/unsubscribe?user={user_id}"

SUBSCRIPTIONS = """\
# The subscriptions file of the examples (docs/examples/, written by scripts/render_examples.py).
# Time zones are the directory's (users.json `tz`); the defaults: OUTROPY_DELIVERY_LOCAL_HOUR (8),
# OUTROPY_WEEKEND_DELIVERY (deliver).
defaults: {delivery: slack, quiet_hours: "21-07"}   # nobody is messaged between 21:00 and 07:00 local
include_everyone: false                             # only the readers below
users:
  U001ALICE: {delivery: both}                       # Europe/Paris: Slack DM and email at 08:00
  U016PRIYA: {delivery_hour: 7, weekend: monday}    # Asia/Kolkata: 07:00, Friday's briefing on Monday
  U026ZOE: {quiet_hours: "off", weekend: skip}      # Australia/Sydney: 08:00, no weekend briefings
  U007GRACE: {delivery: slack}                      # America/Los_Angeles: 08:00
  U030DIEGO:                                        # America/Sao_Paulo: 08:00, Slack DM and email
    delivery: both
    mute_channels: ["#general"]                     # no company news
    watch_people: [Kemi Adeyemi]                    # shown whatever the ranking says
    watch_keywords: [helm]
    max_lines: 8                                    # the rest is counted in the intro
"""
SCHEDULE_READERS = ["U026ZOE", "U016PRIYA", "U001ALICE", "U030DIEGO", "U007GRACE"]
SCHEDULE_DAYS = ["2026-11-05", "2026-11-06", "2026-11-07"]  # Thursday, Friday, Saturday
# instants (UTC) at which `outropy deliver --dry-run --date DAY` is shown
DRY_RUN_AT = ["2026-11-06T03:00", "2026-11-06T07:00", "2026-11-06T11:00", "2026-11-06T16:00"]

# MCP calls (tool, arguments) of the transcript
MCP_CALLS: list[tuple[str, dict[str, Any]]] = [
    ("my_briefing", {"day": DAY}),
    ("open_for_me", {"as_of": DAY}),
    ("channel_decisions", {"channel": "#engineering", "start": "2026-11-02", "end": DAY}),
    ("search_items", {"query": "adyen"}),
    ("my_briefing", {"day": "2026-10-01"}),
]

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
# settings and locations of the caller's environment that must not leak into the examples
_ENV_PREFIXES = ("OUTROPY_", "SLACK_", "SMTP_", "OPENAI_", "DAGSTER_HOME")


class ExamplesError(Exception):
    """A reason the examples cannot be rendered (one line for the user)."""


# -- rendering (also used by the test of the committed examples) ---------------------------------


def slack_json(outgoing) -> str:
    """The Slack DM of `outgoing` as the messenger posts it: its chat.postMessage payloads."""
    from outropy_pipelines.adapters.slack_messenger import slack_payloads

    return json.dumps(slack_payloads(outgoing), indent=2, ensure_ascii=False) + "\n"


def email_message(outgoing) -> EmailMessage:
    """The email of `outgoing` exactly as the mailer composes it (without the Date it adds when sending)."""
    from outropy_pipelines.adapters.email_mailer import EmailComposer

    return EmailComposer(EMAIL_FROM, UNSUBSCRIBE_URL).compose(outgoing)


def email_html(msg: EmailMessage) -> str:
    return msg.get_body(("html",)).get_content()


def email_headers(msg: EmailMessage) -> str:
    return "".join(f"{k}: {v}\n" for k, v in msg.items() if k.lower() not in ("content-type", "mime-version"))


def outgoing_of(briefing, channel: str, email_address: str | None = None, plain_text: str = ""):
    """An `Outgoing` of a rendered `Briefing` (what the ledger reads from the `briefings` row)."""
    from outropy_pipelines.domain.delivery_plan import Outgoing
    from outropy_pipelines.store.briefings import content_hash

    return Outgoing(
        day=briefing.day,
        user_id=briefing.user_id,
        user_name=briefing.user_name,
        channel=channel,
        content_hash=content_hash(briefing),
        markdown=briefing.markdown,
        plain_text=plain_text,
        html=briefing.html,
        blocks_json=briefing.blocks_json,
        email_address=email_address,
    )


# -- the run ----------------------------------------------------------------------------------


def find_chromium() -> str:
    for name in CHROMIUM_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    raise ExamplesError(
        "no Chromium found for the screenshot of the email (looked for "
        + ", ".join(CHROMIUM_CANDIDATES)
        + "): install Debian's package as root, `apt-get install -y chromium`, or pass --no-screenshot"
    )


def clean_environment(tmp: Path) -> None:
    """Our settings from nowhere but this script: the caller's OUTROPY_*/SLACK_*/SMTP_* ... are
    dropped (a real token or LLM provider must not change, or reach, the examples)."""
    for key in list(os.environ):
        if key.startswith(_ENV_PREFIXES):
            del os.environ[key]
    os.environ["DAGSTER_HOME"] = str(tmp / "dagster_home")
    (tmp / "dagster_home").mkdir()


def damaged_export(tmp: Path) -> tuple[Path, dict[str, Any]]:
    """A copy of the sample export whose DEFECT_FILE's DEFECT_RECORD has no `ts`; that record."""
    export = tmp / "export"
    shutil.copytree(SAMPLE_EXPORT, export)
    path = export / DEFECT_FILE
    records = json.loads(path.read_text(encoding="utf-8"))
    damaged = records[DEFECT_RECORD]
    del damaged["ts"]
    path.write_text(json.dumps(records, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return export, damaged


def run_pipeline(tmp: Path, export: Path):
    from dagster import DagsterInstance

    from outropy_pipelines.pipeline_runner import PipelineRunner
    from outropy_pipelines.settings import Settings

    subscriptions = tmp / "subscriptions.yaml"
    subscriptions.write_text(SUBSCRIPTIONS, encoding="utf-8")
    settings = Settings(
        duckdb_path=tmp / "outropy.duckdb",
        slack_export=export,
        briefings_dir=tmp / "briefings",
        slack_workspace_url=WORKSPACE_URL,
        subscriptions_file=subscriptions,
    )
    runner = PipelineRunner(settings, instance=DagsterInstance.ephemeral(), progress=print)
    summary = runner.run(DAYS)
    if not summary.ok:
        raise ExamplesError("the pipeline run failed (see the output above)")
    return settings, runner.store


def the_briefing(store):
    """READER's briefing of DAY, rebuilt by the stage that built it (it must equal the stored one),
    and the stored row."""
    from outropy_pipelines.stages.briefings import brief_day
    from outropy_pipelines.store.directory import read_directory

    rows = store.query(
        "SELECT markdown, plain_text, html, blocks_json FROM briefings WHERE day = ? AND user_id = ?",
        [DAY, READER],
    )
    if not rows:
        raise ExamplesError(f"no briefing of {READER} on {DAY}")
    stored = rows[0]
    report = brief_day(store, read_directory(store), DAY, [READER], WORKSPACE_URL)
    (briefing,) = report.briefings
    for field in ("markdown", "html", "blocks_json"):
        if getattr(briefing, field) != stored[field]:
            raise ExamplesError(
                f"{READER}'s briefing of {DAY} built again differs from the stored one ({field})"
            )
    for needed in ("_Partial:", "## Waiting on you", "## You're waiting on"):
        if needed not in briefing.markdown:
            raise ExamplesError(
                f"{READER}'s briefing of {DAY} has no {needed!r}: choose another READER/DAY in {__file__}"
            )
    return briefing, stored


def mcp_session(settings) -> dict[str, Any]:
    """`outropy mcp --user READER` through the official SDK's stdio client: the tools it lists, then
    each call of MCP_CALLS with its answer, as JSON-RPC methods, params and results."""
    from mcp import Client, StdioServerParameters

    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "outropy_pipelines.cli", "mcp", "--user", READER],
        env={
            "OUTROPY_DUCKDB_PATH": str(settings.duckdb_path),
            "OUTROPY_SLACK_WORKSPACE_URL": WORKSPACE_URL,
            "OUTROPY_TIMEZONE": "UTC",
        },
        cwd=str(REPO),
    )

    def dump(model) -> Any:
        return model.model_dump(mode="json", by_alias=True, exclude_none=True)

    async def run() -> dict[str, Any]:
        exchanges: list[dict[str, Any]] = []
        async with Client(params, read_timeout_seconds=120) as client:
            tools = await client.list_tools()
            exchanges.append({"request": {"method": "tools/list", "params": {}}, "result": dump(tools)})
            for name, arguments in MCP_CALLS:
                result = await client.call_tool(name, arguments)
                exchanges.append(
                    {
                        "request": {"method": "tools/call", "params": {"name": name, "arguments": arguments}},
                        "result": dump(result),
                    }
                )
        return {
            "server": {
                "command": ["outropy", "mcp", "--user", READER],
                "env": {
                    "OUTROPY_DUCKDB_PATH": "<a run of the sample>",
                    "OUTROPY_SLACK_WORKSPACE_URL": WORKSPACE_URL,
                },
            },
            "exchanges": exchanges,
        }

    return asyncio.run(run())


def _local(at: dt.datetime, tz: str) -> str:
    from zoneinfo import ZoneInfo

    return at.replace(tzinfo=dt.UTC).astimezone(ZoneInfo(tz)).strftime("%a %d %H:%M")


def schedule_text(settings, store) -> str:
    """Each schedule reader's delivery window and the instant each of SCHEDULE_DAYS is due, from the
    code `outropy deliver` and the sensor use; then `outropy deliver --dry-run --date DAY` at
    each instant of DRY_RUN_AT."""
    from outropy_pipelines.cli.deliver import dry_run_lines
    from outropy_pipelines.defs.definitions import build_resources
    from outropy_pipelines.domain.delivery_plan import CHANNELS
    from outropy_pipelines.stages import delivery as dl

    resources = build_resources(settings)
    policy = resources["delivery_policy"].policy(None, scheduled=True)
    problems = {
        "slack": resources["slack_delivery"].problem(),
        "email": resources["email_delivery"].problem(),
    }
    schedules = dl.reader_schedules(store, SCHEDULE_READERS, policy)
    weekday = {d: dt.date.fromisoformat(d).strftime("%a") for d in SCHEDULE_DAYS}
    out = [
        "# Each reader's own morning: when the briefing of a day is due (docs/examples/subscriptions.yaml).",
        "# Times: the reader's local time, then UTC. Written by scripts/render_examples.py.",
        "",
    ]
    rows = [
        ["reader", "time zone", "hour", "quiet", "weekend", *(f"{weekday[d]} {d}" for d in SCHEDULE_DAYS)]
    ]
    for uid in SCHEDULE_READERS:
        s = schedules[uid]
        quiet = f"{s.quiet[0]:02d}-{s.quiet[1]:02d}" if s.quiet else "off"
        cells = [uid, s.tz, str(s.hour), quiet, s.weekend]
        for d in SCHEDULE_DAYS:
            at = s.due_at(d)
            cells.append("skipped" if at is None else f"{_local(at, s.tz)} = {at:%a %d %H:%M} UTC")
        rows.append(cells)
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out.append("# the briefing of each day (columns on the right) is due from:")
    out += ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    for instant in DRY_RUN_AT:
        now = dt.datetime.fromisoformat(instant)
        clocks = ", ".join(f"{uid} {_local(now, schedules[uid].tz)}" for uid in SCHEDULE_READERS)
        out += [
            "",
            f"$ outropy deliver --dry-run --date {DAY}     # at {now:%a %Y-%m-%d %H:%M} UTC",
            f"# local clocks: {clocks}",
        ]
        out += dry_run_lines(store, list(CHANNELS), policy, problems, days=[DAY], now=now)
    return "\n".join(out) + "\n"


def screenshot(chromium: str, html: Path, png: Path, width: int = 900, height: int | None = None) -> None:
    """`html` as headless Chromium draws it, the whole page (its height measured in a first pass),
    or its top `height` pixels."""

    def run(extra: list[str], target: str, height: int) -> str:
        with tempfile.TemporaryDirectory() as profile:
            cmd = [
                chromium,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                f"--user-data-dir={profile}",
                f"--window-size={width},{height}",
                *extra,
                target,
            ]
            done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
            if done.returncode != 0:
                raise ExamplesError(f"chromium failed ({done.returncode}): {done.stderr.strip()[-500:]}")
            return done.stdout

    if height is not None:
        png.unlink(missing_ok=True)
        run([f"--screenshot={png}"], html.as_uri(), height)
        if not png.exists() or png.stat().st_size < 1000:
            raise ExamplesError(f"chromium wrote no screenshot at {png}")
        return
    with tempfile.TemporaryDirectory() as tmp:
        probe = Path(tmp) / "probe.html"
        probe.write_text(
            html.read_text(encoding="utf-8").replace(
                "</body>",
                "<script>document.body.setAttribute('data-height', "
                "document.documentElement.scrollHeight)</script></body>",
            ),
            encoding="utf-8",
        )
        dom = run(["--dump-dom"], probe.as_uri(), 1400)
    marker = 'data-height="'
    if marker not in dom:
        raise ExamplesError("chromium did not report the page's height (--dump-dom)")
    height = int(dom.split(marker, 1)[1].split('"', 1)[0])
    png.unlink(missing_ok=True)
    run([f"--screenshot={png}"], html.as_uri(), max(height, 200))
    if not png.exists() or png.stat().st_size < 1000:
        raise ExamplesError(f"chromium wrote no screenshot at {png}")


def write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    print(f"  wrote {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=OUT, help="folder to write (default: docs/examples)")
    parser.add_argument("--no-screenshot", action="store_true", help="skip the PNG (no Chromium needed)")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message=".*is currently in beta")  # Dagster's, at import
    chromium = None if args.no_screenshot else find_chromium()  # fail before the run, not after
    out: Path = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="outropy-examples-") as name:
        tmp = Path(name)
        clean_environment(tmp)
        export, damaged = damaged_export(tmp)
        print(f"export: the sample, except that this record of {DEFECT_FILE} has lost its ts: {damaged}")
        settings, store = run_pipeline(tmp, export)
        briefing, stored = the_briefing(store)
        from outropy_pipelines.store import deliveries as ledger

        sent = ledger.outgoing(store, [(DAY, READER, "slack"), (DAY, READER, "email")])
        write(out / "subscriptions.yaml", SUBSCRIPTIONS)
        write(out / "briefing.md", stored["markdown"])
        model = briefing.model_dump(mode="json", exclude={"markdown", "html", "blocks_json"})
        write(out / "briefing.json", json.dumps(model, indent=2, ensure_ascii=False) + "\n")
        write(out / "briefing-slack.json", slack_json(sent[(DAY, READER, "slack")]))
        msg = email_message(sent[(DAY, READER, "email")])
        write(out / "briefing-email-headers.txt", email_headers(msg))
        write(out / "briefing-email.html", email_html(msg))
        write(
            out / "mcp-session.json", json.dumps(mcp_session(settings), indent=2, ensure_ascii=False) + "\n"
        )
        write(out / "delivery-schedule.txt", schedule_text(settings, store))
        # last: it delivers Diego's briefing and records his feedback in the run's store
        from render_examples_readers import write_reader_examples

        pages = write_reader_examples(
            out, store, settings, DAY, WORKSPACE_URL, email_message, email_html, write
        )
        drawn: list[tuple[Path, str, int, int | None]] = [
            (out / "briefing-email.html", "briefing-email.png", 900, None),
            (out / "feedback-email.html", "feedback-email.png", 900, None),
        ]
        for png, page in pages.items():  # the endpoint's pages: their top, as a phone shows them
            (tmp / png).with_suffix(".html").write_text(page, encoding="utf-8")
            drawn.append(((tmp / png).with_suffix(".html"), png, 600, 240))
        for html, png, width, height in drawn if chromium is not None else []:
            screenshot(chromium, html, out / png, width, height)
            print(f"  wrote {out / png}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    try:
        sys.exit(main())
    except (ExamplesError, RuntimeError) as exc:
        print(f"render_examples: {exc}", file=sys.stderr)
        sys.exit(2)
