"""Event-sourced entity memory: an entity's summary for day D = fold(summary of D-1, items of D).

Entities are channels (`channel:C..`), people (`person:U..`, for the owners and mentions of an item)
and projects (`project:atlas`, from the item's entities). Memory is kept per visibility scope: items
of public channels fold into an entity's `public` summary, items of a private channel, DM or group
DM into that entity's summary for that conversation alone (`summary_scope`), so a summary never
mixes what different audiences may see, and `visible_summaries` gives a reader only the scopes they
can see. Each entity carries its open items (open
action items, unanswered questions, unresolved blockers, live incidents) from day to day until an item
with the same id arrives resolved. An entity with open items but nothing new today keeps its row
(previous summary, `as_of` unchanged) without an LLM call, so memory never drops an open item.

"Today's items" are the items of day D that are new on D (`Item.is_new`): a thread re-classified on D
re-extracts its older items with `is_new` False; those refresh the open-item state (title, owners,
`last_seen_day`) but are not news and cost no summary call.

Pure Python: no Dagster, no DuckDB.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping, Sequence

from outropy_pipelines.domain.contracts import EntityItemInput, EntitySummariser, SummarizeEntityInput
from outropy_pipelines.domain.models import OPEN_ENDED_KINDS, PUBLIC_SCOPE, EntitySummary, Item, OpenItem
from outropy_pipelines.domain.redaction import redact
from outropy_pipelines.domain.trusted import trusted

_SLUG_RE = re.compile(r"[^a-z0-9]+")
_PROJECT_PREFIX_RE = re.compile(r"^(?:#|project[\s_-]+|proj[\s_-]+|prj[\s_-]+)+", re.IGNORECASE)
_VERSION_SUFFIX_RE = re.compile(r"[\s_-]+(?:v?\d+(?:\.\d+)*)$", re.IGNORECASE)
_ENTITY_KIND_ORDER = {"channel": 0, "project": 1, "person": 2}


def _project_name(name: str) -> str:
    name = _VERSION_SUFFIX_RE.sub("", _PROJECT_PREFIX_RE.sub("", name.strip())).strip()
    if name == name.lower():  # a channel-style slug: "search-index" -> "Search Index"
        name = " ".join(w[:1].upper() + w[1:] for w in re.split(r"[\s_-]+", name) if w)
    return name


def summary_scope(channel_id: str, public_channels: Collection[str]) -> str:
    """The visibility scope an item of `channel_id` folds into: `public` for a public channel, else
    the conversation itself (a private channel, DM or group DM, or one the directory does not know)."""
    return PUBLIC_SCOPE if channel_id in public_channels else channel_id


def visible_summaries(
    summaries: Iterable[EntitySummary], visible_channels: Collection[str]
) -> list[EntitySummary]:
    """The summaries a reader who can see `visible_channels` may be shown."""
    return [s for s in summaries if s.scope == PUBLIC_SCOPE or s.scope in visible_channels]


def project_slug(name: str) -> str:
    """'Atlas v2' / '#proj-atlas' / 'Project Atlas' -> 'atlas'."""
    return _SLUG_RE.sub("-", _project_name(name).lower()).strip("-")


def entity_ids_for_item(item: Item, channel_name: str) -> list[tuple[str, str, str]]:
    """The entities an item belongs to: (entity_id, entity_kind, name).

    Its channel, every owner and mentioned person (named by user id; the fold resolves names), and
    every project it is about."""
    out: list[tuple[str, str, str]] = [
        (f"channel:{item.channel_id}", "channel", channel_name or item.channel_id)
    ]
    for uid in dict.fromkeys([*item.owners, *item.mentions]):
        if uid:
            out.append((f"person:{uid}", "person", uid))
    for name in item.entities:
        slug = project_slug(name)
        if slug:
            out.append((f"project:{slug}", "project", _project_name(name)))
    seen: set[str] = set()
    unique = []
    for row in out:
        if row[0] not in seen:
            seen.add(row[0])
            unique.append(row)
    return unique


# The models below are built from validated items and summaries without validating them again
# (`trusted`): every value is already of its declared type.


def _open_item(item: Item, day: str, previous: OpenItem | None) -> OpenItem:
    sources = list(dict.fromkeys([*(previous.sources if previous else []), *item.sources]))
    return trusted(
        OpenItem,
        {
            "item_id": item.item_id,
            "kind": item.kind,
            "title": item.title,
            "channel_id": item.channel_id,
            "owners": list(item.owners),
            "since_day": previous.since_day if previous else day,
            "last_seen_day": day,
            "sources": sources,
        },
    )


def _item_input(item: Item | OpenItem, channel_names: Mapping[str, str], status: str) -> EntityItemInput:
    return trusted(
        EntityItemInput,
        {
            "item_id": item.item_id,
            "kind": item.kind,
            "title": item.title,
            "status": status,
            "channel_name": channel_names.get(item.channel_id, item.channel_id),
            "owners": list(item.owners),
        },
    )


def _fallback_summary(name: str, today: Sequence[Item], open_items: Sequence[OpenItem]) -> str:
    """Used only when the summary call fails: memory is still written."""
    parts = [f"{len(today)} new item(s) for {name} today." if today else f"No new items for {name} today."]
    parts.append(f"{len(open_items)} still open." if open_items else "Nothing is left open.")
    return " ".join(parts)


def fold_entity_summaries(
    day: str,
    previous: Sequence[EntitySummary],
    items: Sequence[Item],
    channel_names: Mapping[str, str],
    user_names: Mapping[str, str],
    summariser: EntitySummariser,
    *,
    public_channels: Collection[str],
) -> list[EntitySummary]:
    """Fold day `day`'s items into the previous day's summaries; returns the entities of `day`, one
    per (entity, visibility scope) with something to say (`public_channels`: see `summary_scope`).

    open_items = previous open items + today's open items of open-ended kinds, minus the items that
    arrive resolved today (by item_id, across all entities). Entities with new items today get a
    fresh summary (one `summariser` answer each); entities with only open items carried forward
    keep their previous summary and `as_of`; entities with neither are not emitted."""
    # every map below is keyed by (entity_id, scope)
    prev_by_id = {(s.entity_id, s.scope): s for s in previous}
    resolved_ids = {i.item_id for i in items if i.status == "resolved"}

    meta: dict[tuple[str, str], tuple[str, str]] = {}  # -> (kind, name)
    all_items: dict[tuple[str, str], dict[str, Item]] = {}  # -> item_id -> item (all of today's items)
    for item in sorted(items, key=lambda i: (i.item_id, not i.is_new)):
        channel_name = channel_names.get(item.channel_id, item.channel_id)
        scope = summary_scope(item.channel_id, public_channels)
        for entity_id, kind, name in entity_ids_for_item(item, channel_name):
            if kind == "person":
                name = user_names.get(name, name)
            key = (entity_id, scope)
            meta.setdefault(key, (kind, name))
            all_items.setdefault(key, {}).setdefault(item.item_id, item)
    for s in previous:
        meta.setdefault((s.entity_id, s.scope), (s.entity_kind, s.name))

    # open items per entity
    open_by_entity: dict[tuple[str, str], list[OpenItem]] = {}
    for key in meta:
        prev = prev_by_id.get(key)
        current: dict[str, OpenItem] = {}
        if prev is not None:
            for o in prev.open_items:
                if o.kind in OPEN_ENDED_KINDS and o.item_id not in resolved_ids:
                    current[o.item_id] = o
        for item in all_items.get(key, {}).values():
            if item.kind not in OPEN_ENDED_KINDS or item.item_id in resolved_ids:
                continue
            if item.status == "open":
                current[item.item_id] = _open_item(item, day, current.get(item.item_id))
        open_by_entity[key] = sorted(current.values(), key=lambda o: (o.since_day, o.item_id))

    # which entities get a (new) summary
    to_summarise: list[tuple[str, str]] = []
    payloads: list[SummarizeEntityInput] = []
    new_items: dict[tuple[str, str], list[Item]] = {}
    for key in sorted(meta, key=lambda k: (_ENTITY_KIND_ORDER.get(meta[k][0], 9), k)):
        entity_id = key[0]
        today = [i for i in all_items.get(key, {}).values() if i.is_new]
        new_items[key] = today
        prev = prev_by_id.get(key)
        open_items = open_by_entity[key]
        if not today and not open_items:
            continue
        if not today and prev is not None:
            continue  # carried forward: no call
        kind, name = meta[key]
        to_summarise.append(key)
        payloads.append(
            trusted(
                SummarizeEntityInput,
                {
                    "entity_id": entity_id,
                    "entity_kind": kind,
                    "name": name,
                    "day": day,
                    "previous_summary": prev.summary if prev else "",
                    "items_today": [_item_input(i, channel_names, i.status) for i in today],
                    "open_items": [_item_input(o, channel_names, "open") for o in open_items],
                },
            )
        )
    outcomes = summariser.summarize_entities(payloads)
    summaries = dict(zip(to_summarise, outcomes, strict=True))

    result: list[EntitySummary] = []
    for key in sorted(meta):
        entity_id, scope = key
        kind, name = meta[key]
        prev = prev_by_id.get(key)
        today = new_items.get(key, [])
        open_items = open_by_entity[key]
        if not today and not open_items:
            continue
        outcome = summaries.get(key)
        if outcome is None:  # carried forward
            assert prev is not None
            summary, provider, item_ids, as_of = prev.summary, prev.provider, [], prev.as_of
        else:
            if outcome.output is not None:
                summary, provider = redact(outcome.output.summary).strip(), summariser.provider_name
            else:
                summary, provider = _fallback_summary(name, today, open_items), "fallback"
            item_ids = sorted(i.item_id for i in today)
            as_of = day if today else (prev.as_of if prev else day)
        result.append(
            trusted(
                EntitySummary,
                {
                    "day": day,
                    "entity_id": entity_id,
                    "scope": scope,
                    "entity_kind": kind,
                    "name": name,
                    "summary": summary,
                    "open_items": open_items,
                    "item_ids_today": item_ids,
                    "as_of": as_of,
                    "provider": provider,
                },
            )
        )
    return result
