"""Classification: threads -> typed items, through one structured LLM call per thread.

Pure Python (no Dagster, no DuckDB). The LLM only ever sees `ClassifyThreadInput` (short message
ids m1, m2, ... instead of Slack timestamps) and its answer is checked here before it becomes an
`Item`: an item citing a message id that was not in the input is rejected (a model that follows
instructions hidden in a message cannot invent sources), and owners or mentions that are not people
of the thread are dropped.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import overload

from outropy_pipelines.domain.answer_checks import KnownEntities, addressed_people, thread_text
from outropy_pipelines.domain.contracts import (
    ClassifyThreadInput,
    ClassifyThreadOutput,
    ThreadClassifier,
    ThreadMessageInput,
)
from outropy_pipelines.domain.item_repeats import group_repeats
from outropy_pipelines.domain.models import OPEN_ENDED_KINDS, Item, SourceRef, Thread, ThreadMessage
from outropy_pipelines.domain.noise import ALERT_RE, is_contentless
from outropy_pipelines.domain.redaction import redact
from outropy_pipelines.domain.trusted import trusted
from outropy_pipelines.gc_pause import paused_gc

#: a message's text is cut to this many characters before it is sent (log dumps, pasted files)
MAX_MESSAGE_CHARS = 3000
MAX_TITLE_CHARS = 300

# ---------------------------------------------------------------------------------------------
# Input building and output validation
# ---------------------------------------------------------------------------------------------


def _ts_key(ts: str) -> tuple[int, int]:
    whole, _, frac = ts.partition(".")
    try:
        return int(whole), int((frac + "000000")[:6])
    except ValueError:
        return (0, 0)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _message_ts_key(m: ThreadMessage) -> tuple[int, int]:
    whole, _, frac = m.ts.partition(".")  # _ts_key, inlined: it sorts every thread
    try:
        return int(whole), int((frac + "000000")[:6])
    except ValueError:
        return (0, 0)


def _source_key(s: SourceRef) -> tuple[str, tuple[int, int]]:
    return (s.channel_id, _ts_key(s.ts))


#: short message ids m1, m2, ... (built once; longer threads make the rest on the fly)
_SHORT_IDS = tuple(f"m{i}" for i in range(1, 257))
_N_SHORT_IDS = len(_SHORT_IDS)


def build_classify_input(
    thread: Thread, channel_name: str, channel_kind: str, user_names: Mapping[str, str]
) -> tuple[ClassifyThreadInput, dict[str, SourceRef]]:
    """The LLM input for one thread: messages in ts order with short ids m1, m2, ...; returns the
    id -> SourceRef map used to check the answer.

    Bot messages that are not alerts (deploy notices, commit feeds) are left out: they are not work
    items and only cost tokens. Alerts ("[FIRING] ...") stay."""
    ordered = _input_messages(thread)
    return _input(thread, ordered, channel_name, channel_kind, user_names, thread.day), _id_map(ordered)


def _input_messages(thread: Thread) -> list[ThreadMessage]:
    """The messages an input holds, in ts order: all but the bot messages that are not alerts."""
    messages = thread.messages
    if len(messages) == 1:
        m = messages[0]
        return [m] if not m.is_bot or ALERT_RE.search(m.clean_text or "") else []
    ordered = [m for m in messages if not m.is_bot or ALERT_RE.search(m.clean_text or "")]
    if len(ordered) > 1:
        ordered.sort(key=_message_ts_key)
    return ordered


def _short_id(i: int) -> str:
    return _SHORT_IDS[i] if i < _N_SHORT_IDS else f"m{i + 1}"


def _id_map(ordered: list[ThreadMessage]) -> dict[str, SourceRef]:
    return {
        _short_id(i): trusted(SourceRef, {"channel_id": m.channel_id, "ts": m.ts})
        for i, m in enumerate(ordered)
    }


def _input(
    thread: Thread,
    ordered: list[ThreadMessage],
    channel_name: str,
    channel_kind: str,
    user_names: Mapping[str, str],
    day: str,
) -> ClassifyThreadInput:
    """The input of `build_classify_input`, for `day`. The models are built from the thread's
    (validated) values without validating them again (`trusted`)."""
    name_of = user_names.get
    people: dict[str, str] = {}
    for uid in thread.participants:
        if uid and uid not in people:
            people[uid] = name_of(uid) or uid
    messages: list[ThreadMessageInput] = []
    short_ids = _SHORT_IDS
    for i, m in enumerate(ordered):
        uid = m.user_id
        if uid and (uid not in people or people[uid] == uid):  # a bot: its profile name, not its id
            people[uid] = name_of(uid) or m.user_name or uid
        if m.mentions:
            mentions = [u for u in dict.fromkeys(m.mentions) if u]
            for u in mentions:
                if u not in people:
                    people[u] = name_of(u) or u
        else:
            mentions = []
        text = m.clean_text or ""
        messages.append(
            trusted(
                ThreadMessageInput,
                {
                    "id": short_ids[i] if i < _N_SHORT_IDS else _short_id(i),
                    "author_id": uid or "",
                    "author_name": name_of(uid or "") or m.user_name or uid or "unknown",
                    "text": text if len(text) <= MAX_MESSAGE_CHARS else _clip(text, MAX_MESSAGE_CHARS),
                    "is_new": m.is_new,
                    "mentions": mentions,
                },
            )
        )
    return trusted(
        ClassifyThreadInput,
        {
            "thread_id": thread.thread_id,
            "channel_id": thread.channel_id,
            "channel_name": channel_name,
            "channel_kind": channel_kind,
            "day": day,
            "people": people,
            "messages": messages,
        },
    )


_NORMALISE_PUNCT_RE = re.compile(r"[^\w\s]+")
_WS_RE = re.compile(r"\s+")


#: ASCII punctuation (not \w, not \s) -> space: the regexes' result for ASCII titles, without them
_ASCII_PUNCT_TO_SPACE = {
    c: " " for c in range(128) if not (chr(c).isalnum() or chr(c) == "_" or chr(c).isspace())
}


def _normalise_title(title: str) -> str:
    low = title.lower()
    if low.isascii():  # the common case: same result as the regexes below (see the tests)
        return " ".join(low.translate(_ASCII_PUNCT_TO_SPACE).split())
    return _WS_RE.sub(" ", _NORMALISE_PUNCT_RE.sub(" ", low)).strip()


def make_item_id(thread_id: str, kind: str, title: str) -> str:
    """Stable id: sha256 of thread_id|kind|normalised title (lowercase, no punctuation, single
    spaces), first 16 hex chars."""
    key = f"{thread_id}|{kind}|{_normalise_title(title)}"
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


def _known_people(thread: Thread) -> set[str]:
    known = {u for u in thread.participants if u}
    for m in thread.messages:
        if m.user_id:
            known.add(m.user_id)
        if m.mentions:
            known.update(u for u in m.mentions if u)
    return known


def _valid_iso_date(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return _dt.date.fromisoformat(value.strip()[:10]).isoformat()
    except ValueError:
        return None


def items_from_output(
    thread: Thread,
    output: ClassifyThreadOutput,
    id_map: dict[str, SourceRef],
    *,
    day: str,
    provider: str,
    prompt_version: str,
    new_ts: set[str],
    user_names: Mapping[str, str] | None = None,
    entities: KnownEntities | None = None,
) -> tuple[list[Item], list[str]]:
    """Turn a validated LLM answer into Items; returns (items, rejection reasons).

    An item citing a message id that is not in `id_map` is rejected whole. The answer is trusted
    only within its input (`answer_checks`): owners are kept only when the cited messages address
    them, mentions only when they are people of the thread, entities only when they are known ones
    (`entities`) or words of the thread. Status is made consistent with the kind (open-ended kinds
    are open or resolved, the others info). Items with the same id are merged.
    """
    known: set[str] | None = None
    by_ts: dict[str, ThreadMessage] | None = None
    text: str | None = None
    entities = entities or KnownEntities()
    rejections: list[str] = []
    by_id: dict[str, Item] = {}
    for n, extracted in enumerate(output.items):
        source_ids = extracted.source_ids
        unknown = [sid for sid in source_ids if sid not in id_map]
        if unknown:
            rejections.append(
                f"{thread.thread_id} item {n} ({extracted.kind}): cites unknown message id(s) "
                f"{', '.join(repr(s[:20]) for s in unknown[:5])}"
            )
            continue
        title = _WS_RE.sub(" ", redact(extracted.title)).strip()
        if not title:
            rejections.append(f"{thread.thread_id} item {n} ({extracted.kind}): empty title")
            continue
        title = _clip(title, MAX_TITLE_CHARS)
        if known is None:
            known = _known_people(thread)
        owners = [u for u in dict.fromkeys(extracted.owners) if u in known]
        if owners:
            if by_ts is None:
                by_ts = {m.ts: m for m in thread.messages}
            cited = [by_ts[id_map[sid].ts] for sid in source_ids if id_map[sid].ts in by_ts]
            addressed = addressed_people(thread, cited, user_names or {})
            owners = [u for u in owners if u in addressed]
        mentions = [u for u in dict.fromkeys(extracted.mentions) if u in known]
        if extracted.kind in OPEN_ENDED_KINDS:
            status = "resolved" if extracted.status == "resolved" else "open"
        else:
            status = "info"
        if len(source_ids) == 1:
            sources = [id_map[source_ids[0]]]
        else:
            sources = sorted({id_map[sid] for sid in source_ids}, key=_source_key)
        if extracted.entities:
            if text is None:
                text = thread_text(thread)
            kept = dict.fromkeys(" ".join(x.split()) for x in extracted.entities)
            entity_names = [e for e in kept if e and entities.allows(e, text)]
        else:
            entity_names = []
        item_id = make_item_id(thread.thread_id, extracted.kind, title)
        item = trusted(
            Item,
            {
                "day": day,
                "item_id": item_id,
                "thread_id": thread.thread_id,
                "channel_id": thread.channel_id,
                "kind": extracted.kind,
                "title": title,
                "detail": _clip(redact(extracted.detail).strip(), 2000),
                "owners": owners,
                "mentions": mentions,
                "due": _valid_iso_date(extracted.due),
                "entities": entity_names,
                "confidence": float(extracted.confidence),
                "status": status,
                "is_new": any(s.ts in new_ts for s in sources),
                "provider": provider,
                "prompt_version": prompt_version,
                "sources": sources,
            },
        )
        previous = by_id.get(item_id)
        if previous is None:
            by_id[item_id] = item
        else:
            by_id[item_id] = _merge_items(previous, item, new_ts)
    return list(by_id.values()), rejections


def _merge_items(a: Item, b: Item, new_ts: set[str]) -> Item:
    sources = sorted(set(a.sources) | set(b.sources), key=lambda s: (s.channel_id, _ts_key(s.ts)))
    status = a.status
    if "resolved" in (a.status, b.status):
        status = "resolved"
    return a.model_copy(
        update={
            "owners": list(dict.fromkeys([*a.owners, *b.owners])),
            "mentions": list(dict.fromkeys([*a.mentions, *b.mentions])),
            "entities": list(dict.fromkeys([*a.entities, *b.entities])),
            "due": a.due or b.due,
            "detail": a.detail or b.detail,
            "confidence": max(a.confidence, b.confidence),
            "status": status,
            "sources": sources,
            "is_new": any(s.ts in new_ts for s in sources),
        }
    )


# ---------------------------------------------------------------------------------------------
# The stage
# ---------------------------------------------------------------------------------------------


@dataclass
class ClassificationResult:
    items: list[Item]
    failures: list[tuple[str, str]]  # (thread_id, error)
    skipped: int
    stats: dict[str, int] = field(default_factory=dict)
    rejections: list[tuple[str, str]] = field(default_factory=list)  # (thread_id, reason)


class _LazyInputs(Sequence[ClassifyThreadInput]):
    """The classification inputs of `threads`, each built when the classifier asks for it.

    A classifier that answers one input at a time (the local provider) then never holds a whole day of
    inputs: each is garbage right after its call, instead of hundreds of thousands of objects
    surviving to the end of the stage (and every garbage collection of the run walking them). A
    classifier that needs them all at once (cache keys, redaction) still gets each one, equal each time
    it asks."""

    __slots__ = ("channels", "day", "threads", "user_names")

    def __init__(
        self,
        threads: list[Thread],
        channels: Mapping[str, tuple[str, str]],
        user_names: Mapping[str, str],
        day: str,
    ) -> None:
        self.threads = threads
        self.channels = channels
        self.user_names = user_names
        self.day = day

    def __len__(self) -> int:
        return len(self.threads)

    @overload
    def __getitem__(self, index: int) -> ClassifyThreadInput: ...

    @overload
    def __getitem__(self, index: slice) -> list[ClassifyThreadInput]: ...

    def __getitem__(self, index: int | slice) -> ClassifyThreadInput | list[ClassifyThreadInput]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self.threads)))]
        thread = self.threads[index]
        name, kind = self.channels.get(thread.channel_id, (thread.channel_id, "public"))
        return _input(thread, _input_messages(thread), name, kind, self.user_names, self.day)


def classify_threads(
    threads: Sequence[Thread],
    classifier: ThreadClassifier,
    channels: Mapping[str, tuple[str, str]],
    user_names: Mapping[str, str],
    day: str,
    followed_projects: Iterable[str] = (),
) -> ClassificationResult:
    """Classify a day's threads: prefilter, one call per thread (cached by the classifier), validate.

    Entities an answer may name are the conversations' names, the people of `user_names`,
    `followed_projects` (what readers subscribe to) and words of the thread itself.

    `channels` maps channel_id -> (name, kind). LLM failures are returned, never raised (an
    exhausted token budget still raises, from the classifier).

    The cyclic garbage collector is paused meanwhile: the rules and the answers make no reference
    cycles, and each full collection walks every object of the day (a fifth of the local
    classifier's time on a dense day); reference counting frees everything as before."""
    return classify_thread_parts([threads], classifier, channels, user_names, day, followed_projects)


def classify_thread_parts(
    parts: Iterable[Sequence[Thread]],
    classifier: ThreadClassifier,
    channels: Mapping[str, tuple[str, str]],
    user_names: Mapping[str, str],
    day: str,
    followed_projects: Iterable[str] = (),
) -> ClassificationResult:
    """`classify_threads` of the threads of all `parts` (in order), taking one part at a time: a
    part is let go before the next is asked for, so a big channel read a range of threads at a
    time never sits in memory whole. The result is that of `classify_threads` on all the threads."""
    with paused_gc():
        known = KnownEntities.of(
            (name for name, _ in channels.values()), user_names.values(), followed_projects
        )
        acc = _Classified(known=known)
        for part in parts:
            _classify_part(part, classifier, channels, user_names, day, acc)
            del part  # the part's threads go before the next part is read
        return acc.result()


@dataclass
class _Classified:
    """What the parts of `classify_thread_parts` have given so far."""

    known: KnownEntities
    items: list[Item] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    rejections: list[tuple[str, str]] = field(default_factory=list)
    threads: int = 0
    skipped: int = 0
    classified: int = 0
    cached: int = 0
    # the author of each message an item's first source is, (channel_id, ts) -> user id or name:
    # all `group_repeats` looks up (not every message of the day)
    author_of: dict[tuple[str, str], str] = field(default_factory=dict)

    def result(self) -> ClassificationResult:
        items = self.items
        if len(items) > 1:  # the same thing said again by the same person or bot: one item, counted
            items = group_repeats(items, self.author_of)
        stats = {
            "threads": self.threads,
            "threads_skipped": self.skipped,
            "threads_classified": self.classified - len(self.failures),
            "threads_failed": len(self.failures),
            "threads_cached": self.cached,
            "items": len(items),
            "items_new": sum(1 for i in items if i.is_new),
            "items_rejected": len(self.rejections),
        }
        return ClassificationResult(
            items=items,
            failures=self.failures,
            skipped=self.skipped,
            stats=stats,
            rejections=self.rejections,
        )


def _classify_part(
    threads: Sequence[Thread],
    classifier: ThreadClassifier,
    channels: Mapping[str, tuple[str, str]],
    user_names: Mapping[str, str],
    day: str,
    acc: _Classified,
) -> None:
    todo: list[Thread] = []
    skipped = 0
    for thread in threads:
        if not thread.messages or is_contentless(thread):
            skipped += 1
            continue
        todo.append(thread)
    acc.threads += len(threads)
    acc.skipped += skipped
    acc.classified += len(todo)

    outcomes = classifier.classify_threads(_LazyInputs(todo, channels, user_names, day))
    provider = classifier.provider_name
    prompt_version = classifier.classify_prompt_version
    items = acc.items
    first_new = len(items)
    for thread, outcome in zip(todo, outcomes, strict=True):
        output = outcome.output
        if output is None:
            acc.failures.append((thread.thread_id, outcome.error or "no output"))
            continue
        acc.cached += int(outcome.cached)
        if not output.items:
            continue
        id_map = _id_map(_input_messages(thread))
        new_ts = {m.ts for m in thread.messages if m.is_new}
        thread_items, reasons = items_from_output(
            thread,
            output,
            id_map,
            day=day,
            provider=provider,
            prompt_version=prompt_version,
            new_ts=new_ts,
            user_names=user_names,
            entities=acc.known,
        )
        items.extend(thread_items)
        if reasons:
            acc.rejections.extend((thread.thread_id, r) for r in reasons)
    del outcomes
    # an item's first source is a message of its own thread, so of this part or a later one: the
    # author of every key wanted so far, the last thread holding it winning (as one dict of all
    # the messages of all parts would have it)
    wanted = acc.author_of
    for it in items[first_new:]:
        if it.sources:
            wanted.setdefault((it.sources[0].channel_id, it.sources[0].ts), "")
    if wanted:
        for t in todo:
            channel_id = t.channel_id
            for m in t.messages:
                key = (channel_id, m.ts)
                if key in wanted:
                    wanted[key] = m.user_id or m.user_name
