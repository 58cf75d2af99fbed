"""The boundary: what a Slack record must look like before any stage may read it.

Slack records (a day file's messages, `users.json`, `channels.json`, or the same objects from the Web
API) are kept verbatim, and every later stage reads them as plain dicts. These tolerant pydantic
models say which fields those stages read and what type each must have; a field they do not name
may be anything, and every named field may be missing. A record that does not fit is quarantined
with the reason (`message_problem`, `user_problem`, `conversation_problem`), never handed on.

Beyond the fields, a whole record must be storable and readable again: every string valid Unicode
(a lone surrogate such as `"\\ud800"` is valid JSON but no UTF-8 text), and no deeper than
`MAX_DEPTH` nested objects and arrays.

Checking a million messages a day with pydantic would cost more than the rest of ingest, so the
export reader first runs `looks_plain`, a structural check that is True only for records that fit
the model's fields, and proves depth and Unicode by serialising the record with orjson (which it
does anyway to keep it, and which refuses both deeper nesting and surrogates). Only records that
fail either go through the model (`message_problem`).
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

#: A Slack ts: Unix seconds (9 to 11 digits) and up to 6 decimals, e.g. "1700000000.000100"
TS_PATTERN = re.compile(r"^\d{9,11}(\.\d{1,6})?$")
_ts_match = TS_PATTERN.match
#: Containers (objects and arrays, the record itself included) one inside the other. orjson, which
#: keeps the records, refuses deeper ones; real Slack records nest about ten deep.
MAX_DEPTH = 254


def _slack_ts(value: Any) -> Any:
    """A ts as a string: strings as they are, numbers (not booleans) as `str()` gives them."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not TS_PATTERN.match(value):
        raise ValueError(f"not a Slack timestamp: {value!r}"[:200])
    return value


def _optional_ts(value: Any) -> Any:
    """An optional ts: missing, null or "" mean none."""
    return None if value is None or value == "" else _slack_ts(value)


SlackTs = Annotated[str, BeforeValidator(_slack_ts)]
OptionalTs = Annotated[str | None, BeforeValidator(_optional_ts)]


class _Tolerant(BaseModel):
    """Named fields typed, strictly (no coercion); any other field allowed and left alone."""

    model_config = ConfigDict(extra="ignore", strict=True)


class Attachment(_Tolerant):
    """`attachments[]`: its strings are read only when they are strings; `fields` is iterated."""

    fields: list[Any] | None = None


class MessageFields(_Tolerant):
    """The fields of a message that ingest and threading read (an edit's new message has them too)."""

    thread_ts: OptionalTs = None
    user: str | None = None
    subtype: str | None = None
    text: str | None = None
    bot_id: str | None = None
    username: str | None = None
    deleted_ts: OptionalTs = None
    attachments: list[Attachment] | None = None
    files: list[dict[str, Any]] | None = None
    blocks: list[dict[str, Any]] | None = None
    #: read only for its string names (see `slack_records.users_from_profiles`)
    user_profile: dict[str, Any] | None = None


class InnerMessage(MessageFields):
    """`message` of a `message_changed` (the new version) or `previous_message` of a deletion."""

    ts: OptionalTs = None


class SlackMessage(MessageFields):
    """One message record of a conversation, as ingest accepts it."""

    type: Literal["message"] = "message"
    ts: SlackTs
    message: InnerMessage | None = None
    previous_message: InnerMessage | None = None


class UserProfile(_Tolerant):
    """`profile` of a user record."""

    name: str | None = None
    display_name: str | None = None
    real_name: str | None = None
    email: str | None = None


class SlackUser(_Tolerant):
    """A `users.json` record or a `users.list` member."""

    id: str
    name: str | None = None
    real_name: str | None = None
    tz: str | None = None
    email: str | None = None
    profile: UserProfile | None = None


class SlackConversation(_Tolerant):
    """A record of `channels.json`, `groups.json`, `dms.json`, `mpims.json` or `conversations.list`."""

    id: str
    name: str | None = None
    user: str | None = None
    members: list[str] | None = None
    previous_names: list[str] | None = None
    topic: dict[str, Any] | str | None = None
    purpose: dict[str, Any] | str | None = None


def structure_problem(value: Any) -> str | None:
    """A string that is not valid Unicode, or nesting deeper than `MAX_DEPTH`, anywhere in `value`
    (keys included), or None. A value orjson serialises has neither (it refuses both); any other is
    walked, iteratively: any depth is measured without recursion."""
    try:
        orjson.dumps(value)
    except orjson.JSONEncodeError:
        pass  # a problem, or something else orjson refuses (e.g. integers beyond 64 bits): walked
    else:
        return None
    # (item, depth, where): `where` is (key, parent's where), built only as deep as it goes
    stack: list[tuple[Any, int, tuple[Any, ...]]] = [(value, 1, ())]
    while stack:
        item, depth, where = stack.pop()
        if isinstance(item, dict | list) and depth > MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels (at {_path(where)})"
        if isinstance(item, dict):
            for key, inner in item.items():
                if isinstance(key, str) and not _encodable(key):
                    return (
                        f"text is not valid Unicode (lone surrogate) in a key at {_path(where)}: {_show(key)}"
                    )
                stack.append((inner, depth + 1, (key, where)))
        elif isinstance(item, list):
            stack.extend((inner, depth + 1, (n, where)) for n, inner in enumerate(item))
        elif isinstance(item, str) and not _encodable(item):
            return f"text is not valid Unicode (lone surrogate) at {_path(where)}: {_show(item)}"
    return None


def _path(where: tuple[Any, ...]) -> str:
    """`where` of `structure_problem` as `attachments.0.fields`, its first 8 steps."""
    keys: list[str] = []
    while where:
        key, where = where
        keys.append(str(key))
    keys.reverse()
    return ".".join(keys[:8]) + (".…" if len(keys) > 8 else "") or "the record"


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _show(text: str) -> str:
    return ascii(text[:80])


def _first_error(exc: ValidationError, what: str) -> str:
    """The first validation error as one line: `field.path: message`."""
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(x) for x in error["loc"]) or what
    msg = str(error["msg"]).removeprefix("Value error, ")
    return f"{what} field {where}: {msg}"[:300]


def _problem(model: type[BaseModel], record: Any, what: str) -> str | None:
    if not isinstance(record, dict):
        return "record is not a JSON object"
    try:
        model.model_validate(record)
    except ValidationError as exc:
        return _first_error(exc, what)
    except RecursionError:  # pragma: no cover - depth is checked below; a guard for odd inputs
        return f"nested deeper than {MAX_DEPTH} levels"
    return structure_problem(record)


def message_problem(record: Any) -> str | None:
    """Why `record` is not a message ingest can take (None when it is)."""
    if isinstance(record, dict):
        # the reasons earlier versions gave, kept for these common cases
        ts = record.get("ts")
        if ts is None:
            return "message without ts"
        if record.get("type", "message") != "message":
            return f"record type {record.get('type')!r} is not a message"[:300]
        if not isinstance(ts, str | int | float) or isinstance(ts, bool) or not TS_PATTERN.match(str(ts)):
            return f"message ts is not a Slack timestamp: {ts!r}"[:300]
    return _problem(SlackMessage, record, "message")


def user_problem(record: Any) -> str | None:
    """Why `record` is not a user record the directory can take (None when it is)."""
    if isinstance(record, dict) and not record.get("id"):
        return "user record without an id"
    return _problem(SlackUser, record, "user")


def conversation_problem(record: Any) -> str | None:
    """Why `record` is not a conversation record the directory can take (None when it is)."""
    if isinstance(record, dict) and not record.get("id"):
        return "conversation record without an id"
    return _problem(SlackConversation, record, "conversation")


def looks_plain(record: dict[str, Any]) -> bool:
    """True only when the message `record` certainly fits `SlackMessage`'s fields (False says
    nothing: ask `message_problem`). Depth and Unicode are not looked at: the caller proves them.

    Cheap (dictionary lookups and type checks, unrolled), so that it can run on every record of a
    big day; `test_slack_message.py` checks it never accepts what the model refuses.
    """
    get = record.get
    ts = get("ts")
    if type(ts) is not str or not _ts_match(ts):
        return False
    if "type" in record and record["type"] != "message":
        return False
    value = get("thread_ts")
    if value is not None and value != ts and (type(value) is not str or not _ts_match(value)):
        return False
    value = get("text")
    if value is not None and type(value) is not str:
        return False
    value = get("user")
    if value is not None and type(value) is not str:
        return False
    value = get("subtype")
    if value is not None and type(value) is not str:
        return False
    value = get("bot_id")
    if value is not None and type(value) is not str:
        return False
    value = get("username")
    if value is not None and type(value) is not str:
        return False
    value = get("user_profile")
    if value is not None and type(value) is not dict:
        return False
    value = get("attachments")
    if value is not None:
        if type(value) is not list:
            return False
        for att in value:
            if type(att) is not dict:
                return False
            fields = att.get("fields")
            if fields is not None and type(fields) is not list:
                return False
    value = get("files")
    if value is not None and (type(value) is not list or any(type(x) is not dict for x in value)):
        return False
    value = get("blocks")
    if value is not None and (type(value) is not list or any(type(x) is not dict for x in value)):
        return False
    # rare, and nested: left to the model
    return "message" not in record and "previous_message" not in record and "deleted_ts" not in record
