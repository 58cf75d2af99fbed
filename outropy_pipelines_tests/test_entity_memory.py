"""Entity memory: summary(D) = fold(summary(D-1), items(D)), carrying open items until closed."""

from __future__ import annotations

from outropy_pipelines.domain.classification import make_item_id
from outropy_pipelines.domain.entity_memory import entity_ids_for_item, fold_entity_summaries, project_slug
from outropy_pipelines.domain.models import EntitySummary, Item, SourceRef
from outropy_pipelines.llm.base import LLMClient, LLMError, LLMProvider
from outropy_pipelines.llm.local_provider import LocalProvider
from outropy_pipelines.llm.prompts import CLASSIFY_THREAD

CHANNEL_NAMES = {"C0ATLAS": "proj-atlas", "C0ENG": "engineering"}
USER_NAMES = {"U1ALICE": "Alice Chen", "U2BOB": "Bob Diaz", "U3CAROL": "Carol Evans"}
THREAD = "C0ATLAS:1793577600.000100"


def item(
    day: str,
    kind: str,
    title: str,
    *,
    status: str,
    owners: tuple[str, ...] = (),
    mentions: tuple[str, ...] = (),
    entities: tuple[str, ...] = (),
    is_new: bool = True,
    ts: str = "1793577700.000100",
    channel: str = "C0ATLAS",
) -> Item:
    return Item(
        day=day,
        item_id=make_item_id(THREAD, kind, title),
        thread_id=THREAD,
        channel_id=channel,
        kind=kind,  # type: ignore[arg-type]
        title=title,
        owners=list(owners),
        mentions=list(mentions),
        entities=list(entities),
        status=status,  # type: ignore[arg-type]
        is_new=is_new,
        provider="local",
        prompt_version=CLASSIFY_THREAD.version,
        sources=[SourceRef(channel_id=channel, ts=ts)],
    )


def fold(
    day: str, previous: list[EntitySummary], items: list[Item], client: LLMClient
) -> dict[str, EntitySummary]:
    out = fold_entity_summaries(
        day, previous, items, CHANNEL_NAMES, USER_NAMES, client, public_channels=set(CHANNEL_NAMES)
    )
    assert len({s.entity_id for s in out}) == len(out)
    return {s.entity_id: s for s in out}


def test_entity_ids_for_item():
    it = item("2026-11-02", "action_item", "Bob to update the runbook", status="open", owners=("U2BOB",),
              mentions=("U2BOB", "U3CAROL"), entities=("Atlas v2", "#proj-atlas"))  # fmt: skip
    assert entity_ids_for_item(it, "proj-atlas") == [
        ("channel:C0ATLAS", "channel", "proj-atlas"),
        ("person:U2BOB", "person", "U2BOB"),
        ("person:U3CAROL", "person", "U3CAROL"),
        ("project:atlas", "project", "Atlas"),
    ]
    assert project_slug("Project Search Index") == "search-index"


def test_open_item_is_carried_for_three_days_and_closed_when_the_resolution_arrives():
    client = LLMClient(LocalProvider(), concurrency=1)
    ask = item("2026-11-02", "action_item", "Bob Diaz to update the runbook", status="open", owners=("U2BOB",),
               mentions=("U2BOB",), entities=("Atlas",))  # fmt: skip
    decision = item(
        "2026-11-02", "decision", "Decided: ship behind a flag", status="info", ts="1793577800.000100"
    )

    d1 = fold("2026-11-02", [], [ask, decision], client)
    assert set(d1) == {"channel:C0ATLAS", "person:U2BOB", "project:atlas"}
    channel = d1["channel:C0ATLAS"]
    assert [o.item_id for o in channel.open_items] == [ask.item_id]  # the decision is not open-ended
    assert channel.open_items[0].since_day == "2026-11-02"
    assert sorted(channel.item_ids_today) == sorted([ask.item_id, decision.item_id])
    assert channel.as_of == "2026-11-02" and channel.provider == "local"
    assert "Bob Diaz to update the runbook" in channel.summary
    assert d1["person:U2BOB"].name == "Bob Diaz"
    calls_day1 = client.stats.requests
    assert calls_day1 == 3

    # day 2: nothing happens -> carried forward, no LLM call, as_of unchanged
    d2 = fold("2026-11-03", list(d1.values()), [], client)
    assert set(d2) == {"channel:C0ATLAS", "person:U2BOB", "project:atlas"}
    assert client.stats.requests == calls_day1
    carried = d2["person:U2BOB"]
    assert [o.item_id for o in carried.open_items] == [ask.item_id]
    assert carried.summary == d1["person:U2BOB"].summary
    assert carried.as_of == "2026-11-02" and carried.item_ids_today == [] and carried.day == "2026-11-03"

    # day 3: the thread is re-classified (the ask re-extracted, not new) with an unrelated new item
    again = ask.model_copy(update={"day": "2026-11-04", "is_new": False})
    other = item("2026-11-04", "status_update", "Carol Evans shipped the search page", status="info",
                 ts="1793750500.000100", channel="C0ENG")  # fmt: skip
    d3 = fold("2026-11-04", list(d2.values()), [again, other], client)
    assert d3["person:U2BOB"].open_items[0].since_day == "2026-11-02"
    assert d3["person:U2BOB"].open_items[0].last_seen_day == "2026-11-04"
    assert d3["person:U2BOB"].as_of == "2026-11-02"  # old news is not news
    assert d3["channel:C0ENG"].item_ids_today == [other.item_id] and d3["channel:C0ENG"].open_items == []

    # day 4: the resolving item arrives -> the open item is gone everywhere
    done = ask.model_copy(update={"day": "2026-11-05", "status": "resolved", "is_new": True})
    d4 = fold("2026-11-05", list(d3.values()), [done], client)
    for entity_id in ("channel:C0ATLAS", "person:U2BOB", "project:atlas"):
        assert d4[entity_id].open_items == []
        assert d4[entity_id].item_ids_today == [ask.item_id]
        assert d4[entity_id].as_of == "2026-11-05"
    assert "(resolved)" in d4["channel:C0ATLAS"].summary

    # day 5: nothing open, nothing new -> no rows
    assert fold("2026-11-06", list(d4.values()), [], client) == {}


def test_entity_with_only_open_items_keeps_its_row():
    client = LLMClient(LocalProvider(), concurrency=1)
    q = item(
        "2026-11-02", "question", "Alice asked Carol: ETA on the index?", status="open", owners=("U3CAROL",)
    )
    d1 = fold("2026-11-02", [], [q], client)
    # the next day only another channel has news
    news = item(
        "2026-11-03", "announcement", "Alice announced: office closed", status="info", channel="C0ENG"
    )
    d2 = fold("2026-11-03", list(d1.values()), [news], client)
    carol = d2["person:U3CAROL"]
    assert [o.item_id for o in carol.open_items] == [q.item_id]
    assert carol.summary == d1["person:U3CAROL"].summary and carol.as_of == "2026-11-02"
    assert "channel:C0ENG" in d2 and d2["channel:C0ENG"].item_ids_today == [news.item_id]


class _Down(LLMProvider):
    name = "down"
    model = "none"
    cacheable = False

    def complete(self, prompt, payload, output_model):  # type: ignore[override]
        raise LLMError("503")


def test_a_failed_summary_call_still_writes_memory():
    ask = item("2026-11-02", "blocker", "Alice is blocked on the API keys", status="open")
    out = fold("2026-11-02", [], [ask], LLMClient(_Down()))
    row = out["channel:C0ATLAS"]
    assert row.provider == "fallback" and [o.item_id for o in row.open_items] == [ask.item_id]
    assert "1 still open" in row.summary
