"""`outropy feedback`: record a reader's feedback on a line, or serve the email links' endpoint."""

from __future__ import annotations

import argparse

from outropy_pipelines.cli.common import RUN_FAILED, CliError, day, existing_store, load_settings


def cmd_feedback(args: argparse.Namespace) -> int:
    from outropy_pipelines.domain.reader_feedback import NOT_USEFUL, USEFUL
    from outropy_pipelines.stages.feedback import UnknownLine, record_line

    settings = load_settings()
    store = existing_store(settings)
    if args.action == "serve":
        from outropy_pipelines.cli.feedback_server import make_server

        secret = settings.feedback.secret
        if secret is None:
            raise CliError("set OUTROPY_FEEDBACK_SECRET (it signs the email links) to serve feedback")
        server = make_server(store, secret.get_secret_value(), args.host, args.port)
        host, port = server.server_address[:2]
        print(f"feedback endpoint on http://{host}:{port}/feedback (Ctrl-C stops it)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            server.server_close()
        return 0
    missing = [
        o for o, v in (("--user", args.user), ("--date", args.date), ("--line", args.line)) if v is None
    ]
    if missing or args.value is None:
        raise CliError(
            f"feedback needs {', '.join(missing + ([] if args.value else ['--useful or --not-useful']))}"
        )
    if args.line < 1:
        raise CliError(f"--line counts from 1, not {args.line}")
    value = USEFUL if args.value == "useful" else NOT_USEFUL
    try:
        new = record_line(store, args.user, args.date, args.line - 1, value, "cli")
    except UnknownLine as exc:
        raise CliError(str(exc), code=RUN_FAILED) from None
    state = "recorded" if new else "already recorded"
    print(f"{state}: {args.user} {args.date} line {args.line} {value.replace('_', ' ')}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    fb = sub.add_parser(
        "feedback",
        help="mark a line of a reader's briefing useful / not useful, or serve the email links' endpoint",
        description="Record a reader's feedback on one line of their briefing (what a Slack reaction or "
        "an email link records), or, with `serve`, run the endpoint the email links point at.",
    )
    fb.add_argument("action", nargs="?", choices=["serve"], help="serve: run the HTTP endpoint")
    fb.add_argument("--user", help="the reader's user id")
    fb.add_argument("--date", type=day, metavar="D", help="the briefing's day (YYYY-MM-DD, today, yesterday)")
    fb.add_argument("--line", type=int, metavar="N", help="the line's number in the briefing (from 1)")
    value = fb.add_mutually_exclusive_group()
    value.add_argument(
        "--useful", dest="value", action="store_const", const="useful", help="the line was useful"
    )
    value.add_argument(
        "--not-useful", dest="value", action="store_const", const="not_useful", help="the line was not useful"
    )
    fb.add_argument("--host", default="127.0.0.1", help="serve: address to listen on (default 127.0.0.1)")
    fb.add_argument("--port", type=int, default=8080, help="serve: port (default 8080)")
    fb.set_defaults(func=cmd_feedback)
