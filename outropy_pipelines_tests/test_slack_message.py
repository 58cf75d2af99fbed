"""The ingest boundary (`domain/slack_message.py`): which records fit, the reasons of those that do
not, the cheap check never accepting what the model refuses, and the text of blocks-only messages."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from outropy_pipelines.adapters.slack_records import accept_message, quarantine_raw, users_from_profiles
from outropy_pipelines.domain.slack_message import (
    MAX_DEPTH,
    conversation_problem,
    looks_plain,
    message_problem,
    structure_problem,
    user_problem,
)
from outropy_pipelines.domain.slack_text import SlackTextCleaner, blocks_markup, message_text

TS = "1793793600.000100"


def _msg(**fields) -> dict:
    return {"type": "message", "user": "U01", "text": "hi", "ts": TS, **fields}


def _nest(levels: int) -> object:
    """`levels` arrays one inside the other."""
    value: object = "leaf"
    for _ in range(levels):
        value = [value]
    return value


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (_msg(text="bad \ud800 text"), "not valid Unicode"),
        (_msg(attachments=[{"fields": _nest(600)}]), f"nested deeper than {MAX_DEPTH} levels"),
        (_msg(thread_ts="not-a-ts"), "message field thread_ts: not a Slack timestamp"),
        (_msg(attachments=7), "message field attachments"),
        (_msg(files=3), "message field files"),
        (_msg(subtype="message_deleted", previous_message="gone"), "message field previous_message"),
        (_msg(subtype="message_changed", message={"ts": "yesterday"}), "message field message.ts"),
        (_msg(text=["a list"]), "message field text"),
        (_msg(user={"id": "U01"}), "message field user"),
        (_msg(deleted_ts=5), "message field deleted_ts"),
        (_msg(blocks="rich"), "message field blocks"),
        (_msg(attachments=[{"fields": "x"}]), "message field attachments.0.fields"),
        ({"type": "message", "text": "no ts"}, "message without ts"),
        (_msg(ts="1793793600.1234567"), "message ts is not a Slack timestamp"),
        (_msg(ts=True), "message ts is not a Slack timestamp"),
        (_msg(type="file"), "record type 'file' is not a message"),
        ("just a string", "record is not a JSON object"),
    ],
)
def test_records_that_do_not_fit_are_refused_with_the_reason(record, reason):
    problem = message_problem(record)
    assert problem is not None and reason in problem
    raw, why = accept_message(record)
    assert raw is None and why == problem
    # whatever it holds, the quarantine can store it (valid UTF-8 text)
    quarantine_raw(record).encode("utf-8")


@pytest.mark.parametrize(
    "record",
    [
        _msg(),
        _msg(thread_ts="", text=None, user=None),  # empty and null mean missing
        _msg(ts=1793793600),  # a number ts, as some tools write it
        _msg(attachments=[{"title": 5, "fields": [1, "x"]}], files=[{}], blocks=[{"type": "x"}]),
        _msg(subtype="message_changed", message={"text": "new", "ts": TS}),
        _msg(subtype="message_deleted", previous_message={"ts": TS}, deleted_ts=TS),
        _msg(user_profile={"real_name": 5}, reactions="anything", extra={"deep": [1, [2]]}),
        _msg(n=2**70),  # beyond 64 bits: orjson cannot write it, the standard library can
        _msg(attachments=[{"x": _nest(MAX_DEPTH - 3)}]),  # MAX_DEPTH containers in all
    ],
)
def test_records_that_fit_are_accepted_as_json(record):
    assert message_problem(record) is None
    raw, problem = accept_message(record)
    assert problem is None and raw is not None and orjson.loads(raw) == record


def test_the_depth_limit_is_where_orjson_stops():
    """The cheap path proves depth with orjson: one level more than MAX_DEPTH, it refuses."""
    fits, too_deep = _msg(a=_nest(MAX_DEPTH - 1)), _msg(a=_nest(MAX_DEPTH))
    assert structure_problem(fits) is None and orjson.dumps(fits)
    assert (structure_problem(too_deep) or "").startswith(f"nested deeper than {MAX_DEPTH} levels (at a.0.0")
    with pytest.raises(orjson.JSONEncodeError):
        orjson.dumps(too_deep)
    # measured without recursion, however deep
    assert "nested deeper" in (structure_problem(_nest(100_000)) or "")


def test_directory_records():
    assert user_problem({"id": "U01", "name": "ana", "profile": {"email": "a@b.c"}}) is None
    assert user_problem({"name": "ana"}) == "user record without an id"
    assert "profile.email" in (user_problem({"id": "U01", "profile": {"email": 5}}) or "")
    assert "Unicode (lone surrogate) at real_name" in (
        user_problem({"id": "U01", "real_name": "\udc00"}) or ""
    )
    assert conversation_problem({"id": "C01", "members": ["U01"], "previous_names": ["old"]}) is None
    assert "members" in (conversation_problem({"id": "C01", "name": "general", "members": 5}) or "")
    assert conversation_problem({"name": "general"}) == "conversation record without an id"


def test_people_are_known_from_the_profiles_of_their_messages():
    users = users_from_profiles(
        [
            _msg(user="U01", user_profile={"name": "ana.a", "real_name": "Ana A", "display_name": "ana"}),
            _msg(user="U01", user_profile={"name": "other"}),  # the first profile counts
            _msg(user="U02", user_profile={"display_name": "bo", "real_name": 7}),
            _msg(user="U03"),  # no profile: not known
        ]
    )
    assert {u: (x.name, x.real_name) for u, x in users.items()} == {
        "U01": ("ana.a", "Ana A"),
        "U02": ("bo", "bo"),
    }


RICH = [
    {
        "type": "rich_text",
        "elements": [
            {
                "type": "rich_text_section",
                "elements": [
                    {"type": "text", "text": "Deploy of "},
                    {"type": "link", "url": "https://ci/42", "text": "build 42"},
                    {"type": "text", "text": " failed, "},
                    {"type": "user", "user_id": "U01"},
                    {"type": "text", "text": " please look "},
                    {"type": "emoji", "name": "fire"},
                ],
            },
            {
                "type": "rich_text_list",
                "elements": [
                    {"type": "rich_text_section", "elements": [{"type": "text", "text": "step one"}]},
                    {"type": "rich_text_section", "elements": [{"type": "channel", "channel_id": "C01"}]},
                ],
            },
        ],
    },
    {"type": "section", "text": {"type": "mrkdwn", "text": "*Status*: red"}, "fields": [{"text": "p1"}]},
    {"type": "divider"},
    {"type": "context", "elements": [{"type": "mrkdwn", "text": "from CI"}, {"type": "image"}]},
    "not a block",
]


def test_blocks_only_messages_have_the_text_of_their_blocks():
    markup = blocks_markup(RICH)
    assert markup.splitlines() == [
        "Deploy of <https://ci/42|build 42> failed, <@U01> please look :fire:",
        "step one",
        "<#C01>",
        "*Status*: red",
        "p1",
        "from CI",
    ]
    cleaned = SlackTextCleaner({"U01": "Ana"}, {"C01": "general"}).clean(
        message_text({"text": "", "blocks": RICH})
    )
    assert cleaned.startswith("Deploy of build 42 (https://ci/42) failed, @Ana please look 🔥")
    # a message with text keeps its text: the blocks repeat it
    assert message_text({"text": "hello", "blocks": RICH}) == "hello"


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)
_field_values = st.one_of(
    _json,
    st.sampled_from([TS, "1793793600", "x", "", "not-a-ts"]),
    st.lists(st.dictionaries(st.sampled_from(["fields", "text", "title"]), _json, max_size=2), max_size=2),
)
_records = st.dictionaries(
    st.sampled_from(
        [
            "ts",
            "type",
            "thread_ts",
            "text",
            "user",
            "subtype",
            "bot_id",
            "username",
            "attachments",
            "files",
            "blocks",
            "user_profile",
            "message",
            "previous_message",
            "deleted_ts",
            "other",
        ]
    ),
    _field_values,
    max_size=8,
).map(lambda rec: {"ts": TS, **rec} if "ts" not in rec else rec)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_records)
def test_the_cheap_check_never_accepts_what_the_model_refuses(record):
    if looks_plain(record) and structure_problem(record) is None:
        assert message_problem(record) is None
    raw, problem = accept_message(record)
    assert (raw is None) == (problem is not None) == (message_problem(record) is not None)
